"""The "auto" engine (engine/tiered.py): instances start on the interpreter and switch to the
aot engine's native code, with results, traps and backtraces identical to both engines.

Deterministic: the "calls:N" policy compiles at once and switches each instance after N calls
into its functions, so every N from 0 up places the switch at a different point of a run
(inside a recursion, between a caller and its callee); `TieredModule.compile_now()` called
from a host function switches an instance while its interpreter frames are on the stack. The
background policy is tested with a waiting loop bounded in time."""
from __future__ import annotations

import time

import pytest

from pywamr import Engine, Linker, Module
from pywamr.engine.tiered import TierPolicy
from pywamr.errors import Trap, TrapCode
from pywamr_testlib import require_aot, wat

require_aot()

RECURSIVE = """(module
 (import "h" "log" (func $log (param i32)))
 (memory (export "mem") 1 10)
 (global $calls (export "calls") (mut i32) (i32.const 0))
 (global $private (mut i64) (i64.const 7))
 (table (export "table") 3 funcref)
 (elem (i32.const 0) $fib $boom $div)
 (type $t (func (param i32) (result i32)))
 (type $t2 (func (param i32 i32) (result i32)))
 (func $fib (export "fib") (param i32) (result i32)
   (global.set $calls (i32.add (global.get $calls) (i32.const 1)))
   (global.set $private (i64.add (global.get $private) (i64.extend_i32_u (local.get 0))))
   (if (result i32) (i32.lt_u (local.get 0) (i32.const 2)) (then (local.get 0))
     (else (i32.add (call $fib (i32.sub (local.get 0) (i32.const 1)))
                    (call_indirect (type $t) (i32.sub (local.get 0) (i32.const 2))
                                   (i32.const 0))))))
 (func $boom (export "boom") (param i32) (result i32)
   (call $log (local.get 0))
   (if (i32.eqz (local.get 0)) (then unreachable))
   (call $boom (i32.sub (local.get 0) (i32.const 1))))
 (func $div (export "div") (param i32 i32) (result i32)
   (call $log (local.get 0))
   (i32.div_u (local.get 0) (local.get 1)))
 (func $down (export "down") (param i32) (result i32)
   (if (result i32) (i32.eqz (local.get 0))
     (then (call_indirect (type $t2) (i32.const 1) (i32.const 0) (i32.const 2)))
     (else (call $down (i32.sub (local.get 0) (i32.const 1))))))
 (func $forever (export "forever") (param i32) (result i32)
   (call $forever (i32.add (local.get 0) (i32.const 1))))
 (func (export "private") (result i64) (global.get $private))
 (func (export "ref") (result funcref) (ref.func $fib))
 (func (export "get") (param i32) (result funcref) (table.get (local.get 0)))
)"""


@pytest.fixture(scope="module")
def recursive() -> bytes:
    return wat(RECURSIVE)


def instantiate(engine: Engine, data: bytes, log: list | None = None):
    module = Module(engine, data)
    linker = Linker(engine)
    linker.define_func("h", "log", (["i32"], []),
                       lambda x: log.append(x) if log is not None else None)
    return module, linker.instantiate(None, module)


def outcome(instance, name, *args):
    try:
        return ("ok", instance.exports[name](*args))
    except Trap as trap:
        return ("trap", trap.code, tuple(trap.frames))


def is_native(instance) -> bool:
    data = instance.state.engine_data
    if not isinstance(data, dict):      # the aot engine's own instance
        return True
    return data.get("__native__") is not None


def test_policy_text():
    from pywamr.engine.tiered import TierPolicy
    assert TierPolicy.parse("calls:3") == TierPolicy("calls", calls=3)
    assert TierPolicy.parse("background:0.5").delay == 0.5
    assert TierPolicy.parse("never").mode == "never"
    for bad in ("calls", "calls:-1", "background:x", "sometimes", "never:1"):
        with pytest.raises(ValueError, match="bad tiering policy"):
            Engine("auto", tiering=bad)


