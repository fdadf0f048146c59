"""Bounds checks of loads and stores, compared call by call between aot, interp and wasmtime.

What `aot/emit/memory.py` and `helpers.memory_address` must keep exact while they hoist and
merge checks: every scalar access at every boundary (each width, at offsets 0, 1, 65535 and
2^32 - 1, addresses just inside, just outside and wrapping), loops that run off the end of
memory (stores before the faulting one stay done), merged checks (a group of accesses through
one local, cut short by a trap of another kind, a global.set, a local.set or a store) and
memory.grow inside a loop (directly, through a call, from a host function, and through a
second instance sharing the memory), since the bound is kept in a register across stores.
After every call the outcome (value or trap) and a digest of the memory are compared.
"""
from __future__ import annotations

import hashlib
import re
import struct

import pytest

from aot_testlib import instance, wat
from pywamr.aot import vmctx
from pywamr.aot.emit.memory import merged_checks
from pywamr.binary.decoder import decode_module
from pywamr.binary.opcodes import OPS
from pywamr.binary.types import VALTYPE_NAMES
from pywamr.errors import Trap, TrapCode
from pywamr_testlib import require_wasmtime

P = 65536
SCALAR = [i for i in OPS.values() if i.imm == "memarg" and i.feature is None]
OFFSETS = (0, 1, 65535, 0xFFFFFFFF)
ENGINES = ("aot", "interp")
VALUE = {"i32": 0x7A6B5C4D, "i64": 0x1122334455667788, "f32": 1.5, "f64": -2.25}


def _access_name(info, offset: int) -> str:
    return f"{info.name}@{offset}"


def _access_funcs() -> str:
    funcs = []
    for info in SCALAR:
        for offset in OFFSETS:
            name = _access_name(info, offset)
            if info.sig[1]:
                t = VALTYPE_NAMES[info.sig[1][0]]
                funcs.append(f'(func (export "{name}") (param i32) (result {t}) '
                             f'({info.name} offset={offset} (local.get 0)))')
            else:
                t = VALTYPE_NAMES[info.sig[0][1]]
                funcs.append(f'(func (export "{name}") (param i32 {t}) '
                             f'({info.name} offset={offset} (local.get 0) (local.get 1)))')
    return "\n".join(funcs)


