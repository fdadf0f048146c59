"""The host context: host functions see the importing instance through a `Caller` whose
`.memory` is that instance's memory 0; WASI plugs into a Linker with `add_to_linker` and a
module without memory gets WASI errors, never a Python exception. Both engines."""
from __future__ import annotations

import io

import pytest

from pywamr_testlib import wat

ERRNO_FAULT = 21        # wasi_snapshot_preview1 errno "fault"


def _linker(engine_kind):
    from pywamr.engine import Engine, Linker
    engine = Engine(engine_kind, cache=False)
    return engine, Linker(engine)


def _instantiate(engine_kind, text, define):
    from pywamr.engine import Module
    engine, linker = _linker(engine_kind)
    define(linker)
    return linker.instantiate(None, Module(engine, wat(text)))


def test_caller_memory_is_memory_zero_not_an_export_named_memory(engine_kind):
    """The module exports a *different* object as "memory" (a global): the host still gets
    the memory the module defines, which it does not export at all."""
    seen = []

    def poke(caller, address, value):
        seen.append(caller.memory)
        caller.memory.data[address] = value
        return caller.memory.data[address + 1]

    inst = _instantiate(engine_kind, """
    (module
      (import "host" "poke" (func $poke (param i32 i32) (result i32)))
      (memory 1)
      (global (export "memory") i32 (i32.const 0))
      (data (i32.const 11) "\\2a")
      (func (export "run") (result i32)
        (drop (call $poke (i32.const 10) (i32.const 99)))
        (i32.add (call $poke (i32.const 10) (i32.const 99)) (i32.load8_u (i32.const 10)))))
    """, lambda linker: linker.define_func("host", "poke", (("i32", "i32"), ("i32",)), poke,
                                           access_caller=True))
    assert inst.exports["run"]() == 42 + 99
    assert seen[0] is inst.state.memories[0] and seen[0] is seen[1]
    assert inst.caller.get_export("memory") is inst.state.exports["memory"]


def test_caller_memory_is_an_imported_memory_and_bound_before_start(engine_kind):
    from pywamr.engine import Memory, MemoryType, Limits
    memory = Memory(MemoryType(Limits(1, None)))
    calls = []

    def note(caller):
        calls.append(caller.memory)
        caller.memory.data[0] = 7

    _instantiate(engine_kind, """
    (module
      (import "host" "note" (func $note))
      (import "env" "mem" (memory 1))
      (start $note))
    """, lambda linker: (linker.define_func("host", "note", ((), ()), note, access_caller=True),
                         linker.define("env", "mem", memory)))
    assert calls == [memory] and memory.data[0] == 7     # the start function ran with it