@pytest.mark.parametrize("calls", [0, 1, 2, 5, 17, 40, 10_000])
def test_switch_inside_recursion_matches_both_engines(recursive, calls):
    """fib recurses directly and through the table: wherever the switch lands, the result,
    the exported and the private (non-exported) globals are those of interp and aot."""
    expected = None
    for kind in ("interp", "aot"):
        _, inst = instantiate(Engine(kind, cache=False), recursive)
        got = (inst.exports["fib"](15), inst.exports["calls"].value, inst.exports["private"]())
        assert expected is None or got == expected
        expected = got
    module, inst = instantiate(Engine("auto", cache=False, tiering=f"calls:{calls}"),
                               recursive)
    assert type(module.compiled).__name__ == "TieredModule"
    got = (inst.exports["fib"](15), inst.exports["calls"].value, inst.exports["private"]())
    assert got == expected
    assert is_native(inst) == (calls < 1973)     # fib(15) makes 1973 calls


def test_every_instance_counts_its_own_calls(recursive):
    engine = Engine("auto", cache=False, tiering="calls:5")
    module = Module(engine, recursive)
    linker = Linker(engine)
    linker.define_func("h", "log", (["i32"], []), lambda x: None)
    first = linker.instantiate(None, module)
    assert first.exports["fib"](10) == 55 and is_native(first)
    second = linker.instantiate(None, module)
    assert not is_native(second)
    assert second.exports["fib"](2) == 1 and not is_native(second)     # 3 calls
    assert second.exports["fib"](3) == 2 and is_native(second)         # the switch


@pytest.mark.parametrize("calls", [0, 1, 2, 3, 4, 6, 100])
def test_traps_and_backtraces_in_both_tiers(recursive, calls):
    """A trap in the interpreter, in native code, and in native code under interpreter frames
    (the switch happened mid-recursion): same code and same backtrace as both engines. (The
    trapping callee is reached through the table: LLVM would inline a direct callee, and the
    aot engine's backtrace would then lose its frame on both engines' own terms.)"""
    cases = [("boom", 3), ("down", 3), ("div", 5, 0)]
    expected = {}
    for kind in ("interp", "aot"):
        for case in cases:
            log: list = []
            _, inst = instantiate(Engine(kind, cache=False), recursive, log)
            got = (outcome(inst, *case), log)
            assert expected.setdefault(case, got) == got, (kind, case)
    for case in cases:
        log = []
        _, inst = instantiate(Engine("auto", cache=False, tiering=f"calls:{calls}"),
                              recursive, log)
        assert (outcome(inst, *case), log) == expected[case], case
    assert expected[("boom", 3)][0] == ("trap", TrapCode.UNREACHABLE, ("boom",) * 4)
    assert expected[("down", 3)][0] == ("trap", TrapCode.INTEGER_DIVIDE_BY_ZERO,
                                        ("div",) + ("down",) * 4)


@pytest.mark.parametrize("calls", [0, 5])
def test_stack_exhaustion_in_both_tiers(recursive, calls):
    _, inst = instantiate(Engine("auto", cache=False, tiering=f"calls:{calls}"), recursive)
    with pytest.raises(Trap) as info:
        inst.exports["forever"](0)
    assert info.value.code == TrapCode.STACK_EXHAUSTED
    assert inst.exports["fib"](10) == 55      # the instance is healthy afterwards


def test_function_identity_survives_the_switch(recursive):
    """Exports, table elements and ref.func are the same Function objects on both tiers."""
    _, inst = instantiate(Engine("auto", cache=False, tiering="calls:1000000"), recursive)
    before = (inst.exports["ref"](), inst.exports["get"](0))
    assert before[0] is before[1] is inst.exports["fib"].function
    inst.state.engine_data["__tier__"].switch()
    assert is_native(inst)
    after = (inst.exports["ref"](), inst.exports["get"](0), inst.exports["get"](1))
    assert after[0] is after[1] is inst.exports["fib"].function
    assert after[2] is inst.exports["boom"].function
    assert inst.exports["fib"](12) == 144


