"""On-stack replacement (engine/tier_osr.py, aot/osr.py, the interpreter's loop-header checks):
an interpreter activation running a loop moves to native code in the middle, and everything it
does afterwards is what the interpreter, the aot engine and wasmtime do.

Deterministic through the "osr:N" policy (the (N+1)th loop-header check of a function in an
instance compiles its OSR entry and enters it there), so each N places the switch at another
iteration, another loop or another activation; `OsrTiers.entries` / `.loops` say that (and
where) activations moved. A host function reports for every iteration whether its caller ran
on the interpreter or natively. The background policy (the sampler finds a long activation) is
tested with a loop that would take minutes on the interpreter, bounded by a deadline."""
from __future__ import annotations

import math
import struct
import sys
import time

import pytest

from pywamr import Engine, Linker, Module
from pywamr.errors import Trap, TrapCode
from pywamr_testlib import conformance_dir, require_aot, require_wasm_tools, wat

require_aot()

MAIN = """(module
 (import "h" "where" (func $where (param i32)))
 (import "h" "reenter" (func $reenter (param i32) (result i32)))
 (memory (export "mem") 1 10)
 (global $g (export "g") (mut i32) (i32.const 5))
 (global $private (mut i64) (i64.const 7))
 (table (export "table") 2 funcref)
 (type $unary (func (param i32) (result i32)))
 (elem declare func $sq $fail)
 (func $sq (export "sq") (param i32) (result i32) (i32.mul (local.get 0) (local.get 0)))
 (func $fail (param i32) (result i32) unreachable)

 ;; one loop; every iteration tells the host where it runs, calls a function directly and
 ;; through the table, and updates an exported and a private global
 (func $count (export "count") (param $n i32) (result i64)
   (local $i i32) (local $acc i64)
   (table.set (i32.const 1) (ref.func $sq))
   (loop $top
     (call $where (local.get $i))
     (local.set $acc (i64.add (local.get $acc) (i64.extend_i32_u (call $sq (local.get $i)))))
     (local.set $acc (i64.add (local.get $acc) (i64.extend_i32_u
       (call_indirect (type $unary) (local.get $i) (i32.const 1)))))
     (global.set $g (i32.add (global.get $g) (i32.const 1)))
     (global.set $private (i64.add (global.get $private) (i64.const 3)))
     (local.set $i (i32.add (local.get $i) (i32.const 1)))
     (br_if $top (i32.lt_u (local.get $i) (local.get $n))))
   (i64.add (local.get $acc) (global.get $private)))
 (func (export "private") (result i64) (global.get $private))

 ;; a trap after the switch: division by zero at iteration $at, or a trap in a callee
 (func $trap_after (export "trap_after") (param $n i32) (param $at i32) (param $how i32)
   (result i32)
   (local $i i32) (local $acc i32)
   (loop $top
     (call $where (local.get $i))
     (if (i32.eq (local.get $i) (local.get $at))
       (then (if (local.get $how)
         (then (local.set $acc (call_indirect (type $unary) (local.get $i) (i32.const 0))))
         (else (local.set $acc (i32.div_u (local.get $acc) (i32.const 0)))))))
     (local.set $acc (i32.add (local.get $acc) (local.get $i)))
     (local.set $i (i32.add (local.get $i) (i32.const 1)))
     (br_if $top (i32.lt_u (local.get $i) (local.get $n))))
   (local.get $acc))
 (func (export "outer") (param i32 i32 i32) (result i32)
   (table.set (i32.const 0) (ref.func $fail))
   (call $trap_after (local.get 0) (local.get 1) (local.get 2)))

 ;; memory.grow inside the loop, seen by the host and by an interpreted caller afterwards
 (func $grower (param $n i32) (result i32)
   (local $i i32)
   (loop $top
     (drop (memory.grow (i32.const 1)))
     (i32.store (i32.sub (i32.mul (memory.size) (i32.const 65536)) (i32.const 4))
                (i32.add (i32.const 0x1200) (local.get $i)))
     (call $where (memory.size))
     (local.set $i (i32.add (local.get $i) (i32.const 1)))
     (br_if $top (i32.lt_u (local.get $i) (local.get $n))))
   (memory.size))
 (func (export "grow_then_read") (param $n i32) (result i32 i32)
   (call $grower (local.get $n))
   (i32.load (i32.sub (i32.mul (memory.size) (i32.const 65536)) (i32.const 4))))

 ;; re-entrance: the host called from the loop calls `count` of this instance again
 (func (export "reentrant") (param $n i32) (result i32)
   (local $i i32) (local $acc i32)
   (loop $top
     (local.set $acc (i32.add (local.get $acc) (call $reenter (local.get $i))))
     (local.set $i (i32.add (local.get $i) (i32.const 1)))
     (br_if $top (i32.lt_u (local.get $i) (local.get $n))))
   (local.get $acc))
 (func (export "stored") (result funcref) (table.get (i32.const 1)))
)"""

