"""AOT semantics on small modules, differential against the interpreter where useful."""
from __future__ import annotations

import math
import struct

import pytest

from aot_testlib import instance

ARITH = """
(module
  (func (export "i32.div_s") (param i32 i32) (result i32) local.get 0 local.get 1 i32.div_s)
  (func (export "i32.rem_s") (param i32 i32) (result i32) local.get 0 local.get 1 i32.rem_s)
  (func (export "i32.rotl") (param i32 i32) (result i32) local.get 0 local.get 1 i32.rotl)
  (func (export "i32.shr_s") (param i32 i32) (result i32) local.get 0 local.get 1 i32.shr_s)
  (func (export "i32.clz") (param i32) (result i32) local.get 0 i32.clz)
  (func (export "i64.mul") (param i64 i64) (result i64) local.get 0 local.get 1 i64.mul)
  (func (export "i64.rem_u") (param i64 i64) (result i64) local.get 0 local.get 1 i64.rem_u)
  (func (export "i64.shr_u") (param i64 i64) (result i64) local.get 0 local.get 1 i64.shr_u)
  (func (export "i64.popcnt") (param i64) (result i64) local.get 0 i64.popcnt)
  (func (export "i64.extend32_s") (param i64) (result i64) local.get 0 i64.extend32_s)
  (func (export "f64.min") (param f64 f64) (result f64) local.get 0 local.get 1 f64.min)
  (func (export "f32.max") (param f32 f32) (result f32) local.get 0 local.get 1 f32.max)
  (func (export "f64.nearest") (param f64) (result f64) local.get 0 f64.nearest)
  (func (export "f32.sqrt") (param f32) (result f32) local.get 0 f32.sqrt)
  (func (export "sat") (param f64) (result i32) local.get 0 i32.trunc_sat_f64_s)
  (func (export "satu") (param f32) (result i64) local.get 0 i64.trunc_sat_f32_u)
  (func (export "conv") (param i64) (result f32) local.get 0 f32.convert_i64_u)
)
"""

INTS = [0, 1, 2, 3, 7, 31, 32, 33, 63, 64, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFF,
        0x8000000000000000, 0xFFFFFFFFFFFFFFFF, 0x123456789ABCDEF0]
FLOATS = [0.0, -0.0, 1.5, -2.5, 0.5, 2.5, float("inf"), -float("inf"), float("nan"), 1e300,
          -1e-300, 3.4e38, 2147483647.5, -2147483648.7, 1.8446744073709552e19]


def _same(a, b) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        if math.isnan(a) or math.isnan(b):
            return math.isnan(a) and math.isnan(b)
        return struct.pack("<d", a) == struct.pack("<d", b)
    return a == b


def _outcome(fn, *args):
    from pywamr.errors import Trap
    try:
        return ("ok", fn(*args))
    except Trap as trap:
        return ("trap", trap.code)


@pytest.fixture(scope="module")
def pair():
    return instance(ARITH, engine_kind="aot"), instance(ARITH, engine_kind="interp")


@pytest.mark.parametrize("name", ["i32.div_s", "i32.rem_s", "i32.rotl", "i32.shr_s",
                                  "i64.mul", "i64.rem_u", "i64.shr_u"])
def test_integer_binary_matches_interpreter(pair, name):
    aot, interp = pair
    bits = 32 if name.startswith("i32") else 64
    values = [v & ((1 << bits) - 1) for v in INTS]
    for a in values:
        for b in values:
            x = _outcome(aot.exports[name].call_internal, a, b)
            y = _outcome(interp.exports[name].call_internal, a, b)
            assert x == y, (name, a, b, x, y)


@pytest.mark.parametrize("name", ["i32.clz", "i64.popcnt", "i64.extend32_s", "conv"])
def test_integer_unary_matches_interpreter(pair, name):
    aot, interp = pair
    bits = 32 if name.startswith("i32") else 64
    for a in INTS:
        a &= (1 << bits) - 1
        x = _outcome(aot.exports[name].call_internal, a)
        y = _outcome(interp.exports[name].call_internal, a)
        assert x[0] == y[0] and _same(x[1], y[1]), (name, a, x, y)


@pytest.mark.parametrize("name", ["f64.min", "f32.max"])
def test_float_binary_matches_interpreter(pair, name):
    aot, interp = pair
    for a in FLOATS:
        for b in FLOATS:
            x = aot.exports[name](a, b)
            y = interp.exports[name](a, b)
            assert _same(x, y), (name, a, b, x, y)


