"""Regression tests for the interpreter's translator (pywamr/interp): deferred operands on the
symbolic stack, and how they meet drops, local/global writes, memory effects, branches and
multi-value blocks.

Every module runs in the three translation forms (structured, flat, flat without folding) and
each result is compared with the `wasmtime` package's on the same arguments, as well as with the
value the test states.
"""
import math
import struct

import pytest
import wasmtime

import pywamr.interp.translate as translate
from pywamr import Engine, Module, Trap
from pywamr.engine import Instance
from pywamr_testlib import wat

FORMS = {
    "structured": ((False, True), (True, False)),
    "flat": ((True, True),),
    "flat-unfolded": ((True, False),),
}


@pytest.fixture(params=sorted(FORMS))
def form(request, monkeypatch):
    monkeypatch.setattr(translate, "ATTEMPTS", FORMS[request.param])
    return request.param


def _wasmtime_call(wasm: bytes, name: str, args):
    store = wasmtime.Store()
    instance = wasmtime.Instance(store, wasmtime.Module(store.engine, wasm), [])
    try:
        result = instance.exports(store)[name](store, *args)
    except wasmtime.Trap:
        return "trap"
    return tuple(result) if isinstance(result, list) else result


def _same(a, b) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return struct.pack("<d", a) == struct.pack("<d", b) or (math.isnan(a) and math.isnan(b))
    if isinstance(a, tuple) and isinstance(b, tuple):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    return a == b


def check(text: str, calls):
    """Run `calls` [(export, args, expected)] on interp (fresh instance per call), and on
    wasmtime; all three must agree. `expected` "trap" means any trap."""
    wasm = wat(text)
    module = Module(Engine("interp"), wasm)
    for name, args, expected in calls:
        exports = Instance(None, module, []).exports
        try:
            got = exports[name](*args)
        except Trap:
            got = "trap"
        oracle = _wasmtime_call(wasm, name, args)
        assert _same(oracle, expected), \
            f"{name}{args}: wasmtime gives {oracle}, test says {expected}"
        assert _same(got, expected), f"{name}{args}: interp gives {got}, expected {expected}"


# ---- drop ---------------------------------------------------------------------------------

def test_dropped_constant_does_not_come_back(form):
    check("""(module (global $g (mut i32) (i32.const 9))
      (func (export "f") (result i32) i32.const 5 drop global.get $g))""",
          [("f", (), 9)])


def test_dropped_constant_not_written_over_call_result_at_branch(form):
    check("""(module
      (func $seven (result i32) i32.const 7)
      (func (export "f") (result i32)
        (block (result i32) i32.const 5 drop call $seven br 0))
      (func (export "g") (param i32) (result i32)
        (block (result i32) local.get 0 drop call $seven i32.const 1 i32.add)))""",
          [("f", (), 7), ("g", (3,), 8)])


def test_dropped_reference_in_multi_value_if(form):
    """Shrunk from a random module: a dropped deferred `ref.null` resurfaced as a slot value."""
    check("""(module
      (type $t (func (result i64 funcref i64)))
      (global $g (mut i64) (i64.const 0))
      (func (export "f") (result i64)
        (local f32)
        i64.const 1
        i32.const 1
        if (type $t)
          f32.const -1.5
          loop (param f32) (result externref)
            i64.trunc_sat_f32_u
            ref.null func
            drop
            global.get $g
            i64.xor
            global.set $g
            ref.null extern
          end
          drop
          i64.const 0
          ref.null func
          i64.const -8
        else
          i64.const 0
          ref.null func
          i64.const 0
        end
        global.get $g
        i64.xor
        global.set $g
        drop
        drop
        global.get $g
        i64.add))""",
          [("f", (), -7)])


# ---- locals -------------------------------------------------------------------------------

def test_local_set_and_tee_invalidate_deferred_readers(form):
    check("""(module
      (func (export "set") (param i32) (result i32)
        local.get 0
        (local.set 0 (i32.const 100))
        local.get 0
        i32.sub)
      (func (export "tee") (param i32) (result i32)
        (i32.mul (i32.add (local.get 0) (i32.const 1)) (local.tee 0 (i32.const 10)))
        local.get 0
        i32.add)
      (func (export "self") (param i32) (result i32)
        (local.set 0 (i32.add (local.get 0) (local.get 0)))
        local.get 0)
      (func (export "swap") (param i32 i32) (result i32 i32)
        local.get 0 local.get 1 local.set 0 local.set 1 local.get 0 local.get 1))""",
          [("set", (3,), -97), ("tee", (4,), 60), ("self", (21,), 42), ("swap", (1, 2), (2, 1))])


def test_slot_write_invalidates_deferred_reader_of_the_slot(form):
    """A deferred expression reading slot s1 must be evaluated before s1 is reused."""
    check("""(module
      (func $id (param i32) (result i32) local.get 0)
      (func (export "f") (param i32) (result i32)
        (call $id (i32.const 10))
        (call $id (i32.const 20))
        i32.sub          ;; deferred (s0 - s1)
        (call $id (i32.const 1000))   ;; result lands in s1
        drop
        (call $id (local.get 0))
        i32.add))""",
          [("f", (5,), -5)])


