"""The fuzzer's SIMD modes, checked on the oracle's side alone (they must work before any engine
runs SIMD): generation, v128 values through the `wasmtime` package, the per-lane NaN rule, and
"not supported" as a count of its own.

- `generate_module(..., "simd" | "relaxed-simd")` gives modules full of 0xFD instructions (and
  relaxed ones in the relaxed mode) that wasmtime compiles, instantiates and calls;
- `fuzz/wasmtime_v128.py` passes and returns v128 as ints with lane 0 in the low bits, the
  representation pywamr's API uses;
- `values.values_equal` forgives a NaN lane against any NaN in that lane and nothing else;
- an engine refusing a module with `NotSupported` is a "not supported" verdict, counted apart,
  never a pass or a failure.
"""
from __future__ import annotations

import re
import subprocess
import sys

import pytest

from pywamr_testlib import ROOT, wasm_tools_path

if str(ROOT) not in sys.path:
    sys.path.insert(1, str(ROOT))
from fuzz.compare import MISMATCH, PASS, UNSUPPORTED, Verdict, compare  # noqa: E402
from fuzz.outcome import Outcome  # noqa: E402
from fuzz.values import arguments, lanes, value_key, values_equal  # noqa: E402

SEED = 20261201
MODULES = 20
VECTOR_OP = re.compile(r"\b(?:v128|[if](?:8x16|16x8|32x4|64x2))\.[\w.]+")



def _instructions(data: bytes) -> list[str]:
    text = subprocess.run([wasm_tools_path(), "print", "-"], input=data, capture_output=True,
                          check=True, timeout=60).stdout.decode()
    return VECTOR_OP.findall(text)


@pytest.mark.parametrize("mode", ["simd", "relaxed-simd"])
def test_simd_modes_generate_simd_that_wasmtime_runs(fuzz_tools, mode):
    from fuzz.generate import generate_module
    from fuzz.oracle import run_wasmtime
    with_simd, relaxed, ok_calls, vector_values = 0, 0, 0, 0
    for index in range(MODULES):
        data = generate_module(SEED, index, mode)
        found = _instructions(data)
        with_simd += bool(found)
        relaxed += sum("relaxed" in op for op in found)
        outcome = run_wasmtime(data)
        assert outcome.instantiation[0] != "error", (index, outcome.instantiation)
        ok = [call for call in outcome.calls if call[2][0] == "ok"]
        ok_calls += len(ok)
        vector_values += sum(key.startswith("v128:") for call in ok for key in call[2][1:])
        vector_values += sum(key.startswith("v128:") for key in outcome.globals.values())
    assert with_simd == MODULES
    assert ok_calls > 0 and vector_values > 0
    if mode == "relaxed-simd":
        assert relaxed > 0
    else:
        assert relaxed == 0


def test_core_mode_has_no_simd(fuzz_tools):
    from fuzz.generate import generate_module
    assert not any(_instructions(generate_module(SEED, i)) for i in range(5))


V128_WAT = """(module
  (func (export "add_splat") (param v128 i32) (result v128)
    (i32x4.add (local.get 0) (i32x4.splat (local.get 1))))
  (func (export "pair") (param i64) (result v128 f64)
    (i64x2.replace_lane 1 (i64x2.splat (local.get 0)) (i64.const -1)) (f64.const 2.5))
  (func (export "nan") (result v128) (f32x4.div (v128.const f32x4 0 1 2 3) (v128.const f32x4 0 1 1 1)))
  (global (export "g") (mut v128) (v128.const i32x4 1 2 3 4)))"""


def test_wasmtime_v128_lane_order_and_values(fuzz_tools):
    from fuzz.oracle import run_wasmtime
    data = subprocess.run([wasm_tools_path(), "parse", "-"], input=V128_WAT.encode(),
                          capture_output=True, check=True).stdout
    outcome = run_wasmtime(data)
    calls = {(name, which): result for name, which, result in outcome.calls}
    for which in range(6):
        v, n = arguments(["v128", "i32"], which)
        want = lanes(32, [((v >> (32 * k)) + n) & 0xFFFFFFFF for k in range(4)])
        assert calls[("add_splat", which)] == ["ok", value_key("v128", want)]
    assert calls[("add_splat", 1)] == ["ok", value_key("v128", lanes(32, (3, 4, 5, 6)))]
    assert calls[("pair", 1)] == ["ok", value_key("v128", lanes(64, (2, -1))), value_key("f64", 2.5)]
    assert outcome.globals["g"] == "v128:0x00000004000000030000000200000001"
    status, key = calls[("nan", 0)]
    v = int(key.removeprefix("v128:"), 16)
    assert status == "ok"
    assert [(v >> 32 * k) & 0xFFFFFFFF for k in (1, 2, 3)] == [0x3F800000, 0x40000000, 0x40400000]
    assert v & 0x7F800000 == 0x7F800000 and v & 0x7FFFFF, "lane 0 is 0/0, a NaN"


