"""Tail calls (`return_call`, `return_call_indirect`) on both engines, in constant stack space.

A million-deep self and mutual tail recursion, through tables, between functions of different
signatures (many parameters, several results), across instances of the same engine and ending
in a host function, must run without exhausting the stack; results, traps and backtraces are
compared with the `wasmtime` package (tail calls enabled). Ordinary (non-tail) recursion still
exhausts the stack, so the deep tests could not pass without constant-space tail calls.
"""
from __future__ import annotations

import pytest

from pywamr_testlib import ENGINES, needs_aot, require_wasmtime, wat

DEEP = 1_000_000

MODULE = """
(module
  (type $ii (func (param i64) (result i32)))
  (type $wide (func (param i64 i32 i64 f64 f32 i32 i64 i32 i64 f64 i32 i64) (result i64)))
  (type $many (func (param i64) (result i64 i64 i32 f64 i64 i64)))
  (import "host" "done" (func $done (param i64) (result i64)))
  (table $t 8 funcref)
  (elem (table $t) (i32.const 0) func $even_i $odd_i $wide $narrow $many_a)
  (global $steps (mut i64) (i64.const 0))

  (func $count (export "count") (param i64) (result i64)
    (if (result i64) (i64.eqz (local.get 0)) (then (global.get $steps))
      (else
        (global.set $steps (i64.add (global.get $steps) (i64.const 1)))
        (return_call $count (i64.sub (local.get 0) (i64.const 1))))))

  (func $even (export "even") (param i64) (result i32)
    (if (result i32) (i64.eqz (local.get 0)) (then (i32.const 44))
      (else (return_call $odd (i64.sub (local.get 0) (i64.const 1))))))
  (func $odd (export "odd") (param i64) (result i32)
    (if (result i32) (i64.eqz (local.get 0)) (then (i32.const 99))
      (else (return_call $even (i64.sub (local.get 0) (i64.const 1))))))

  (func $even_i (export "even_i") (param i64) (result i32)
    (if (result i32) (i64.eqz (local.get 0)) (then (i32.const 44))
      (else (return_call_indirect $t (type $ii)
              (i64.sub (local.get 0) (i64.const 1)) (i32.const 1)))))
  (func $odd_i (export "odd_i") (param i64) (result i32)
    (if (result i32) (i64.eqz (local.get 0)) (then (i32.const 99))
      (else (return_call_indirect $t (type $ii)
              (i64.sub (local.get 0) (i64.const 1)) (i32.const 0)))))

  ;; different signatures: one parameter <-> twelve (past the argument registers)
  (func $narrow (export "narrow") (param i64) (result i64)
    (if (result i64) (i64.eqz (local.get 0)) (then (i64.const 7))
      (else (return_call $wide (local.get 0) (i32.const 1) (i64.const 2) (f64.const 3.5)
                               (f32.const 4.25) (i32.const 5) (i64.const 6) (i32.const 7)
                               (i64.const 8) (f64.const 9.75) (i32.const 10) (i64.const 11)))))
  (func $wide (param i64 i32 i64 f64 f32 i32 i64 i32 i64 f64 i32 i64) (result i64)
    (local $sum i64)
    (local.set $sum
      (i64.add (i64.extend_i32_u (local.get 1))
      (i64.add (local.get 2)
      (i64.add (i64.trunc_f64_s (local.get 3))
      (i64.add (i64.trunc_f32_s (local.get 4))
      (i64.add (i64.extend_i32_u (local.get 5))
      (i64.add (local.get 6)
      (i64.add (i64.extend_i32_u (local.get 7))
      (i64.add (local.get 8)
      (i64.add (i64.trunc_f64_s (local.get 9))
      (i64.add (i64.extend_i32_u (local.get 10)) (local.get 11))))))))))))
    (if (i64.ne (local.get $sum) (i64.const 66)) (then unreachable))
    (return_call_indirect $t (type 3) (i64.sub (local.get 0) (i64.const 1)) (i32.const 3)))
  (type (func (param i64) (result i64)))

  ;; six results (more than the return registers)
  (func $many_a (export "many") (param i64) (result i64 i64 i32 f64 i64 i64)
    (if (result i64 i64 i32 f64 i64 i64) (i64.eqz (local.get 0))
      (then (i64.const 1) (i64.const 2) (i32.const 3) (f64.const 4.5) (i64.const 5)
            (i64.const 6))
      (else (return_call $many_b (i64.sub (local.get 0) (i64.const 1))))))
  (func $many_b (param i64) (result i64 i64 i32 f64 i64 i64)
    (return_call_indirect $t (type $many) (local.get 0) (i32.const 4)))

  ;; a long chain that ends in a tail call to a host function
  (func $to_host (export "to_host") (param i64) (result i64)
    (if (result i64) (i64.eqz (local.get 0)) (then (return_call $done (i64.const 5)))
      (else (return_call $to_host (i64.sub (local.get 0) (i64.const 1))))))
  (func (export "host_direct") (param i64) (result i64) (return_call $done (local.get 0)))

  ;; ordinary recursion, for contrast: exhausts the stack
  (func $deep (export "deep") (param i64) (result i64)
    (if (result i64) (i64.eqz (local.get 0)) (then (i64.const 0))
      (else (i64.add (i64.const 1) (call $deep (i64.sub (local.get 0) (i64.const 1)))))))

  ;; traps of return_call_indirect, and backtraces
  (func (export "oob") (result i32) (return_call_indirect $t (type $ii) (i64.const 1) (i32.const 8)))
  (func (export "null") (result i32) (return_call_indirect $t (type $ii) (i64.const 1) (i32.const 6)))
  (func (export "mismatch") (result i32)
    (return_call_indirect $t (type $ii) (i64.const 1) (i32.const 3)))
  (func $inner (result i32) unreachable)
  (func $middle (result i32) (return_call $inner))
  (func $outer (export "outer") (result i32) (i32.add (i32.const 1) (call $middle)))
  (func $middle_i (result i32) (return_call_indirect $t (type 4) (i32.const 5)))
  (type (func (result i32)))
  (elem (table $t) (i32.const 5) func $inner)
  (func $outer_i (export "outer_i") (result i32) (i32.add (i32.const 1) (call $middle_i)))
  (func $check (param i32) (result i32)
    (if (i32.eqz (local.get 0)) (then unreachable)) (local.get 0))
  (func (export "trap_in_callee") (param i32) (result i32) (return_call $check (local.get 0)))
)
"""