MODULE = """
(module
  (memory (export "memory") 1 4)
  (global $g (export "g") (mut i32) (i32.const 0))
  (data (i32.const 0) "\\01\\02\\03\\04\\05\\06\\07\\08\\09\\0a\\0b\\0c\\0d\\0e\\0f\\10")
  (data (i32.const 65520) "\\f1\\f2\\f3\\f4\\f5\\f6\\f7\\f8\\f9\\fa\\fb\\fc\\fd\\fe\\ff\\80")
  %(access)s
  ;; a pointer-bumping store loop, as clang emits: n words from p
  (func (export "fill_words") (param $p i32) (param $n i32)
    (local $i i32)
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (i32.store (local.get $p) (i32.add (local.get $i) (i32.const 0x01010101)))
        (local.set $p (i32.add (local.get $p) (i32.const 4)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next))))
  ;; dst[j] += a * src[j], two elements per iteration (matmul's inner loop, as clang unrolls it)
  (func (export "axpy") (param $src i32) (param $dst i32) (param $n i32) (param $a f64)
    (local $j i32)
    (loop $next
      (f64.store (local.get $dst)
        (f64.add (f64.load (local.get $dst)) (f64.mul (local.get $a) (f64.load (local.get $src)))))
      (f64.store offset=8 (local.get $dst)
        (f64.add (f64.load offset=8 (local.get $dst))
                 (f64.mul (local.get $a) (f64.load offset=8 (local.get $src)))))
      (local.set $src (i32.add (local.get $src) (i32.const 16)))
      (local.set $dst (i32.add (local.get $dst) (i32.const 16)))
      (br_if $next (i32.ne (local.tee $j (i32.add (local.get $j) (i32.const 2))) (local.get $n)))))
  ;; byte loop over [p, p + n): the sieve's shape
  (func (export "mark") (param $p i32) (param $step i32) (param $end i32)
    (loop $next
      (i32.store8 (local.get $p) (i32.const 1))
      (br_if $next (i32.lt_u (local.tee $p (i32.add (local.get $p) (local.get $step)))
                             (local.get $end)))))
  ;; a merged group: two loads and a store through $p (the store's extent is the largest)
  (func (export "group_store") (param $p i32) (result i32)
    (i32.store offset=16 (local.get $p)
      (i32.add (i32.load (local.get $p)) (i32.load offset=8 (local.get $p))))
    (i32.load offset=16 (local.get $p)))
  ;; a group cut by a possible divide-by-zero trap: that trap must win over the later access
  (func (export "group_div") (param $p i32) (param $d i32) (result i32)
    (i32.add
      (i32.add (i32.load (local.get $p)) (i32.div_u (i32.const 7) (local.get $d)))
      (i32.load offset=65536 (local.get $p))))
  ;; a group cut by a global.set: the global is set before the later access traps
  (func (export "group_global") (param $p i32) (result i32)
    (global.set $g (i32.load (local.get $p)))
    (i32.load offset=60000 (local.get $p)))
  ;; a group cut by a store through another local: the store happens before the trap
  (func (export "group_other_store") (param $p i32) (param $q i32) (result i32)
    (local $x i32)
    (local.set $x (i32.load (local.get $p)))
    (i32.store (local.get $q) (i32.const 0x5A5A5A5A))
    (i32.add (local.get $x) (i32.load offset=65000 (local.get $p))))
  ;; a group cut by a new value of the local
  (func (export "group_reset") (param $p i32) (param $q i32) (result i32)
    (local $x i32)
    (local.set $x (i32.load (local.get $p)))
    (local.set $p (local.get $q))
    (i32.add (local.get $x) (i32.load offset=8 (local.get $p))))
  ;; a group whose later access is harmless arithmetic away, through a tee'd copy
  (func (export "group_wide") (param $p i32) (result i64)
    (i64.add
      (i64.add (i64.load8_u (local.get $p)) (i64.extend_i32_u (i32.load16_u offset=3 (local.get $p))))
      (i64.load offset=1000 (local.get $p))))
  ;; store one byte per address from $i up, growing the memory by a page whenever the
  ;; address reaches its end; runs into the maximum and traps there
  (func (export "grow_loop") (param $i i32) (param $n i32)
    (loop $next
      (if (i32.eq (local.get $i) (i32.shl (memory.size) (i32.const 16)))
        (then (drop (memory.grow (i32.const 1)))))
      (i32.store8 (local.get $i) (local.get $i))
      (br_if $next (i32.ne (local.tee $i (i32.add (local.get $i) (i32.const 1))) (local.get $n)))))
  (func $grow (param i32) (result i32) (memory.grow (local.get 0)))
  ;; the same, growing through a call (so the bound changes behind a call)
  (func (export "grow_call_loop") (param $i i32) (param $n i32)
    (loop $next
      (if (i32.eq (local.get $i) (i32.shl (memory.size) (i32.const 16)))
        (then (drop (call $grow (i32.const 1)))))
      (i32.store16 offset=1 (local.get $i) (local.get $i))
      (br_if $next (i32.ne (local.tee $i (i32.add (local.get $i) (i32.const 2))) (local.get $n)))))
  (func (export "size") (result i32) (memory.size))
  ;; versioned loops (straight-line bodies ending in br_if 0; see aot/emit/versioning.py)
  ;; downwards: the address wraps below 0 after p / 4 iterations
  (func (export "down") (param $p i32) (param $n i32)
    (loop $next
      (i32.store offset=8 (local.get $p) (local.get $n))
      (local.set $p (i32.sub (local.get $p) (i32.const 4)))
      (br_if $next (local.tee $n (i32.sub (local.get $n) (i32.const 1))))))
  ;; a gather: the inner load's address comes from memory (stays checked in the copy)
  (func (export "gather") (param $s i32) (param $d i32) (param $end i32)
    (loop $next
      (i32.store (local.get $d) (i32.load (i32.load (local.get $s))))
      (local.set $s (i32.add (local.get $s) (i32.const 4)))
      (br_if $next (i32.ne (local.tee $d (i32.add (local.get $d) (i32.const 4)))
                           (local.get $end)))))
  ;; a loop-invariant address
  (func (export "bump") (param $p i32) (param $n i32)
    (loop $next
      (i32.store16 (local.get $p) (i32.add (i32.load16_u (local.get $p)) (i32.const 3)))
      (br_if $next (local.tee $n (i32.sub (local.get $n) (i32.const 1))))))
  ;; scaled index and an address recomputed from the index each iteration (matmul's shape)
  (func (export "scaled") (param $b i32) (param $i i32) (param $n i32)
    (local $q i32)
    (loop $next
      (local.tee $q (i32.add (local.get $b) (i32.shl (local.get $i) (i32.const 3))))
      (i64.store (i64.add (i64.load offset=8 (local.get $q)) (i64.extend_i32_u (local.get $i))))
      (i64.store16 offset=4 (local.get $q) (i64.load8_s (i32.add (local.get $b) (i32.mul (local.get $i) (i32.const 3)))))
      (br_if $next (i32.ne (local.tee $i (i32.add (local.get $i) (i32.const 1))) (local.get $n)))))
  ;; addresses p + 8 and p - 4 that wrap around 2^32 (in bounds after wrapping, or not)
  (func (export "wrapped") (param $p i32) (param $n i32) (result i32)
    (local $s i32)
    (loop $next
      (local.set $s (i32.add (local.get $s) (i32.load (i32.add (local.get $p) (i32.const 8)))))
      (local.set $s (i32.add (local.get $s) (i32.load8_u (i32.sub (local.get $p) (i32.const 4)))))
      (local.set $p (i32.add (local.get $p) (i32.const 4)))
      (br_if $next (local.tee $n (i32.sub (local.get $n) (i32.const 1)))))
    (local.get $s))
  (func (export "wrap8") (param $p i32) (param $n i32) (result i32)
    (local $s i32)
    (loop $next
      (local.set $s (i32.add (local.get $s) (i32.load (i32.add (local.get $p) (i32.const 8)))))
      (local.set $p (i32.add (local.get $p) (i32.const 4)))
      (br_if $next (local.tee $n (i32.sub (local.get $n) (i32.const 1)))))
    (local.get $s))
  ;; a divide-by-zero trap inside the unchecked copy: same trap, same stores done before it
  (func (export "divide") (param $p i32) (param $n i32)
    (loop $next
      (i32.store offset=4 (local.get $p) (i32.div_u (i32.const 1000) (i32.load (local.get $p))))
      (local.set $p (i32.add (local.get $p) (i32.const 4)))
      (br_if $next (local.tee $n (i32.sub (local.get $n) (i32.const 1))))))
)
""" % {"access": _access_funcs()}


