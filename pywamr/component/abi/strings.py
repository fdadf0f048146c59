"""Strings across the canonical ABI: decoding from and encoding into guest memory.

Sits under `load.py`, `store.py` and `flat.py`, which call `load_string_from_range` and
`store_string_into_range` with a pointer/length pair read from memory or from flat values.
Three encodings: utf8 (length in bytes), utf16 (length in 16-bit code units) and latin1+utf16
(Latin-1 bytes, or UTF-16 code units when the length carries `UTF16_TAG`).

Lifted strings are plain Python `str`s. The spec's hint that goes with a loaded string (its
source encoding and code units) is rebuilt when storing: the source encoding is that of the
context the string was lifted with (`cx.src_encoding`: the other side's `string-encoding`,
"utf8" for strings from the host, like wasmtime's Rust strings), and its code units follow
from the text, except for the one case the text cannot tell: a latin1+utf16 string whose
length carried `UTF16_TAG` although its code points all fit in Latin-1 is lifted as a
`Utf16TaggedStr` (a `str` subclass), so storing it follows the spec's UTF-16 source path. So
the `realloc` calls (optimistic size, then growth to the worst case, then shrinking) are
exactly the spec's, and so are their alignment and bounds traps, with one deliberate
difference, where the spec contradicts itself (see `store_probably_utf16_to_latin1_or_utf16`).

Deliberately does no other transcoding: Python's codecs do the work. Spec: CanonicalABI.md,
"Loading" (`load_string_from_range`) and "Storing" (`store_string_into_range`).
"""
from __future__ import annotations

import re

from ...errors import Trap, TrapCode
from .options import MAX_STRING_BYTE_LENGTH, UTF16_TAG, check_range


def _decode(cx, ptr: int, byte_length: int, alignment: int, codec: str) -> str:
    if byte_length > MAX_STRING_BYTE_LENGTH:
        raise Trap(TrapCode.LENGTH_TOO_LARGE, f"string byte length {byte_length} too large")
    check_range(cx, ptr, alignment, byte_length, "string")
    try:
        return cx.data[ptr:ptr + byte_length].decode(codec)
    except UnicodeDecodeError as exc:
        if codec != "utf-8":
            raise Trap(TrapCode.INVALID_STRING, "invalid utf-16") from None
        incomplete = exc.reason == "unexpected end of data"
        raise Trap(TrapCode.INVALID_STRING, "invalid utf-8" + (
            " (incomplete utf-8 byte sequence)" if incomplete else "")) from None


def _load_utf8(cx, ptr: int, length: int) -> str:
    return _decode(cx, ptr, length, 1, "utf-8")


def _load_utf16(cx, ptr: int, length: int) -> str:
    return _decode(cx, ptr, 2 * length, 2, "utf-16-le")


class Utf16TaggedStr(str):
    """A string lifted from latin1+utf16 memory with `UTF16_TAG` set whose code points all
    fit in Latin-1: the spec's `(src, 'latin1+utf16', tagged code units)` hint, kept because
    storing it takes the UTF-16 source path (other allocations than a Latin-1 source)."""
    __slots__ = ()


def _load_latin1_utf16(cx, ptr: int, tagged: int) -> str:
    if tagged & UTF16_TAG:
        s = _decode(cx, ptr, 2 * (tagged ^ UTF16_TAG), 2, "utf-16-le")
        return Utf16TaggedStr(s) if _first_above(s, 0x100) == len(s) else s
    return _decode(cx, ptr, tagged, 2, "latin-1")


_LOADERS = {"utf8": _load_utf8, "utf16": _load_utf16, "latin1+utf16": _load_latin1_utf16}


def load_string_from_range(cx, ptr: int, tagged_code_units: int) -> str:
    """Decode the string at `ptr` whose (tagged) length in code units is given."""
    return _LOADERS[cx.encoding](cx, ptr, tagged_code_units)


def _check_str(v) -> str:
    if not isinstance(v, str):
        raise TypeError(f"expected a str for a component string, got {type(v).__name__}")
    return v