def host_done(n):
    return n + 1000


@pytest.fixture(scope="module")
def module_bytes():
    return wat(MODULE)


def pywamr_instance(kind: str, data: bytes):
    from pywamr.engine import Engine, Linker, Module
    engine = Engine(kind, cache=False)
    linker = Linker(engine)
    linker.define_func("host", "done", (["i64"], ["i64"]), host_done)
    return linker.instantiate(None, Module(engine, data)).exports


def wasmtime_engine():
    wasmtime = require_wasmtime()
    config = wasmtime.Config()
    config.wasm_tail_call = True
    return wasmtime, wasmtime.Engine(config)


def wasmtime_instance(data: bytes):
    wasmtime, engine = wasmtime_engine()
    store = wasmtime.Store(engine)
    module = wasmtime.Module(engine, data)
    i64 = wasmtime.ValType.i64()
    done = wasmtime.Func(store, wasmtime.FuncType([i64], [i64]), host_done)
    instance = wasmtime.Instance(store, module, [done])
    exports = instance.exports(store)
    return wasmtime, store, exports


@pytest.fixture(scope="module", params=ENGINES)
def inst(request, module_bytes):
    return pywamr_instance(request.param, module_bytes)


@pytest.mark.parametrize("name,arg,expected", [
    ("count", DEEP, DEEP),
    ("even", DEEP, 44), ("odd", DEEP, 99), ("even", DEEP + 1, 99),
    ("even_i", DEEP, 44), ("odd_i", DEEP + 1, 44),
    ("narrow", DEEP, 7),
    ("to_host", DEEP, 1005),
    ("host_direct", 3, 1003),
])
def test_million_deep_tail_recursion(inst, name, arg, expected):
    assert inst[name](arg) == expected


