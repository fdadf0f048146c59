"""Whole compiled programs on the interpreter, compared with wasmtime's output."""
import os
import subprocess
import sys
from pathlib import Path

import wasmtime

HERE = Path(__file__).resolve().parent
FIXTURES = HERE / "fixtures"
ROOT = HERE.parent.parent


def _wasmtime_stdout(wasm: Path, tmp_path: Path) -> bytes:
    store = wasmtime.Store()
    linker = wasmtime.Linker(store.engine)
    linker.define_wasi()
    config = wasmtime.WasiConfig()
    out = tmp_path / "wasmtime.out"
    config.stdout_file = str(out)
    store.set_wasi(config)
    instance = linker.instantiate(store, wasmtime.Module.from_file(store.engine, str(wasm)))
    instance.exports(store)["_start"](store)
    return out.read_bytes()


def test_assemblyscript_unoptimised_program(tmp_path):
    """AssemblyScript at -O0 drops many deferred operands; it used to abort on interp."""
    wasm = FIXTURES / "assemblyscript_O0.wasm"
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.run([sys.executable, "-m", "pywamr", "run", "--engine", "interp", str(wasm)],
                          capture_output=True, env=env, timeout=300)
    assert proc.returncode == 0, proc.stderr.decode()[-2000:]
    expected = _wasmtime_stdout(wasm, tmp_path)
    assert b"hash 48162359 361407db6101" in expected
    assert proc.stdout == expected
