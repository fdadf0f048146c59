"""Handles through native adapters (abi/native.py `_HandleTransfer`, aot/adapter_ir.py
`move_handles`): own and borrow parameters and own results between three sibling components
(handle_components.py), on both aot paths (native, proved by the Python adapters' counters
staying still; the bridge, forced by PYWAMR_NATIVE_ADAPTERS=0) against interp and wasmtime:
the same results, the same handle indices, the same destructor calls, the same traps on a bad
handle, a consumed handle and a kept borrow, and re-entrance refused alike.
"""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from pywamr import Engine  # noqa: E402
from pywamr.component import Component, Linker  # noqa: E402
from pywamr.errors import Trap, TrapCode  # noqa: E402
from pywamr_testlib import needs_aot, require_wasmtime, wat  # noqa: E402
from handle_components import handle_component_text, handle_reentrance_text  # noqa: E402

pytestmark = needs_aot

# the lowered functions of B (make, get, pair, consume, inspect, relay, via) and of C (get)
LOWERED = 8
# (export, argument) -> what every engine and wasmtime give (a trap's code, or a value)
CALLS = [("scenario", 10), ("scenario", 0xFFFFFFFF), ("borrow-loop", 100), ("own-loop", 50)]
TRAPS = [("bad-get", 9, TrapCode.UNKNOWN_HANDLE, "unknown handle index 9"),
         ("bad-get", 0, TrapCode.UNKNOWN_HANDLE, "unknown handle index 0"),
         ("bad-consume", 0, TrapCode.UNKNOWN_HANDLE, "unknown handle index 0"),
         ("consume-twice", 4, TrapCode.UNKNOWN_HANDLE, "unknown handle index 1"),
         ("keep-borrow", 3, TrapCode.BORROWS_NOT_DROPPED,
          "borrow handles still remain at the end of the call")]


@pytest.fixture(scope="module")
def data() -> bytes:
    return wat(handle_component_text())


def _instantiate(kind: str, data: bytes):
    engine = Engine(kind)
    return Linker(engine).instantiate(Component(engine, data))


def _wasmtime(data: bytes, name: str, arg: int):
    """(result, drops) of one call in a fresh instance, or ("trap", the error's last line)."""
    wasmtime = require_wasmtime()
    from wasmtime import component as wc
    engine = wasmtime.Engine()
    store = wasmtime.Store(engine)
    inst = wc.Linker(engine).instantiate(store, wc.Component(engine, data))

    def call(export, *args):
        f = inst.get_func(store, inst.get_export_index(store, export))
        out = f(store, *args)
        f.post_return(store)
        return out
    try:
        result = call(name, arg)
    except (wasmtime.Trap, wasmtime.WasmtimeError) as exc:
        return "trap", str(exc).strip().splitlines()[-1].strip()
    return result, call("drops")


def _count_python_calls(handle) -> list:
    """Count the calls that reach the Python adapters of the lowered functions (the canon
    built-ins, resource.new/rep/drop, are host functions too, and are left alone)."""
    from pywamr.runtime.objects import Function
    counter = [0]
    for value in handle.slots:
        if isinstance(value, Function) and value.host and "/lower" in value.name:
            original = value.call

            def counted(*args, _original=original):
                counter[0] += 1
                return _original(*args)
            value.call = counted
    return counter


def _outcomes(handle_of) -> list:
    """Each call of CALLS in a fresh instance: (result, destructor calls, last rep dropped)."""
    out = []
    for name, arg in CALLS:
        h = handle_of()
        out.append((h.exports[name](arg), h.exports.drops(), h.exports["last"]()))
    return out


def test_native_handles_match_interp_and_wasmtime(data):
    from pywamr.component.abi import native
    expected = _outcomes(lambda: _instantiate("interp", data))
    assert [(r, d) for r, d, _ in expected] == [_wasmtime(data, n, a) for n, a in CALLS]
    attached, slow = native.stats.attached, native.stats.slow_calls
    handles = []

    def native_handle():
        handles.append(_instantiate("aot", data))
        handles[-1].python_calls = _count_python_calls(handles[-1])
        return handles[-1]
    assert _outcomes(native_handle) == expected
    # every handle-moving call site got a native adapter, and none reached a Python adapter
    assert native.stats.attached - attached == LOWERED * len(CALLS)
    assert [h.python_calls[0] for h in handles] == [0] * len(CALLS)
    assert native.stats.slow_calls == slow