# ---- globals and memory -------------------------------------------------------------------

GLOBAL_MODULE = """(module
  (global $g (mut i32) (i32.const 1))
  (func $bump (global.set $g (i32.add (global.get $g) (i32.const 10))))
  (func $bump_get (result i32) call $bump global.get $g)
  (table 1 funcref) (elem (i32.const 0) $bump)
  (func (export "across_set") (result i32)
    global.get $g (global.set $g (i32.const 50)) global.get $g i32.sub)
  (func (export "across_call") (result i32)
    global.get $g call $bump global.get $g i32.sub)
  (func (export "across_call_result") (result i32)
    global.get $g call $bump_get i32.sub)
  (func (export "across_indirect") (result i32)
    (i32.mul (global.get $g) (i32.const 3)) (call_indirect (i32.const 0)) global.get $g i32.add))
"""


def test_deferred_global_get_across_writes(form):
    check(GLOBAL_MODULE, [("across_set", (), -49), ("across_call", (), -10),
                          ("across_call_result", (), -10), ("across_indirect", (), 14)])


MEMORY_MODULE = """(module
  (memory 1 3)
  (func $store (param i32 i32) (i32.store (local.get 0) (local.get 1)))
  (func (export "across_store") (param i32) (result i32)
    (i32.load (local.get 0)) (i32.store (local.get 0) (i32.const 7)) (i32.load (local.get 0))
    i32.sub)
  (func (export "across_call") (param i32) (result i32)
    (i32.load (local.get 0)) (call $store (local.get 0) (i32.const 9)) (i32.load (local.get 0))
    i32.sub)
  (func (export "across_grow") (result i32)
    memory.size (drop (memory.grow (i32.const 1))) memory.size i32.sub)
  (func (export "across_fill") (result i32)
    (i32.load8_u (i32.const 3)) (memory.fill (i32.const 0) (i32.const 200) (i32.const 8))
    (i32.load8_u (i32.const 3)) i32.sub)
  (func (export "load_then_trap") (param i32) (result i32)
    (i32.load (i32.const 0)) (i32.load (local.get 0)) i32.add)
  (data (i32.const 0) "\\05\\00\\00\\00"))
"""


def test_deferred_loads_across_effects(form):
    check(MEMORY_MODULE, [("across_store", (0,), -2), ("across_call", (0,), -4),
                          ("across_grow", (), -1), ("across_fill", (), -200),
                          ("load_then_trap", (0,), 10), ("load_then_trap", (65534,), "trap")])


# ---- select and branches ------------------------------------------------------------------

BRANCH_MODULE = """(module
  (func (export "select") (param i32 i32) (result i32)
    (i32.add (local.get 0) (i32.const 1))
    (i32.mul (local.get 0) (i32.const 2))
    (local.set 0 (i32.const 1000))
    (local.get 1)
    select
    local.get 0
    i32.add)
  (func (export "br_if") (param i32 i32) (result i32)
    (block (result i32)
      (i32.add (local.get 0) (i32.const 1))
      (local.set 0 (i32.const 100))
      (br_if 0 (local.get 1))
      (i32.const 10)
      i32.mul)
    local.get 0
    i32.add)
  (func (export "br_if_keeps") (param i32 i32) (result i32)
    (block (result i32)
      (i32.add (local.get 0) (i32.const 1))
      (local.get 1)
      (br_if 0)
      (i32.const 10)
      i32.mul))
  (func (export "br_table") (param i32 i32) (result i32)
    (block $a (result i32)
      (block $b (result i32)
        (i32.mul (local.get 0) (i32.const 3))
        (local.set 0 (i32.const 0))
        (local.get 1)
        (br_table $a $b $a))
      (i32.const 1000)
      i32.add))
  (func (export "loop") (param i32) (result i32) (local i32)
    (loop $l
      (local.set 1 (i32.add (local.get 1) (local.get 0)))
      (local.tee 0 (i32.sub (local.get 0) (i32.const 1)))
      (br_if $l))
    local.get 1))
"""


@pytest.mark.parametrize("name,args,expected", [
    ("select", (5, 1), 1006), ("select", (5, 0), 1010),
    ("br_if", (5, 1), 106), ("br_if", (5, 0), 160),
    ("br_if_keeps", (5, 1), 6), ("br_if_keeps", (5, 0), 60),
    ("br_table", (4, 0), 12), ("br_table", (4, 1), 1012), ("br_table", (4, 7), 12),
    ("loop", (10,), 55),
])
def test_branches_with_deferred_operands(form, name, args, expected):
    check(BRANCH_MODULE, [(name, args, expected)])


# ---- multi-value blocks -------------------------------------------------------------------