def _encode(v: str, codec: str) -> bytes:
    try:
        encoded = v.encode(codec)
    except UnicodeEncodeError:
        raise ValueError("a component string cannot hold lone surrogates") from None
    if len(encoded) > MAX_STRING_BYTE_LENGTH:
        raise ValueError(f"a string of {len(encoded)} bytes exceeds the canonical ABI limit")
    return encoded


# wasmtime's words, then the Component Model tests' words
STRING_OUT_OF_BOUNDS = "string content out-of-bounds (string pointer/length out of bounds of memory)"


def _check(cx, ptr: int, alignment: int, size: int) -> None:
    if ptr & (alignment - 1):
        raise Trap(TrapCode.UNALIGNED_POINTER, f"string pointer not aligned to {alignment}")
    if ptr + size > len(cx.data):
        raise Trap(TrapCode.MEMORY_OUT_OF_BOUNDS, STRING_OUT_OF_BOUNDS)


def store_string_copy(cx, encoded: bytes, code_units: int, unit_size: int, alignment: int):
    """The four same-width cases: one allocation of the exact size."""
    size = unit_size * code_units
    ptr = cx.allocate(alignment, size, "string")
    _check(cx, ptr, alignment, size)
    cx.data[ptr:ptr + size] = encoded
    return ptr, code_units


_ABOVE = {0x80: re.compile("[^\x00-\x7f]"), 0x100: re.compile("[^\x00-\xff]")}


def _first_above(src: str, limit: int) -> int:
    """Index of the first code point >= limit (0x80 or 0x100; len(src) if none)."""
    match = _ABOVE[limit].search(src)
    return len(src) if match is None else match.start()


def store_string_to_utf8(cx, src: str, src_code_units: int, worst_case_size: int):
    """From utf16 or latin1: assume ASCII, reallocate to the worst case at the first other
    code point, then shrink to the encoded size."""
    data = cx.data
    ptr = cx.allocate(1, src_code_units, "string")
    _check(cx, ptr, 1, src_code_units)
    i = _first_above(src, 0x80)
    data[ptr:ptr + i] = src[:i].encode("ascii")
    if i == len(src):
        return ptr, src_code_units
    ptr = cx.reallocate(ptr, src_code_units, 1, worst_case_size, "string")
    _check(cx, ptr, 1, worst_case_size)
    encoded = _encode(src, "utf-8")
    data[ptr + i:ptr + len(encoded)] = encoded[i:]
    if worst_case_size > len(encoded):
        ptr = cx.reallocate(ptr, worst_case_size, 1, len(encoded))
        _check(cx, ptr, 1, len(encoded))
    return ptr, len(encoded)


def store_utf8_to_utf16(cx, src: str, src_code_units: int):
    """Allocate the worst case (two bytes per UTF-8 byte), shrink to the encoded size."""
    worst_case_size = 2 * src_code_units
    ptr = cx.allocate(2, worst_case_size, "string")
    _check(cx, ptr, 2, worst_case_size)
    encoded = _encode(src, "utf-16-le")
    cx.data[ptr:ptr + len(encoded)] = encoded
    if len(encoded) < worst_case_size:
        ptr = cx.reallocate(ptr, worst_case_size, 2, len(encoded))
        _check(cx, ptr, 2, len(encoded))
    return ptr, len(encoded) >> 1