PURE = """(module
 (func $nested (export "nested") (param $n i32) (param $m i32) (result i32)
   (local $i i32) (local $j i32) (local $acc i32)
   (loop $outer
     (local.set $j (i32.const 0))
     (loop $inner
       (local.set $acc (i32.add (i32.mul (local.get $acc) (i32.const 31))
                                (i32.add (local.get $i) (local.get $j))))
       (local.set $j (i32.add (local.get $j) (i32.const 1)))
       (br_if $inner (i32.lt_u (local.get $j) (local.get $m))))
     (local.set $i (i32.add (local.get $i) (i32.const 1)))
     (br_if $outer (i32.lt_u (local.get $i) (local.get $n))))
   (local.get $acc))

 ;; each activation loops three times and recurses in every iteration
 (func $rec (export "rec") (param $n i32) (result i32)
   (local $k i32) (local $acc i32)
   (loop $top
     (local.set $acc (i32.add (i32.mul (local.get $acc) (i32.const 7))
                              (i32.add (local.get $n) (local.get $k))))
     (if (i32.gt_u (local.get $n) (i32.const 0))
       (then (local.set $acc (i32.add (local.get $acc)
                                      (call $rec (i32.sub (local.get $n) (i32.const 1)))))))
     (local.set $k (i32.add (local.get $k) (i32.const 1)))
     (br_if $top (i32.lt_u (local.get $k) (i32.const 3))))
   (local.get $acc))

 ;; locals of every type across the switch, returned as many values
 (func $kinds (export "kinds") (param $n i32) (param $r funcref) (param $x externref)
   (result i32 i64 f32 f64 v128 funcref externref i32 i64 f32)
   (local $i i32) (local $a i64) (local $f f32) (local $d f64) (local $v v128)
   (local $fr funcref) (local $xr externref) (local $z f32)
   (local.set $f (f32.reinterpret_i32 (i32.const 0x7fa00001)))          ;; a signalling NaN
   (local.set $d (f64.reinterpret_i64 (i64.const 0xfff4000000000005)))  ;; negative, payload
   (local.set $v (v128.const i32x4 1 2 3 0xffffffff))
   (local.set $fr (local.get $r))
   (local.set $xr (local.get $x))
   (local.set $a (i64.const -3))
   (local.set $z (f32.const -0.0))
   (loop $top
     (local.set $a (i64.rotl (local.get $a) (i64.const 5)))
     (local.set $v (i32x4.add (local.get $v) (v128.const i32x4 1 1 1 1)))
     (local.set $i (i32.add (local.get $i) (i32.const 1)))
     (br_if $top (i32.lt_u (local.get $i) (local.get $n))))
   (local.get $i) (local.get $a) (local.get $f) (local.get $d) (local.get $v)
   (local.get $fr) (local.get $xr)
   (i32.reinterpret_f32 (local.get $f)) (i64.reinterpret_f64 (local.get $d)) (local.get $z))
)"""


class Host:
    """The host functions of MAIN: `where` records (value, tier of the calling wasm frame)."""

    def __init__(self):
        self.seen: list = []
        self.instance = None

    def where(self, value) -> None:
        self.seen.append((value, _caller_tier()))

    def reenter(self, value) -> int:
        return int(self.instance.exports["count"](value % 3 + 1)) & 0xFFFF

    def tiers(self) -> list:
        return [tier for _, tier in self.seen]


def _caller_tier() -> str:
    """"interp" when the nearest wasm caller is an interpreter frame, "native" when native code
    called through the host-call bridge."""
    frame = sys._getframe(2)
    while frame is not None:
        if frame.f_code.co_filename == "<wasm>":
            return "interp"
        if frame.f_code.co_name == "_host_call":
            return "native"
        frame = frame.f_back
    raise AssertionError("no wasm caller on the stack")