def _access_calls() -> list:
    calls = []
    for info in SCALAR:
        valtype = VALTYPE_NAMES[info.sig[1][0] if info.sig[1] else info.sig[0][1]]
        value = () if info.sig[1] else (VALUE[valtype],)
        for offset in OFFSETS:
            last = P - info.width - offset
            addresses = {0, 1, 0xFFFFFFFF, 0xFFFFFFFF - info.width, P - offset}
            if last >= 0:
                addresses |= {last, last + 1, max(last - 1, 0)}
            for address in sorted(addresses):
                calls.append((_access_name(info, offset), address, *value))
    return calls


LOOP_CALLS = [
    ("fill_words", 100, 10), ("fill_words", P - 40, 10), ("fill_words", P - 38, 10),
    ("fill_words", P - 16, 0), ("fill_words", 0xFFFFFFF0, 8),
    ("axpy", 0, 512, 64, 0.5), ("axpy", P - 256, 1024, 64, 2.0),       # src runs off
    ("axpy", 2048, P - 200, 64, 3.0), ("axpy", 4096, P - 256, 32, 1.0),  # dst runs off / fits
    ("axpy", P - 8, 8192, 2, 1.0),
    ("mark", 10, 3, 1000), ("mark", P - 10, 3, P + 20), ("mark", P - 9, 3, P),
    ("group_store", 0), ("group_store", 100), ("group_store", P - 20), ("group_store", P - 21),
    ("group_store", P - 12), ("group_store", P - 4), ("group_store", P - 3),
    ("group_div", 0, 1), ("group_div", 0, 0), ("group_div", P - 4, 0), ("group_div", P, 0),
    ("group_div", P, 1),
    ("group_global", 4), ("group_global", 5536), ("group_global", 5537), ("group_global", P),
    ("group_other_store", 8, 64), ("group_other_store", 533, 64), ("group_other_store", 600, 68),
    ("group_other_store", 600, P - 2),
    ("group_reset", 0, 16), ("group_reset", 0, P - 12), ("group_reset", 0, P - 11),
    ("group_reset", P, 0),
    ("group_wide", 0), ("group_wide", P - 1008), ("group_wide", P - 1007), ("group_wide", P - 1),
    ("size",), ("grow_loop", P - 3, P + 5), ("size",), ("grow_loop", 2 * P - 1, 5 * P - 100),
    ("size",), ("grow_call_loop", 3 * P, 5 * P - 100),
    ("down", 400, 50), ("down", 400, 101), ("down", 400, 102), ("down", 400, 200),
    ("down", 4 * P - 12, 3), ("down", 4 * P - 11, 3),
    ("fill_words", 512, 64), ("gather", 512, 2048, 2048 + 64), ("gather", 512, 8000, 8000 + 256),
    ("fill_words", 600, 1), ("gather", 596, 9000, 9008),
    ("bump", 70, 1000), ("bump", 4 * P - 2, 5), ("bump", 4 * P - 1, 5),
    ("scaled", 100, 0, 40), ("scaled", 4 * P - 1000, 3, 200), ("scaled", 4 * P - 1000, 3, 110),
    ("scaled", 0xFFFFFF00, 0, 100),
    ("fill_words", 20000, 30), ("divide", 20000, 20), ("divide", 20000, 40),
    ("divide", 4 * P - 40, 9), ("divide", 4 * P - 40, 10),
    ("wrapped", 100, 50), ("wrapped", 4, 50), ("wrapped", 0, 3), ("wrapped", 0xFFFFFFF8, 10),
    ("wrapped", 0xFFFFFFF0, 4), ("wrapped", 4 * P - 16, 2), ("wrapped", 4 * P - 16, 3),
    ("wrap8", 0xFFFFFFF8, 10), ("wrap8", 0xFFFFFFF0, 4), ("wrap8", 0xFFFFFFF4, 4),
]
CALLS = _access_calls() + LOOP_CALLS


