"""Native component-to-component adapters on aot (abi/native.py, aot/adapter.py): strings in
each same-encoding pair, lists, tuples, enums and flags against interp and wasmtime; both paths
(native, proved by counters on the Python adapters staying still, and the forced Python
fallback); traps in the adapter and in the callee; reentrance; the caches and the bundle hook.
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
from pywamr_testlib import require_wasmtime, wat  # noqa: E402
from adapter_components import (ENUM_FLAGS, memory_component_text,  # noqa: E402
                                reentrance_text, tuple_component_text)
from test_fused_calls import CASES, component_text, outcome  # noqa: E402


STRINGS = ["", "hello", "x" * 1000, "héllo wörld ☃ 𝄞", "\x00\x7f"]
LISTS = [[], [1, 2, 65535], list(range(0, 65536, 97))]


def _instantiate(engine_kind: str, data: bytes):
    engine = Engine(engine_kind)
    return Linker(engine).instantiate(Component(engine, data))


def _wasmtime_caller(data: bytes):
    wasmtime = require_wasmtime()
    from wasmtime import component as wc
    wt_engine = wasmtime.Engine()

    def call(name, *args):
        store = wasmtime.Store(wt_engine)
        inst = wc.Linker(wt_engine).instantiate(store, wc.Component(wt_engine, data))
        f = inst.get_func(store, inst.get_export_index(store, name))
        out = f(store, *args)
        f.post_return(store)
        return out
    return call


def _count_python_calls(handle) -> list:
    """Wrap the Python adapter of every lowered function of `handle` with a counter: native
    callers that reach them through the host-call callback are counted, a native adapter is
    not (its own Python fallbacks keep the original callables and count in `native.stats`)."""
    from pywamr.runtime.objects import Function
    counter = [0]
    for value in handle.slots:
        if isinstance(value, Function) and value.host:
            original = value.call

            def counted(*args, _original=original):
                counter[0] += 1
                return _original(*args)
            value.call = counted
    return counter


def test_native_adapters_strings_and_lists_match_interp_and_wasmtime():
    require_aot_engine()
    from pywamr.component.abi import native
    data = wat(memory_component_text())
    reference = _wasmtime_caller(data)
    interp = _instantiate("interp", data)
    before = native.stats.attached
    aot = _instantiate("aot", data)
    # echo-string, echo-list, echo-floats, echo-bools, echo-chars, boom, bad-char
    assert native.stats.attached - before == 7
    python_calls = _count_python_calls(aot)
    slow = native.stats.slow_calls
    for s in STRINGS:
        expected = reference("call-echo-string", s)
        assert interp.exports["call-echo-string"](s) == expected
        assert aot.exports["call-echo-string"](s) == expected
    for v in LISTS:
        expected = reference("call-echo-list", v)
        assert interp.exports["call-echo-list"](v) == expected == v
        assert aot.exports["call-echo-list"](v) == expected
    assert aot.exports.posts() == interp.exports.posts() == len(STRINGS) + len(LISTS)
    assert python_calls[0] == 0
    assert native.stats.slow_calls == slow


UTF8_CASES = [b"", b"plain", "h\u00e9llo \u2603 \U0001d11e".encode(), b"\xf0\x9f\x98\x80",
              b"\xf4\x8f\xbf\xbf", b"\xc2\x80", b"\xc0\x80", b"\xc1\xbf", b"\xed\xa0\x80",
              b"\xe0\x9f\xbf", b"\xe2\x82", b"\xf4\x90\x80\x80", b"\x80", b"ok\xff",
              b"abcdefgh\xe2\x82\xac" * 3, b"abcdefgh" * 4 + b"\xe2\x82"]


RAW_LISTS = [("bytes-as-bools", [0, 1, 2, 255, 1, 0, 7]),
             ("words-as-floats", [0x3FC00000, 0x7FC00001, 0xFFFFFFFF, 0x7F800000, 0x80000000]),
             ("words-as-chars", [0x41, 0x10FFFF, 0xE000]),
             ("words-as-chars", [0x41, 0xD800]), ("words-as-chars", [0x110000])]


def _nan32(bits: int):
    return "nan" if bits & 0x7F800000 == 0x7F800000 and bits & 0x7FFFFF else bits


def aot_bits(handle, name, raw):
    return handle.exports[name](raw)


def test_native_lists_of_bools_floats_chars_match_interp_and_wasmtime():
    """Raw element bits a caller's core code passes come out as interp and wasmtime make
    them: bools 0/1, NaNs canonical, invalid chars trapping (the Python adapter raises)."""
    require_aot_engine()
    from pywamr.component.abi import native
    data = wat(memory_component_text())
    reference = _wasmtime_caller(data)
    for name, raw in RAW_LISTS:
        expected = outcome(lambda: reference(name, bytes(raw) if name == "bytes-as-bools"
                                             else raw))
        interp, aot = _instantiate("interp", data), _instantiate("aot", data)
        slow = native.stats.slow_calls
        got = [outcome(lambda: h.exports[name](raw)) for h in (interp, aot)]
        got = [list(g) if isinstance(g, bytes) else g for g in got]
        if isinstance(expected, bytes):
            expected = list(expected)
        assert got[0] == got[1], (name, raw)
        # NaN payloads are the implementation's choice (CanonicalABI.md, "Storing"):
        # pywamr canonicalises, wasmtime copies; compare NaN-ness against wasmtime
        if name == "words-as-floats":
            got = [[_nan32(w) for w in g] for g in got]
            expected = [_nan32(w) for w in expected]
            assert got[1] == [_nan32(w) for w in raw]
            assert [w for w in aot_bits(aot, name, raw) if _nan32(w) == "nan"] == \
                [0x7FC00000] * 2
        assert got == [expected, expected], (name, raw)
        assert native.stats.slow_calls - slow == (1 if expected == "trap" else 0)
    aot = _instantiate("aot", data)
    assert aot.exports["call-echo-chars"](["a", "\U0010ffff"]) == ["a", "\U0010ffff"]


def test_native_utf8_validation_matches_interp_and_wasmtime():
    """UTF-8 that a caller's core code passes is validated natively: well-formed text is
    copied without Python, ill-formed text traps exactly as on interp (the Python adapter
    raises it), and wasmtime agrees on which is which."""
    require_aot_engine()
    from pywamr.component.abi import native
    data = wat(memory_component_text())
    reference = _wasmtime_caller(data)
    for raw in UTF8_CASES:
        expected = outcome(lambda: reference("echo-bytes-as-string", raw))
        interp, aot = _instantiate("interp", data), _instantiate("aot", data)
        slow = native.stats.slow_calls
        got = [outcome(lambda: h.exports["echo-bytes-as-string"](list(raw)))
               for h in (interp, aot)]
        assert got == [expected, expected], raw
        assert native.stats.slow_calls - slow == (1 if expected == "trap" else 0), raw
        if expected == "trap":
            traps = [_trap_of(lambda: h.exports["echo-bytes-as-string"](list(raw)))
                     for h in (_instantiate("interp", data), _instantiate("aot", data))]
            assert traps[0].message == traps[1].message
            assert traps[0].message.startswith("invalid utf-8")


@pytest.mark.parametrize("encoding", ["utf16", "latin1+utf16"])
def test_native_adapters_other_encodings(encoding):
    """Strings between two sides of one encoding: plain ones copied natively; a string
    with surrogates (UTF-16) or tagged UTF-16 (latin1+utf16) goes to the Python adapter."""
    require_aot_engine()
    from pywamr.component.abi import native
    data = wat(memory_component_text(encoding))
    reference = _wasmtime_caller(data)
    interp = _instantiate("interp", data)
    aot = _instantiate("aot", data)
    python_calls = _count_python_calls(aot)
    slow = native.stats.slow_calls
    texts = ["", "hello", "héllo wörld", "x" * 300, "snow ☃ clef 𝄞"]
    for s in texts:
        expected = reference("call-echo-string", s)
        assert interp.exports["call-echo-string"](s) == expected == s
        assert aot.exports["call-echo-string"](s) == expected
    assert python_calls[0] == 0
    # only the last text is neither surrogate-free UTF-16 nor Latin-1
    assert native.stats.slow_calls - slow == 1


def test_native_adapter_flattened_tuple_parameters():
    require_aot_engine()
    from pywamr.component.abi import native
    data = wat(tuple_component_text())
    reference = _wasmtime_caller(data)
    before = native.stats.attached
    aot = _instantiate("aot", data)
    assert native.stats.attached - before == 1
    interp = _instantiate("interp", data)
    python_calls = _count_python_calls(aot)
    for args in [(1, 2, 3, 0, 1.5), (0x1FF, 0x18000, 0x41, 7, -2.0), (0xFFFFFFFF, 0xFFFF, 0, 0,
                                                                     float("nan"))]:
        expected = outcome(lambda: reference("call-mix", *args))
        assert outcome(lambda: interp.exports["call-mix"](*args)) == expected
        assert outcome(lambda: aot.exports["call-mix"](*args)) == expected
    assert python_calls[0] == 0
    slow = native.stats.slow_calls
    bad = [_trap_of(lambda: h.exports["call-mix"](1, 2, 0xD800, 0, 0.0)) for h in (
        _instantiate("interp", data), _instantiate("aot", data))]
    assert bad[0].message == bad[1].message == "invalid `char` bit pattern 0xd800"
    assert native.stats.slow_calls - slow == 1


def test_native_adapter_enums_and_flags():
    """An enum case is checked (out of range: the Python adapter raises the exact trap) and
    flags bits past the labels are dropped, natively, as interp and wasmtime do."""
    require_aot_engine()
    from pywamr.component.abi import native
    data = wat(ENUM_FLAGS)
    reference = _wasmtime_caller(data)
    before = native.stats.attached
    aot = _instantiate("aot", data)
    assert native.stats.attached - before == 2
    python_calls = _count_python_calls(aot)
    slow = native.stats.slow_calls
    for v in (0, 5, 7, 8, 0xFFFFFFFF):
        expected = reference("call-mask", v)
        assert _instantiate("interp", data).exports["call-mask"](v) == expected
        assert aot.exports["call-mask"](v) == expected
    for v in (0, 2):
        assert aot.exports["call-pick"](v) == reference("call-pick", v) == v
    assert python_calls[0] == 0 and native.stats.slow_calls == slow
    assert outcome(lambda: reference("call-pick", 3)) == "trap"
    traps = [_trap_of(lambda: _instantiate(k, data).exports["call-pick"](3))
             for k in ("interp", "aot")]
    assert (traps[0].code, traps[0].message) == (traps[1].code, traps[1].message)
    assert traps[1].code == TrapCode.INVALID_DISCRIMINANT
    assert native.stats.slow_calls - slow == 1


def test_forced_python_fallback_gives_the_same_results(monkeypatch):
    require_aot_engine()
    from pywamr.component.abi import native
    monkeypatch.setenv("PYWAMR_NATIVE_ADAPTERS", "0")
    data = wat(memory_component_text())
    before = native.stats.attached
    aot = _instantiate("aot", data)
    assert native.stats.attached == before
    python_calls = _count_python_calls(aot)
    for s in STRINGS:
        assert aot.exports["call-echo-string"](s) == s
    for v in LISTS:
        assert aot.exports["call-echo-list"](v) == v
    assert aot.exports.posts() == len(STRINGS) + len(LISTS)
    assert python_calls[0] == len(STRINGS) + len(LISTS)


def test_native_adapter_scalars_take_no_python():
    require_aot_engine()
    from pywamr.component.abi import native
    engine = Engine("aot")
    inst = Linker(engine).instantiate(Component(engine, wat(component_text())))
    python_calls = _count_python_calls(inst)
    slow, results = native.stats.slow_calls, native.stats.result_calls
    for name, values in CASES:
        if name == "char":
            values = [0x41, 0x10FFFF, 0xE000]
        for v in values:
            inst.exports[f"call-{name}"](v)
    assert python_calls[0] == 0
    assert (native.stats.slow_calls, native.stats.result_calls) == (slow, results)


def _trap_of(call) -> Trap:
    with pytest.raises(Trap) as info:
        call()
    return info.value


@pytest.mark.parametrize("case", ["string", "list-unaligned", "bad-char", "boom"])
def test_traps_in_adapter_and_callee_match_interp(case):
    """A trap the adapter raises (realloc out of bounds or misaligned, an invalid `char`
    result) or the callee raises reaches the host with the same code and message on both
    engines, wasmtime traps too, and the callee stays poisoned."""
    require_aot_engine()
    data = wat(memory_component_text())
    reference = _wasmtime_caller(data)

    def run(handle):
        if case == "string":
            handle.exports["set-bad"](0xFFFF0000)
            return lambda: handle.exports["call-echo-string"]("hi")
        if case == "list-unaligned":
            handle.exports["set-bad"](3)
            return lambda: handle.exports["call-echo-list"]([1, 2])
        if case == "bad-char":
            return lambda: handle.exports["call-bad-char"](0xD800)
        return lambda: handle.exports["call-boom"](1)

    from pywamr.component.abi import native
    interp, aot = _instantiate("interp", data), _instantiate("aot", data)
    trap_interp = _trap_of(run(interp))
    call = run(aot)
    slow, results = native.stats.slow_calls, native.stats.result_calls
    traps = [trap_interp, _trap_of(call)]
    # the native adapter found it: no whole call handed to Python; only an invalid `char`
    # result goes to the Python result conversion, which raises
    assert native.stats.slow_calls == slow
    assert native.stats.result_calls - results == (1 if case == "bad-char" else 0)
    assert (traps[0].code, traps[0].message) == (traps[1].code, traps[1].message)
    expected = {"string": "string content out-of-bounds (realloc return: beyond end of memory)",
                "list-unaligned": "unaligned pointer (realloc return: result not aligned)",
                "bad-char": "invalid `char` bit pattern 0xd800",
                "boom": traps[0].code.value}[case]
    assert traps[1].message == expected
    if case == "boom":          # the callee's trap, with the same backtrace through the adapter
        assert str(traps[0]) == str(traps[1]) and traps[1].frames

    def wasmtime_run():
        if case in ("string", "list-unaligned"):
            return _wasmtime_bad(data, case)
        if case == "bad-char":
            return reference("call-bad-char", 0xD800)
        return reference("call-boom", 1)
    assert outcome(wasmtime_run) == "trap"
    # the trap left the instances entered: a later call is refused alike on both engines
    later = []
    for kind in ("interp", "aot"):
        handle = _instantiate(kind, data)
        _trap_of(run(handle))
        later.append(_trap_of(lambda: handle.exports["call-bad-char"](65)))
    assert later[0].code == later[1].code == TrapCode.CANNOT_ENTER_COMPONENT
    assert later[0].message == later[1].message


def _wasmtime_bad(data: bytes, case: str):
    wasmtime = require_wasmtime()
    from wasmtime import component as wc
    wt_engine = wasmtime.Engine()
    store = wasmtime.Store(wt_engine)
    inst = wc.Linker(wt_engine).instantiate(store, wc.Component(wt_engine, data))
    set_bad = inst.get_func(store, inst.get_export_index(store, "set-bad"))
    set_bad(store, 0xFFFF0000 if case == "string" else 3)
    set_bad.post_return(store)
    name, arg = ("call-echo-string", "hi") if case == "string" else ("call-echo-list", [1, 2])
    f = inst.get_func(store, inst.get_export_index(store, name))
    out = f(store, arg)
    f.post_return(store)
    return out


def require_aot_engine():
    from pywamr_testlib import require_aot
    require_aot()


def test_reentrance_refused_by_native_adapter():
    require_aot_engine()
    from pywamr.component.abi import native
    data = wat(reentrance_text())
    assert _wasmtime_caller(data)("f", 1) == 2
    interp = _instantiate("interp", data)
    before = native.stats.attached
    aot = _instantiate("aot", data)
    assert native.stats.attached - before == 1
    assert aot.exports.f(1) == interp.exports.f(1) == 2
    slow = native.stats.slow_calls
    traps = [_trap_of(lambda: h.exports.g(1)) for h in (interp, aot)]
    assert traps[0].code == traps[1].code == TrapCode.CANNOT_ENTER_COMPONENT
    assert traps[0].message == traps[1].message
    # the native adapter saw the parent's cleared flag and handed the call to the Python
    # adapter, which raised the trap
    assert native.stats.slow_calls - slow == 1


def test_adapter_disk_cache_and_bundle_hook(tmp_path, monkeypatch):
    """An adapter compiled once is found on disk by a fresh process cache (no LLVM work);
    the bundle hook lists a plan's adapters and round-trips their artifacts; a tampered
    artifact is refused."""
    require_aot_engine()
    from pywamr.aot import ArtifactError, adapter
    from pywamr.component.abi import native
    monkeypatch.setenv("PYWAMR_CACHE_DIR", str(tmp_path))
    monkeypatch.delenv("PYWAMR_NO_CACHE", raising=False)
    engine = Engine("aot")
    component = Component(engine, wat(memory_component_text()))
    descriptions = native.adapter_descriptions(component.plan)
    assert len(descriptions) == 7
    assert all(adapter.AdapterSpec.from_description(d).entering == 1 for d in descriptions)
    monkeypatch.setattr(adapter, "_loaded", {})
    compiled = adapter.stats.compiled
    artifacts = {d: native.adapter_artifact(d) for d in descriptions}
    assert adapter.stats.compiled - compiled == len(descriptions)
    monkeypatch.setattr(adapter, "_loaded", {})
    compiled, from_disk = adapter.stats.compiled, adapter.stats.from_disk
    handle = Linker(engine).instantiate(component)
    assert handle.exports["call-echo-string"]("cached") == "cached"
    assert adapter.stats.compiled == compiled
    assert adapter.stats.from_disk - from_disk == len(descriptions)
    monkeypatch.setattr(adapter, "_loaded", {})
    for d, data in artifacts.items():
        native.install_adapter(d, data)
    tampered = bytearray(artifacts[descriptions[0]])
    tampered[-1] ^= 1
    monkeypatch.setattr(adapter, "_loaded", {})
    with pytest.raises(ArtifactError):
        native.install_adapter(descriptions[0], bytes(tampered))
    with pytest.raises(ArtifactError):
        native.install_adapter(descriptions[1], artifacts[descriptions[0]])
    # adapters follow the engine's cache: its directory, or none at all
    other = tmp_path / "other"
    for cache_kwargs, expected_from_disk in (({"cache_dir": other}, 0),
                                             ({"cache_dir": other}, len(descriptions)),
                                             ({"cache": False}, 0)):
        monkeypatch.setattr(adapter, "_loaded", {})
        from_disk = adapter.stats.from_disk
        engine = Engine("aot", **cache_kwargs)
        handle = Linker(engine).instantiate(Component(engine, wat(memory_component_text())))
        assert handle.exports["call-echo-string"]("x") == "x"
        assert adapter.stats.from_disk - from_disk == expected_from_disk
