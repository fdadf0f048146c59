"""Component-to-component calls of scalars take a fused adapter (abi/lift.py `_fused_call`):
raw flat values out of a type's range, NaNs and invalid chars must come out exactly as the
general path and wasmtime make them."""
from __future__ import annotations

import math
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pywamr import Engine  # noqa: E402
from pywamr.component import Component, Linker  # noqa: E402
from pywamr.errors import Trap, TrapCode  # noqa: E402
from pywamr_testlib import ENGINES, require_wasmtime, wat  # noqa: E402

TYPES = {"u8": "i32", "s8": "i32", "u16": "i32", "s16": "i32", "bool": "i32", "char": "i32",
         "u32": "i32", "s64": "i64", "f32": "f32", "f64": "f64"}


def component_text() -> str:
    """Component A exports an identity function per type; sibling B imports them and exports
    `call-T` taking and returning the raw flat value, so a caller can pass what it likes."""
    callee = "\n".join(f'(func (export "{n}") (param {c}) (result {c}) local.get 0)'
                       for n, c in TYPES.items())
    lifts = "\n".join(f'(func (export "{n}") (param "v" {n}) (result {n}) '
                      f'(canon lift (core func $ce "{n}")))' for n in TYPES)
    imports = "\n".join(f'(import "{n}" (func ${n} (param "v" {n}) (result {n})))'
                        for n in TYPES)
    lowers = "\n".join(f"(core func $l{n} (canon lower (func ${n})))" for n in TYPES)
    core_imports = "\n".join(f'(import "" "{n}" (func ${n} (param {c}) (result {c})))'
                             for n, c in TYPES.items())
    calls = "\n".join(f'(func (export "{n}") (param {c}) (result {c}) local.get 0 call ${n})'
                      for n, c in TYPES.items())
    args = " ".join(f'(export "{n}" (func $l{n}))' for n in TYPES)
    raw = {"i32": "u32", "i64": "u64", "f32": "f32", "f64": "f64"}
    exports = "\n".join(f'(func (export "call-{n}") (param "v" {raw[c]}) (result {raw[c]}) '
                        f'(canon lift (core func $cr "{n}")))' for n, c in TYPES.items())
    withs = " ".join(f'(with "{n}" (func $a "{n}"))' for n in TYPES)
    reexports = "\n".join(f'(export "call-{n}" (func $b "call-{n}"))' for n in TYPES)
    return f"""(component
      (component $A
        (core module $callee {callee})
        (core instance $ce (instantiate $callee))
        {lifts})
      (component $B
        {imports}
        {lowers}
        (core module $caller {core_imports} {calls})
        (core instance $cr (instantiate $caller (with "" (instance {args}))))
        {exports})
      (instance $a (instantiate $A))
      (instance $b (instantiate $B {withs}))
      {reexports})"""


CASES = [("u8", [0, 255, 256, 0x1FF, 0xFFFFFFFF]), ("s8", [0, 0x7F, 0x80, 0xFF, 0xFFFFFF80]),
         ("u16", [0xFFFF, 0x10000, 0xFFFFFFFF]), ("s16", [0x8000, 0x7FFF, 0x18000]),
         ("bool", [0, 1, 2, 0xFFFFFFFF]), ("char", [0x41, 0x10FFFF, 0xD800, 0x110000]),
         ("u32", [0, 0xFFFFFFFF]), ("s64", [0, 2**64 - 1]),
         ("f32", [1.5, -0.0, float("inf"), float("nan")]), ("f64", [2.5, float("nan")])]


def outcome(call):
    try:
        v = call()
    except Trap:
        return "trap"
    except Exception as exc:       # wasmtime's trap
        if type(exc).__name__ in ("Trap", "WasmtimeError"):
            return "trap"
        raise
    return "nan" if isinstance(v, float) and math.isnan(v) else v