REENTRANT = """(module
 (import "h" "tier_up" (func $tier_up))
 (import "h" "reenter" (func $reenter (param i32) (result i32)))
 (memory (export "mem") 1 10)
 (func $work (export "work") (param i32) (result i32)
   (local $i i32) (local $acc i32)
   (loop $l
     (local.set $acc (i32.add (local.get $acc) (call $sq (local.get $i))))
     (local.set $i (i32.add (local.get $i) (i32.const 1)))
     (br_if $l (i32.lt_u (local.get $i) (local.get 0))))
   (local.get $acc))
 (func $sq (param i32) (result i32) (i32.mul (local.get 0) (local.get 0)))
 (func (export "main") (param i32) (result i32)
   (local $before i32)
   (local.set $before (call $work (local.get 0)))
   (call $tier_up)
   ;; this frame is still the interpreter's; everything it calls now is native
   (i32.add (local.get $before)
     (i32.add (call $work (local.get 0)) (call $reenter (local.get 0)))))
 ;; memory: grow in one tier, read and write in the other
 (func $grow (export "grow") (result i32)
   (i32.store (i32.mul (memory.grow (i32.const 1)) (i32.const 65536)) (i32.const 0x1234))
   (memory.size))
 (func (export "grow_across") (result i32)
   (local $old i32)
   (local.set $old (memory.size))
   (drop (call $grow))                       ;; grown in the interpreter
   (call $tier_up)
   (drop (call $grow))                       ;; grown natively, under an interpreter frame
   (i32.add
     (i32.add (i32.load (i32.mul (local.get $old) (i32.const 65536)))
              (i32.load (i32.mul (i32.add (local.get $old) (i32.const 1)) (i32.const 65536))))
     (memory.size)))
)"""


def reentrant_instance(engine: Engine, data: bytes, whole: bool = True):
    module = Module(engine, data)
    linker = Linker(engine)
    state = {}

    def tier_up():
        compiled = module.compiled
        if whole and hasattr(compiled, "compile_now"):
            assert compiled.compile_now()
            state["native_during_call"] = is_native(state["instance"])

    def reenter(n):
        # re-entrance: the switch happens inside this nested call into the instance
        result = state["instance"].exports["work"](n)
        state["native_after_reentry"] = is_native(state["instance"])
        return result

    linker.define_func("h", "tier_up", ([], []), tier_up)
    linker.define_func("h", "reenter", (["i32"], ["i32"]), reenter)
    state["instance"] = linker.instantiate(None, module)
    return module, state


def test_switch_while_on_the_stack_through_host_calls():
    data = wat(REENTRANT)
    expected = reentrant_instance(Engine("aot", cache=False), data)[1]["instance"] \
        .exports["main"](300)
    assert expected == 3 * sum(i * i for i in range(300))
    module, state = reentrant_instance(
        Engine("auto", cache=False, tiering="background:1000"), data)
    assert state["instance"].exports["main"](300) == expected
    assert state["native_during_call"] is False     # armed, not switched: no call yet
    assert state["native_after_reentry"] is True
    assert module.compiled.native is not None


def test_memory_growth_seen_by_both_tiers():
    data = wat(REENTRANT)
    results = []
    for kind in ("interp", "aot", "auto"):
        engine = Engine(kind, cache=False, tiering="background:1000" if kind == "auto" else None)
        _, state = reentrant_instance(engine, data)
        inst = state["instance"]
        results.append((inst.exports["grow_across"](), len(inst.exports["mem"].data)))
        if kind == "auto":
            assert is_native(inst)
            assert inst.exports["grow"]() == 4     # native grows again: interp's view too
            assert len(inst.exports["mem"].data) == 4 * 65536
    assert results[0] == results[1] == results[2] == (0x1234 * 2 + 3, 3 * 65536)