def test_million_deep_with_six_results(inst):
    assert tuple(inst["many"](DEEP)) == (1, 2, 3, 4.5, 5, 6)


def test_ordinary_recursion_still_exhausts_the_stack(inst):
    from pywamr.errors import Trap, TrapCode
    with pytest.raises(Trap) as info:
        inst["deep"](DEEP)
    assert info.value.code is TrapCode.STACK_EXHAUSTED


# ---- differential against wasmtime --------------------------------------------------------

CALLS = [("count", (1000,)), ("even", (12345,)), ("odd_i", (777,)), ("narrow", (50,)),
         ("many", (9,)), ("to_host", (10,)), ("host_direct", (0,)),
         ("oob", ()), ("null", ()), ("mismatch", ()), ("outer", ()), ("outer_i", ()),
         ("trap_in_callee", (0,)), ("trap_in_callee", (5,))]

_TRAPS = {  # wasmtime trap code name -> pywamr TrapCode names it may stand for
    "TABLE_OUT_OF_BOUNDS": {"UNDEFINED_ELEMENT", "TABLE_OUT_OF_BOUNDS"},
    "INDIRECT_CALL_TO_NULL": {"UNINITIALIZED_ELEMENT"},
    "BAD_SIGNATURE": {"INDIRECT_CALL_TYPE_MISMATCH"},
    "UNREACHABLE": {"UNREACHABLE"},
}


def _wasmtime_outcome(wasmtime, store, exports, name, args):
    try:
        return ("ok", exports[name](store, *args))
    except wasmtime.Trap as trap:
        frames = [f.func_name or f"<wasm function {f.func_index}>" for f in trap.frames]
        return ("trap", trap.trap_code.name, frames)


@pytest.mark.parametrize("engine_kind", ENGINES)
def test_results_traps_and_backtraces_match_wasmtime(engine_kind, module_bytes):
    from pywamr.errors import Trap
    wasmtime, store, exports = wasmtime_instance(module_bytes)
    ours = pywamr_instance(engine_kind, module_bytes)
    for name, args in CALLS:
        expected = _wasmtime_outcome(wasmtime, store, exports, name, args)
        try:
            got = ours[name](*args)
        except Trap as trap:
            assert expected[0] == "trap", (name, args, trap, expected)
            assert trap.code.name in _TRAPS[expected[1]], (name, trap.code, expected)
            assert [str(f) for f in trap.frames] == expected[2], (name, trap.frames, expected)
            continue
        assert expected[0] == "ok", (name, args, got, expected)
        want = expected[1]
        assert (list(got) if isinstance(got, tuple) else got) == want, (name, got, want)


def test_backtraces_name_the_callee_not_the_tail_caller(module_bytes):
    """The oracle's own view, stated: a tail-calling function's frame is gone."""
    wasmtime, store, exports = wasmtime_instance(module_bytes)
    outcome = _wasmtime_outcome(wasmtime, store, exports, "outer", ())
    assert outcome == ("trap", "UNREACHABLE", ["inner", "outer"])


# ---- across instances ---------------------------------------------------------------------

# B's `b` tail-calls through a table it imports; A puts its `a` there and tail-calls B's `b`:
# a -> b -> a -> ... with every step crossing between the two instances.
MODULE_B = """
(module
  (import "env" "table" (table 2 funcref))
  (type $t (func (param i64 i64) (result i64)))
  (func (export "b") (param i64 i64) (result i64)
    (if (result i64) (i64.eqz (local.get 0)) (then (local.get 1))
      (else (return_call_indirect (type $t)
              (i64.sub (local.get 0) (i64.const 1)) (i64.add (local.get 1) (i64.const 2))
              (i32.const 0))))))
"""

