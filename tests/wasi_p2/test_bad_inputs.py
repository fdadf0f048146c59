"""Bad components under `pywamr run`, on both engines: a truncated component, a wrong magic,
a wrong version and unknown imports each give one line on stderr, exit status 1 and no
Python traceback. The inputs are made from a real fixture (tests/fixtures/wasi_p2) and a
hand-written component assembled here.

On aot the same holds with a precompiled bundle: `pywamr compile-component` refuses the inputs
it cannot decode with one line and status 1 (writing nothing), and `pywamr run` given a real
bundle (the good fixture's, or the input's own where it compiles: unknown imports) still
refuses the input with one line, never running the bundle's code. wasmtime refuses each input
too (checked through the `wasmtime` package)."""
from __future__ import annotations

import subprocess

import pytest

from .p2_testlib import ENGINES, FIXTURES, require_wasm_tools, require_wasmtime, run_cli
from pywamr_testlib import needs_aot  # noqa: E402  (on the path through p2_testlib)

UNKNOWN_IMPORTS = """
(component
  (import "wasi:nope/thing@0.2.0" (instance (export "f" (func))))
  (import "acme:x/y" (func))
  (core module $m (func (export "run") (result i32) i32.const 0))
  (core instance $i (instantiate $m))
  (func $run (result (result)) (canon lift (core func $i "run")))
  (instance $r (export "run" (func $run)))
  (export "wasi:cli/run@0.2.0" (instance $r)))
"""


def _good() -> bytes:
    return (FIXTURES / "args_env.wasm").read_bytes()


def _unknown_imports(tmp_path) -> bytes:
    exe = require_wasm_tools()
    source = tmp_path / "unknown.wat"
    source.write_text(UNKNOWN_IMPORTS)
    return subprocess.run([exe, "parse", source, "-o", "/dev/stdout"], check=True,
                          capture_output=True).stdout


CASES = {
    "truncated": (lambda tmp: _good()[:len(_good()) // 2], "out of bounds"),
    "truncated-header": (lambda tmp: _good()[:6], "unexpected end"),
    "wrong-magic": (lambda tmp: b"\0asn" + _good()[4:], "magic header not detected"),
    "wrong-version": (lambda tmp: _good()[:4] + b"\x0e\x00\x01\x00" + _good()[8:],
                      "unknown binary version"),
    "unknown-imports": (_unknown_imports, "wasi:nope/thing@0.2.0, acme:x/y"),
}


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("case", sorted(CASES))
def test_a_bad_component_is_one_line_and_status_1(case, engine, tmp_path):
    make, message = CASES[case]
    path = tmp_path / f"{case}.wasm"
    path.write_bytes(make(tmp_path))
    proc = run_cli("run", "--engine", engine, path)
    stderr = proc.stderr.decode("utf-8", "replace")
    assert proc.returncode == 1, stderr
    assert "Traceback" not in stderr
    assert len(stderr.strip().splitlines()) == 1, stderr
    assert stderr.startswith("pywamr: error: ") and message in stderr, stderr
    assert proc.stdout == b""


def _one_line_status_1(proc, message: str) -> None:
    stderr = proc.stderr.decode("utf-8", "replace")
    assert proc.returncode == 1, stderr
    assert "Traceback" not in stderr
    assert len(stderr.strip().splitlines()) == 1, stderr
    assert stderr.startswith("pywamr: error: ") and message in stderr, stderr
    assert proc.stdout == b""


def _wasmtime_refuses(path) -> None:
    """wasmtime does not run it either: it fails to load, or to instantiate (reported by the
    oracle as a trap before anything ran)."""
    wasmtime = require_wasmtime()
    from .p2_oracle import run_wasmtime_component
    try:
        outcome = run_wasmtime_component(path, [path.name])
    except wasmtime.WasmtimeError:
        return
    assert outcome.trapped and outcome.stdout == b"" and "import" in outcome.trap_message, \
        outcome


@pytest.fixture(scope="module")
def good_bundle(tmp_path_factory):
    """The bundle of the fixture the bad inputs are made from."""
    out = tmp_path_factory.mktemp("good") / "args_env.pywamr-bundle"
    proc = run_cli("compile-component", FIXTURES / "args_env.wasm", "-o", out)
    assert proc.returncode == 0, proc.stderr.decode("utf-8", "replace")
    return out


@needs_aot
@pytest.mark.parametrize("case", sorted(CASES))
def test_a_bad_component_with_a_bundle_is_one_line_and_status_1(case, tmp_path, good_bundle):
    make, message = CASES[case]
    path = tmp_path / f"{case}.wasm"
    path.write_bytes(make(tmp_path))
    _wasmtime_refuses(path)
    own = tmp_path / f"{case}.pywamr-bundle"         # where `run` looks beside the input
    compiled = run_cli("compile-component", path)
    if case == "unknown-imports":       # it decodes, validates and plans: it compiles
        assert compiled.returncode == 0, compiled.stderr.decode("utf-8", "replace")
        bundle = own
    else:
        _one_line_status_1(compiled, message)
        assert not own.exists()
        bundle = good_bundle
    _one_line_status_1(run_cli("run", "--engine", "aot", "--precompiled-dir", bundle, path),
                       message)
    if own.exists():                    # found beside the input, not named
        _one_line_status_1(run_cli("run", "--engine", "aot", path), message)