@pytest.mark.parametrize("engine_kind", ENGINES)
def test_fused_scalar_calls_match_wasmtime(engine_kind):
    wasmtime = require_wasmtime()
    from wasmtime import component as wc
    data = wat(component_text())
    wt_engine = wasmtime.Engine()
    engine = Engine(engine_kind)
    ours = Linker(engine).instantiate(Component(engine, data))
    for name, values in CASES:
        for v in values:
            store = wasmtime.Store(wt_engine)   # a trap poisons the instance: one per call
            inst = wc.Linker(wt_engine).instantiate(store, wc.Component(wt_engine, data))
            f = inst.get_func(store, inst.get_export_index(store, f"call-{name}"))

            def reference():
                out = f(store, v)
                f.post_return(store)
                return out
            mine = Linker(engine).instantiate(Component(engine, data)) if name == "char" \
                else ours
            assert outcome(lambda: mine.exports[f"call-{name}"](v)) == outcome(reference), \
                (name, v)


# ---- native adapters (aot): strings, lists, traps, reentrance, both paths ------------------------

def memory_component_text(encoding: str = "utf8") -> str:
    """Component A echoes a string and a list<u16> (with a bump `realloc` that can be told to
    return a bad pointer, and a `post-return` that counts), traps on `boom` and returns its raw
    argument as a `char` from `bad-char`. Sibling B has its own memory and `realloc` and calls
    each of them from core code; the outer component exports B's callers and A's helpers."""
    enc = f"string-encoding={encoding}"
    BUMP = globals()["BUMP"]
    opts_a = '(memory (core memory $ia "mem")) (realloc (core func $ia "realloc"))'
    return f"""(component
      (component $A
        (core module $m
          (memory (export "mem") 1)
          (global $bump (mut i32) (i32.const 1024))
          (global $posts (mut i32) (i32.const 0))
          (global $bad (mut i32) (i32.const 0))
          (func (export "realloc") (param i32 i32 i32 i32) (result i32) (local $p i32)
            global.get $bad
            if global.get $bad return end
            {BUMP})
          (func (export "echo") (param i32 i32) (result i32)
            i32.const 16 local.get 0 i32.store
            i32.const 20 local.get 1 i32.store
            i32.const 16)
          (func (export "post") (param i32)
            global.get $posts i32.const 1 i32.add global.set $posts)
          (func (export "posts") (result i32) global.get $posts)
          (func (export "set-bad") (param i32) local.get 0 global.set $bad)
          (func (export "boom") (param i32) (result i32) unreachable)
          (func (export "raw") (param i32) (result i32) local.get 0))
        (core instance $ia (instantiate $m))
        (func (export "echo-string") (param "s" string) (result string)
          (canon lift (core func $ia "echo") {enc} {opts_a} (post-return (core func $ia "post"))))
        (func (export "echo-list") (param "l" (list u16)) (result (list u16))
          (canon lift (core func $ia "echo") {opts_a} (post-return (core func $ia "post"))))
        (func (export "echo-floats") (param "l" (list f32)) (result (list f32))
          (canon lift (core func $ia "echo") {opts_a}))
        (func (export "echo-bools") (param "l" (list bool)) (result (list bool))
          (canon lift (core func $ia "echo") {opts_a}))
        (func (export "echo-chars") (param "l" (list char)) (result (list char))
          (canon lift (core func $ia "echo") {opts_a}))
        (func (export "posts") (result u32) (canon lift (core func $ia "posts")))
        (func (export "set-bad") (param "v" u32) (canon lift (core func $ia "set-bad")))
        (func (export "boom") (param "v" u32) (result u32) (canon lift (core func $ia "boom")))
        (func (export "bad-char") (param "v" u32) (result char)
          (canon lift (core func $ia "raw"))))
      (component $B
        (import "echo-string" (func $es (param "s" string) (result string)))
        (import "echo-list" (func $el (param "l" (list u16)) (result (list u16))))
        (import "echo-floats" (func $ef (param "l" (list f32)) (result (list f32))))
        (import "echo-bools" (func $eb (param "l" (list bool)) (result (list bool))))
        (import "echo-chars" (func $ec (param "l" (list char)) (result (list char))))
        (import "boom" (func $boom (param "v" u32) (result u32)))
        (import "bad-char" (func $bc (param "v" u32) (result char)))
        (core module $mem
          (memory (export "mem") 1)
          (global $bump (mut i32) (i32.const 4096))
          (func (export "realloc") (param i32 i32 i32 i32) (result i32) (local $p i32)
            {BUMP}))
        (core instance $im (instantiate $mem))
        (core func $les (canon lower (func $es) {enc} (memory (core memory $im "mem")) (realloc (core func $im "realloc"))))
        (core func $lel (canon lower (func $el) (memory (core memory $im "mem")) (realloc (core func $im "realloc"))))
        (core func $lef (canon lower (func $ef) (memory (core memory $im "mem"))
          (realloc (core func $im "realloc"))))
        (core func $leb (canon lower (func $eb) (memory (core memory $im "mem"))
          (realloc (core func $im "realloc"))))
        (core func $lec (canon lower (func $ec) (memory (core memory $im "mem"))
          (realloc (core func $im "realloc"))))
        (core func $lboom (canon lower (func $boom)))
        (core func $lbc (canon lower (func $bc)))
        (core module $caller
          (import "" "es" (func $es (param i32 i32 i32)))
          (import "" "el" (func $el (param i32 i32 i32)))
          (import "" "boom" (func $boom (param i32) (result i32)))
          (import "" "bc" (func $bc (param i32) (result i32)))
          (import "" "mem" (memory 1))
          (import "" "ef" (func $ef (param i32 i32 i32)))
          (import "" "eb" (func $eb (param i32 i32 i32)))
          (import "" "ec" (func $ec (param i32 i32 i32)))
          (func (export "ef") (param i32 i32) (result i32)
            local.get 0 local.get 1 i32.const 80 call $ef i32.const 80)
          (func (export "eb") (param i32 i32) (result i32)
            local.get 0 local.get 1 i32.const 88 call $eb i32.const 88)
          (func (export "ec") (param i32 i32) (result i32)
            local.get 0 local.get 1 i32.const 96 call $ec i32.const 96)
          (func (export "raw-bools") (param i32 i32) (result i32)
            local.get 0 local.get 1 i32.const 88 call $eb i32.const 88)
          (func (export "raw-floats") (param i32 i32) (result i32)
            local.get 0 local.get 1 i32.const 80 call $ef i32.const 80)
          (func (export "raw-chars") (param i32 i32) (result i32)
            local.get 0 local.get 1 i32.const 96 call $ec i32.const 96)
          (func (export "es") (param i32 i32) (result i32)
            local.get 0 local.get 1 i32.const 64 call $es i32.const 64)
          (func (export "el") (param i32 i32) (result i32)
            local.get 0 local.get 1 i32.const 72 call $el i32.const 72)
          (func (export "boom") (param i32) (result i32) local.get 0 call $boom)
          (func (export "bc") (param i32) (result i32) local.get 0 call $bc)
          (func (export "raw") (param i32 i32) (result i32)
            local.get 0 local.get 1 i32.const 64 call $es i32.const 68 i32.load))
        (core instance $ic (instantiate $caller (with "" (instance
          (export "es" (func $les)) (export "el" (func $lel))
          (export "boom" (func $lboom)) (export "bc" (func $lbc))
          (export "mem" (memory $im "mem")) (export "ef" (func $lef))
          (export "eb" (func $leb)) (export "ec" (func $lec))))))
        (func (export "call-echo-floats") (param "l" (list f32)) (result (list f32))
          (canon lift (core func $ic "ef") (memory (core memory $im "mem"))
            (realloc (core func $im "realloc"))))
        (func (export "call-echo-bools") (param "l" (list bool)) (result (list bool))
          (canon lift (core func $ic "eb") (memory (core memory $im "mem"))
            (realloc (core func $im "realloc"))))
        (func (export "call-echo-chars") (param "l" (list char)) (result (list char))
          (canon lift (core func $ic "ec") (memory (core memory $im "mem"))
            (realloc (core func $im "realloc"))))
        (func (export "bytes-as-bools") (param "l" (list u8)) (result (list u8))
          (canon lift (core func $ic "raw-bools") (memory (core memory $im "mem"))
            (realloc (core func $im "realloc"))))
        (func (export "words-as-floats") (param "l" (list u32)) (result (list u32))
          (canon lift (core func $ic "raw-floats") (memory (core memory $im "mem"))
            (realloc (core func $im "realloc"))))
        (func (export "words-as-chars") (param "l" (list u32)) (result (list u32))
          (canon lift (core func $ic "raw-chars") (memory (core memory $im "mem"))
            (realloc (core func $im "realloc"))))
        (func (export "call-echo-string") (param "s" string) (result string)
          (canon lift (core func $ic "es") {enc} (memory (core memory $im "mem")) (realloc (core func $im "realloc"))))
        (func (export "call-echo-list") (param "l" (list u16)) (result (list u16))
          (canon lift (core func $ic "el") (memory (core memory $im "mem")) (realloc (core func $im "realloc"))))
        (func (export "call-boom") (param "v" u32) (result u32)
          (canon lift (core func $ic "boom")))
        (func (export "echo-bytes-as-string") (param "b" (list u8)) (result u32)
          (canon lift (core func $ic "raw") (memory (core memory $im "mem"))
            (realloc (core func $im "realloc"))))
        (func (export "call-bad-char") (param "v" u32) (result char)
          (canon lift (core func $ic "bc"))))
      (instance $a (instantiate $A))
      (instance $b (instantiate $B (with "echo-string" (func $a "echo-string"))
        (with "echo-floats" (func $a "echo-floats")) (with "echo-bools" (func $a "echo-bools"))
        (with "echo-chars" (func $a "echo-chars"))
        (with "echo-list" (func $a "echo-list")) (with "boom" (func $a "boom"))
        (with "bad-char" (func $a "bad-char"))))
      (export "call-echo-string" (func $b "call-echo-string"))
      (export "call-echo-list" (func $b "call-echo-list"))
      (export "call-boom" (func $b "call-boom"))
      (export "bytes-as-bools" (func $b "bytes-as-bools"))
      (export "words-as-floats" (func $b "words-as-floats"))
      (export "words-as-chars" (func $b "words-as-chars"))
      (export "call-echo-chars" (func $b "call-echo-chars"))
      (export "echo-bytes-as-string" (func $b "echo-bytes-as-string"))
      (export "call-bad-char" (func $b "call-bad-char"))
      (export "posts" (func $a "posts"))
      (export "set-bad" (func $a "set-bad")))"""


