"""Python components from componentize-py under `pywamr run`, compared with wasmtime.

The fixtures are built by tests/fixtures/toolchains/python/build.sh and committed, so these
tests need no Python-to-Wasm toolchain:

- py-app.wasm: a `wasi:cli/run` command (CPython in 14 core modules sharing memory and tables
  through dynamic linking) that prints argv, environment, JSON, regex, hashlib and big-int
  results, writes one line to stderr, and ends with `exit-with-code(N)` when PYAPP_EXIT=N;
  bad JSON in PYAPP_JSON raises an uncaught exception, which traps after a traceback.
- py-composed.wasm: a componentize-py component exporting pywamr:pytext/tools composed with a
  C command that calls it with strings, byte lists, lists of tuples and results; a second
  argument makes the C side `exit(len)`, which the preview-1 adapter reports as status 1.

Each case runs through `python -m pywamr run` in a subprocess (the whole CLI path) and through
the `wasmtime` package's WASI 0.2 host (tests/wasi_p2/p2_oracle.py): same stdout, same stderr,
same exit status (or, where wasmtime traps, the same guest stderr, then a trap), on interp, and
on aot both from a bundle and through the code cache. The aot code is compiled once per test
session by `pywamr compile-component` (toolchain_testlib.precompile: a cold compile of the
CPython cores takes minutes; both fixtures share those cores, so the second compiles little).
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

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "toolchains" / "python"
PY_APP = FIXTURES / "py-app.wasm"
PY_COMPOSED = FIXTURES / "py-composed.wasm"



def _check_app(outcome) -> None:
    out = outcome.stdout.decode()
    assert out.startswith('argv: ["py-app.wasm", "hello", "a=b", "42", "7", ')
    assert '"numbers": 49' in out and '"swapped": "hello b=a 42 7' in out
    assert '"60!": "8320987112741390144276341183223364380754172606361245952449277696409600' \
           '000000000000"' in out
    assert 'json: {"n": 12345678901234567890123, "xs": [1, -0.0025, "\u2603"]}' in out
    assert outcome.stderr == b"stderr line\n" and outcome.exit_code == 0


def _check_app_exit(outcome) -> None:
    assert outcome.stdout.startswith(b'argv: ["py-app.wasm", "x"]\n')
    assert outcome.exit_code == 3


def _check_app_raises(outcome) -> None:
    assert outcome.trapped and outcome.stdout.endswith(b'env: {"PYAPP_JSON": "{bad"}\n')
    assert b"json.decoder.JSONDecodeError: Expecting property name" in outcome.stderr
    assert b"Python function threw an unexpected exception" in outcome.stderr


def _check_composed(outcome) -> None:
    text = outcome.stdout.decode()
    assert "digest no-such-hash(The year 2026 has 365 days) err unknown algorithm" in text
    assert "find-all \\d+: 2 match(es)\n  2026\n  365\n" in text
    assert "sum-json bits=65 total=36893488147419103225\n" in text
    assert outcome.exit_code == 0 and outcome.stderr == b"cmain done\n"


def _check_composed_exit(outcome) -> None:
    assert b"to-json {\"abc 1 2 3\": -8999999999999, \"four\": -3999999999998}\n" \
        in outcome.stdout
    assert outcome.exit_code == 1


# (name, fixture, guest args after argv[0], environment, what wasmtime must print: a guard
# against a rebuilt fixture that prints nothing or ignores its status, which the differential
# comparison alone would accept)
CASES = [
    ("py-app", PY_APP, ["hello", "a=b", "42", "7", "\u00e9t\u00e9 \u2603"],
     {"PYAPP_JSON": '{"n": 12345678901234567890123, "xs": [1, -2.5e-3, "\\u2603"]}',
      "PYAPP_USER": "Ada", "OTHER": "ignored"}, _check_app),
    ("py-app-exit-3", PY_APP, ["x"], {"PYAPP_EXIT": "3"}, _check_app_exit),
    # bad JSON: an uncaught Python exception, a traceback on stderr, then a Rust panic in
    # componentize-py's runtime, which traps (unreachable) after the output is flushed
    ("py-app-raises", PY_APP, ["q"], {"PYAPP_JSON": "{bad"}, _check_app_raises),
    ("py-composed", PY_COMPOSED, ["The year 2026 has 365 days"], {}, _check_composed),
    # a non-empty second argument: exit(4) on the C side, status 1 through the adapter
    ("py-composed-exit", PY_COMPOSED, ["abc 1 2 3", "four"], {}, _check_composed_exit),
]



@functools.lru_cache(maxsize=None)
def _oracle(wasm: Path, args: tuple, env: tuple):
    """wasmtime's outcome, once per case and process (compiling the core takes seconds)."""
    return run_wasmtime_component(wasm, [wasm.name, *args], dict(env))


