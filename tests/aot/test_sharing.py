"""Memories, tables and globals shared between AOT instances, interpreter instances and plain
runtime objects."""
from __future__ import annotations

from aot_testlib import instance
from pywamr.binary.types import FUNCREF, I32, GlobalType, Limits, MemoryType, TableType
from pywamr.runtime.objects import Global, Memory, Table

USER = """
(module
  (import "env" "memory" (memory 1))
  (import "env" "table" (table 2 funcref))
  (import "env" "g" (global $g (mut i32)))
  (type $v (func (result i32)))
  (func (export "size") (result i32) memory.size)
  (func (export "peek") (param i32) (result i32) local.get 0 i32.load8_u)
  (func (export "poke") (param i32 i32) local.get 0 local.get 1 i32.store8)
  (func (export "grow") (param i32) (result i32) local.get 0 memory.grow)
  (func (export "get_g") (result i32) global.get $g)
  (func (export "set_g") (param i32) local.get 0 global.set $g)
  (func (export "call") (param i32) (result i32) local.get 0 call_indirect (type $v))
)
"""


def _plain():
    memory = Memory(MemoryType(Limits(1, 10)))
    table = Table(TableType(FUNCREF, Limits(2, None)), None)
    g = Global(GlobalType(I32, True), 7)
    return memory, table, g


def test_plain_runtime_objects_are_shared():
    memory, table, g = _plain()
    inst = instance(USER, {("env", "memory"): memory, ("env", "table"): table,
                           ("env", "g"): g})
    e = inst.exports
    assert e["get_g"]() == 7
    g.value = 99
    assert e["get_g"]() == 99
    e["set_g"](5)
    assert g.value == 5
    memory.grow(2)                          # grown by Python: the native side sees it
    assert e["size"]() == 3
    e["poke"](3 * 65536 - 1, 42)
    assert memory.data[3 * 65536 - 1] == 42
    assert e["grow"](1) == 3 and len(memory.data) == 4 * 65536
    provider = instance("""(module (func (export "k") (result i32) i32.const 123))""",
                        engine_kind="interp")
    table.set(1, provider.exports["k"].function)    # written by Python
    assert e["call"](1) == 123


def test_memory_grow_seen_by_importer_across_engines():
    exporter = instance("""
    (module (memory (export "memory") 1)
            (func (export "grow") (param i32) (result i32) local.get 0 memory.grow)
            (func (export "poke") (param i32 i32) local.get 0 local.get 1 i32.store8))
    """)
    for kind in ("aot", "interp"):
        importer = instance("""
        (module (import "env" "memory" (memory 1))
                (func (export "size") (result i32) memory.size)
                (func (export "peek") (param i32) (result i32) local.get 0 i32.load8_u))
        """, {("env", "memory"): exporter.exports["memory"]}, engine_kind=kind)
        before = importer.exports["size"]()
        exporter.exports["grow"](1)
        assert importer.exports["size"]() == before + 1
        exporter.exports["poke"](before * 65536 + 5, 9)
        assert importer.exports["peek"](before * 65536 + 5) == 9


def test_interpreter_writes_aot_table_and_global():
    exporter = instance("""
    (module (table (export "t") 2 funcref) (global (export "g") (mut i64) (i64.const 1))
            (type $v (func (result i32)))
            (func (export "call") (param i32) (result i32) local.get 0 call_indirect (type $v))
            (func (export "get") (result i64) global.get 0))
    """)
    writer = instance("""
    (module (import "e" "t" (table 2 funcref)) (import "e" "g" (global (mut i64)))
            (func $five (result i32) i32.const 5) (elem declare func $five)
            (func (export "go") i32.const 0 ref.func $five table.set 0
                                i64.const 77 global.set 0))
    """, {("e", "t"): exporter.exports["t"], ("e", "g"): exporter.exports["g"]},
        engine_kind="interp")
    writer.exports["go"]()
    assert exporter.exports["call"](0) == 5
    assert exporter.exports["get"]() == 77


def test_a_private_global_is_refused_by_native_code():
    """A private global has no cell: linking it into native code is a LinkError, not a crash."""
    import pytest
    from aot_testlib import compile_wat
    from pywamr.errors import LinkError
    from pywamr.runtime.instantiate import instantiate_module
    compiled, _ = compile_wat("""(module (import "e" "g" (global i32))
                                         (func (export "get") (result i32) global.get 0))""")
    with pytest.raises(LinkError, match="no native cell"):
        instantiate_module(compiled, [Global.private(GlobalType(I32, False), 1)])
