"""Every kind of trap the AOT engine raises, with the trapping function named, and that an
instance stays usable after a trap."""
from __future__ import annotations

import pytest

from aot_testlib import instance
from pywamr.errors import Trap, TrapCode

TRAPS = """
(module
  (type $v (func))
  (type $ii (func (param i32) (result i32)))
  (memory 1)
  (table $t 3 funcref)
  (elem (i32.const 0) $void)
  (func $void)
  (func $unreachable (export "unreachable") unreachable)
  (func (export "oob_load") (param i32) (result i32) local.get 0 i32.load offset=4)
  (func (export "oob_store") (param i32) local.get 0 i64.const 1 i64.store)
  (func (export "div0") (param i32) (result i32) i32.const 1 local.get 0 i32.div_u)
  (func (export "overflow") (result i64) i64.const 0x8000000000000000 i64.const -1 i64.div_s)
  (func (export "rem_min") (result i32) i32.const 0x80000000 i32.const -1 i32.rem_s)
  (func (export "trunc") (param f64) (result i32) local.get 0 i32.trunc_f64_s)
  (func (export "truncu") (param f32) (result i64) local.get 0 i64.trunc_f32_u)
  (func (export "indirect") (param i32) (result i32)
    i32.const 5 local.get 0 call_indirect (type $ii))
  (func (export "table_get") (param i32) (result funcref) local.get 0 table.get $t)
  (func (export "table_fill") (param i32 i32) local.get 0 ref.null func local.get 1 table.fill $t)
  (func (export "fill") (param i32 i32) local.get 0 i32.const 7 local.get 1 memory.fill)
  (func (export "byte") (param i32) (result i32) local.get 0 i32.load8_u)
  (func $rec (export "recurse") (param i32) (result i32)
    local.get 0 i32.const 1 i32.add call $rec i32.const 1 i32.add)
)
"""


@pytest.fixture(scope="module")
def inst():
    return instance(TRAPS)


@pytest.mark.parametrize("name,args,code", [
    ("unreachable", (), TrapCode.UNREACHABLE),
    ("oob_load", (65532,), TrapCode.MEMORY_OUT_OF_BOUNDS),
    ("oob_load", (0xFFFFFFFF,), TrapCode.MEMORY_OUT_OF_BOUNDS),
    ("oob_store", (65529,), TrapCode.MEMORY_OUT_OF_BOUNDS),
    ("div0", (0,), TrapCode.INTEGER_DIVIDE_BY_ZERO),
    ("overflow", (), TrapCode.INTEGER_OVERFLOW),
    ("trunc", (float("nan"),), TrapCode.BAD_CONVERSION_TO_INTEGER),
    ("trunc", (2147483648.0,), TrapCode.INTEGER_OVERFLOW),
    ("trunc", (-2147483649.0,), TrapCode.INTEGER_OVERFLOW),
    ("truncu", (-1.0,), TrapCode.INTEGER_OVERFLOW),
    ("indirect", (3,), TrapCode.UNDEFINED_ELEMENT),
    ("indirect", (1,), TrapCode.UNINITIALIZED_ELEMENT),
    ("indirect", (0,), TrapCode.INDIRECT_CALL_TYPE_MISMATCH),
    ("table_get", (3,), TrapCode.TABLE_OUT_OF_BOUNDS),
    ("table_fill", (2, 2), TrapCode.TABLE_OUT_OF_BOUNDS),
    ("fill", (65530, 7), TrapCode.MEMORY_OUT_OF_BOUNDS),
    ("recurse", (0,), TrapCode.STACK_EXHAUSTED),
])
def test_trap(inst, name, args, code):
    with pytest.raises(Trap) as info:
        inst.exports[name](*args)
    assert info.value.code is code
    assert info.value.frames, "the trapping function is named"


def test_trap_names_function(inst):
    with pytest.raises(Trap) as info:
        inst.exports["unreachable"]()
    assert info.value.frames[0] == "unreachable"


def test_no_partial_write_and_usable_after_traps(inst):
    with pytest.raises(Trap):
        inst.exports["fill"](65530, 7)
    assert inst.exports["byte"](65530) == 0
    assert inst.exports["rem_min"]() == 0
    assert inst.exports["trunc"](-2147483648.9) == -2147483648
    for _ in range(200):
        with pytest.raises(Trap):
            inst.exports["recurse"](0)
    assert inst.exports["div0"](1) == 1


BACKTRACE = """
(module
  (type $v (func))
  (table 1 funcref)
  (elem (i32.const 0) $middle)
  (func $inner unreachable)
  (func $middle call $inner)
  (func $outer (export "outer") call $middle)
  (func $outer_indirect (export "outer_indirect") i32.const 0 call_indirect (type $v))
)
"""


@pytest.mark.parametrize("export", ["outer", "outer_indirect"])
def test_trap_reports_full_backtrace(export):
    """Frames come from the native frame-pointer walk, innermost first; the record-call
    helper of call_indirect is not a wasm frame and does not appear."""
    with pytest.raises(Trap) as info:
        instance(BACKTRACE).exports[export]()
    assert info.value.code is TrapCode.UNREACHABLE
    assert info.value.frames == ["inner", "middle", export]