# a bump allocator's `realloc`: shrinking keeps the block, growing copies it
BUMP = """local.get 0
            if local.get 3 local.get 1 i32.le_u if local.get 0 return end end
            global.get $bump local.get 2 i32.add i32.const 1 i32.sub
            i32.const 0 local.get 2 i32.sub i32.and local.tee $p
            local.get 3 i32.add global.set $bump
            local.get 0 if local.get $p local.get 0 local.get 1 memory.copy end
            local.get $p"""

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


def tuple_component_text() -> str:
    """A's `mix(t: tuple<u8, s16, char, bool>, f: f32) -> u32` adds its raw flat values;
    B's core passes raw values through, so every conversion of the flattened tuple shows."""
    return """(component
      (component $A
        (core module $m (func (export "mix") (param i32 i32 i32 i32 f32) (result i32)
          local.get 0 local.get 1 i32.add local.get 2 i32.add local.get 3 i32.add
          local.get 4 i32.trunc_sat_f32_s i32.add))
        (core instance $i (instantiate $m))
        (func (export "mix") (param "t" (tuple u8 s16 char bool)) (param "f" f32) (result u32)
          (canon lift (core func $i "mix"))))
      (component $B
        (import "mix" (func $mix (param "t" (tuple u8 s16 char bool)) (param "f" f32)
          (result u32)))
        (core func $l (canon lower (func $mix)))
        (core module $c (import "" "mix" (func $mix (param i32 i32 i32 i32 f32) (result i32)))
          (func (export "mix") (param i32 i32 i32 i32 f32) (result i32)
            local.get 0 local.get 1 local.get 2 local.get 3 local.get 4 call $mix))
        (core instance $ic (instantiate $c (with "" (instance (export "mix" (func $l))))))
        (func (export "call-mix") (param "a" u32) (param "b" u32) (param "c" u32)
          (param "d" u32) (param "f" f32) (result u32) (canon lift (core func $ic "mix"))))
      (instance $a (instantiate $A))
      (instance $b (instantiate $B (with "mix" (func $a "mix"))))
      (export "call-mix" (func $b "call-mix")))"""


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