def _bits(value):
    return struct.pack("<d", value) if isinstance(value, float) else value


def _wasmtime_outcomes(binary: bytes, calls) -> list:
    wasmtime = require_wasmtime()
    store = wasmtime.Store()
    inst = wasmtime.Instance(store, wasmtime.Module(store.engine, binary), [])
    exports = inst.exports(store)
    memory, g = exports["memory"], exports["g"]
    out = []
    for name, *args in calls:
        try:
            outcome = ("ok", _bits(exports[name](store, *args)))
        except wasmtime.Trap as trap:
            outcome = ("trap", "out of bounds" if "out of bounds" in str(trap)
                       else "divide by zero" if "divide by zero" in str(trap) else str(trap))
        data = memory.read(store, 0, memory.data_len(store))
        out.append((outcome, g.value(store), hashlib.sha256(data).hexdigest()))
    return out


def _pywamr_outcomes(kind: str, text: str, calls) -> list:
    inst = instance(text, engine_kind=kind)
    memory, g = inst.exports["memory"], inst.exports["g"]
    out = []
    for name, *args in calls:
        try:
            outcome = ("ok", _bits(inst.exports[name](*args)))
        except Trap as trap:
            outcome = ("trap", {TrapCode.MEMORY_OUT_OF_BOUNDS: "out of bounds",
                                TrapCode.INTEGER_DIVIDE_BY_ZERO: "divide by zero"}.get(
                                    trap.code, str(trap)))
        out.append((outcome, g.value, hashlib.sha256(bytes(memory.data)).hexdigest()))
    return out


