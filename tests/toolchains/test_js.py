"""JavaScript components from real toolchains under `pywamr run`, compared with wasmtime.

The fixtures are built by tests/fixtures/toolchains/js/build.sh and committed, so these tests
need no JavaScript toolchain:

- js-app.wasm: a `wasi:cli/run` command made by `jco componentize` (StarlingMonkey, a 12 MB
  SpiderMonkey core module) that prints JSON, string, Map, Set, class and BigInt results.
- qjs-command.wasm: a QuickJS component (componentize-qjs) exporting pywamr:qjs/text, composed
  with a C command that calls it with strings, lists of records and results, many times.

Each runs through `python -m pywamr run` in a subprocess (the whole CLI path) and through the
`wasmtime` package's WASI 0.2 host (tests/wasi_p2/p2_oracle.py): same stdout, same exit status,
on interp, and on aot both from a bundle and through the code cache. The aot code is compiled
once per test session by `pywamr compile-component` (toolchain_testlib.precompile; cold, the
SpiderMonkey core takes minutes).
"""
from __future__ import annotations

import functools
import subprocess
from pathlib import Path

import pytest

from pywamr_testlib import require_wasmtime, wasm_tools_path
from toolchains.toolchain_testlib import (AOT_SOURCES, aot_marks, diff_text, precompile,
                                          run_pywamr)
from wasi_p2.p2_oracle import run_wasmtime_component

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "toolchains" / "js"
JS_APP = FIXTURES / "js-app.wasm"
QJS_COMMAND = FIXTURES / "qjs-command.wasm"


# (name, fixture, guest args after argv[0], environment, lines wasmtime must print): the
# lines guard against a rebuilt fixture that prints nothing, which a bare diff would accept.
CASES = [
    ("js-app", JS_APP, [], {}, [
        "hello from jco componentize",
        '{"name":"pywamr","tags":["wasm","python","js","component"],"n":42,"nested":{"ok":true}}',
        "30! = 265252859812191058636308480000000",
        "done"]),
    # arguments reach the C side and cross to JS; QJS_EXIT=3 makes the C command exit(3),
    # which the preview-1 adapter reports as status 1
    ("qjs-command", QJS_COMMAND, ["Ada", "\u00e9t\u00e9 \U0001f30d"], {"QJS_EXIT": "3"}, [
        "greet: Hello, \u00e9t\u00e9 \U0001f30d! (5 code points)",
        "words (6 distinct): the=3 and=2 \u00e9t\u00e9=2 cat=1 end=1 hat=1",
        "sum-json: err bad json: SyntaxError",
        "40! = 815915283247897734345611269596115894272000000000",
        "done"]),
]



@functools.lru_cache(maxsize=None)
def _oracle(wasm: Path, args: tuple, env: tuple):
    """wasmtime's outcome, once per case and process (compiling js-app takes seconds)."""
    return run_wasmtime_component(wasm, [wasm.name, *args], dict(env))


def _check_against_wasmtime(engine: str, wasm: Path, args: list, env: dict, lines: list,
                            tmp_path: Path, precompiled=None, source: str | None = None) -> None:
    require_wasmtime()
    expected = _oracle(wasm, tuple(args), tuple(sorted(env.items())))
    assert not expected.trapped, f"the oracle trapped: {expected}"
    printed = expected.stdout.decode("utf-8").splitlines()
    missing = [line for line in lines if line not in printed]
    assert not missing, f"wasmtime did not print {missing}: is the fixture stale?"
    proc, context = run_pywamr(engine, wasm, args, env, tmp_path, precompiled, source)
    assert proc.stdout == expected.stdout, (
        f"stdout differs\n{diff_text('stdout', expected.stdout, proc.stdout)}\n{context}")
    assert proc.returncode == expected.exit_code, (
        f"exit status: wasmtime {expected.exit_code}; {context}")


@pytest.mark.parametrize("name,wasm,args,env,lines", CASES, ids=[c[0] for c in CASES])
def test_interp_matches_wasmtime(name, wasm, args, env, lines, tmp_path: Path) -> None:
    _check_against_wasmtime("interp", wasm, args, env, lines, tmp_path)


@pytest.fixture(scope="session")
def js_precompiled(tmp_path_factory):
    """Both fixtures' bundles and their code cache, compiled once per session."""
    return precompile("js", [JS_APP, QJS_COMMAND], tmp_path_factory)


@pytest.mark.parametrize("source", AOT_SOURCES)
@pytest.mark.parametrize("name,wasm,args,env,lines", [
    pytest.param(*case, id=case[0], marks=aot_marks()) for case in CASES])
def test_aot_matches_wasmtime(name, wasm, args, env, lines, source, tmp_path: Path,
                              js_precompiled) -> None:
    _check_against_wasmtime("aot", wasm, args, env, lines, tmp_path, js_precompiled, source)


def test_js_app_imports_no_wasi_http() -> None:
    """build.sh disables StarlingMonkey's http and fetch-event features: the app imports
    only the WASI 0.2 interfaces a command needs, and exports wasi:cli/run."""
    wit = subprocess.run([wasm_tools_path(), "component", "wit", str(JS_APP)],
                         capture_output=True, text=True, check=True).stdout
    assert "wasi:http" not in wit
    assert "export wasi:cli/run@0.2" in wit