def test_background_tier_up_reaches_native_and_fills_the_cache(recursive, tmp_path):
    engine = Engine("auto", cache_dir=tmp_path, tiering="background:0")
    module, inst = instantiate(engine, recursive)
    assert type(module.compiled).__name__ == "TieredModule"
    assert inst.exports["fib"](10) == 55
    deadline = time.monotonic() + 120
    while not is_native(inst) and time.monotonic() < deadline:
        inst.exports["fib"](5)       # the switch happens at a call once the code is ready
        time.sleep(0.02)
    assert is_native(inst), module.compiled.failure
    assert module.compiled.ready_after is not None
    assert inst.exports["fib"](20) == 6765
    # a cached module goes straight to native: the aot engine's own module
    again, inst2 = instantiate(Engine("auto", cache_dir=tmp_path), recursive)
    assert type(again.compiled).__name__ == "AotModule"
    assert inst2.exports["fib"](20) == 6765


def test_background_never_compiles_a_module_that_never_runs(recursive, tmp_path):
    engine = Engine("auto", cache_dir=tmp_path, tiering="background:0")
    module, _ = instantiate(engine, recursive)
    time.sleep(0.3)
    assert not module.compiled.started
    assert not [p for p in tmp_path.rglob("*.cwasm")]     # nothing compiled


def test_cwasm_and_never_policy(recursive, tmp_path):
    aot_module = Module(Engine("aot", cache=False), recursive)
    path = tmp_path / "m.cwasm"
    aot_module.compiled.save(path)
    engine = Engine("auto", cache=False)
    assert engine.supports_artifacts
    loaded = Module.from_compiled(engine, engine.load_artifact(path))
    assert type(loaded.compiled).__name__ == "AotModule"
    never = Module(Engine("auto", cache=False, tiering="never"), recursive)
    assert type(never.compiled).__name__ == "InterpModule"


def test_failed_compile_stays_on_the_interpreter(recursive):
    engine = Engine("auto", cache=False, tiering="calls:2")
    module = Module(engine, recursive)

    def broken():
        raise RuntimeError("LLVM is having a bad day")
    module.compiled.compile_native = broken
    linker = Linker(engine)
    linker.define_func("h", "log", (["i32"], []), lambda x: None)
    inst = linker.instantiate(None, module)
    assert inst.exports["fib"](15) == 610
    assert not is_native(inst)
    assert "bad day" in str(module.compiled.failure)


def cli(*args, env=None):
    import os
    import subprocess
    import sys
    from pywamr_testlib import ROOT
    return subprocess.run([sys.executable, "-m", "pywamr", *args], capture_output=True,
                          text=True, cwd=ROOT, env={**os.environ, **(env or {})})


def test_cli_run_defaults_to_auto():
    out = cli("run", "--help")
    assert out.returncode == 0
    assert "$PYWAMR_ENGINE or auto" in " ".join(out.stdout.split())


CLI_TRAP = """(module
 (table 1 funcref) (elem (i32.const 0) $div)
 (type $t2 (func (param i32 i32) (result i32)))
 (func $div (param i32 i32) (result i32) (i32.div_u (local.get 0) (local.get 1)))
 (func $down (export "down") (param i32) (result i32)
   (if (result i32) (i32.eqz (local.get 0))
     (then (call_indirect (type $t2) (i32.const 1) (i32.const 0) (i32.const 0)))
     (else (call $down (i32.sub (local.get 0) (i32.const 1)))))))"""


@pytest.mark.parametrize("policy", ["calls:0", "calls:2", "never"])
def test_cli_trap_report_is_the_same_on_every_tier(tmp_path, policy):
    path = tmp_path / "m.wasm"
    path.write_bytes(wat(CLI_TRAP))
    args = ["run", "--no-cache", "--invoke", "down", str(path), "3"]
    aot = cli(*args[:1], "--engine", "aot", *args[1:])
    auto = cli(*args, env={"PYWAMR_TIER": policy, "PYWAMR_ENGINE": ""})
    assert aot.returncode == auto.returncode != 0
    assert "Traceback" not in auto.stderr
    assert auto.stderr == aot.stderr and "down" in auto.stderr and "div" in auto.stderr