def instantiate(kind: str, text: str = MAIN, policy: str | None = None):
    engine = Engine(kind, cache=False, tiering=policy) if policy else Engine(kind, cache=False)
    module = Module(engine, wat(text))
    linker = Linker(engine)
    host = Host()
    if text is MAIN:
        linker.define_func("h", "where", (["i32"], []), host.where)
        linker.define_func("h", "reenter", (["i32"], ["i32"]), host.reenter)
    instance = linker.instantiate(None, module)
    host.instance = instance
    return module, instance, host


def osr_of(module):
    return module.compiled.osr


def loop_positions(module, name: str) -> list[int]:
    """Positions of the `loop` instructions in the body of exported function `name`."""
    syntax = module.compiled.module         # with its bodies (Module.syntax may have none)
    index = next(e.index for e in syntax.exports if e.name == name)
    body = syntax.codes[index - syntax.num_imported_funcs()].body
    return [pos for pos, instr in enumerate(body) if instr[0] == 0x03]


def outcome(call, *args):
    try:
        return ("ok", call(*args))
    except Trap as trap:
        return ("trap", trap.code, str(trap), tuple(trap.frames))


# ---- the policy and the interpreter's checks ---------------------------------------------------

def test_policy_text():
    from pywamr.engine.tiered import TierPolicy
    assert TierPolicy.parse("osr:3") == TierPolicy("osr", calls=3)
    assert TierPolicy.parse("osr:0").osr and TierPolicy.parse("background").osr
    assert not TierPolicy.parse("hot:1").osr and not TierPolicy.parse("calls:1").osr
    for bad in ("osr", "osr:-1", "osr:x"):
        with pytest.raises(ValueError, match="bad tiering policy"):
            TierPolicy.parse(bad)


def test_only_the_tiered_interpreter_has_checks():
    """--engine interp translates exactly as without OSR: no loop header names `o<F>`."""
    for kind, policy, expected in (("interp", None, False), ("auto", "background:1000", True),
                                   ("auto", "osr:0", True), ("auto", "hot:5", False)):
        module, instance, _ = instantiate(kind, PURE, policy)
        interp = module.compiled.interp if kind == "auto" else module.compiled
        interp.translate_all()
        index = next(e.index for e in module.syntax.exports if e.name == "nested")
        assert interp.has_osr_checks(index) is expected, (kind, policy)
        assert (f"o{index}" in instance.state.engine_data) is expected


def test_tail_calls_and_flat_form_get_no_checks():
    from pywamr.interp.instance import InterpModule
    text = """(module
     (func $t (export "t") (param i32) (result i32)
       (loop $l (br_if $l (i32.eqz (local.get 0))))
       (return_call $u (local.get 0)))
     (func $u (param i32) (result i32) (local.get 0)))"""
    module = Module(Engine("auto", cache=False, tiering="osr:0"), wat(text))
    interp: InterpModule = module.compiled.interp
    interp.translate_all()
    assert not interp.has_osr_checks(0)
    loops = "(br 59)"
    for _ in range(30):     # beyond CPython's static nesting: the flat form
        loops = f"(block (loop (br_if 0 (i32.eqz (local.get 0))) {loops}))"
    deep = f"""(module (func (export "loops") (param i32) (result i32) {loops} (i32.const 5)))"""
    module, instance, _ = instantiate("auto", deep, "osr:0")
    assert instance.exports["loops"](1) == 5
    assert not module.compiled.interp.has_osr_checks(0)
    assert osr_of(module).entries == 0


# ---- switching in the middle of an activation ----------------------------------------------------

@pytest.mark.parametrize("n", [0, 1, 4, 11])
def test_loop_switches_mid_activation(n):
    """osr:N: the first N iterations run interpreted, the rest natively, in one call; the
    results and both globals are those of interp and aot (and calls after it are native)."""
    expected = None
    for kind in ("interp", "aot"):
        _, inst, host = instantiate(kind)
        got = (inst.exports["count"](20), inst.exports["g"].value, inst.exports["private"]())
        assert expected is None or got == expected
        expected = got
    assert expected[0] == 2 * sum(i * i for i in range(20)) + 7 + 3 * 20
    module, inst, host = instantiate("auto", policy=f"osr:{n}")
    got = (inst.exports["count"](20), inst.exports["g"].value, inst.exports["private"]())
    assert got == expected
    assert host.tiers() == ["interp"] * n + ["native"] * (20 - n)
    osr = osr_of(module)
    assert osr.entries == 1
    assert list(osr.loops) == [(4, loop_positions(module, "count")[0])]
    host.seen.clear()
    assert inst.exports["count"](3) == 2 * 5 + expected[2] + 9
    assert host.tiers() == ["native"] * 3      # its next call: its normal native code
    assert osr.entries == 1