@pytest.fixture(scope="module")
def expected():
    return _wasmtime_outcomes(wat(MODULE), CALLS)


@pytest.mark.parametrize("kind", ENGINES)
def test_every_boundary_and_loop_matches_wasmtime(kind, expected):
    got = _pywamr_outcomes(kind, MODULE, CALLS)
    assert len(got) == len(expected)
    traps = sum(1 for (outcome, _, _) in expected if outcome[0] == "trap")
    assert 200 < traps < len(CALLS) - 100        # the calls cover both sides of every bound
    for call, want, have in zip(CALLS, expected, got):
        assert have == want, f"{kind} {call}: pywamr {have}, wasmtime {want}"


HOST_GROW = """
(module
  (import "host" "grow" (func $grow))
  (memory (export "memory") 1 3)
  ;; sum the words of [p, p + 4n), calling the host (which grows the memory) at index k:
  ;; the bound read before the call must not be reused after it
  (func (export "sum") (param $p i32) (param $n i32) (param $k i32) (result i32)
    (local $i i32) (local $s i32)
    (loop $next
      (if (i32.eq (local.get $i) (local.get $k)) (then (call $grow)))
      (local.set $s (i32.add (local.get $s) (i32.load (local.get $p))))
      (local.set $p (i32.add (local.get $p) (i32.const 4)))
      (br_if $next (i32.ne (local.tee $i (i32.add (local.get $i) (i32.const 1))) (local.get $n))))
    (local.get $s))
)
"""


@pytest.mark.parametrize("kind", ENGINES)
def test_host_growth_inside_a_loop_moves_the_bound(kind):
    from pywamr.binary.types import FuncType
    grown = []

    def grow():
        grown.append(inst.exports["memory"].grow(1))

    inst = instance(HOST_GROW, {("host", "grow"): (FuncType((), ()), grow)}, engine_kind=kind)
    total = inst.exports["sum"]
    assert total(P - 8, 4, 2) == 0                    # crosses the old end after the growth
    assert grown == [1]
    assert total(2 * P - 8, 4, 1) == 0                # grown to 3 pages at i = 1: fits
    assert grown == [1, 2]
    assert total(3 * P - 8, 2, 5) == 0
    with pytest.raises(Trap) as info:                 # 3 pages at most, no call: traps at 3P
        total(3 * P - 8, 3, 99)
    assert info.value.code == TrapCode.MEMORY_OUT_OF_BOUNDS
    inst.exports["memory"].data[0:4] = b"\x01\x00\x00\x00"
    assert total(0, 1, 99) == 1


SHARED_OWNER = """
(module
  (memory (export "memory") 1 2)
  (func (export "grow") (result i32) (memory.grow (i32.const 1))))
"""
SHARED_USER = """
(module
  (import "owner" "memory" (memory 1 2))
  (import "owner" "grow" (func $grow (result i32)))
  (func (export "touch") (param $p i32) (result i32)
    (i32.store8 (local.get $p) (i32.const 9))
    (drop (call $grow))
    (i32.store8 offset=65536 (local.get $p) (i32.const 7))
    (i32.load8_u offset=65536 (local.get $p))))
"""


@pytest.mark.parametrize("kind", ENGINES)
def test_growth_by_another_instance_moves_the_bound(kind):
    owner = instance(SHARED_OWNER, engine_kind=kind)
    user = instance(SHARED_USER, {("owner", "memory"): owner.exports["memory"],
                                  ("owner", "grow"): owner.exports["grow"]}, engine_kind=kind)
    assert user.exports["touch"](P - 1) == 7
    with pytest.raises(Trap) as info:                  # the maximum is reached: no growth
        user.exports["touch"](P)
    assert info.value.code == TrapCode.MEMORY_OUT_OF_BOUNDS
    data = owner.exports["memory"].data
    assert data[P - 1] == 9 and data[2 * P - 1] == 7 and data[P] == 9   # first store done