def _check_against_wasmtime(engine: str, wasm: Path, args: list, env: dict, check,
                            tmp_path: Path, precompiled=None, source: str | None = None) -> None:
    require_wasmtime()
    expected = _oracle(wasm, tuple(args), tuple(sorted(env.items())))
    check(expected)
    proc, context = run_pywamr(engine, wasm, args, env, tmp_path, precompiled, source)
    assert proc.stdout == expected.stdout, (
        f"stdout differs\n{diff_text('stdout', expected.stdout, proc.stdout)}\n{context}")
    if expected.trapped:
        # the guest's stderr, then pywamr's own report of the trap and its backtrace
        guest_stderr = proc.stderr[:len(expected.stderr)]
        assert guest_stderr == expected.stderr, (
            f"stderr differs\n{diff_text('stderr', expected.stderr, guest_stderr)}")
        assert b"wasm trap: unreachable" in proc.stderr[len(expected.stderr):], context
        assert proc.returncode not in (0, 1), f"expected a trap; {context}"
        return
    assert proc.stderr == expected.stderr, (
        f"stderr differs\n{diff_text('stderr', expected.stderr, proc.stderr)}")
    assert proc.returncode == expected.exit_code, (
        f"exit status: wasmtime {expected.exit_code}; {context}")


@pytest.mark.parametrize("name,wasm,args,env,check", CASES, ids=[c[0] for c in CASES])
def test_interp_matches_wasmtime(name, wasm, args, env, check, tmp_path: Path) -> None:
    _check_against_wasmtime("interp", wasm, args, env, check, tmp_path)


@pytest.fixture(scope="session")
def python_precompiled(tmp_path_factory):
    """Both fixtures' bundles and their shared code cache, compiled once per session."""
    return precompile("python", [PY_APP, PY_COMPOSED], tmp_path_factory)


@pytest.mark.parametrize("source", AOT_SOURCES)
@pytest.mark.parametrize("name,wasm,args,env,check", [
    pytest.param(*case, id=case[0], marks=aot_marks()) for case in CASES])
def test_aot_matches_wasmtime(name, wasm, args, env, check, source, tmp_path: Path,
                              python_precompiled) -> None:
    _check_against_wasmtime("aot", wasm, args, env, check, tmp_path, python_precompiled,
                            source)


def test_fixture_worlds() -> None:
    """py-app exports wasi:cli/run and imports exit-with-code's interface; the composition
    exports run only (the tools are satisfied inside it) and imports WASI 0.2 only."""
    for wasm in (PY_APP, PY_COMPOSED):
        wit = subprocess.run([wasm_tools_path(), "component", "wit", str(wasm)],
                             capture_output=True, text=True, check=True).stdout
        assert "export wasi:cli/run@0.2" in wit, wasm.name
        imports = [line.split()[1] for line in wit.splitlines()
                   if line.strip().startswith("import ")]
        assert imports and all(name.startswith("wasi:") for name in imports), imports