MODULE_A = """
(module
  (import "env" "table" (table 2 funcref))
  (import "b" "b" (func $b (param i64 i64) (result i64)))
  (elem (i32.const 0) func $a)
  (func $a (export "a") (param i64 i64) (result i64)
    (if (result i64) (i64.eqz (local.get 0)) (then (local.get 1))
      (else (return_call $b (i64.sub (local.get 0) (i64.const 1)) (local.get 1))))))
"""

PAIRS = [pytest.param("interp", "interp", DEEP, id="interp-interp"),
         pytest.param("aot", "aot", DEEP, marks=needs_aot, id="aot-aot"),
         # between engines a tail call is an ordinary call (module docstrings of
         # interp/tailcalls.py and aot/emit/call.py): correct, but not constant-space
         pytest.param("interp", "aot", 300, marks=needs_aot, id="interp-aot"),
         pytest.param("aot", "interp", 300, marks=needs_aot, id="aot-interp")]


@pytest.mark.parametrize("kind_a,kind_b,depth", PAIRS)
def test_tail_calls_across_instances(kind_a, kind_b, depth):
    from pywamr.binary.types import FUNCREF, Limits, TableType
    from pywamr.engine import Engine, Linker, Module
    from pywamr.runtime.objects import Table
    table = Table(TableType(FUNCREF, Limits(2, None)))
    engine_b = Engine(kind_b, cache=False)
    linker_b = Linker(engine_b)
    linker_b.define("env", "table", table)
    b = linker_b.instantiate(None, Module(engine_b, wat(MODULE_B)))
    engine_a = Engine(kind_a, cache=False)
    linker_a = Linker(engine_a)
    linker_a.define("env", "table", table)
    linker_a.define_instance("b", b)
    a = linker_a.instantiate(None, Module(engine_a, wat(MODULE_A)))
    for start, exports in (("a", a.exports), ("b", b.exports)):
        for n in (depth, depth + 1):
            assert exports[start](n, 0) == _chain(start, n), (start, n)


def _chain(start: str, n: int) -> int:
    """What the a/b chain computes: each step of `b` adds 2."""
    b_steps = (n + 1) // 2 if start == "b" else n // 2
    return 2 * b_steps


MODULE_H = """
(module
  (import "host" "back" (func $back (param i64) (result i64)))
  (func (export "f") (param i64) (result i64)
    (if (result i64) (i64.eqz (local.get 0)) (then (i64.const 0))
      (else (return_call $back (i64.sub (local.get 0) (i64.const 1)))))))
"""


@pytest.mark.parametrize("engine_kind", ENGINES)
def test_tail_call_into_a_host_that_reenters(engine_kind):
    """A tail call to a host function is an ordinary call whose results are returned: a host
    that calls back into wasm nests (as in wasmtime), a modest depth works on both engines."""
    from pywamr.engine import Engine, Linker, Module
    engine = Engine(engine_kind, cache=False)
    linker = Linker(engine)
    calls = []

    def back(n):
        calls.append(n)
        return exports["f"](n) + 1

    linker.define_func("host", "back", (["i64"], ["i64"]), back)
    exports = linker.instantiate(None, Module(engine, wat(MODULE_H))).exports
    assert exports["f"](200) == 200
    assert len(calls) == 200


def test_tiered_engine_switches_under_a_tail_chain(module_bytes):
    """The auto engine: interpreter first, native after two calls; the chains stay flat."""
    pytest.importorskip("llvmlite", reason="the auto engine's native tier needs llvmlite")
    from pywamr.engine import Engine, Linker, Module
    engine = Engine("auto", cache=False, tiering="calls:2")
    linker = Linker(engine)
    linker.define_func("host", "done", (["i64"], ["i64"]), host_done)
    exports = linker.instantiate(None, Module(engine, module_bytes)).exports
    for _ in range(4):
        assert exports["even"](DEEP) == 44
        assert exports["even_i"](DEEP) == 44


@pytest.mark.parametrize("attempts", [((True, True),), ((True, False),)],
                         ids=["flat", "flat-unfolded"])
