"""Native adapters for lists of compound elements (aot/adapter_lists.py): lists of strings
(same encoding and transcoded), of options, of tuples holding chars and results, of
payload-free results; typed lists against interp and wasmtime, raw element bytes (invalid
discriminants, chars, string pointers) trapping exactly as on interp, the `realloc` calls of
both sides compared with interp's, the native path proved by counters.
"""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from pywamr import Engine  # noqa: E402
from pywamr.component import Component, Linker  # noqa: E402
from pywamr.component.values import Err, Ok  # noqa: E402
from pywamr_testlib import wat  # noqa: E402
from adapter_components import list_component_text  # noqa: E402
from test_native_adapters import (_count_python_calls, _wasmtime_caller,  # noqa: E402
                                  require_aot_engine)
from test_native_variants import normal, outcome  # noqa: E402

STRINGS = [[], ["a", "h\u00e9llo", "", "\u2603" * 10, "x" * 100], ["\u00ff\u00e9"] * 20]
TYPED = [("call-opts", [None, 5, 0xFFFFFFFF]), ("call-opts", []),
         ("call-tups", [(1, "x", Ok(1.5)), (2, "\U0001F600", Err(-3))]),
         ("call-flips", [Ok(None), Err(None), Ok(None)])]
# raw element bytes B passes as the list (each with its expected outcome's kind)
RAW = [("raw-opts", bytes([1, 0, 0, 0, 7, 0, 0, 0, 0, 0, 0, 0, 9, 9, 9, 9])),
       ("raw-opts", bytes([1, 0, 0, 0, 7, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0])),
       ("raw-flips", bytes([0, 1, 1, 0])), ("raw-flips", bytes([0, 3])),
       ("raw-tups", bytes([1, 0, 0, 0, 0x41, 0, 0, 0, 1, 0, 0, 0, 0xFF, 0, 0, 0])),
       ("raw-tups", bytes([1, 0, 0, 0, 0, 0xD8, 0, 0, 1, 0, 0, 0, 0xFF, 0, 0, 0])),
       ("raw-tups", bytes([1, 0, 0, 0, 0x41, 0, 0, 0, 2, 0, 0, 0, 0xFF, 0, 0, 0])),
       ("raw-strings", bytes([0, 0, 0, 0, 1, 0, 0, 0])),
       ("raw-strings", bytes([0, 0, 0, 0, 1, 0, 0, 0, 0xF0, 0xFF, 0, 0, 0x20, 0, 0, 0]))]


def _norm(v):
    return [_norm(x) for x in v] if isinstance(v, list) else normal(v)


def _to_wasmtime(v):
    """A pywamr API value in the wasmtime API's form: results by payload when their
    payload types tell the cases apart, else as a tagged `Variant`."""
    from wasmtime.component import Variant
    if isinstance(v, list):
        return [_to_wasmtime(x) for x in v]
    if isinstance(v, tuple):
        return tuple(_to_wasmtime(x) for x in v)
    if isinstance(v, (Ok, Err)):
        if v.value is None:
            return Variant("ok" if isinstance(v, Ok) else "err", None)
        return v.value
    return v


def _instantiate(kind: str, data: bytes):
    engine = Engine(kind)
    return Linker(engine).instantiate(Component(engine, data))


@pytest.mark.parametrize("caller,callee", [("utf8", "utf8"), ("utf16", "utf16"),
                                           ("utf8", "utf16"), ("latin1+utf16", "utf8")])
def test_lists_of_strings_match_interp_and_wasmtime(caller, callee):
    require_aot_engine()
    from pywamr.component.abi import native
    data = wat(list_component_text(callee, caller))
    reference = _wasmtime_caller(data)
    interp = _instantiate("interp", data)
    aot = _instantiate("aot", data)
    python_calls = _count_python_calls(aot)
    slow, results = native.stats.slow_calls, native.stats.result_calls
    for v in STRINGS:
        assert reference("call-strings", v) == v
        assert interp.exports["call-strings"](v) == v
        assert aot.exports["call-strings"](v) == v
    assert python_calls[0] == 0
    # the snowmen are tagged UTF-16 in a latin1+utf16 caller: that list goes to Python
    assert native.stats.slow_calls - slow == (1 if caller == "latin1+utf16" else 0)
    assert native.stats.result_calls == results
    for log in ("rlog-a", "rlog-b"):
        assert aot.exports[log]() == interp.exports[log](), log


def test_typed_lists_match_interp_and_wasmtime():
    require_aot_engine()
    from pywamr.component.abi import native
    data = wat(list_component_text())
    reference = _wasmtime_caller(data)
    interp = _instantiate("interp", data)
    before = native.stats.attached
    aot = _instantiate("aot", data)
    assert native.stats.attached - before == 4      # every lowered function
    python_calls = _count_python_calls(aot)
    slow, results = native.stats.slow_calls, native.stats.result_calls
    for name, v in TYPED:
        expected = _norm(v)
        assert _norm(reference(name, _to_wasmtime(v))) == expected
        assert _norm(interp.exports[name](v)) == expected
        assert _norm(aot.exports[name](v)) == expected
    assert python_calls[0] == 0
    assert (native.stats.slow_calls, native.stats.result_calls) == (slow, results)
    for log in ("rlog-a", "rlog-b"):
        assert aot.exports[log]() == interp.exports[log](), log


@pytest.mark.parametrize("name,raw", RAW)
def test_raw_list_elements_trap_as_interp(name, raw):
    require_aot_engine()
    from pywamr.component.abi import native
    data = wat(list_component_text())
    expected = outcome(lambda: _wasmtime_caller(data)(name, raw))
    got, traps = [], []
    for kind in ("interp", "aot"):
        handle = _instantiate(kind, data)
        slow = native.stats.slow_calls
        try:
            got.append(handle.exports[name](list(raw)))
        except Exception as exc:              # noqa: BLE001 - compared below
            got.append("trap")
            traps.append((type(exc), getattr(exc, "code", None), str(exc).split("\n")[0]))
        if kind == "aot":
            assert native.stats.slow_calls - slow == (1 if got[-1] == "trap" else 0)
    assert got == [expected, expected]
    assert len(set(traps)) <= 1


def test_list_kinds_fused_and_fallbacks():
    from pywamr.component.abi.native import kind_of
    from pywamr.component.types import (EnumType, ListType, OptionType, PrimValType,
                                        TupleType)
    u8, s = PrimValType("u8"), PrimValType("string")
    assert kind_of(ListType(s), "utf8", "utf8") == "list:string"
    assert kind_of(ListType(s), "utf16", "utf8") == "list:transcode:utf16:utf8"
    assert kind_of(ListType(EnumType(("a", "b"))), "utf8", "utf8") == "list:enum:2"
    assert kind_of(ListType(OptionType(u8)), "utf8", "utf8") == "list:variant(,u8)"
    assert kind_of(ListType(TupleType((u8, OptionType(u8)))), "utf8", "utf8") == \
        "list:record(u8;variant(,u8))"
    # lists of lists, and records holding strings or lists, keep the Python adapter
    for elem in (ListType(u8), TupleType((u8, s)), TupleType((ListType(u8),)),
                 OptionType(s)):
        assert kind_of(ListType(elem), "utf8", "utf8") is None, elem
