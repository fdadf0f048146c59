"""Native adapters for options, results, variants and record/tuple results (abi/native.py,
aot/adapter_ir.py): raw flat values a caller's core code passes (valid and invalid
discriminants, payloads of every joined type, invalid chars, NaNs) come out as interp and
wasmtime make them; the native path is proved by counters (no Python adapter call, no
fallback but for the calls that trap), the result path's fallback gives the exact trap, and
the forced Python path agrees.
"""
from __future__ import annotations

import dataclasses
import math
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from pywamr import Engine  # noqa: E402
from pywamr.component import Component, Linker  # noqa: E402
from pywamr.component.values import ComponentError  # noqa: E402
from pywamr.errors import Trap  # noqa: E402
from pywamr_testlib import wat  # noqa: E402
from adapter_components import variant_component_text  # noqa: E402
from test_native_adapters import (_count_python_calls, _wasmtime_caller,  # noqa: E402
                                  require_aot_engine)

NAN64 = 0x7FF8000000000001
# (function, raw flat arguments B's core passes on)
CALLS = [("opt", 1, 7), ("opt", 0, 7), ("opt", 0, 0xFFFFFFFF), ("opt", 2, 7),
         ("var", 0, 0x1FF), ("var", 1, 0x1FF), ("var", 2, 0x4004000000000000),
         ("var", 2, NAN64), ("var", 3, 0x41), ("var", 3, 0x10FFFF), ("var", 3, 0xD800),
         ("var", 3, 0x110000), ("var", 4, 0),
         ("res", 0, 0x3FC00000), ("res", 0, 0x7FC00001), ("res", 1, 0x1FF), ("res", 1, 0x80),
         ("res", 9, 0),
         ("tup", 300, 1, 0x18000, 1.5), ("tup", 300, 0, 0x18000, float("nan")),
         ("tup", 1, 2, 0, 1.5),
         ("rec", 1, 1, 5), ("rec", 0, 7, 5), ("rec", 0, 0, 0xFF), ("rec", 2, 0, 0),
         ("flip", 0), ("flip", 1), ("flip", 2), ("one", 0x18001), ("one", 0x7FFF)]


def normal(v):
    """A value of pywamr's or wasmtime's Python API in one comparable form: variant cases
    by their payload (wasmtime's API drops the case), records as tuples, NaN as 'nan'."""
    if isinstance(v, float) and math.isnan(v):
        return "nan"
    if isinstance(v, tuple):
        return tuple(normal(x) for x in v)
    if type(v).__name__ == "Variant":                     # wasmtime
        return normal(v.payload)
    if type(v).__name__ == "Record":                      # wasmtime
        return tuple(normal(x) for x in vars(v).values())
    if dataclasses.is_dataclass(v):
        names = [f.name for f in dataclasses.fields(v)]
        if names == ["value"]:
            return normal(v.value)
        return tuple(normal(getattr(v, n)) for n in names) if names else None
    return v


def outcome(call):
    try:
        return normal(call())
    except Trap:
        return "trap"
    except ComponentError as exc:         # pywamr's Err of a result
        return normal(exc.value)
    except Exception as exc:             # wasmtime's trap
        if type(exc).__name__ in ("Trap", "WasmtimeError"):
            return "trap"
        raise


def _run_all(engine_kind: str, calls):
    engine = Engine(engine_kind)
    component = Component(engine, wat(variant_component_text()))
    out = []
    for name, *args in calls:
        handle = Linker(engine).instantiate(component)    # a trap poisons the instance
        out.append(outcome(lambda: handle.exports[f"call-{name}"](*args)))
    return out


def test_variants_options_results_records_match_interp_and_wasmtime():
    require_aot_engine()
    from pywamr.component.abi import native
    reference = _wasmtime_caller(wat(variant_component_text()))
    expected = [outcome(lambda: reference(f"call-{name}", *args)) for name, *args in CALLS]
    assert _run_all("interp", CALLS) == expected
    slow, results = native.stats.slow_calls, native.stats.result_calls
    assert _run_all("aot", CALLS) == expected
    # the calls that trap in the arguments' lift went to Python; no other call did
    assert native.stats.slow_calls - slow == expected.count("trap") == 8
    assert native.stats.result_calls == results


