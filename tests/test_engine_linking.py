"""Instances of the two engines linked together: one instance's exported function, memory,
table and globals are another's imports, and a write through either is seen by both (and by
Python). Runs every exporter/importer engine pair through the public API."""
from __future__ import annotations

import pytest

from pywamr_testlib import needs_aot as _needs_aot, wat

PAIRS = [
    pytest.param("interp", "aot", marks=_needs_aot, id="interp-exports-to-aot"),
    pytest.param("aot", "interp", marks=_needs_aot, id="aot-exports-to-interp"),
    pytest.param("interp", "interp", id="interp-exports-to-interp"),
    pytest.param("aot", "aot", marks=_needs_aot, id="aot-exports-to-aot"),
]

EXPORTER = """
(module
  (type $v (func (result i32)))
  (memory (export "mem") 1 4)
  (table (export "tab") 4 8 funcref)
  (global (export "g") (mut i32) (i32.const 10))
  (global (export "gf") (mut f32) (f32.const 1.5))
  (global (export "gd") (mut i64) (i64.const -2))
  (global (export "gr") (mut funcref) (ref.null func))
  (global (export "ge") (mut externref) (ref.null extern))
  (func $seven (export "seven") (result i32) i32.const 7)
  (elem (i32.const 0) $seven)
  (func (export "load") (param i32) (result i32) local.get 0 i32.load8_u)
  (func (export "store") (param i32 i32) local.get 0 local.get 1 i32.store8)
  (func (export "size") (result i32) memory.size)
  (func (export "get_g") (result i32) global.get 0)
  (func (export "set_g") (param i32) local.get 0 global.set 0)
  (func (export "get_gf") (result f32) global.get 1)
  (func (export "get_gd") (result i64) global.get 2)
  (func (export "call_gr") (result i32)
    i32.const 3 global.get 3 table.set 0 i32.const 3 call_indirect (type $v))
  (func (export "get_ge") (result externref) global.get 4)
  (func (export "call_slot") (param i32) (result i32) local.get 0 call_indirect (type $v))
  (func (export "tsize") (result i32) table.size 0))
"""

IMPORTER = """
(module
  (type $v (func (result i32)))
  (import "e" "seven" (func $seven (result i32)))
  (import "e" "mem" (memory 1 4))
  (import "e" "tab" (table 4 8 funcref))
  (import "e" "g" (global $g (mut i32)))
  (import "e" "gf" (global $gf (mut f32)))
  (import "e" "gd" (global $gd (mut i64)))
  (import "e" "gr" (global $gr (mut funcref)))
  (import "e" "ge" (global $ge (mut externref)))
  (func $nine (result i32) i32.const 9)
  (elem $seg func $nine $seven)
  (func (export "call_seven") (result i32) call $seven)
  (func (export "load") (param i32) (result i32) local.get 0 i32.load8_u)
  (func (export "store") (param i32 i32) local.get 0 local.get 1 i32.store8)
  (func (export "grow") (param i32) (result i32) local.get 0 memory.grow)
  (func (export "get_g") (result i32) global.get $g)
  (func (export "set_g") (param i32) local.get 0 global.set $g)
  (func (export "set_gf") (param f32) local.get 0 global.set $gf)
  (func (export "set_gd") (param i64) local.get 0 global.set $gd)
  (func (export "set_gr") ref.func $nine global.set $gr)
  (func (export "get_gr_is_null") (result i32) global.get $gr ref.is_null)
  (func (export "set_ge") (param externref) local.get 0 global.set $ge)
  (func (export "get_ge") (result externref) global.get $ge)
  (func (export "put_nine") (param i32) local.get 0 ref.func $nine table.set 0)
  (func (export "get_is_null") (param i32) (result i32) local.get 0 table.get 0 ref.is_null)
  (func (export "tgrow") (param i32) (result i32) ref.null func local.get 0 table.grow 0)
  (func (export "tfill") (param i32 i32) local.get 0 ref.func $nine local.get 1 table.fill 0)
  (func (export "tcopy") (param i32 i32 i32) local.get 0 local.get 1 local.get 2 table.copy)
  (func (export "tinit") (param i32 i32 i32)
    local.get 0 local.get 1 local.get 2 table.init $seg)
  (func (export "drop_seg") elem.drop $seg)
  (func (export "call_slot") (param i32) (result i32) local.get 0 call_indirect (type $v)))
"""


def _pair(exporter_kind: str, importer_kind: str):
    from pywamr.engine import Engine, Linker, Module
    exporter_engine = Engine(exporter_kind, cache=False)
    exporter = Linker(exporter_engine).instantiate(None, Module(exporter_engine, wat(EXPORTER)))
    importer_engine = Engine(importer_kind, cache=False)
    linker = Linker(importer_engine)
    linker.define_instance("e", exporter)
    importer = linker.instantiate(None, Module(importer_engine, wat(IMPORTER)))
    assert exporter.module.compiled.engine_name == exporter_kind
    assert importer.module.compiled.engine_name == importer_kind
    return exporter.exports, importer.exports