def _plan(text: str) -> dict:
    return merged_checks(decode_module(wat(text)).codes[0].body)


def test_merged_check_plan():
    plan = _plan("""(module (memory 1) (global $g (mut i32) (i32.const 0))
      (func (param $p i32) (param $q i32) (result i32)
        local.get $p  i32.load offset=4                        ;; 1: leads, extent 28
        local.get $p  i32.load8_u offset=12                    ;; 3: covered
        i32.add
        local.get $q  i32.load                                 ;; 6: another local
        i32.add
        local.get $p  i64.load offset=20                       ;; 9: covered
        drop
        local.get $p  i32.const 1  i32.store16 offset=14       ;; 13: a store ends the group
        local.get $p  i32.load offset=100                      ;; 15: leads, extent 104
        local.get $p  i32.load offset=8                        ;; 17: covered
        global.set $g                                          ;; ends the group
        i32.add
        local.get $p  i32.load offset=200                      ;; 21: alone
        i32.add))""")
    assert plan == {1: 28, 3: 0, 9: 0, 15: 104, 17: 0}
    assert _plan("""(module (memory 1) (func (param $p i32) (param $d i32) (result i32)
        (i32.load (local.get $p)) (i32.div_s (local.get $d) (local.get $d)) (i32.add)
        (i32.load offset=8 (local.get $p)) (i32.add)))""") == {}
    # a store never leads: its write must not depend on a later access's bounds
    assert _plan("""(module (memory 1) (func (param $p i32) (result i32)
        (i32.store (local.get $p) (i32.const 1)) (i32.load offset=8 (local.get $p))))""") == {}
    # different memories never merge
    assert _plan("""(module (memory 1) (memory 1) (func (param $p i32) (result i32)
        (i32.load 0 (local.get $p)) (i32.load 1 offset=8 (local.get $p)) (i32.add)))""") == {}


AXPY = """
(module (memory 1)
  (func (param $src i32) (param $dst i32) (param $n i32) (param $a f64)
    (local $j i32)
    (loop $next
      (f64.store (local.get $dst)
        (f64.add (f64.load (local.get $dst)) (f64.mul (local.get $a) (f64.load (local.get $src)))))
      (local.set $src (i32.add (local.get $src) (i32.const 8)))
      (local.set $dst (i32.add (local.get $dst) (i32.const 8)))
      (br_if $next (i32.ne (local.tee $j (i32.add (local.get $j) (i32.const 1))) (local.get $n))))))
"""


def _optimised_ir(text: str) -> str:
    """The chunk IR of a module's functions after the pass pipeline `codegen` runs."""
    import llvmlite.binding as llvm
    from pywamr.aot import codegen
    from pywamr.aot.translate import ModuleInfo, chunk_ir
    from pywamr.validate import validate_module
    from pywamr.validate.module import validate_bodies
    data = wat(text)
    validated = validate_bodies(validate_module(decode_module(data), data))
    info = ModuleInfo(validated.module, validated.func_types, validated.funcs)
    machine = codegen.target_machine()
    module = llvm.parse_assembly(chunk_ir(info, range(len(validated.module.codes))))
    module.triple, module.data_layout = machine.triple, str(machine.target_data)
    builder = llvm.create_pass_builder(
        machine, llvm.create_pipeline_tuning_options(speed_level=max(codegen.OPT_LEVEL, 2)))
    builder.getModulePassManager().run(module, builder)
    return str(module)


def test_versioned_loop_is_vectorised():
    """The unchecked copy of an axpy loop has no early exit, so LLVM vectorises it (x86-64
    always has SSE2: at least <2 x double>); the checked loop stays for the trapping case."""
    ir = _optimised_ir(AXPY)
    body = ir[ir.index("define void @w0("):]
    body = body[:body.index("\n}\n")]
    assert re.search(r"load <\d+ x double>", body)
    trap = vmctx.TRAP_NUMBER[TrapCode.MEMORY_OUT_OF_BOUNDS]
    assert re.search(rf"call \w* ?void @pywamr_trap\(i32 {trap},", body)