def test_interp_flat_forms(monkeypatch, module_bytes, attempts):
    """The interpreter's flat form (deeply nested functions) makes the same tail calls."""
    import pywamr.interp.translate as translate
    from pywamr.errors import Trap, TrapCode
    monkeypatch.setattr(translate, "ATTEMPTS", attempts)
    exports = pywamr_instance("interp", module_bytes)
    assert exports["even"](DEEP + 1) == 99
    assert exports["odd_i"](DEEP) == 99
    assert exports["narrow"](1000) == 7
    assert tuple(exports["many"](1000)) == (1, 2, 3, 4.5, 5, 6)
    with pytest.raises(Trap) as info:
        exports["mismatch"]()
    assert info.value.code is TrapCode.INDIRECT_CALL_TYPE_MISMATCH


@needs_aot
def test_aot_only_tail_functions_are_tailcc(module_bytes):
    """Ordinary calls keep the C convention (and cost what they did): only the functions that
    make tail calls are defined `tailcc`; each function has its other-convention entry."""
    import re
    from pywamr.aot.conventions import makes_tail_calls
    from pywamr.aot.translate import ModuleInfo, chunk_ir
    from pywamr.binary.decoder import decode_module
    from pywamr.validate import validate_module
    validated = validate_module(decode_module(module_bytes))
    info = ModuleInfo(validated.module, validated.func_types, validated.funcs)
    defined = range(info.num_imported_funcs, len(info.func_types))
    ir = chunk_ir(info, defined)
    tailcc = set()
    for i in defined:
        head = re.search(rf"^define (.*) @w{i}\(", ir, re.M).group(1)
        if head.startswith("tailcc "):
            tailcc.add(i)
        assert re.search(rf"^@w{i}_[ct] = alias ", ir, re.M), i
    expected = {i for i in defined if makes_tail_calls(validated.module.codes[i - info.num_imported_funcs])}
    assert tailcc == expected
    assert 0 < len(tailcc) < len(defined)


# ---- v128 results through the tail convention's result buffer -----------------------------

V128_MODULE = """
(module
  (type $r (func (param i32) (result v128 i32 v128 v128 f64 v128 v128)))
  (type $b (func (result v128 i32 v128 v128 f64 v128 v128)))
  (table 1 funcref)
  (elem (i32.const 0) $down)
  (func $down (type $r)
    (if (type $b) (i32.eqz (local.get 0))
      (then (v128.const i32x4 1 2 3 4) (i32.const 5) (v128.const i64x2 6 7)
            (v128.const i8x16 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22 23)
            (f64.const 24.5) (v128.const i16x8 25 26 27 28 29 30 31 32)
            (v128.const f32x4 33 34 35 36))
      (else (return_call_indirect (type $r) (i32.sub (local.get 0) (i32.const 1))
                                  (i32.const 0)))))
  (func $start (export "start") (type $r) (return_call $down (local.get 0)))
  ;; an ordinary call of a tail-calling function: its results come back through the buffer
  (func (export "called") (param i32) (result v128 i32 v128 v128 f64 v128 v128)
    (call $start (local.get 0)))
)
"""


@pytest.mark.parametrize("engine_kind", ENGINES)
def test_v128_results_travel_through_the_tail_result_buffer(engine_kind):
    """Seven results, five of them v128, exceed the registers of the `tailcc` convention on
    aot, so they travel through a value buffer where a v128 takes two words."""
    exports = pywamr_instance(engine_kind, wat(V128_MODULE))
    import struct

    def v(fmt, *lanes):
        return int.from_bytes(struct.pack("<" + fmt, *lanes), "little")
    expected = (v("4i", 1, 2, 3, 4), 5, v("2q", 6, 7), v("16b", *range(8, 24)), 24.5,
                v("8h", *range(25, 33)), v("4f", 33, 34, 35, 36))
    for name in ("start", "called"):
        for depth in (0, 3, 100_000):
            assert tuple(exports[name](depth)) == expected, (name, depth)
