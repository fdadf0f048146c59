"""Canonical ABI values: layout facts, store/load and lower_flat/lift_flat round trips over a
real guest memory with a bump realloc, string transcoding, and the values that must trap."""
from __future__ import annotations

import math
import struct

import pytest

from pywamr.component.abi import (alignment, elem_size, flatten_type, layout, lift_flat, load,
                                  lower_flat, store)
from pywamr.component.abi.flat import values_lifter, values_lowerer
from pywamr.component.types import (BOOL, CHAR, F32, F64, S8, S16, S32, S64, STRING, U8, U16,
                                    U32, U64, CaseType, EnumType, FieldType, FlagsType,
                                    ListType, OptionType, RecordType, ResultType, TupleType,
                                    VariantType)
from pywamr.errors import Trap, TrapCode

from component.abi_testlib import Guest


@pytest.fixture(scope="module")
def guest():
    return Guest()


POINT = RecordType((FieldType("x", S32), FieldType("y", F64), FieldType("tag", U8)))
JOINED = VariantType((CaseType("a", F32), CaseType("b", U64), CaseType("c", S8),
                      CaseType("d", F64), CaseType("e", None),
                      CaseType("f", TupleType((F32, F32)))))
ENUM = EnumType(("red", "green", "blue"))


def flags(n):
    return FlagsType(tuple(f"f{i}" for i in range(n)))


# ---- layout ---------------------------------------------------------------------------------

@pytest.mark.parametrize("t, align, size, flat", [
    (BOOL, 1, 1, ("i32",)), (S8, 1, 1, ("i32",)), (U16, 2, 2, ("i32",)),
    (U32, 4, 4, ("i32",)), (S64, 8, 8, ("i64",)), (F32, 4, 4, ("f32",)), (F64, 8, 8, ("f64",)),
    (CHAR, 4, 4, ("i32",)), (STRING, 4, 8, ("i32", "i32")), (ListType(U8), 4, 8, ("i32", "i32")),
    (ListType(U16, 3), 2, 6, ("i32",) * 3), (POINT, 8, 24, ("i32", "f64", "i32")),
    (TupleType((U8, U16, U8)), 2, 6, ("i32",) * 3),
    (OptionType(U8), 1, 2, ("i32", "i32")), (OptionType(F64), 8, 16, ("i32", "f64")),
    (ResultType(None, None), 1, 1, ("i32",)), (ResultType(F32, U32), 4, 8, ("i32", "i32")),
    (JOINED, 8, 16, ("i32", "i64", "f32")), (ENUM, 1, 1, ("i32",)),
    (EnumType(tuple(f"e{i}" for i in range(256))), 1, 1, ("i32",)),
    (EnumType(tuple(f"e{i}" for i in range(257))), 2, 2, ("i32",)),
    (flags(0), 1, 0, ()), (flags(1), 1, 1, ("i32",)), (flags(9), 2, 2, ("i32",)),
    (flags(17), 4, 4, ("i32",)), (flags(32), 4, 4, ("i32",)), (flags(33), 4, 8, ("i32",) * 2),
    (flags(65), 4, 12, ("i32",) * 3),
])
def test_layout(t, align, size, flat):
    assert alignment(t) == align
    assert elem_size(t) == size
    assert flatten_type(t) == flat
    assert layout(t) is layout(t)         # computed once


# ---- round trips ----------------------------------------------------------------------------