@pytest.mark.parametrize("name", ["f64.nearest", "f32.sqrt", "sat", "satu"])
def test_float_unary_matches_interpreter(pair, name):
    aot, interp = pair
    for a in FLOATS:
        x = aot.exports[name](a)
        y = interp.exports[name](a)
        assert _same(x, y), (name, a, x, y)


def test_fib_loop_and_multi_value():
    inst = instance("""
    (module
      (func $fib (export "fib") (param i32) (result i32)
        local.get 0 i32.const 2 i32.lt_u
        if (result i32) local.get 0
        else local.get 0 i32.const 1 i32.sub call $fib
             local.get 0 i32.const 2 i32.sub call $fib i32.add end)
      (func (export "sum") (param i32) (result i64) (local i64)
        block $done
          loop $l
            local.get 0 i32.eqz br_if $done
            local.get 1 local.get 0 i64.extend_i32_u i64.add local.set 1
            local.get 0 i32.const 1 i32.sub local.set 0
            br $l
          end
        end
        local.get 1)
      (func (export "swap") (param i32 f64) (result f64 i32)
        local.get 1 local.get 0
        block (param f64 i32) (result f64 i32) br 0 end)
      (func (export "pick") (param i32) (result i32)
        block block block
          local.get 0 br_table 0 1 2
        end i32.const 10 return end i32.const 20 return end i32.const 30))
    """)
    assert inst.exports["fib"](20) == 6765
    assert inst.exports["sum"](100000) == 5000050000
    assert inst.exports["swap"](7, 2.5) == (2.5, 7)
    assert [inst.exports["pick"](i) for i in range(4)] == [10, 20, 30, 30]


def test_memory_globals_and_nan_payloads():
    inst = instance("""
    (module
      (memory (export "memory") 1 3)
      (global $g (export "g") (mut i64) (i64.const 5))
      (func (export "bump") (result i64)
        global.get $g i64.const 1 i64.add global.set $g global.get $g)
      (func (export "store_f32") (param i32 f32) local.get 0 local.get 1 f32.store)
      (func (export "load_f32") (param i32) (result f32) local.get 0 f32.load)
      (func (export "load_u32") (param i32) (result i32) local.get 0 i32.load)
      (func (export "grow") (param i32) (result i32) local.get 0 memory.grow)
      (func (export "size") (result i32) memory.size)
      (func (export "copy") (param i32 i32 i32) local.get 0 local.get 1 local.get 2 memory.copy)
      (func (export "fill") (param i32 i32 i32) local.get 0 local.get 1 local.get 2 memory.fill))
    """)
    e = inst.exports
    assert e["bump"]() == 6
    assert e["g"].value == 6
    e["g"].value = 41
    assert e["bump"]() == 42
    from pywamr.runtime.numerics import f32_from_bits, f32_to_bits
    snan = f32_from_bits(0x7FA00001)
    e["store_f32"].function.call(16, snan)
    assert e["load_u32"](16) == 0x7FA00001
    assert f32_to_bits(e["load_f32"].function.call(16)) == 0x7FA00001
    assert e["grow"](1) == 1 and e["size"]() == 2
    e["fill"](65536 + 10, 0xAB, 4)
    e["copy"](0, 65536 + 10, 4)
    assert bytes(e["memory"].data[:4]) == b"\xab" * 4
    assert e["grow"](5) == -1


def test_call_indirect_and_reference_instructions():
    inst = instance("""
    (module
      (type $ii (func (param i32) (result i32)))
      (table $t (export "table") 4 funcref)
      (elem (i32.const 0) $inc $dbl)
      (func $inc (type $ii) local.get 0 i32.const 1 i32.add)
      (func $dbl (type $ii) local.get 0 i32.const 2 i32.mul)
      (func (export "apply") (param i32 i32) (result i32)
        local.get 1 local.get 0 call_indirect (type $ii))
      (func (export "set2") i32.const 2 ref.func $dbl table.set $t)
      (func (export "is_null") (param i32) (result i32) local.get 0 table.get $t ref.is_null)
      (func (export "grow") (result i32) ref.null func i32.const 3 table.grow $t))
    """)
    e = inst.exports
    assert e["apply"](0, 10) == 11 and e["apply"](1, 10) == 20
    assert e["is_null"](2) == 1
    e["set2"]()
    assert e["is_null"](2) == 0 and e["apply"](2, 4) == 8
    assert e["table"].elements[2] is e["table"].elements[1]
    assert e["grow"]() == 4 and len(e["table"].elements) == 7
