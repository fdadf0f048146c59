"""Bad components under `pywamr run`, on both engines: a truncated component, a wrong magic,
a wrong version and unknown imports each give one line on stderr, exit status 1 and no
Python traceback. The inputs are made from a real fixture (tests/fixtures/wasi_p2) and a
hand-written component assembled here."""
from __future__ import annotations

import subprocess

import pytest

from .p2_testlib import ENGINES, FIXTURES, require_wasm_tools, run_cli

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
