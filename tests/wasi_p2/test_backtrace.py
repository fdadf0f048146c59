"""Trap backtraces of components name the component instance and core module of every frame,
on both engines: in `pywamr run`'s output ("Error: wasm trap: ..." and the backtrace, exit
status 134) and on the `Trap` the Python API raises (`Trap.frames[i].location`).

The composed component is tests/fixtures/wasi_p2/src/composed_trap.wat: the driver component
(instance `main`, core module `driver`) calls the calculator (instance `calc`, core module
`arith`), which divides by zero. The aot engine's native frames can lose a function LLVM
inlined (`compute` into `run`), so only the interpreter's list is checked whole."""
from __future__ import annotations

import subprocess

import pytest

from pywamr import Engine
from pywamr.errors import Trap, TrapCode
from pywamr.wasi import WasiConfig

from .p2_testlib import ENGINES, FIXTURES, require_wasm_tools, require_wasmtime, run_cli

CALC = "component root/calc, core module arith"
DRIVER = "component root/main, core module driver"


@pytest.fixture
def composed(tmp_path):
    exe = require_wasm_tools()
    wasm = tmp_path / "composed_trap.wasm"
    subprocess.run([exe, "parse", FIXTURES / "src" / "composed_trap.wat", "-o", wasm],
                   check=True)
    return wasm


@pytest.mark.parametrize("engine", ENGINES)
def test_pywamr_run_prints_where_each_frame_ran(engine, composed):
    require_wasmtime()
    from .p2_oracle import run_wasmtime_component
    expected = run_wasmtime_component(composed, ["composed_trap"])
    assert expected.trapped and "integer divide by zero" in expected.trap_message
    proc = run_cli("run", "--engine", engine, composed)
    lines = proc.stderr.decode().splitlines()
    assert proc.returncode == 134, lines
    assert lines[:3] == ["Error: wasm trap: integer divide by zero", "wasm backtrace:",
                         f"  0: divide  ({CALC})"]
    assert lines[-1].endswith(f": run  ({DRIVER})")
    if engine == "interp":
        assert lines[3:] == [f"  1: compute  ({DRIVER})", f"  2: run  ({DRIVER})"]


@pytest.mark.parametrize("engine", ENGINES)
def test_the_trap_carries_the_locations(engine, composed):
    from pywamr.component import Component, Linker
    from pywamr.wasi import p2
    eng = Engine(engine)
    linker = Linker(eng)
    host = p2.add_to_linker(linker, WasiConfig())
    try:
        instance = linker.instantiate(Component.from_file(eng, composed))
        with pytest.raises(Trap) as info:
            instance.exports["wasi:cli/run@0.2.0"]["run"]()
    finally:
        host.close()
    trap = info.value
    assert trap.code is TrapCode.INTEGER_DIVIDE_BY_ZERO
    assert trap.frames[0] == "divide" and trap.frames[0].location == CALC
    assert trap.frames[-1] == "run" and trap.frames[-1].location == DRIVER
    assert f"0: divide  ({CALC})" in str(trap)


@pytest.mark.parametrize("engine", ENGINES)
def test_a_c_command_names_its_module_and_the_adapter(engine):
    """A trap after flushed output in a C program wrapped by the preview-1 adapter: the
    output is there, then the backtrace from `main` out through the adapter's `run`."""
    proc = run_cli("run", "--engine", engine, FIXTURES / "trap_div0.wasm")
    lines = proc.stderr.decode().splitlines()
    assert proc.returncode == 134, lines
    assert proc.stdout == b"before division by zero\n"
    assert lines[0] == "Error: wasm trap: integer divide by zero"
    assert "(component root, core module main)" in lines[2]
    assert lines[-1].endswith(
        "(component root, core module wit-component:adapter:wasi_snapshot_preview1)")
    assert "Traceback" not in proc.stderr.decode()