def test_each_importer_gets_its_own_caller(engine_kind):
    from pywamr.engine import Module
    engine, linker = _linker(engine_kind)
    linker.define_func("host", "size", ((), ("i32",)),
                       lambda caller: len(caller.memory.data) // 65536, access_caller=True)
    text = """(module (import "host" "size" (func $s (result i32))) (memory {n})
                      (func (export "run") (result i32) call $s))"""
    one = linker.instantiate(None, Module(engine, wat(text.format(n=1))))
    three = linker.instantiate(None, Module(engine, wat(text.format(n=3))))
    assert one.exports["run"]() == 1 and three.exports["run"]() == 3


def test_caller_without_memory(engine_kind):
    inst = _instantiate(engine_kind, """
    (module (import "host" "probe" (func $p (result i32)))
            (func (export "run") (result i32) call $p))
    """, lambda linker: linker.define_func("host", "probe", ((), ("i32",)),
                                           lambda caller: caller.memory is None,
                                           access_caller=True))
    assert inst.exports["run"]() == 1


NO_MEMORY_WASI = """
(module
  (import "wasi_snapshot_preview1" "sched_yield" (func $yield (result i32)))
  (import "wasi_snapshot_preview1" "fd_write" (func $write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "args_sizes_get" (func $args (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_close" (func $close (param i32) (result i32)))
  (func (export "yield") (result i32) call $yield)
  (func (export "write") (result i32)
    (call $write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))
  (func (export "write_nothing") (result i32)
    (call $write (i32.const 1) (i32.const 0) (i32.const 0) (i32.const 0)))
  (func (export "args") (result i32) (call $args (i32.const 0) (i32.const 4)))
  (func (export "close") (param i32) (result i32) (call $close (local.get 0))))
"""


def test_wasi_without_memory_returns_errno_never_raises(engine_kind):
    from pywamr.wasi import WasiConfig, add_to_linker
    stdout = io.BytesIO()
    contexts = []
    inst = _instantiate(engine_kind, NO_MEMORY_WASI, lambda linker: contexts.append(
        add_to_linker(linker, WasiConfig(argv=["x"], stdout=stdout))))
    assert inst.exports["yield"]() == 0                  # needs no memory: works
    assert inst.exports["write"]() == ERRNO_FAULT        # needs memory: WASI's "fault"
    assert inst.exports["write_nothing"]() == ERRNO_FAULT   # still needs size_out
    assert inst.exports["args"]() == ERRNO_FAULT
    assert inst.exports["close"](99) == 8                # badf: no memory involved
    assert stdout.getvalue() == b""
    assert contexts[0].args == ["x"]


def test_wasi_fd_write_uses_memory_zero(engine_kind):
    """fd_write through an unexported memory: WASI reads the caller's memory 0."""
    from pywamr.wasi import WasiConfig, add_to_linker
    stdout = io.BytesIO()
    inst = _instantiate(engine_kind, """
    (module
      (import "wasi_snapshot_preview1" "fd_write"
        (func $write (param i32 i32 i32 i32) (result i32)))
      (memory 1)
      (data (i32.const 0) "\\10\\00\\00\\00\\03\\00\\00\\00")
      (data (i32.const 16) "hi\\n")
      (func (export "run") (result i32)
        (call $write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8))))
    """, lambda linker: add_to_linker(linker, WasiConfig(stdout=stdout)))
    assert inst.exports["run"]() == 0
    assert stdout.getvalue() == b"hi\n"
    assert inst.state.memories[0].data[8:12] == (3).to_bytes(4, "little")


def test_linker_has_no_wasi_method_and_config_is_not_patched():
    from pywamr.engine import Linker
    from pywamr.wasi import WasiConfig
    assert not hasattr(Linker, "define_wasi")
    assert not hasattr(WasiConfig, "define_in")


def test_raw_and_python_value_host_functions(engine_kind):
    def signed(x):
        return x - 1

    def raw(x):
        return (x + 1) & 0xFFFFFFFF

    inst = _instantiate(engine_kind, """
    (module (import "h" "signed" (func $s (param i32) (result i32)))
            (import "h" "raw" (func $r (param i32) (result i32)))
            (func (export "s") (param i32) (result i32) local.get 0 call $s)
            (func (export "r") (param i32) (result i32) local.get 0 call $r))
    """, lambda linker: (linker.define_func("h", "signed", (("i32",), ("i32",)), signed),
                         linker.define_func("h", "raw", (("i32",), ("i32",)), raw, raw=True)))
    assert inst.exports["s"](0) == -1                    # Python values: signed
    assert inst.exports["r"](-1) == 0                    # internal: 0xFFFFFFFF + 1 wraps


@pytest.mark.parametrize("name", ["sched_yield", "fd_write"])
def test_no_memory_regression_single_import(engine_kind, name):
    """The issue's regression: a module with no memory importing one WASI function."""
    from pywamr.wasi import WasiConfig, add_to_linker
    from pywamr.wasi.p1_abi import SIGNATURES
    ft = SIGNATURES[name]
    params = " ".join("i32" if t == 0x7F else "i64" for t in ft.params)
    args = " ".join("(i32.const 0)" if t == 0x7F else "(i64.const 0)" for t in ft.params)
    inst = _instantiate(engine_kind, f"""
    (module (import "wasi_snapshot_preview1" "{name}" (func $f (param {params}) (result i32)))
            (func (export "run") (result i32) (call $f {args})))
    """, lambda linker: add_to_linker(linker, WasiConfig(stdout=io.BytesIO())))
    assert inst.exports["run"]() == (0 if name == "sched_yield" else ERRNO_FAULT)