ROUND_TRIPS = [
    (BOOL, True), (BOOL, False), (U8, 255), (S8, -128), (U16, 65535), (S16, -32768),
    (U32, 0xFFFFFFFF), (S32, -0x80000000), (U64, 2**64 - 1), (S64, -2**63), (S64, 12345),
    (F32, 1.5), (F32, -0.0), (F32, float("inf")), (F64, math.pi), (F64, -1e300),
    (CHAR, "a"), (CHAR, "\u20ac"), (CHAR, "\U0001F600"),
    (STRING, ""), (STRING, "hello"), (STRING, "h\xe9llo \u20ac \U0001F600"),
    (ListType(U8), [0, 1, 255]), (ListType(S16), [-1, 2, -3]), (ListType(F32), [0.5, -2.0]),
    (ListType(F64), []), (ListType(BOOL), [True, False, True]), (ListType(U64), [2**63, 1]),
    (ListType(STRING), ["a", "\U0001F600", ""]), (ListType(U32, 3), [1, 2, 3]),
    (ListType(STRING, 2), ["x", "yz"]),
    (POINT, {"x": -5, "y": 2.25, "tag": 7}),
    (ListType(POINT), [{"x": i, "y": i / 2, "tag": i} for i in range(5)]),
    (ListType(ListType(POINT)), [[], [{"x": 1, "y": 0.0, "tag": 2}],
                                 [{"x": 3, "y": 1.0, "tag": 4}] * 3]),
    (TupleType((U8, STRING, F64)), (1, "two", 3.0)),
    (OptionType(U8), ("none", None)), (OptionType(U8), ("some", 9)),
    (OptionType(OptionType(STRING)), ("some", ("none", None))),
    (OptionType(OptionType(STRING)), ("some", ("some", "deep"))),
    (ResultType(STRING, U32), ("ok", "fine")), (ResultType(STRING, U32), ("error", 404)),
    (ResultType(None, None), ("ok", None)), (ResultType(None, STRING), ("error", "bad")),
    (JOINED, ("a", 1.25)), (JOINED, ("b", 2**64 - 2)), (JOINED, ("c", -7)),
    (JOINED, ("d", -2.5e-300)), (JOINED, ("e", None)), (JOINED, ("f", (1.5, -3.0))),
    (ENUM, "blue"), (ENUM, "red"),
    (flags(0), frozenset()), (flags(1), frozenset({"f0"})), (flags(8), frozenset({"f7"})),
    (flags(16), frozenset({"f0", "f15"})), (flags(32), frozenset({"f31", "f3"})),
    (flags(33), frozenset({"f32", "f0"})), (flags(70), frozenset({"f69", "f40", "f1"})),
    (flags(70), frozenset()),
    (RecordType((FieldType("fl", flags(40)), FieldType("v", JOINED),
                 FieldType("l", ListType(OptionType(CHAR))))),
     {"fl": frozenset({"f39"}), "v": ("d", 1.0), "l": [("some", "\u00ff"), ("none", None)]}),
]


@pytest.mark.parametrize("encoding", ["utf8", "utf16", "latin1+utf16"])
@pytest.mark.parametrize("t, value", ROUND_TRIPS)
def test_store_load_round_trip(guest, encoding, t, value):
    cx = guest.cx(encoding)
    ptr = cx.allocate(alignment(t), elem_size(t))
    store(cx, value, t, ptr)
    got = load(cx, ptr, t)
    assert got == value and type(got) is type(value)


@pytest.mark.parametrize("encoding", ["utf8", "utf16", "latin1+utf16"])
@pytest.mark.parametrize("t, value", ROUND_TRIPS)
def test_flat_round_trip(guest, encoding, t, value):
    cx = guest.cx(encoding)
    flat = lower_flat(cx, value, t)
    assert len(flat) == len(flatten_type(t))
    for v, kind in zip(flat, flatten_type(t)):      # the internal representation
        if kind in ("i32", "i64"):
            assert type(v) is int and 0 <= v < (1 << (32 if kind == "i32" else 64))
        else:
            assert type(v) is float
    got = lift_flat(cx, flat, t)
    assert got == value and type(got) is type(value)


def test_memory_bytes_of_a_record(guest):
    cx = guest.cx()
    t = RecordType((FieldType("a", U8), FieldType("b", U32), FieldType("c", U16)))
    ptr = cx.allocate(4, 12)
    store(cx, {"a": 1, "b": 0x04030201, "c": 0x0605}, t, ptr)
    assert guest.bytes(ptr, 12) == bytes([1, 0, 0, 0, 1, 2, 3, 4, 5, 6, 0, 0])


