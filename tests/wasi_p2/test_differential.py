"""Differential tests of the WASI 0.2 host: the C programs of tests/fixtures/wasi, built as
command components (tests/fixtures/wasi_p2, preview-1 adapter), run by `pywamr run` on both
engines and by wasmtime's WASI 0.2 (p2_oracle.py), each in a fresh copy of the fixture tree:
the same stdout, stderr and exit status, or both trap. "aot+bundle" runs on aot from a bundle
written first (what `pywamr compile-component` writes; it must be used, not refused).

Every entry of tests/fixtures/wasi/manifest.json is run (same arguments, environment,
stdin and preopens as the preview-1 differential test), and every entry of
tests/fixtures/wasi_p2/manifest.json (programs that exist only as components: hello,
`exit-with-code(3)`, a CPU-heavy program).
"""
from __future__ import annotations

import difflib
from pathlib import Path

import pytest

from .p2_testlib import ENGINES, FIXTURES, P1_FIXTURES, require_wasmtime, run_cli
import oracle  # noqa: E402  (tests/oracle.py, on the path through p2_testlib)
from pywamr_testlib import needs_aot  # noqa: E402  (also on that path)

PROGRAMS = (oracle.load_manifest(str(P1_FIXTURES))["programs"]
            + oracle.load_manifest(str(FIXTURES))["programs"])


def _diff(label: str, expected: bytes, actual: bytes, limit: int = 60) -> str:
    exp = expected.decode("utf-8", "replace").splitlines(keepends=True)
    act = actual.decode("utf-8", "replace").splitlines(keepends=True)
    lines = list(difflib.unified_diff(exp, act, f"{label} (wasmtime)", f"{label} (pywamr)"))
    return "".join(lines[:limit])


def _oracle(entry: dict, workdir: Path):
    from .p2_oracle import run_wasmtime_component
    dirs = oracle.prepare_sandbox(entry, str(workdir), str(P1_FIXTURES))
    wasm = FIXTURES / entry["wasm"]
    return run_wasmtime_component(wasm, [entry["wasm"], *entry.get("args", [])],
                                  entry.get("env") or {}, dirs,
                                  entry.get("stdin", "").encode("utf-8"))


def _pywamr(engine: str, entry: dict, workdir: Path):
    dirs = oracle.prepare_sandbox(entry, str(workdir), str(P1_FIXTURES))
    args = ["run", "--engine", engine]
    if engine == "aot+bundle":       # aot, with the code of a bundle written first
        from pywamr import Engine
        from pywamr.component import write_bundle
        bundle = workdir.parent / "bundle"
        write_bundle(Engine("aot"), (FIXTURES / entry["wasm"]).read_bytes(), bundle)
        args = ["run", "--engine", "aot", "--precompiled-dir", bundle]
    for host, guest in dirs:
        args += ["--dir", f"{host}::{guest}"]
    for name, value in (entry.get("env") or {}).items():
        args += ["--env", f"{name}={value}"]
    args += [FIXTURES / entry["wasm"], *entry.get("args", [])]
    return run_cli(*args, stdin=entry.get("stdin", "").encode("utf-8"), cwd=workdir)


@pytest.mark.parametrize("engine", ENGINES + [pytest.param("aot+bundle", marks=needs_aot)])
@pytest.mark.parametrize("entry", PROGRAMS, ids=[p["name"] for p in PROGRAMS])
def test_component_matches_wasmtime(entry: dict, engine: str, tmp_path: Path) -> None:
    require_wasmtime()
    (tmp_path / "wasmtime").mkdir()
    (tmp_path / "pywamr").mkdir()
    expected = _oracle(entry, tmp_path / "wasmtime")
    assert expected.trapped == entry["trap"], f"the oracle disagrees with the manifest: {expected}"
    proc = _pywamr(engine, entry, tmp_path / "pywamr")
    stderr = proc.stderr.decode("utf-8", "replace")
    assert "ignoring precompiled bundle" not in stderr, stderr
    context = f"pywamr exit status {proc.returncode}; stderr:\n{stderr[-3000:]}"
    if entry["trap"]:
        assert proc.returncode not in (0, 1), f"expected a trap; {context}"
        assert "wasm trap" in stderr, f"expected 'wasm trap' on stderr; {context}"
    else:
        assert proc.returncode == expected.exit_code, (
            f"exit status: wasmtime {expected.exit_code}; {context}")
    assert proc.stdout == expected.stdout, (
        f"stdout differs\n{_diff('stdout', expected.stdout, proc.stdout)}\n{context}")
    if entry.get("compare_stderr") and not entry["trap"]:
        assert proc.stderr == expected.stderr, (
            f"stderr differs\n{_diff('stderr', expected.stderr, proc.stderr)}")
