"""The WASI 0.2 host through the Python API (no CLI): a command component run in-process with
its stdio, arguments and preopens given by a `WasiConfig`, on both engines."""
from __future__ import annotations

import io

import pytest

from pywamr import Engine
from pywamr.component import Component, Linker
from pywamr.errors import WasiExit
from pywamr.wasi import WasiConfig, p2

from .p2_testlib import COMPONENTS, ENGINES, FIXTURES, require_wasmtime


def _run(engine: str, path, config: WasiConfig):
    eng = Engine(engine)
    linker = Linker(eng)
    host = p2.add_to_linker(linker, config)
    try:
        instance = linker.instantiate(Component.from_file(eng, path))
        run = next(v for k, v in instance.exports.items() if k.startswith("wasi:cli/run@"))
        return run["run"]()
    finally:
        host.close()


@pytest.mark.parametrize("engine", ENGINES)
def test_composed_component_in_process(engine):
    out = io.BytesIO()
    assert _run(engine, COMPONENTS / "composed.wasm", WasiConfig(stdout=out)) is None
    assert out.getvalue() == b"40 + 2 = 42\n100 + 200 = 300\n"


@pytest.mark.parametrize("engine", ENGINES)
def test_files_program_in_process_matches_wasmtime(engine, tmp_path):
    import shutil
    require_wasmtime()
    from .p2_oracle import run_wasmtime_component
    trees = []
    for name in ("pywamr", "wasmtime"):
        tree = tmp_path / name
        shutil.copytree(FIXTURES.parent / "wasi" / "tree", tree, symlinks=True)
        trees.append(tree)
    out, err = io.BytesIO(), io.BytesIO()
    config = WasiConfig(argv=["files.wasm", "/sandbox"], stdout=out, stderr=err)
    assert _run(engine, FIXTURES / "files.wasm", config.preopen_dir(trees[0], "/sandbox")) is None
    expected = run_wasmtime_component(FIXTURES / "files.wasm", ["files.wasm", "/sandbox"],
                                      dirs=[(trees[1], "/sandbox")])
    assert expected.exit_code == 0 and expected.stdout.count(b"\n") > 10
    assert out.getvalue() == expected.stdout


def test_exit_status_reaches_the_embedder():
    out = io.BytesIO()
    with pytest.raises(WasiExit) as info:
        _run("interp", FIXTURES / "exit_42.wasm", WasiConfig(stdout=out))
    assert info.value.status == 1          # the preview-1 adapter reports exit(err)
    assert out.getvalue() == b"returning 42 from main\n"


def test_a_missing_tool_fails_under_ci(monkeypatch):
    from .p2_testlib import _missing
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="required under CI=true"):
        _missing("a tool")
    monkeypatch.setenv("CI", "false")
    with pytest.raises(pytest.skip.Exception, match="not installed"):
        _missing("a tool")