def test_flags_bit_layout(guest):
    cx = guest.cx()
    t = flags(40)
    ptr = cx.allocate(4, 8)
    store(cx, {"f0", "f31", "f32", "f39"}, t, ptr)
    assert struct.unpack("<II", guest.bytes(ptr, 8)) == (0x80000001, 0x81)
    assert lower_flat(cx, {"f0", "f31", "f32", "f39"}, t) == [0x80000001, 0x81]
    assert lift_flat(cx, [0xFFFFFFFF, 0xFFFFFFFF], flags(33)) == frozenset(
        f"f{i}" for i in range(33))                 # bits past the labels are ignored


def test_joined_variant_flat_values(guest):
    cx = guest.cx()
    # joined payload: [i64 (f32|u64|s8|f64|f32), f32 (second f32 of the tuple)]
    assert lower_flat(cx, ("a", 1.0), JOINED) == [0, 0x3F800000, 0.0]
    assert lower_flat(cx, ("c", -1), JOINED) == [2, 0xFFFFFFFF, 0.0]
    assert lower_flat(cx, ("d", 1.0), JOINED) == [3, 0x3FF0000000000000, 0.0]
    assert lower_flat(cx, ("e", None), JOINED) == [4, 0, 0.0]
    assert lower_flat(cx, ("f", (2.0, 0.5)), JOINED) == [5, 0x40000000, 0.5]
    # an i64 slot carrying an s8 wraps to 32 bits, then to 8
    assert lift_flat(cx, [2, 0xFFFFFFFF000000FF, 0.0], JOINED) == ("c", -1)
    assert lift_flat(cx, [0, 0x123456783F800000, 0.0], JOINED) == ("a", 1.0)
    t = VariantType((CaseType("i", U32), CaseType("f", F32)))
    assert flatten_type(t) == ("i32", "i32")
    assert lower_flat(cx, ("f", -2.0), t) == [1, 0xC0000000]
    assert math.isnan(lift_flat(cx, [1, 0x7FC00001], t)[1])     # f32 NaN bits in an i32


def test_nan_canonicalised(guest):
    cx = guest.cx()
    for t, bits in ((F32, "<I"), (F64, "<Q")):
        got = lift_flat(cx, [float("nan")], t)
        assert math.isnan(got)
        ptr = cx.allocate(8, 8)
        store(cx, -float("nan"), t, ptr)
        raw = struct.unpack(bits, guest.bytes(ptr, struct.calcsize(bits)))[0]
        assert raw == (0x7FC00000 if t is F32 else 0x7FF8000000000000)
        assert math.isnan(load(cx, ptr, t))


def test_f32_rounded_when_lowered(guest):
    cx = guest.cx()
    assert lower_flat(cx, 0.1, F32) == [struct.unpack("<f", struct.pack("<f", 0.1))[0]]
    assert lower_flat(cx, 1e300, F32) == [float("inf")]


def test_bool_lifts_any_nonzero_as_true(guest):
    cx = guest.cx()
    assert lift_flat(cx, [2], BOOL) is True
    assert lift_flat(cx, [0xFFFFFFFF], BOOL) is True
    guest.write(100, b"\x07")
    assert load(cx, 100, BOOL) is True


def test_narrow_ints_ignore_high_bits(guest):
    cx = guest.cx()
    assert lift_flat(cx, [0x1FF], U8) == 0xFF
    assert lift_flat(cx, [0x1FF], S8) == -1
    assert lift_flat(cx, [0x18000], S16) == -32768
    assert lift_flat(cx, [0xFFFFFFFF], S32) == -1
    assert lift_flat(cx, [2**64 - 1], S64) == -1


# ---- strings --------------------------------------------------------------------------------

SAMPLES = ["", "ascii", "caf\xe9 \xff", "\u20ac\u4e2d", "\U0001F600x\U00010348"]