ENUM_FLAGS = """(component
  (component $A
    (type $e (enum "a" "b" "c"))
    (export $e2 "e" (type $e))
    (type $f (flags "x" "y" "z"))
    (export $f2 "f" (type $f))
    (core module $m (func (export "id") (param i32) (result i32) local.get 0))
    (core instance $i (instantiate $m))
    (func (export "pick") (param "v" $e2) (result $e2) (canon lift (core func $i "id")))
    (func (export "mask") (param "v" $f2) (result $f2) (canon lift (core func $i "id"))))
  (instance $a (instantiate $A))
  (alias export $a "e" (type $te))
  (alias export $a "f" (type $tf))
  (component $B
    (import "e" (type $e (eq $te)))
    (import "f" (type $f (eq $tf)))
    (import "pick" (func $pick (param "v" $e) (result $e)))
    (import "mask" (func $mask (param "v" $f) (result $f)))
    (core func $lp (canon lower (func $pick)))
    (core func $lm (canon lower (func $mask)))
    (core module $c
      (import "" "pick" (func $pick (param i32) (result i32)))
      (import "" "mask" (func $mask (param i32) (result i32)))
      (func (export "pick") (param i32) (result i32) local.get 0 call $pick)
      (func (export "mask") (param i32) (result i32) local.get 0 call $mask))
    (core instance $ic (instantiate $c (with "" (instance (export "pick" (func $lp)) (export "mask" (func $lm))))))
    (func (export "call-pick") (param "v" u32) (result u32) (canon lift (core func $ic "pick")))
    (func (export "call-mask") (param "v" u32) (result u32) (canon lift (core func $ic "mask"))))
  (instance $b (instantiate $B (with "e" (type $te)) (with "f" (type $tf))
    (with "pick" (func $a "pick")) (with "mask" (func $a "mask"))))
  (export "call-pick" (func $b "call-pick"))
  (export "call-mask" (func $b "call-mask")))"""


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


def reentrance_text() -> str:
    """The root component's core code calls its child's lifted export: parent-to-child
    re-enters the parent, which traps as in the conformance test
    `component-model/async/trap-on-reenter.wast` (wasmtime's current rule; the wasmtime 50
    PyPI package still allows it, so it is not the reference here)."""
    return """(component
      (component $C
        (core module $m (func (export "f") (param i32) (result i32)
          local.get 0 i32.const 1 i32.add))
        (core instance $i (instantiate $m))
        (func (export "f") (param "v" u32) (result u32) (canon lift (core func $i "f"))))
      (instance $c (instantiate $C))
      (core func $lf (canon lower (func $c "f")))
      (core module $p (import "" "f" (func $f (param i32) (result i32)))
        (func (export "g") (param i32) (result i32) local.get 0 call $f))
      (core instance $ip (instantiate $p (with "" (instance (export "f" (func $lf))))))
      (func (export "g") (param "v" u32) (result u32) (canon lift (core func $ip "g")))
      (export "f" (func $c "f")))"""


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