def test_wasmtime_agrees():
    wasmtime = pytest.importorskip("wasmtime")
    store = wasmtime.Store()
    oracle = wasmtime.Instance(store, wasmtime.Module(store.engine, wat(PURE)), [])
    for policy in ("osr:0", "osr:1", "osr:7"):
        module, inst, _ = instantiate("auto", PURE, policy)
        for name, args in (("nested", (5, 7)), ("rec", (4,)), ("nested", (1, 1))):
            expected = oracle.exports(store)[name](store, *args) & 0xFFFFFFFF
            assert inst.exports[name](*args) & 0xFFFFFFFF == expected, (policy, name)
        assert osr_of(module).entries >= 2


@pytest.mark.parametrize("n,which", [(0, "outer"), (1, "inner"), (2, "inner"), (8, "outer"),
                                     (9, "inner")])
def test_nested_loops_switch_at_either_header(n, which):
    """Header checks come in program order: outer (1), inner (2..m+1), outer again (m+2)..."""
    _, interp, _ = instantiate("interp", PURE)
    module, inst, _ = instantiate("auto", PURE, f"osr:{n}")
    assert inst.exports["nested"](4, 7) == interp.exports["nested"](4, 7)
    outer, inner = loop_positions(module, "nested")
    index = next(e.index for e in module.syntax.exports if e.name == "nested")
    assert osr_of(module).loops == {(index, outer if which == "outer" else inner): 1}


def _bits(value: float, width: int) -> int:
    return struct.unpack("<Q" if width == 64 else "<I",
                         struct.pack("<d" if width == 64 else "<f", value))[0]


@pytest.mark.parametrize("policy", ["osr:0", "osr:1", "osr:3"])
def test_locals_of_every_type_cross_exactly(policy):
    """i32, i64, f32 and f64 NaN payloads, -0.0, v128, funcref and externref locals (and
    parameters) cross the switch unchanged; ten results come back."""
    marker = object()
    results = {}
    for kind, pol in (("interp", None), ("aot", None), ("auto", policy)):
        module, inst, _ = instantiate(kind, PURE, pol)
        ref = inst.exports["nested"].function
        out = inst.exports["kinds"](6, ref, marker)
        i, a, f, d, v, fr, xr, fbits, dbits, z = out
        assert fr is ref and xr is marker, kind
        assert math.isnan(f) and math.isnan(d)
        results[kind] = (i, a, v, fbits, dbits, _bits(z, 32))
        if kind == "auto":
            assert osr_of(module).entries == 1
    assert results["interp"] == results["aot"] == results["auto"]
    assert results["auto"][3:] == (0x7FA00001, 0xFFF4000000000005 - (1 << 64), 0x80000000)


# ---- traps, host calls, memory, recursion, re-entrance ---------------------------------------

@pytest.mark.parametrize("n", [0, 2])
@pytest.mark.parametrize("how", [0, 1])
def test_trap_after_the_switch(n, how):
    """A division by zero in the OSR code itself, or a trap in a callee it calls through the
    table: same code, message and backtrace as the interpreter's."""
    expected = {}
    for kind, policy in (("interp", None), ("aot", None), ("auto", f"osr:{n}")):
        module, inst, host = instantiate(kind, policy=policy)
        got = outcome(inst.exports["outer"], 10, 5, how)
        expected.setdefault(kind, got)
        if kind == "auto":
            assert host.tiers() == ["interp"] * n + ["native"] * (6 - n)
            assert osr_of(module).entries == 1
            assert inst.exports["count"](3) > 0      # the instance is healthy afterwards
    code = TrapCode.UNREACHABLE if how else TrapCode.INTEGER_DIVIDE_BY_ZERO
    # (the aot engine may inline `fail` and lose its frame: its message is not compared)
    assert expected["interp"][:3] == expected["auto"][:3]
    assert expected["aot"][:2] == expected["interp"][:2]
    assert expected["interp"][1] == code
    names = [str(frame) for frame in expected["interp"][3]]
    assert names == (["fail"] if how else []) + ["trap_after", "<wasm function 7>"]
    assert expected["auto"][3] == expected["interp"][3]