@pytest.mark.parametrize("src", ["utf8", "utf16", "latin1+utf16"])
@pytest.mark.parametrize("dst", ["utf8", "utf16", "latin1+utf16"])
@pytest.mark.parametrize("text", SAMPLES)
def test_transcoding_between_memories(src, dst, text):
    a, b = Guest(), Guest()
    ptr, tagged = lower_flat(a.cx(src), text, STRING)
    lifted = lift_flat(a.cx(src), [ptr, tagged], STRING)
    assert lifted == text
    ptr2, tagged2 = lower_flat(b.cx(dst), lifted, STRING)
    assert lift_flat(b.cx(dst), [ptr2, tagged2], STRING) == text
    # the exact encoding in the destination memory
    if dst == "utf8":
        expected, length = text.encode("utf-8"), len(text.encode("utf-8"))
    elif dst == "utf16" or any(ord(c) > 255 for c in text):
        expected = text.encode("utf-16-le")
        length = len(expected) // 2 | (1 << 31 if dst == "latin1+utf16" else 0)
    else:
        expected, length = text.encode("latin-1"), len(text)
    assert tagged2 == length
    assert b.bytes(ptr2, len(expected)) == expected
    if dst != "utf8":
        assert ptr2 % 2 == 0


def test_utf16_lengths_count_code_units(guest):
    ptr, n = lower_flat(guest.cx("utf16"), "\U0001F600", STRING)
    assert n == 2
    ptr, n = lower_flat(guest.cx("latin1+utf16"), "\U0001F600a", STRING)
    assert n == (3 | 1 << 31)
    ptr, n = lower_flat(guest.cx("latin1+utf16"), "\xe9\xe9", STRING)
    assert n == 2 and guest.bytes(ptr, 2) == b"\xe9\xe9"