@pytest.mark.parametrize("exporter_kind, importer_kind", PAIRS)
def test_function_and_memory_are_shared(exporter_kind, importer_kind):
    ex, im = _pair(exporter_kind, importer_kind)
    assert im["call_seven"]() == 7
    im["store"](100, 42)
    assert ex["load"](100) == 42
    ex["store"](200, 43)
    assert im["load"](200) == 43
    ex["mem"].data[300] = 44                         # Python writes the shared bytes
    assert im["load"](300) == 44
    assert im["grow"](2) == 1                        # grown by the importer
    assert ex["size"]() == 3 and len(ex["mem"].data) == 3 * 65536
    im["store"](2 * 65536 + 5, 45)                   # in the new pages, seen by both
    assert ex["load"](2 * 65536 + 5) == 45
    assert im["grow"](2) == -1                       # the maximum (4) applies to both


@pytest.mark.parametrize("exporter_kind, importer_kind", PAIRS)
def test_globals_are_shared(exporter_kind, importer_kind):
    ex, im = _pair(exporter_kind, importer_kind)
    assert im["get_g"]() == 10
    im["set_g"](5)
    assert ex["get_g"]() == 5 and ex["g"].value == 5
    ex["set_g"](-1)
    assert im["get_g"]() == -1 and ex["g"].value == 0xFFFFFFFF
    ex["g"].value = 123                              # written by Python
    assert im["get_g"]() == 123 and ex["get_g"]() == 123
    im["set_gf"](2.25)
    assert ex["get_gf"]() == 2.25
    im["set_gd"](-(1 << 62))
    assert ex["get_gd"]() == -(1 << 62)
    assert im["get_gr_is_null"]() == 1
    im["set_gr"]()
    assert ex["call_gr"]() == 9
    token = object()
    im["set_ge"](token)
    assert ex["get_ge"]() is token and ex["ge"].value is token
    ex["ge"].value = "from python"
    assert im["get_ge"]() == "from python"


@pytest.mark.parametrize("exporter_kind, importer_kind", PAIRS)
def test_tables_are_shared(exporter_kind, importer_kind):
    from pywamr.errors import Trap, TrapCode
    ex, im = _pair(exporter_kind, importer_kind)
    table = ex["tab"]
    assert im["call_slot"](0) == 7                   # the exporter's active segment
    im["put_nine"](1)                                # table.set by the importer
    assert ex["call_slot"](1) == 9
    table.set(2, ex["seven"].function)               # written by Python
    assert im["call_slot"](2) == 7
    assert im["tgrow"](2) == 4 and ex["tsize"]() == 6 and len(table) == 6
    im["tfill"](4, 2)
    assert ex["call_slot"](5) == 9
    im["tcopy"](3, 0, 1)                             # seven into slot 3
    assert ex["call_slot"](3) == 7
    im["tinit"](0, 0, 2)                             # nine, seven into slots 0, 1
    assert ex["call_slot"](0) == 9 and ex["call_slot"](1) == 7
    assert table.elements.items[1] is ex["seven"].function      # the same object, not a copy
    im["drop_seg"]()
    with pytest.raises(Trap) as info:                # a dropped segment is empty
        im["tinit"](0, 0, 1)
    assert info.value.code == TrapCode.TABLE_OUT_OF_BOUNDS
    with pytest.raises(Trap) as info:                # bounds: nothing is written
        im["tfill"](5, 2)
    assert info.value.code == TrapCode.TABLE_OUT_OF_BOUNDS
    assert ex["call_slot"](5) == 9
    assert im["tgrow"](3) == -1                      # the maximum (8) applies to both
    assert im["get_is_null"](5) == 0 and im["tgrow"](0) == 6


@pytest.mark.parametrize("exporter_kind, importer_kind", PAIRS)
def test_storage_class_never_changes(exporter_kind, importer_kind):
    """Linking into the other engine adopts nothing: same objects, same classes."""
    from pywamr.engine import Engine, Linker, Module
    engine = Engine(exporter_kind, cache=False)
    exporter = Linker(engine).instantiate(None, Module(engine, wat(EXPORTER)))
    objects = {name: exporter.exports[name]
               for name in ("mem", "tab", "g", "gf", "gd", "gr", "ge")}
    classes = {name: (type(obj), type(getattr(obj, "elements", None)))
               for name, obj in objects.items()}
    importer_engine = Engine(importer_kind, cache=False)
    linker = Linker(importer_engine)
    linker.define_instance("e", exporter)
    importer = linker.instantiate(None, Module(importer_engine, wat(IMPORTER)))
    assert importer.state.memories[0] is objects["mem"]
    assert importer.state.tables[0] is objects["tab"]
    for index, name in enumerate(("g", "gf", "gd", "gr", "ge")):
        assert importer.state.globals[index] is objects[name]
    for name, obj in objects.items():
        assert (type(obj), type(getattr(obj, "elements", None))) == classes[name], name
    assert type(objects["tab"].elements.items) is list