def test_memory_growth_and_host_calls_after_the_switch():
    expected = None
    for kind, policy in (("interp", None), ("aot", None), ("auto", "osr:1")):
        module, inst, host = instantiate(kind, policy=policy)
        got = (inst.exports["grow_then_read"](4), [v for v, _ in host.seen],
               len(inst.exports["mem"].data))
        assert expected is None or got == expected, kind
        expected = got
        if kind == "auto":
            assert host.tiers() == ["interp"] + ["native"] * 3
    assert expected == ((5, 0x1203), [2, 3, 4, 5], 5 * 65536)


@pytest.mark.parametrize("n", [0, 3, 4, 9])
def test_recursion_with_interpreted_activations_below(n):
    """rec(4): the switch lands in an inner activation while the outer ones of the same
    function are interpreter frames below it; each of those moves at its next loop header."""
    _, interp, _ = instantiate("interp", PURE)
    expected = interp.exports["rec"](4)
    module, inst, _ = instantiate("auto", PURE, f"osr:{n}")
    assert inst.exports["rec"](4) == expected
    osr = osr_of(module)
    # osr:0 switches the outermost activation, whose callees are then native; later, the one
    # that switched and each interpreted activation below it
    # header checks: rec(4) 1st, rec(3) 1st, ... rec(0) 1st (5th), rec(0) 2nd, 3rd, rec(1) 2nd,
    # a new rec(0) 1st (9th), its 2nd (10th)...
    assert osr.entries == {0: 1, 3: 4, 4: 5, 9: 5}[n]
    assert inst.exports["rec"](4) == expected     # its next calls: native code


def test_reentrance_through_the_host_and_function_identity():
    """The OSR code calls the host, which calls `count` (whose own loop switches too) of the
    same instance; ref.func and the table give the same Function objects on every tier."""
    expected = None
    for kind, policy in (("interp", None), ("auto", "osr:1")):
        module, inst, host = instantiate(kind, policy=policy)
        got = (inst.exports["reentrant"](5), inst.exports["g"].value,
               inst.exports["private"]())
        assert inst.exports["stored"]() is inst.exports["sq"].function
        assert expected is None or got == expected
        expected = got
        if kind == "auto":
            assert {index for index, _ in osr_of(module).loops} == {4, 10}


def test_every_instance_switches():
    engine = Engine("auto", cache=False, tiering="osr:2")
    module = Module(engine, wat(PURE))
    first = Linker(engine).instantiate(None, module)
    assert first.exports["nested"](3, 3) == Linker(Engine("interp")).instantiate(
        None, Module(Engine("interp"), wat(PURE))).exports["nested"](3, 3)
    second = Linker(engine).instantiate(None, module)
    entries = module.compiled.osr.entries
    # compiled by the first instance: the second enters at its first header
    assert second.exports["nested"](3, 3) == first.exports["nested"](3, 3)
    assert module.compiled.osr.entries == entries + 1


def test_stack_exhaustion_after_the_switch():
    """Unbounded recursion from inside a switched loop: the native stack limit traps, as the
    interpreter's recursion limit does, and the instance stays usable."""
    text = """(module
     (func $deep (export "deep") (param $n i32) (result i32)
       (local $i i32)
       (loop $top
         (local.set $n (i32.add (call $deep (i32.add (local.get $n) (i32.const 1)))
                                (local.get $n)))
         (local.set $i (i32.add (local.get $i) (i32.const 1)))
         (br_if $top (i32.lt_u (local.get $i) (i32.const 2))))
       (local.get $n))
     (func (export "ok") (result i32) (i32.const 7)))"""
    for kind, policy in (("interp", None), ("auto", "osr:3")):
        module, inst, _ = instantiate(kind, text, policy)
        with pytest.raises(Trap) as info:
            inst.exports["deep"](0)
        assert info.value.code == TrapCode.STACK_EXHAUSTED, kind
        assert inst.exports["ok"]() == 7
        if kind == "auto":
            assert osr_of(module).entries >= 1


# ---- the aot side alone ------------------------------------------------------------------------