def test_variant_adapters_are_native_and_take_no_python():
    require_aot_engine()
    from pywamr.component.abi import native
    engine = Engine("aot")
    before = native.stats.attached
    handle = Linker(engine).instantiate(Component(engine, wat(variant_component_text())))
    assert native.stats.attached - before == 9      # every function of the component
    python_calls = _count_python_calls(handle)
    slow, results = native.stats.slow_calls, native.stats.result_calls
    x = handle.exports
    assert x["call-opt"](1, 7) == 7 and x["call-opt"](0, 7) is None
    assert normal(x["call-var"](2, 0x4004000000000000)) == 2.5
    assert normal(x["call-var"](3, 0x1F600)) == "\U0001F600"
    assert x["call-tup"](300, 1, 0x18000, 1.5) == (44, -32768, 1.5)
    assert normal(x["call-rec"](1, 1, 5)) == (1, True)
    assert x["call-one"](0x18001) == (-32767,)
    assert python_calls[0] == 0
    assert (native.stats.slow_calls, native.stats.result_calls) == (slow, results)


@pytest.mark.parametrize("name,args", [("badopt", (1, 1)), ("flip5", (0,))])
def test_result_fallback_traps_exactly(name, args):
    """A callee's result that fails a check (a misaligned return pointer, an out-of-range
    discriminant) is converted by Python, which raises the interp path's trap."""
    require_aot_engine()
    from pywamr.component.abi import native
    traps = []
    for kind in ("interp", "aot"):
        engine = Engine(kind)
        handle = Linker(engine).instantiate(Component(engine, wat(variant_component_text())))
        results = native.stats.result_calls
        with pytest.raises(Trap) as info:
            handle.exports[f"call-{name}"](*args)
        traps.append((info.value.code, str(info.value).split("\n")[0]))
        if kind == "aot":
            assert native.stats.result_calls - results == 1
    assert traps[0] == traps[1]
    assert outcome(lambda: _wasmtime_caller(wat(variant_component_text()))(
        f"call-{name}", *args)) == "trap"


def test_forced_python_path_agrees(monkeypatch):
    require_aot_engine()
    from pywamr.component.abi import native
    monkeypatch.setenv("PYWAMR_NATIVE_ADAPTERS", "0")
    before = native.stats.attached
    assert _run_all("aot", CALLS) == _run_all("interp", CALLS)
    assert native.stats.attached == before


def test_kinds_fused_and_fallbacks():
    """Which variant-like types fuse, and which keep the Python adapter."""
    from pywamr.component.abi.native import kind_of, result_kind
    from pywamr.component.types import (CaseType, FlagsType, ListType, OptionType,
                                        PrimValType, RecordType, FieldType, ResultType,
                                        TupleType, VariantType)
    u32, f64, s = PrimValType("u32"), PrimValType("f64"), PrimValType("string")
    assert kind_of(OptionType(u32), "utf8", "utf8") == "variant(,u32)"
    assert kind_of(ResultType(None, None), "utf8", "utf8") == "variant(,)"
    assert kind_of(VariantType((CaseType("a", f64), CaseType("b"))), "utf8", "utf8") == \
        "variant(f64,)"
    assert result_kind(TupleType((u32, OptionType(u32))), "utf8", "utf8") == \
        "record(u32;variant(,u32))"
    # payloads that are not one flat value, and nested records, fall back
    for t in (OptionType(s), ResultType(ListType(u32), None), OptionType(OptionType(u32)),
              OptionType(TupleType((u32, u32))),
              OptionType(FlagsType(tuple(f"f{i}" for i in range(33))))):
        assert kind_of(t, "utf8", "utf8") is None, t
    assert result_kind(RecordType((FieldType("a", TupleType((u32,))),)), "utf8", "utf8") \
        is None
    assert result_kind(TupleType((s,)), "utf8", "utf8") is None
    # handles keep the Python adapter (their tables live in Python), alone or inside
    from pywamr.component.types import BorrowType, OwnType, ResourceType
    r = ResourceType("r")
    for t in (OwnType(r), BorrowType(r), OptionType(OwnType(r)), ListType(BorrowType(r))):
        assert kind_of(t, "utf8", "utf8") is None, t
    assert result_kind(TupleType((u32, OwnType(r))), "utf8", "utf8") is None
