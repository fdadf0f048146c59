"""The runtime layer's storage protocol: a table's ElementStore (the one implementation of the
table instructions, with its native mirror kept in step) and cell-backed globals."""
from __future__ import annotations

import ctypes
import math

import pytest

from pywamr.binary.types import (EXTERNREF, F32, F64, FUNCREF, I32, I64, GlobalType, Limits,
                                 TableType)
from pywamr.errors import Trap, TrapCode
from pywamr.runtime.numerics import f32_from_bits, f32_to_bits
from pywamr.runtime.objects import Global, Table
from pywamr.runtime.tables import ElementStore


class RecordingMirror:
    """An ElementMirror that copies the store and logs every report."""

    def __init__(self):
        self.copy: list = []
        self.log: list = []

    def resize(self, items):
        self.log.append(("resize", len(items)))
        self.copy = list(items)

    def refresh(self, items, start, stop):
        self.log.append(("refresh", start, stop))
        self.copy[start:stop] = items[start:stop]


def _table(size=4, maximum=None, init=None):
    return Table(TableType(EXTERNREF, Limits(size, maximum)), init)


def _trap(code, fn, *args):
    with pytest.raises(Trap) as info:
        fn(*args)
    assert info.value.code == code


def test_store_operations_and_bounds():
    table = _table(4)
    store = table.elements
    assert isinstance(store, ElementStore) and len(store) == 4 and len(table) == 4
    store.set(3, "a")
    assert store.get(3) == "a" and store[3] == "a" and table.get(3) == "a"
    _trap(TrapCode.TABLE_OUT_OF_BOUNDS, store.get, 4)
    _trap(TrapCode.TABLE_OUT_OF_BOUNDS, store.set, 4, "x")
    store.fill(0, "f", 2)
    assert store.items == ["f", "f", None, "a"]
    _trap(TrapCode.TABLE_OUT_OF_BOUNDS, store.fill, 3, "z", 2)
    assert store.items == ["f", "f", None, "a"]          # nothing written on a trap
    store.fill(4, "z", 0)                                # n = 0 at the end is allowed
    store.copy(1, store, 2, 2)                           # overlapping copy within one table
    assert store.items == ["f", None, "a", "a"]
    _trap(TrapCode.TABLE_OUT_OF_BOUNDS, store.copy, 3, store, 0, 2)
    other = _table(2, init="o").elements
    store.copy(0, other, 0, 2)
    assert store.items == ["o", "o", "a", "a"]
    _trap(TrapCode.TABLE_OUT_OF_BOUNDS, store.copy, 0, other, 1, 2)
    store.init(2, ["s1", "s2", "s3"], 1, 2)
    assert store.items == ["o", "o", "s2", "s3"]
    _trap(TrapCode.TABLE_OUT_OF_BOUNDS, store.init, 0, ["s1"], 0, 2)
    _trap(TrapCode.TABLE_OUT_OF_BOUNDS, store.init, 3, ["s1", "s2"], 0, 2)
    assert store.items == ["o", "o", "s2", "s3"]


def test_grow_respects_maximum_and_resource_limit():
    table = _table(1, maximum=3)
    assert table.grow(2, "g") == 1 and len(table) == 3
    assert table.current_type().limits == Limits(3, 3)
    assert table.grow(1, None) == -1 and len(table) == 3
    assert table.grow(0, None) == 3
    unbounded = _table(0)
    assert unbounded.grow(0xFFFFFFFF, None) == -1 and len(unbounded) == 0


def test_the_mirror_sees_every_write():
    table = _table(3)
    store = table.elements
    store.set(0, "before")
    mirror = store.attach_mirror(lambda s: RecordingMirror())
    assert store.attach_mirror(lambda s: RecordingMirror()) is mirror   # one per store
    assert mirror.copy == ["before", None, None]
    store.set(2, "x")
    store.fill(0, "y", 2)
    store.copy(1, store, 2, 1)
    store.init(0, ["i"], 0, 1)
    assert table.grow(2, "z") == 3
    store.fill(0, "w", 0)                                # empty: nothing to report
    assert mirror.copy == store.items == ["i", "x", "x", "z", "z"]
    assert mirror.log == [("resize", 3), ("refresh", 2, 3), ("refresh", 0, 2),
                          ("refresh", 1, 2), ("refresh", 0, 1), ("resize", 5)]
    _trap(TrapCode.TABLE_OUT_OF_BOUNDS, store.set, 9, "no")
    assert mirror.log[-1] == ("resize", 5)               # a trap reports nothing