def test_osr_entry_starts_at_the_named_loop_and_traps_on_an_unknown_id():
    from pywamr import aot
    from pywamr.binary.decoder import decode_module
    from pywamr.validate import validate_module
    data = wat(PURE)
    validated = validate_module(decode_module(data), data)
    with pytest.raises(ValueError, match="OSR entries only"):
        aot.compile_functions(validated, [0], osr=[1])
    partial = aot.compile_functions(validated, [0], osr=[0])
    module, inst, _ = instantiate("auto", PURE, "hot:1000")
    native, _ = partial.adopt_functions(inst.state)
    entry = native.osr_entry(0)
    outer, inner = loop_positions(module, "nested")

    def nested_from(n, m, i, j, acc):     # the loop nest of `nested` from a given state
        while True:
            while True:
                acc = (acc * 31 + i + j) & 0xFFFFFFFF
                j += 1
                if j >= m:
                    break
            i += 1
            if i >= n:
                return acc
            j = 0
    assert entry(4, 7, 2, 3, 99, inner) == nested_from(4, 7, 2, 3, 99)
    assert entry(4, 7, 2, 3, 99, outer) == nested_from(4, 7, 2, 0, 99)
    with pytest.raises(Trap) as info:
        entry(4, 7, 2, 3, 99, outer + 1)
    assert info.value.code == TrapCode.UNREACHABLE


# ---- the background policy: a long activation found by the sampler ------------------------------

SPIN = """(module
 (import "h" "tick" (func $tick))
 (func $spin (export "spin") (param $n i32) (result i64)
   (local $i i32) (local $acc i64)
   (loop $top
     (local.set $acc (i64.add (local.get $acc) (i64.extend_i32_u (local.get $i))))
     (if (i32.eqz (i32.and (local.get $i) (i32.const 0xFFFFF))) (then (call $tick)))
     (local.set $i (i32.add (local.get $i) (i32.const 1)))
     (br_if $top (i32.lt_u (local.get $i) (local.get $n))))
   (local.get $acc)))"""


def test_background_moves_a_long_activation(monkeypatch, capfd):
    """A loop that would take minutes on the interpreter, in one call that never returns
    before it is done: the sampler sees the same frame in consecutive samples and the rest of
    the activation runs natively (a tick every 2^20 iterations fails the test after 120 s)."""
    monkeypatch.setenv("PYWAMR_TIER_LOG", "1")
    deadline = time.monotonic() + 120

    def tick():
        if time.monotonic() > deadline:
            raise RuntimeError("still interpreting after 120 s: no on-stack replacement")
    engine = Engine("auto", cache=False, tiering="background:1000")   # no whole-module compile
    module = Module(engine, wat(SPIN))
    linker = Linker(engine)
    linker.define_func("h", "tick", ([], []), tick)
    inst = linker.instantiate(None, module)
    n = 1 << 28
    assert inst.exports["spin"](n) == n * (n - 1) // 2
    assert module.compiled.osr.entries == 1
    err = capfd.readouterr().err
    assert "OSR entry of spin native after" in err
    assert "on-stack replacement of spin at loop" in err


# ---- the deterministic policy on conformance modules -------------------------------------------

CONFORMANCE_FILES = ("loop", "fac", "br_if", "memory_grow", "call_indirect", "left-to-right",
                     "simd_lane")


@pytest.mark.skipif(conformance_dir() is None,
                    reason="conformance corpus not found (set PYWAMR_CONFORMANCE)")
@pytest.mark.parametrize("name", CONFORMANCE_FILES)
def test_conformance_files_under_osr(name, monkeypatch):
    """Every command of these spec files passes with every loop switching at its first
    header (osr:0) or later (osr:2), and some activations really moved."""
    require_wasm_tools()
    from pywamr.engine import tier_osr
    from pywamr.wast import run_file
    entered = []
    real_enter = tier_osr.enter

    def counting_enter(tier, index, partial):
        entered.append(index)
        return real_enter(tier, index, partial)
    monkeypatch.setattr(tier_osr, "enter", counting_enter)
    path = conformance_dir() / "core" / f"{name}.wast"
    for policy in ("osr:0", "osr:2"):
        reference = run_file(path, Engine("interp"))
        result = run_file(path, Engine("auto", cache=False, tiering=policy))
        assert result.failures == reference.failures, (policy, result.failures[:5])
        assert result.passed == reference.passed
    if name in ("loop", "fac"):
        assert entered, "no activation moved"