def store_string_to_latin1_or_utf16(cx, src: str, src_code_units: int):
    """Into latin1+utf16 from utf8 or utf16: Latin-1 until a wider code point, then inflate
    in place to UTF-16 in a worst-case buffer and shrink."""
    data = cx.data
    ptr = cx.allocate(2, src_code_units, "string")
    _check(cx, ptr, 2, src_code_units)
    n = _first_above(src, 0x100)
    data[ptr:ptr + n] = src[:n].encode("latin-1")
    if n == len(src):
        if n < src_code_units:
            ptr = cx.reallocate(ptr, src_code_units, 2, n, "string")
            _check(cx, ptr, 2, n)
        return ptr, n
    worst_case_size = 2 * src_code_units
    ptr = cx.reallocate(ptr, src_code_units, 2, worst_case_size, "string")
    _check(cx, ptr, 2, worst_case_size)
    latin1 = bytes(data[ptr:ptr + n])
    inflated = bytearray(2 * n)
    inflated[0::2] = latin1
    data[ptr:ptr + 2 * n] = inflated
    encoded = _encode(src, "utf-16-le")
    data[ptr + 2 * n:ptr + len(encoded)] = encoded[2 * n:]
    if worst_case_size > len(encoded):
        ptr = cx.reallocate(ptr, worst_case_size, 2, len(encoded))
        _check(cx, ptr, 2, len(encoded))
    return ptr, (len(encoded) >> 1) | UTF16_TAG


def store_probably_utf16_to_latin1_or_utf16(cx, src: str, src_code_units: int):
    """latin1+utf16 from UTF-16: copy as UTF-16, deflate to Latin-1 if every code point fits.

    The deflating `realloc` asks for alignment 2 and its result is checked for it, as
    wasmtime does (its fused adapter; wasmtime's strings.wast expects "unaligned pointer").
    The spec's text asks for alignment 1 and checks only bounds, but a latin1+utf16 string
    must be 2-aligned to be loaded at all (`load_string_from_range`), and every other
    latin1+utf16 allocation in the spec, Latin-1 ones included, asks for 2."""
    data = cx.data
    src_byte_length = 2 * src_code_units
    ptr = cx.allocate(2, src_byte_length, "string")
    _check(cx, ptr, 2, src_byte_length)
    encoded = _encode(src, "utf-16-le")
    data[ptr:ptr + len(encoded)] = encoded
    if _first_above(src, 0x100) < len(src):
        return ptr, (len(encoded) >> 1) | UTF16_TAG
    latin1_size = len(encoded) >> 1
    data[ptr:ptr + latin1_size] = data[ptr:ptr + 2 * latin1_size:2]
    ptr = cx.reallocate(ptr, src_byte_length, 2, latin1_size, "string")
    _check(cx, ptr, 2, latin1_size)
    return ptr, latin1_size


def _simple_source(src: str, src_encoding: str) -> tuple[str, int, bytes | None]:
    """(simple source encoding, its code units, the UTF-8 bytes if already computed).

    The source is the encoding the string was lifted with ("utf8" for host strings). A
    latin1+utf16 source is Latin-1 when every code point fits, unless its producer tagged it
    UTF-16 (a `Utf16TaggedStr`)."""
    if src_encoding == "utf8":
        encoded = _encode(src, "utf-8")
        return "utf8", len(encoded), encoded
    if src_encoding == "latin1+utf16" and type(src) is not Utf16TaggedStr and \
            _first_above(src, 0x100) == len(src):
        return "latin1", len(src), None
    return "utf16", len(_encode(src, "utf-16-le")) >> 1, None


def store_string_into_range(cx, v: str) -> tuple[int, int]:
    """Write `v` (lifted with `cx.src_encoding`) in the context's encoding; return
    (ptr, tagged code units). The `realloc` calls are the spec's, case by case."""
    src = _check_str(v)
    simple, units, utf8 = _simple_source(src, cx.src_encoding)
    dst = cx.encoding
    if dst == "utf8":
        if simple == "utf8":
            return store_string_copy(cx, utf8, units, 1, 1)
        if simple == "utf16":
            return store_string_to_utf8(cx, src, units, 3 * units)
        return store_string_to_utf8(cx, src, units, 2 * units)
    if dst == "utf16":
        if simple == "utf8":
            return store_utf8_to_utf16(cx, src, units)
        return store_string_copy(cx, _encode(src, "utf-16-le"), units, 2, 2)
    if cx.src_encoding != "latin1+utf16":
        return store_string_to_latin1_or_utf16(cx, src, units)
    if simple == "latin1":
        return store_string_copy(cx, src.encode("latin-1"), units, 1, 2)
    return store_probably_utf16_to_latin1_or_utf16(cx, src, units)