class LoggingRealloc:
    """A Python realloc over a guest memory: bump allocation that copies, logging each call."""

    def __init__(self, guest):
        from pywamr.binary.types import FuncType as CoreFuncType, I32
        from pywamr.runtime.objects import Function
        self.guest, self.calls, self.bump = guest, [], 40000
        self.function = Function(CoreFuncType((I32,) * 4, (I32,)), self.realloc)

    def realloc(self, old, old_size, align, size):
        ptr = -(-self.bump // align) * align
        self.bump = ptr + size
        data = self.guest.memory.data
        data[ptr:ptr + min(old_size, size)] = data[old:old + min(old_size, size)]
        self.calls.append((old != 0, old_size, align, size))
        return ptr


@pytest.mark.parametrize("src, dst, text, calls", [
    ("utf8", "utf8", "abc", [(False, 0, 1, 3)]),
    ("utf8", "utf16", "\xe9", [(False, 0, 2, 4), (True, 4, 2, 2)]),
    ("utf8", "latin1+utf16", "abc", [(False, 0, 2, 3)]),
    ("utf8", "latin1+utf16", "\xe9", [(False, 0, 2, 2), (True, 2, 2, 1)]),
    ("utf8", "latin1+utf16", "a\u20ac",
     [(False, 0, 2, 4), (True, 4, 2, 8), (True, 8, 2, 4)]),
    ("utf16", "utf8", "a\xe9", [(False, 0, 1, 2), (True, 2, 1, 6), (True, 6, 1, 3)]),
    ("utf16", "utf8", "ab", [(False, 0, 1, 2)]),
    ("utf16", "utf16", "\U0001F600", [(False, 0, 2, 4)]),
    ("utf16", "latin1+utf16", "ab", [(False, 0, 2, 2)]),
    ("latin1+utf16", "utf8", "\xe9", [(False, 0, 1, 1), (True, 1, 1, 2)]),
    ("latin1+utf16", "utf16", "\xe9\xe9", [(False, 0, 2, 4)]),
    ("latin1+utf16", "latin1+utf16", "\xe9", [(False, 0, 2, 1)]),
    ("latin1+utf16", "latin1+utf16", "\u03a3", [(False, 0, 2, 2)]),
])
def test_string_realloc_calls_follow_the_spec(guest, src, dst, text, calls):
    from pywamr.component.abi import CanonicalOptions, LiftLowerContext
    log = LoggingRealloc(guest)
    cx = LiftLowerContext(CanonicalOptions(guest.memory, dst, log.function), guest.state,
                          src_encoding=src)
    flat = lower_flat(cx, text, STRING)
    assert log.calls == calls
    assert lift_flat(cx, flat, STRING) == text


def test_transcoding_traps_on_a_misaligned_growth(guest):
    """wasmtime's strings.wast: utf16 -> latin1+utf16 whose growth realloc is misaligned."""
    from pywamr.binary.types import FuncType as CoreFuncType, I32
    from pywamr.component.abi import CanonicalOptions, LiftLowerContext
    from pywamr.runtime.objects import Function
    bad = Function(CoreFuncType((I32,) * 4, (I32,)), lambda old, *rest: 3 if old else 2)
    cx = LiftLowerContext(CanonicalOptions(guest.memory, "latin1+utf16", bad), guest.state,
                          src_encoding="utf16")
    assert trap_of(lower_flat, cx, "A\u03a3", STRING).code is TrapCode.UNALIGNED_POINTER


def test_utf16_tagged_latin1_keeps_its_tag(guest):
    """A latin1+utf16 string tagged UTF-16 whose code points all fit in Latin-1 is stored from
    the spec's UTF-16 source (`store_probably_utf16_to_latin1_or_utf16`): allocate UTF-16,
    deflate, shrink; into UTF-8 its worst case is 3 bytes a code unit, not 2."""
    from pywamr.component.abi import CanonicalOptions, LiftLowerContext
    from pywamr.component.abi.strings import Utf16TaggedStr
    guest.write(100, "\xe9\xe9".encode("utf-16-le"))
    cx = guest.cx("latin1+utf16")
    text = lift_flat(cx, [100, 2 | 1 << 31], STRING)
    assert text == "\xe9\xe9" and type(text) is Utf16TaggedStr
    assert type(lift_flat(cx, [100, 2], STRING)) is str        # Latin-1 tagged: plain
    for dst, calls in [("latin1+utf16", [(False, 0, 2, 4), (True, 4, 2, 2)]),
                       ("utf8", [(False, 0, 1, 2), (True, 2, 1, 6), (True, 6, 1, 4)]),
                       ("utf16", [(False, 0, 2, 4)])]:
        log = LoggingRealloc(guest)
        dcx = LiftLowerContext(CanonicalOptions(guest.memory, dst, log.function), guest.state,
                               src_encoding="latin1+utf16")
        flat = lower_flat(dcx, text, STRING)
        assert log.calls == calls, dst
        assert lift_flat(dcx, flat, STRING) == "\xe9\xe9"


def test_deflating_realloc_is_aligned_and_checked(guest):
    """wasmtime's strings.wast ("auto-downsize"): the deflating realloc of a UTF-16-tagged
    Latin-1 string asks for alignment 2 and a misaligned answer traps."""
    from pywamr.binary.types import FuncType as CoreFuncType, I32
    from pywamr.component.abi import CanonicalOptions, LiftLowerContext
    from pywamr.component.abi.strings import Utf16TaggedStr
    from pywamr.runtime.objects import Function
    aligns = []

    def realloc(old, old_size, align, size):
        aligns.append(align)
        return 3 if old else 2
    bad = Function(CoreFuncType((I32,) * 4, (I32,)), realloc)
    cx = LiftLowerContext(CanonicalOptions(guest.memory, "latin1+utf16", bad), guest.state,
                          src_encoding="latin1+utf16")
    assert trap_of(lower_flat, cx, Utf16TaggedStr("AA"), STRING).code is \
        TrapCode.UNALIGNED_POINTER
    assert aligns == [2, 2]


# ---- traps ----------------------------------------------------------------------------------

def trap_of(fn, *args) -> Trap:
    with pytest.raises(Trap) as info:
        fn(*args)
    return info.value


@pytest.mark.parametrize("bad", [0xD800, 0xDFFF, 0x110000, 0xFFFFFFFF])
def test_invalid_char_traps(guest, bad):
    cx = guest.cx()
    assert trap_of(lift_flat, cx, [bad], CHAR).code is TrapCode.INVALID_CHAR
    guest.write(200, struct.pack("<I", bad))
    assert trap_of(load, cx, 200, CHAR).code is TrapCode.INVALID_CHAR


@pytest.mark.parametrize("t, disc", [(OptionType(U8), 2), (ENUM, 3), (ResultType(None, None), 2),
                                      (JOINED, 6), (ENUM, 0xFFFFFFFF)])
def test_discriminant_out_of_range_traps(guest, t, disc):
    cx = guest.cx()
    flat = [disc] + [0] * (len(flatten_type(t)) - 1)
    flat = [0.0 if k in ("f32", "f64") else v for v, k in zip(flat, flatten_type(t))]
    assert trap_of(lift_flat, cx, flat, t).code is TrapCode.INVALID_DISCRIMINANT
    if disc < 256:
        guest.write(304, bytes([disc]) + bytes(15))
        assert trap_of(load, cx, 304, t).code is TrapCode.INVALID_DISCRIMINANT


def test_misaligned_pointers_trap(guest):
    cx16 = guest.cx("utf16")
    assert trap_of(lift_flat, cx16, [1001, 1], STRING).code is TrapCode.UNALIGNED_POINTER
    cx = guest.cx("latin1+utf16")
    assert trap_of(lift_flat, cx, [1001, 1], STRING).code is TrapCode.UNALIGNED_POINTER
    assert trap_of(lift_flat, guest.cx(), [1002, 1], ListType(U32)).code \
        is TrapCode.UNALIGNED_POINTER
    assert trap_of(lift_flat, guest.cx(), [1004, 1], ListType(U64)).code \
        is TrapCode.UNALIGNED_POINTER
    assert lift_flat(guest.cx(), [1001, 0], STRING) == ""      # utf8 needs no alignment


def test_out_of_bounds_traps(guest):
    cx = guest.cx()
    size = len(guest.memory.data)
    for t, flat in ((STRING, [size - 2, 3]), (ListType(U32), [size - 4, 2]),
                    (STRING, [0xFFFFFFFF, 1]), (ListType(POINT), [size - 24, 2])):
        assert trap_of(lift_flat, cx, flat, t).code is TrapCode.MEMORY_OUT_OF_BOUNDS
    assert lift_flat(cx, [size, 0], STRING) == ""          # an empty range at the end is fine
    assert trap_of(lift_flat, guest.cx("utf16"), [size - 2, 2], STRING).code \
        is TrapCode.MEMORY_OUT_OF_BOUNDS


def test_too_long_traps(guest):
    cx = guest.cx()
    assert trap_of(lift_flat, cx, [0, 1 << 28], STRING).code is TrapCode.LENGTH_TOO_LARGE
    assert trap_of(lift_flat, cx, [0, 1 << 26], ListType(U64)).code is TrapCode.LENGTH_TOO_LARGE


@pytest.mark.parametrize("encoding, raw, units", [
    ("utf8", b"\xff", 1), ("utf8", b"\xc3", 1), ("utf8", b"\xed\xa0\x80", 3),
    ("utf16", struct.pack("<H", 0xD800), 1), ("utf16", struct.pack("<HH", 0xDC00, 0x41), 2),
    ("latin1+utf16", struct.pack("<H", 0xDBFF), 1 | 1 << 31),
])
def test_invalid_code_units_trap(guest, encoding, raw, units):
    guest.write(2048, raw)
    assert trap_of(lift_flat, guest.cx(encoding), [2048, units], STRING).code \
        is TrapCode.INVALID_STRING


def test_realloc_results_are_checked(guest):
    from pywamr.binary.types import FuncType as CoreFuncType, I32
    from pywamr.component.abi import CanonicalOptions, LiftLowerContext
    from pywamr.runtime.objects import Function
    rtype = CoreFuncType((I32,) * 4, (I32,))
    for result, code in ((1, TrapCode.UNALIGNED_POINTER),
                         (len(guest.memory.data) - 2, TrapCode.MEMORY_OUT_OF_BOUNDS)):
        bad = Function(rtype, lambda *a, r=result: r)
        cx = LiftLowerContext(CanonicalOptions(guest.memory, "utf16", bad), guest.state)
        assert trap_of(lower_flat, cx, "abcd", STRING).code is code
    assert guest.state.may_leave     # restored after the realloc call


# ---- host values that must be refused -------------------------------------------------------

@pytest.mark.parametrize("t, value, error", [
    (U8, 256, ValueError), (S8, -129, ValueError), (U32, -1, ValueError), (U64, 2**64, ValueError),
    (U32, 1.5, TypeError), (U16, "1", TypeError), (F64, "x", TypeError), (CHAR, "ab", TypeError),
    (CHAR, "\ud800", ValueError), (STRING, "\udc00", ValueError), (STRING, b"x", TypeError),
    (ListType(U8), [256], ValueError), (ListType(U32), [1.0], TypeError),
    (ListType(U8, 2), [1], ValueError), (POINT, {"x": 1}, TypeError),
    (OptionType(U8), 5, TypeError), (OptionType(U8), ("maybe", 1), ValueError),
    (ENUM, "purple", ValueError), (flags(3), {"f9"}, ValueError),
    (TupleType((U8, U8)), (1,), ValueError), (ResultType(None, None), ("ok", 1), ValueError),
])
def test_bad_host_values_raise(guest, t, value, error):
    with pytest.raises(error):
        lower_flat(guest.cx(), value, t)
    with pytest.raises(error):
        store(guest.cx(), value, t, guest.cx().allocate(alignment(t), elem_size(t)))


# ---- whole parameter lists: spilling --------------------------------------------------------

def test_params_past_16_flat_values_spill_to_memory(guest):
    cx = guest.cx()
    types = [U32] * 10 + [STRING] + [F64] * 5          # 17 flat values
    values = list(range(10)) + ["spilled"] + [0.5 * i for i in range(5)]
    flat = values_lowerer(types, 16)(cx, values)
    assert len(flat) == 1
    assert values_lifter(types, 16)(cx, flat) == values
    ptr = flat[0]
    assert struct.unpack_from("<10I", guest.memory.data, ptr) == tuple(range(10))
    few = [U32] * 16
    assert values_lowerer(few, 16)(cx, list(range(16))) == list(range(16))


def test_spilled_pointer_checked(guest):
    types = [U64] * 17
    assert trap_of(values_lifter(types, 16), guest.cx(), [4]).code is TrapCode.UNALIGNED_POINTER
    assert trap_of(values_lifter(types, 16), guest.cx(), [len(guest.memory.data) - 8]).code \
        is TrapCode.MEMORY_OUT_OF_BOUNDS


# ---- garbage from the guest: a value or a trap, never another exception ---------------------

@pytest.mark.parametrize("encoding", ["utf8", "utf16", "latin1+utf16"])
def test_random_guest_data_lifts_or_traps(encoding):
    import random
    rng = random.Random(1234)
    g = Guest()
    size = len(g.memory.data)
    types = sorted({t for t, _ in ROUND_TRIPS}, key=repr)
    outcomes = {"value": 0, "trap": 0}
    for _ in range(3000):
        t = rng.choice(types)
        g.memory.data[0:size] = rng.randbytes(size) if rng.random() < 0.3 else bytes(
            rng.choice((0, 1, 2, 255)) for _ in range(64)) * (size // 64)
        flat = []
        for kind in flatten_type(t):
            if kind in ("f32", "f64"):
                flat.append(rng.choice((0.0, -1.5, float("nan"), float("inf"))))
            else:
                bits = 32 if kind == "i32" else 64
                flat.append(rng.choice((0, 1, 2, 3, rng.randrange(64), rng.randrange(size),
                                        size - rng.randrange(16), rng.getrandbits(bits),
                                        (1 << bits) - 1)))
        cx = g.cx(encoding)
        for attempt in (lambda: lift_flat(cx, flat, t),
                        lambda: load(cx, rng.randrange(size // 2) & -alignment(t), t)):
            try:
                attempt()
                outcomes["value"] += 1
            except Trap:
                outcomes["trap"] += 1
    assert outcomes["value"] > 100 and outcomes["trap"] > 100


def test_zero_sized_elements_cannot_make_huge_lists(guest):
    # empty flags take no bytes; the length limit still counts one byte per element
    assert trap_of(lift_flat, guest.cx(), [0, 1 << 28], ListType(flags(0))).code \
        is TrapCode.LENGTH_TOO_LARGE
    assert lift_flat(guest.cx(), [0, 3], ListType(flags(0))) == [frozenset()] * 3