def test_store_is_not_a_list_and_cannot_be_written_around():
    store = _table(2).elements
    assert not isinstance(store, list)
    with pytest.raises(TypeError):
        store[0] = "bypass"                              # only the operations write


@pytest.mark.parametrize("valtype, value", [(I32, 0xFFFFFFFF), (I64, 0xFFFFFFFFFFFFFFFF),
                                            (F64, -0.0), (F64, math.inf)])
def test_numeric_globals_live_in_their_cell(valtype, value):
    g = Global(GlobalType(valtype, True), value)
    assert g.value == value and type(g.value) is type(value)
    address = g.address()
    assert isinstance(address, int) and address
    cell = (ctypes.c_double if valtype == F64 else ctypes.c_uint64).from_address(address)
    assert cell.value == value or (math.isnan(cell.value) and math.isnan(value))
    cell.value = 3 if valtype != F64 else 2.5            # written natively
    assert g.value == (3 if valtype != F64 else 2.5)
    assert g.accessor().value == g.value
    g.accessor().value = 1 if valtype != F64 else 0.5    # written through the accessor
    assert g.value == (1 if valtype != F64 else 0.5)
    assert isinstance(g, Global) and g.address() == address


def test_i32_global_cell_is_read_as_i32_by_native_code():
    g = Global(GlobalType(I32, True), 0x12345678)
    assert ctypes.c_uint32.from_address(g.address()).value == 0x12345678
    ctypes.c_uint32.from_address(g.address()).value = 0xCAFEBABE      # a native i32 store
    assert g.value == 0xCAFEBABE


def test_f32_global_keeps_nan_payloads_in_its_cell():
    nan = f32_from_bits(0x7FA00001)                      # a signalling NaN with a payload
    g = Global(GlobalType(F32, True), nan)
    assert ctypes.c_uint32.from_address(g.address()).value == 0x7FA00001
    assert f32_to_bits(g.value) == 0x7FA00001
    ctypes.c_float.from_address(g.address()).value = 1.5
    assert g.value == 1.5


@pytest.mark.parametrize("valtype", [FUNCREF, EXTERNREF])
def test_reference_globals_hold_the_object(valtype):
    token = object()
    g = Global(GlobalType(valtype, True), None)
    assert g.address() is None and g.value is None
    g.value = token
    assert g.value is token and g.accessor() is g


def test_no_storage_is_adopted_by_class_rewriting_or_list_subclasses():
    """Static guard: no module rewrites an object's class, none subclasses list."""
    import ast
    from pathlib import Path
    import pywamr
    problems = []
    for path in Path(pywamr.__file__).parent.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, (ast.Assign, ast.AugAssign)):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                if any(isinstance(t, ast.Attribute) and t.attr == "__class__" for t in targets):
                    problems.append(f"{path.name}:{node.lineno} assigns __class__")
            if isinstance(node, ast.ClassDef):
                if any(isinstance(b, ast.Name) and b.id == "list" for b in node.bases):
                    problems.append(f"{path.name}:{node.lineno} subclasses list")
    assert not problems, problems


def test_private_globals_hold_the_value():
    g = Global.private(GlobalType(I32, True), 5)
    assert isinstance(g, Global) and g.address() is None and g.accessor() is g
    g.value = 6
    assert g.value == 6


def test_interpreter_keeps_only_unexported_globals_private(engine_kind):
    """Exported globals are shareable (a native cell); the interpreter's unexported ones are
    plain values; the aot engine's are all cells (its code reads them natively)."""
    from pywamr.engine import Engine, Linker, Module
    from pywamr_testlib import wat
    engine = Engine(engine_kind, cache=False)
    inst = Linker(engine).instantiate(None, Module(engine, wat("""
    (module (global $hidden (mut i32) (i32.const 1))
            (global (export "shown") (mut i32) (i32.const 2))
            (func (export "bump") (result i32)
              (global.set $hidden (i32.add (global.get $hidden) (i32.const 1)))
              (global.get $hidden)))
    """)))
    hidden, shown = inst.state.globals
    assert shown.address() is not None
    assert (hidden.address() is None) == (engine_kind == "interp")
    assert inst.exports["bump"]() == 2 and hidden.value == 2