def test_cli_exit_never_waits_for_the_background_compile(tmp_path):
    """The guest finishes on the interpreter while its module compiles: the process exits at
    once (the worker is killed), with the guest's output only."""
    path = tmp_path / "spin.wasm"
    path.write_bytes(wat("""(module
      (func $step (param i32) (result i32) (i32.add (local.get 0) (i32.const 3)))
      (func (export "spin") (param i32) (result i32) (local $acc i32)
        (loop $l (local.set $acc (call $step (local.get $acc)))
          (br_if $l (local.tee 0 (i32.sub (local.get 0) (i32.const 1)))))
        (local.get $acc)))"""))
    started = time.monotonic()
    out = cli("run", "--cache-dir", str(tmp_path / "cache"), "--invoke", "spin", str(path),
              "20000", env={"PYWAMR_TIER": "background:0", "PYWAMR_TIER_NICE": "19",
                            "PYWAMR_ENGINE": ""})
    assert (out.returncode, out.stdout, out.stderr) == (0, "60000\n", "")
    assert time.monotonic() - started < 60


# -- per-function tiering (engine/tier_functions.py, tier_sampler.py) ---------------------------

def native_functions(instance) -> dict:
    """{function index: opt level} of the functions switched alone to native code."""
    return dict(instance.state.engine_data["__tier__"].levels)


def test_hot_policy_text():
    assert TierPolicy.parse("hot:3") == TierPolicy("hot", calls=3)
    assert TierPolicy.parse("cheap:0") == TierPolicy("cheap", calls=0)
    with pytest.raises(ValueError, match="bad tiering policy"):
        Engine("auto", tiering="hot:-2")


@pytest.mark.parametrize("mode", ["hot", "cheap"])
@pytest.mark.parametrize("calls", [0, 1, 2, 5, 40])
def test_per_function_switch_matches_both_engines(recursive, calls, mode):
    """Each function switches alone after `calls` calls to it: inside a recursion (fib, down),
    with interpreted and native frames interleaved on the stack, traps and backtraces, private
    globals and funcref identity are those of both engines."""
    runs = {}
    for kind, policy in (("interp", None), ("aot", None), ("auto", f"{mode}:{calls}")):
        log = []
        _, inst = instantiate(Engine(kind, cache=False, tiering=policy), recursive, log)
        runs[kind] = [outcome(inst, "fib", 15), outcome(inst, "boom", 3),
                      outcome(inst, "down", 4), outcome(inst, "down", 0),
                      outcome(inst, "private"), outcome(inst, "forever", 0)[:2], log]
        if kind == "auto":
            switched = native_functions(inst)
            assert inst.exports["ref"]() is inst.exports["fib"].function
            assert inst.exports["get"](2) is inst.exports["div"].function
    assert runs["auto"] == runs["aot"] == runs["interp"]
    fib_index = 1
    assert (fib_index in switched) == (calls < 1973)
    assert set(switched.values()) <= ({2} if mode == "hot" else {0})


def test_per_function_switch_while_on_the_stack_through_host_calls():
    """hot:1: `work` and `sq` go native while `main`'s interpreter frame is on the stack and
    again inside a re-entrant call from a host function; memory grown by either tier is
    seen by the other."""
    data = wat(REENTRANT)
    expected = reentrant_instance(Engine("aot", cache=False), data)[1]["instance"]
    module, state = reentrant_instance(Engine("auto", cache=False, tiering="hot:1"), data,
                                       whole=False)
    inst = state["instance"]
    assert inst.exports["main"](300) == expected.exports["main"](300)
    assert state["native_after_reentry"] is False       # no whole-module switch
    switched = native_functions(inst)
    assert {"work", "sq"} <= {module.compiled.function_name(i) for i in switched}
    assert inst.exports["grow_across"]() == expected.exports["grow_across"]()
    assert inst.exports["grow"]() == expected.exports["grow"]()
    assert len(inst.exports["mem"].data) == len(expected.exports["mem"].data)