MULTI_MODULE = """(module
  (func (export "block_params") (param i32 i32) (result i32 i32)
    (local.get 0) (local.get 1)
    (block (param i32 i32) (result i32 i32)
      (local.set 0) (local.set 1) (local.get 0) (local.get 1)))
  (func (export "if_params") (param i32 i32) (result i32)
    (i32.add (local.get 0) (i32.const 2))
    (local.get 1)
    (if (param i32) (result i32)
      (then (i32.const 1) i32.add)
      (else (i32.const 3) i32.mul)))
  (func (export "loop_params") (param i32) (result i32)
    (i32.const 0) (local.get 0)
    (loop $l (param i32 i32) (result i32)
      (local.set 0)
      (i32.add (local.get 0))
      (local.tee 0 (i32.sub (local.get 0) (i32.const 1)))
      (br_if $l (local.get 0))
      drop))
  (func (export "br_values") (param i32) (result i32 i64)
    (block (result i32 i64)
      (i32.mul (local.get 0) (i32.const 2))
      (i64.extend_i32_u (local.get 0))
      (br_if 0 (local.get 0))
      drop drop
      (i32.const 77) (i64.const 88))))
"""


def test_multi_value_blocks(form):
    check(MULTI_MODULE, [("block_params", (1, 2), (2, 1)), ("if_params", (3, 1), 6),
                         ("if_params", (3, 0), 15), ("loop_params", (4,), 10),
                         ("br_values", (5,), (10, 5)), ("br_values", (0,), (77, 88))])


# ---- trap order ---------------------------------------------------------------------------

def test_trapping_operations_are_not_reordered(form):
    """A division that traps runs before a later store; a dropped trapping op still traps."""
    check("""(module (memory 1)
      (func (export "div_then_store") (param i32) (result i32)
        (i32.div_u (i32.const 1) (local.get 0))
        (i32.store (i32.const 0) (i32.const 5))
        drop
        (i32.load (i32.const 0)))
      (func (export "dropped_div") (param i32)
        (drop (i32.div_s (i32.const 1) (local.get 0))))
      (func (export "dropped_load") (param i32)
        (drop (i32.load (local.get 0)))))""",
          [("div_then_store", (0,), "trap"), ("div_then_store", (1,), 5),
           ("dropped_div", (0,), "trap"), ("dropped_load", (70000,), "trap"),
           ("dropped_load", (4,), None)])


FOLDED_LOADS = """(module (memory (export "memory") 1) (global $g (export "g") (mut i32) (i32.const 3))
  (func (export "copy") (param i32 i32) (result i32)
    (i32.store8 (local.get 1) (i32.load8_u (local.get 0)))
    (i32.store (i32.add (local.get 1) (i32.const 4)) (i32.load (local.get 0)))
    (i64.store32 (i32.const 100) (i64.load32_u (local.get 0)))
    (local.set 0 (i32.load (i32.const 100)))
    (global.set $g (i32.load (i32.const 100)))
    (i32.add (local.get 0) (global.get $g)))
  (func (export "tee") (param i32) (result i32)
    (i32.add (local.tee 0 (i32.load16_u (local.get 0))) (local.get 0)))
  (func (export "set_global") (param i32) (global.set $g (i32.load (local.get 0))))
  (func (export "store_loaded") (param i32 i32) (i32.store (local.get 1) (i32.load (local.get 0))))
  (data (i32.const 0) "\\11\\22\\33\\44"))
"""


def test_loads_folded_into_their_consumer(form):
    check(FOLDED_LOADS, [("copy", (0, 200), 0x44332211 * 2 - 2 ** 32), ("tee", (2,), 0x4433 * 2),
                         ("copy", (65535, 0), "trap"), ("store_loaded", (0, 65534), "trap")])


def test_trapping_folded_load_leaves_state_alone(form):
    instance = Instance(None, Module(Engine("interp"), wat(FOLDED_LOADS)), [])
    exports = instance.exports
    with pytest.raises(Trap):
        exports["set_global"](65533)
    assert exports["g"].value == 3
    exports["store_loaded"](0, 8)
    with pytest.raises(Trap):
        exports["store_loaded"](65535, 8)
    assert bytes(exports["memory"].data[8:12]) == b"\x11\x22\x33\x44"


def test_long_chain_of_slot_readers_translates():
    """20,000 deferred entries each reading the slot above it: one write materialises them all
    (iteratively, in order), with no recursion limit in the way."""
    n = 20_000
    body = "local.get 0 call $one i32.add " * n + "call $one " + "i32.add " * n
    text = f"""(module (func $one (result i32) i32.const 1)
      (func (export "f") (param i32) (result i32) {body}))"""
    exports = Instance(None, Module(Engine("interp"), wat(text)), []).exports
    assert exports["f"](2) == n * 3 + 1


def test_huge_br_table(form):
    """30,000 labels: both forms emit a binary search (an if/elif chain this long made
    CPython's parser give up with a MemoryError in the flat form)."""
    n = 30_000
    labels = " ".join(str(i % 3) for i in range(n))
    text = f"""(module (func (export "f") (param i32) (result i32)
      (block (block (block (br_table {labels} 0 (local.get 0)))
        (return (i32.const 10))) (return (i32.const 11))) (i32.const 12)))"""
    exports = Instance(None, Module(Engine("interp"), wat(text)), []).exports
    assert [exports["f"](i) for i in (0, 1, 2, 3, n - 1, n, 2**31)] == [10, 11, 12, 10, 12, 10, 10]