def test_bridge_fallback_gives_the_same_results(data, monkeypatch):
    from pywamr.component.abi import native
    expected = _outcomes(lambda: _instantiate("interp", data))
    monkeypatch.setenv("PYWAMR_NATIVE_ADAPTERS", "0")
    attached = native.stats.attached
    handles = []

    def bridge_handle():
        handles.append(_instantiate("aot", data))
        handles[-1].python_calls = _count_python_calls(handles[-1])
        return handles[-1]
    assert _outcomes(bridge_handle) == expected
    assert native.stats.attached == attached
    assert all(h.python_calls[0] > 0 for h in handles)


@pytest.mark.parametrize("name,arg,code,message", TRAPS, ids=[f"{t[0]}-{t[1]}" for t in TRAPS])
@pytest.mark.parametrize("path", ["native", "bridge"])
def test_handle_traps_match_interp_and_wasmtime(data, name, arg, code, message, path,
                                                monkeypatch):
    """A bad index, an own handle already consumed, a borrow the callee kept: the same trap
    on interp and on aot by either path, and wasmtime traps too, with the same words."""
    from pywamr.component.abi import native
    assert _wasmtime(data, name, arg) == ("trap", message)
    traps = []
    for kind in ("interp", "aot"):
        if kind == "aot" and path == "bridge":
            monkeypatch.setenv("PYWAMR_NATIVE_ADAPTERS", "0")
        h = _instantiate(kind, data)
        slow = native.stats.slow_calls
        with pytest.raises(Trap) as info:
            h.exports[name](arg)
        traps.append(info.value)
        if kind == "aot":
            # the native adapter raised it from its handle step, not through the bridge
            assert native.stats.slow_calls == slow
    assert [(t.code, t.message) for t in traps] == [(code, message)] * 2


@pytest.mark.parametrize("path", ["native", "bridge"])
def test_handle_reentrance_refused_alike(path, monkeypatch):
    """The parent's core code calls its child's `make` (own result): re-entering the parent
    traps; `get` with a bad borrow index traps on the handle first, as the Python path
    lifts the arguments before it enters."""
    from pywamr.component.abi import native
    data = wat(handle_reentrance_text())
    if path == "bridge":
        monkeypatch.setenv("PYWAMR_NATIVE_ADAPTERS", "0")
    results = []
    for kind in ("interp", "aot"):
        for name in ("g", "h"):        # a fresh instance each: a trap leaves it poisoned
            attached = native.stats.attached
            h = _instantiate(kind, data)
            if kind == "aot":
                assert native.stats.attached - attached == (2 if path == "native" else 0)
            with pytest.raises(Trap) as info:
                h.exports[name](5)
            results.append((name, info.value.code, info.value.message))
    assert results[:2] == results[2:]
    assert results[0][1] == TrapCode.CANNOT_ENTER_COMPONENT
    assert results[1][1] == TrapCode.UNKNOWN_HANDLE


def test_handle_adapters_go_into_bundles(data, tmp_path):
    """compile-component's bundle carries the handle adapters, and a component loaded from
    it runs the calls natively with the same results."""
    from pywamr.aot import adapter
    from pywamr.component import write_bundle
    from pywamr.component.abi import native
    engine = Engine("aot")
    manifest = write_bundle(engine, data, tmp_path / "bundle")
    kinds = [adapter.AdapterSpec.from_description(a["id"]) for a in manifest["adapters"]]
    assert any(spec.result == "own" for spec in kinds)
    assert any("borrow" in spec.params for spec in kinds)
    expected = _outcomes(lambda: _instantiate("interp", data))
    slow = native.stats.slow_calls
    bundled = _outcomes(lambda: Linker(engine).instantiate(
        Component(engine, data, precompiled=tmp_path / "bundle")))
    assert bundled == expected and native.stats.slow_calls == slow