def test_cheap_tier_code_is_replaced_by_hot_code(recursive):
    """A function compiled by the cheap tier (O0, every call through records) and later hot
    (O2) runs the O2 code, also when called from cheap code; an O0 group arriving after the
    O2 code never replaces it."""
    engine = Engine("auto", cache=False, tiering="hot:1000000")
    module, inst = instantiate(engine, recursive)
    tiers = module.compiled.functions
    tier = inst.state.engine_data["__tier__"]
    everything = range(1, len(module.compiled.validated.func_types))
    assert tiers.compile([1, 3, 4], cheap=True)         # fib, div, down at O0
    assert inst.exports["fib"](15) == 610
    assert native_functions(inst) == {1: 0, 3: 0, 4: 0}
    assert tiers.compile([1])                            # fib at O2
    assert inst.exports["fib"](16) == 987
    assert native_functions(inst)[1] == 2
    assert tiers.compile(everything, cheap=True)         # the rest at O0, fib stays O2
    assert inst.exports["fib"](17) == 1597
    assert outcome(inst, "down", 3) == outcome(
        instantiate(Engine("aot", cache=False), recursive)[1], "down", 3)
    tier.apply_pending()            # what the next call of any of them would do
    levels = native_functions(inst)
    assert levels[1] == 2 and set(levels) == set(everything)
    assert tier.native is None and inst.exports["ref"]() is inst.exports["fib"].function


def test_background_sampler_compiles_a_hot_function(tmp_path):
    """The background policy finds a hot function by sampling and switches it alone, long
    before (here: instead of) the whole-module compile."""
    data = wat("""(module
      (func $step (param i32) (result i32) (local $k i32) (local $acc i32)
        (loop $l (local.set $acc (i32.add (local.get $acc) (i32.mul (local.get $k) (local.get 0))))
          (br_if $l (i32.lt_u (local.tee $k (i32.add (local.get $k) (i32.const 1)))
                              (i32.const 2000))))
        (local.get $acc))
      (func (export "run") (param i32) (result i32) (call $step (local.get 0))))""")
    engine = Engine("auto", cache_dir=tmp_path, tiering="background:1000")
    module = Module(engine, data)
    inst = Linker(engine).instantiate(None, module)
    deadline = time.monotonic() + 120
    while 0 not in native_functions(inst) and time.monotonic() < deadline:
        assert inst.exports["run"](3) == 3 * sum(range(2000))
    assert native_functions(inst).get(0) == 2           # $step, at O2
    assert module.compiled.native is None               # no whole-module compile yet
    assert inst.exports["run"](5) == 5 * sum(range(2000))


def test_partial_modules_and_opt_levels(recursive, tmp_path):
    from pywamr import aot
    from pywamr.binary.decoder import decode_module
    from pywamr.validate import validate_module
    validated = validate_module(decode_module(recursive), recursive)
    with pytest.raises(ValueError, match="defined functions"):
        aot.compile_functions(validated, [0])            # an import
    with pytest.raises(ValueError, match="opt level"):
        aot.compile_functions(validated, [1], opt_level=7)
    partial = aot.compile_functions(validated, [1, 4], opt_level=1)
    assert partial.defined == [1, 4] and partial.referenced >= {1, 4}
    with pytest.raises(ValueError, match="partial module"):
        partial.save(tmp_path / "p.cwasm")
    cache = aot.AotCache(tmp_path)
    aot.compile_module(validated, cache=cache, opt_level=0)
    assert aot.load_cached(validated, cache) is None         # another level, another key
    assert aot.load_cached(validated, cache, opt_level=0) is not None