def test_v128_keys():
    assert value_key("v128", 0) == "v128:0x" + "0" * 32
    assert value_key("v128", (1 << 128) - 1) == "v128:0x" + "f" * 32
    assert value_key("v128", -1).startswith("v128:not-a-v128")
    assert value_key("v128", 1 << 128).startswith("v128:not-a-v128")
    assert value_key("v128", b"\0" * 16).startswith("v128:not-a-v128")
    assert lanes(8, range(16)) == int.from_bytes(bytes(range(16)), "little")


def test_nan_lanes_compare_per_lane():
    def key(width, values):
        return value_key("v128", lanes(width, values))
    assert values_equal(key(32, (0x7FC00000, 1, 2, 3)), key(32, (0xFFC00000, 1, 2, 3)))
    assert values_equal(key(32, (5, 0x7F800001, 0, 0)), key(32, (5, 0xFFFFFFFF, 0, 0)))
    # a NaN against a non-NaN, or a difference in any other lane, is a difference
    assert not values_equal(key(32, (0x7FC00000, 1, 2, 3)), key(32, (0x7F800000, 1, 2, 3)))
    assert not values_equal(key(32, (0x7FC00000, 1, 2, 3)), key(32, (0x7FC00000, 1, 2, 4)))
    # f64 lanes: the low halves differ and are not f32 NaNs, the f64 lanes are NaN on both sides
    assert values_equal(key(64, (0x7FF8000000000000, 7)), key(64, (0xFFF8000000000001, 7)))
    assert not values_equal(key(64, (0x7FF8000000000000, 7)), key(64, (0x3FF0000000000000, 7)))
    # the two views are alternatives: these high halves are f32 NaNs both, so this passes
    assert values_equal(key(64, (0x7FF8000000000000, 7)), key(64, (0x7FF0000000000000, 7)))
    assert not values_equal("i32:0x1", "i32:0x2")
    assert not values_equal("v128:not-a-v128:1", "v128:0x" + "0" * 31 + "1")


def _outcome(*results, globals_=None):
    return Outcome(["ok"], [["f", i, r] for i, r in enumerate(results)], globals_ or {}, {}, {})


def test_v128_nan_lanes_in_calls_and_globals():
    a = value_key("v128", lanes(32, (0x7FC00000, 0, 0, 0)))
    b = value_key("v128", lanes(32, (0xFFC00000, 0, 0, 0)))
    c = value_key("v128", lanes(32, (0x7F800000, 0, 0, 0)))
    assert compare(_outcome(["ok", a]), _outcome(["ok", b])).status == PASS
    assert compare(_outcome(["ok", a]), _outcome(["ok", c])).status == MISMATCH
    assert compare(_outcome(["ok"], globals_={"g": a}),
                   _outcome(["ok"], globals_={"g": b})).status == PASS
    assert compare(_outcome(["ok"], globals_={"g": a}),
                   _outcome(["ok"], globals_={"g": c})).status == MISMATCH


def test_not_supported_is_its_own_verdict_and_count(tmp_path):
    from fuzz.campaign import Counts, ModuleReport
    refused = Outcome(["unsupported", "NotSupported: SIMD (v128) is not supported"])
    verdict = compare(_outcome(["ok", "i32:0x1"]), refused)
    assert verdict.status == UNSUPPORTED and not verdict.failed
    later = _outcome(["ok", "i32:0x1"], ["unsupported", "NotSupported: x"])
    assert compare(_outcome(["ok", "i32:0x1"], ["ok"]), later).status == UNSUPPORTED
    # a real difference before the refusal is still a mismatch
    wrong = _outcome(["ok", "i32:0x2"], ["unsupported", "NotSupported: x"])
    assert compare(_outcome(["ok", "i32:0x1"], ["ok"]), wrong).status == MISMATCH
    counts = Counts()
    counts.add(ModuleReport(1, 0, {"interp": verdict}))
    counts.add(ModuleReport(1, 1, {"interp": Verdict(PASS, 3)}))
    assert counts.failures() == 0
    assert counts.per_engine["interp"][UNSUPPORTED] == 1
    assert counts.per_engine["interp"][PASS] == 1
    assert "not supported 1" in counts.summary()
    assert not ModuleReport(1, 0, {"interp": verdict}).failed


def test_subject_reports_a_refused_simd_module_as_not_supported(fuzz_tools):
    """Whatever the engine does with a SIMD module, the subject records a refusal as
    "unsupported" (never "error" or "escaped"), and the verdict is never a failure when the
    engine refuses."""
    from fuzz.generate import generate_module
    from fuzz.oracle import run_wasmtime
    from fuzz.subject import make_engine, run_pywamr
    data = generate_module(SEED, 0, "simd")
    for kind in ("interp",):
        outcome = run_pywamr(data, make_engine(kind))
        assert outcome.instantiation[0] in ("ok", "unsupported", "trap"), outcome.instantiation
        verdict = compare(run_wasmtime(data), outcome)
        if outcome.instantiation[0] == "unsupported":
            assert verdict.status == UNSUPPORTED
            assert "not supported" in outcome.instantiation[1]
