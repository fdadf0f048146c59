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

Length limits: CanonicalABI.md's MAX_STRING_BYTE_LENGTH (2**28-1) holds when the other side is
the host (`cx.peer` False): a string lifted for the host past it is the spec's
`LENGTH_TOO_LARGE` trap, and a host `str` whose allocation would pass it is refused with a
ValueError before any `realloc` (a malformed host value: the guest is not poisoned). A host
`str` must exist whole in Python, no fused adapter is involved, and the spec is the only
contract there. Between two components (`cx.peer` True) pywamr follows wasmtime, the project's
behavioural reference, whose fused adapters diverge from the spec (wasmtime's
component-model/big-strings.wast): every byte length the adapter handles, the source string's
and each allocation's size, may be up to 2**31-1 (MAX_ADAPTER_STRING_BYTE_LENGTH); past that the
trap is "string content out-of-bounds", like a source out of bounds. The checks come in
wasmtime's order: the source's byte length and bounds when loading, then before each `realloc`
its size. So utf8->utf8 passes up to 2**31-1 bytes, utf8->utf16 up to 2**30-1 (its worst case
is allocated up front), utf16->utf8 up to 2**30-1 code units while ASCII and 715827882
((2**31-1)//3) once the worst-case growth is needed, latin1->utf8 2**31-1 bytes until growth
(2**30-1 then), utf8->latin1+utf16 2**31-1 until it inflates to UTF-16 (2**30-1 then). A string
past the spec's limit from a component is lifted as a `GuestString`, bounds-checked but not
decoded, so the first `realloc` runs before any transcoding, as in wasmtime, and a string of
gigabytes costs nothing when that `realloc` traps (decoding it first would take tens of seconds
and gigabytes of memory); only the prefix that decides the growth (to the next MiB) is decoded
before the growth. Shorter strings are decoded when lifted, so ill-formed text in them traps
before the callee's first `realloc`, where wasmtime's adapter allocates first (only a trapping
`realloc` could tell).

Deliberately does no other transcoding: Python's codecs do the work. Spec: CanonicalABI.md,
"Loading" (`load_string_from_range`) and "Storing" (`store_string_into_range`).
"""
from __future__ import annotations

import codecs
import re

from ...errors import Trap, TrapCode
from .options import MAX_ADAPTER_STRING_BYTE_LENGTH, MAX_STRING_BYTE_LENGTH, UTF16_TAG, check_range

# wasmtime's words, then the Component Model tests' words
STRING_OUT_OF_BOUNDS = "string content out-of-bounds (string pointer/length out of bounds of memory)"
_SIMPLE = {"utf-8": "utf8", "utf-16-le": "utf16", "latin-1": "latin1"}
_SCAN_CHUNK = 1 << 20


def _invalid(codec: str, exc: UnicodeDecodeError) -> Trap:
    if codec != "utf-8":
        return Trap(TrapCode.INVALID_STRING, "invalid utf-16")
    incomplete = exc.reason == "unexpected end of data"
    return Trap(TrapCode.INVALID_STRING, "invalid utf-8" + (
        " (incomplete utf-8 byte sequence)" if incomplete else ""))


def _too_large(cx, byte_length: int) -> Trap:
    """The trap of a string byte length past the limit of `cx` (see the module docstring)."""
    if cx.peer:
        return Trap(TrapCode.MEMORY_OUT_OF_BOUNDS, f"string content out-of-bounds (string byte "
                    f"length {byte_length} exceeds {MAX_ADAPTER_STRING_BYTE_LENGTH})")
    return Trap(TrapCode.LENGTH_TOO_LARGE, f"string byte length {byte_length} too large")


def _check_size(cx, size: int) -> None:
    """Before a `realloc` for a string: its size within the limit of `cx`."""
    if cx.peer:
        if size > MAX_ADAPTER_STRING_BYTE_LENGTH:
            raise _too_large(cx, size)
    elif size > MAX_STRING_BYTE_LENGTH:     # a host value: refused, no guest is poisoned
        raise ValueError(f"a string needing {size} bytes exceeds the canonical ABI limit")


class GuestString:
    """A component's string past the spec's length limit, lifted for another component:
    bounds-checked, not yet decoded (see the module docstring). `simple` is the spec's simple
    encoding of the source ("utf8", "utf16" or "latin1"), `units` its code units."""

    __slots__ = ("data", "ptr", "byte_length", "codec", "simple", "units", "_text")

    def __init__(self, data, ptr: int, byte_length: int, codec: str):
        self.data, self.ptr, self.byte_length, self.codec = data, ptr, byte_length, codec
        self.simple = _SIMPLE[codec]
        self.units = byte_length >> 1 if self.simple == "utf16" else byte_length
        self._text = None

    def text(self) -> str:
        if self._text is None:
            try:
                self._text = self.data[self.ptr:self.ptr + self.byte_length].decode(self.codec)
            except UnicodeDecodeError as exc:
                raise _invalid(self.codec, exc) from None
        return self._text

    def first_above(self, limit: int):
        """Index of the first code point >= limit, or None: decodes chunk by chunk, so only
        the prefix up to that code point is decoded."""
        if self._text is not None:
            return _first_above(self._text, limit)
        decoder = codecs.getincrementaldecoder(self.codec)()
        view, end, seen = memoryview(self.data), self.ptr + self.byte_length, 0
        try:
            for at in range(self.ptr, end, _SCAN_CHUNK):
                part = decoder.decode(view[at:min(at + _SCAN_CHUNK, end)],
                                      final=at + _SCAN_CHUNK >= end)
                match = _ABOVE[limit].search(part)
                if match is not None:
                    return seen + match.start()
                seen += len(part)
        except UnicodeDecodeError as exc:
            raise _invalid(self.codec, exc) from None
        finally:
            view.release()
        return None

    def prefix(self, n: int) -> str:
        """The first `n` code points, all below 0x100 (so one code unit each)."""
        width = 2 if self.simple == "utf16" else 1
        return self.data[self.ptr:self.ptr + width * n].decode(self.codec)


def _decode(cx, ptr: int, byte_length: int, alignment: int, codec: str):
    if byte_length > MAX_STRING_BYTE_LENGTH:
        if not cx.peer or byte_length > MAX_ADAPTER_STRING_BYTE_LENGTH:
            raise _too_large(cx, byte_length)
        check_range(cx, ptr, alignment, byte_length, "string")
        return GuestString(cx.data, ptr, byte_length, codec)
    check_range(cx, ptr, alignment, byte_length, "string")
    try:
        return cx.data[ptr:ptr + byte_length].decode(codec)
    except UnicodeDecodeError as exc:
        raise _invalid(codec, exc) from None


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
        if type(s) is GuestString:
            return s
        return Utf16TaggedStr(s) if _first_above(s, 0x100) is None else s
    return _decode(cx, ptr, tagged, 2, "latin-1")


_LOADERS = {"utf8": _load_utf8, "utf16": _load_utf16, "latin1+utf16": _load_latin1_utf16}


def load_string_from_range(cx, ptr: int, tagged_code_units: int) -> str:
    """Decode the string at `ptr` whose (tagged) length in code units is given."""
    return _LOADERS[cx.encoding](cx, ptr, tagged_code_units)


def _check_str(v):
    if not isinstance(v, (str, GuestString)):
        raise TypeError(f"expected a str for a component string, got {type(v).__name__}")
    return v


def _encode(v, codec: str) -> bytes:
    if type(v) is GuestString:
        v = v.text()
    try:
        return v.encode(codec)
    except UnicodeEncodeError:
        raise ValueError("a component string cannot hold lone surrogates") from None


def _prefix(src, n: int) -> str:
    return src.prefix(n) if type(src) is GuestString else src[:n]


def _check(cx, ptr: int, alignment: int, size: int) -> None:
    if ptr & (alignment - 1):
        raise Trap(TrapCode.UNALIGNED_POINTER, f"string pointer not aligned to {alignment}")
    if ptr + size > len(cx.data):
        raise Trap(TrapCode.MEMORY_OUT_OF_BOUNDS, STRING_OUT_OF_BOUNDS)


def store_string_copy(cx, src, encoded: bytes | None, codec: str, code_units: int,
                      unit_size: int, alignment: int):
    """The four same-width cases: one allocation of the exact size (`encoded`, when None, is
    made after it: a `GuestString` is decoded only once its space exists)."""
    size = unit_size * code_units
    _check_size(cx, size)
    ptr = cx.allocate(alignment, size, "string")
    _check(cx, ptr, alignment, size)
    if encoded is None:
        encoded = _encode(src, codec)
    cx.data[ptr:ptr + size] = encoded
    return ptr, code_units


_ABOVE = {0x80: re.compile("[^\x00-\x7f]"), 0x100: re.compile("[^\x00-\xff]")}


def _first_above(src, limit: int):
    """Index of the first code point >= limit (0x80 or 0x100), None if there is none."""
    if type(src) is GuestString:
        return src.first_above(limit)
    match = _ABOVE[limit].search(src)
    return None if match is None else match.start()


def store_string_to_utf8(cx, src, src_code_units: int, worst_case_size: int):
    """From utf16 or latin1: assume ASCII, reallocate to the worst case at the first other
    code point, then shrink to the encoded size."""
    data = cx.data
    _check_size(cx, src_code_units)
    ptr = cx.allocate(1, src_code_units, "string")
    _check(cx, ptr, 1, src_code_units)
    i = _first_above(src, 0x80)
    if i is None:
        data[ptr:ptr + src_code_units] = _encode(src, "ascii")
        return ptr, src_code_units
    data[ptr:ptr + i] = _prefix(src, i).encode("ascii")
    _check_size(cx, worst_case_size)
    ptr = cx.reallocate(ptr, src_code_units, 1, worst_case_size, "string")
    _check(cx, ptr, 1, worst_case_size)
    encoded = _encode(src, "utf-8")
    data[ptr + i:ptr + len(encoded)] = encoded[i:]
    if worst_case_size > len(encoded):
        ptr = cx.reallocate(ptr, worst_case_size, 1, len(encoded))
        _check(cx, ptr, 1, len(encoded))
    return ptr, len(encoded)


def store_utf8_to_utf16(cx, src, src_code_units: int):
    """Allocate the worst case (two bytes per UTF-8 byte), shrink to the encoded size."""
    worst_case_size = 2 * src_code_units
    _check_size(cx, worst_case_size)
    ptr = cx.allocate(2, worst_case_size, "string")
    _check(cx, ptr, 2, worst_case_size)
    encoded = _encode(src, "utf-16-le")
    cx.data[ptr:ptr + len(encoded)] = encoded
    if len(encoded) < worst_case_size:
        ptr = cx.reallocate(ptr, worst_case_size, 2, len(encoded))
        _check(cx, ptr, 2, len(encoded))
    return ptr, len(encoded) >> 1


def store_string_to_latin1_or_utf16(cx, src, src_code_units: int):
    """Into latin1+utf16 from utf8 or utf16: Latin-1 until a wider code point, then inflate
    in place to UTF-16 in a worst-case buffer and shrink."""
    data = cx.data
    _check_size(cx, src_code_units)
    ptr = cx.allocate(2, src_code_units, "string")
    _check(cx, ptr, 2, src_code_units)
    n = _first_above(src, 0x100)
    if n is None:
        latin1 = _encode(src, "latin-1")
        n = len(latin1)
        data[ptr:ptr + n] = latin1
        if n < src_code_units:
            ptr = cx.reallocate(ptr, src_code_units, 2, n, "string")
            _check(cx, ptr, 2, n)
        return ptr, n
    data[ptr:ptr + n] = _prefix(src, n).encode("latin-1")
    worst_case_size = 2 * src_code_units
    _check_size(cx, worst_case_size)
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


def store_probably_utf16_to_latin1_or_utf16(cx, src, src_code_units: int):
    """latin1+utf16 from UTF-16: copy as UTF-16, deflate to Latin-1 if every code point fits.

    The deflating `realloc` asks for alignment 2 and its result is checked for it, as
    wasmtime does (its fused adapter; wasmtime's strings.wast expects "unaligned pointer").
    The spec's text asks for alignment 1 and checks only bounds, but a latin1+utf16 string
    must be 2-aligned to be loaded at all (`load_string_from_range`), and every other
    latin1+utf16 allocation in the spec, Latin-1 ones included, asks for 2."""
    data = cx.data
    src_byte_length = 2 * src_code_units
    _check_size(cx, src_byte_length)
    ptr = cx.allocate(2, src_byte_length, "string")
    _check(cx, ptr, 2, src_byte_length)
    encoded = _encode(src, "utf-16-le")
    data[ptr:ptr + len(encoded)] = encoded
    if _first_above(src, 0x100) is not None:
        return ptr, (len(encoded) >> 1) | UTF16_TAG
    latin1_size = len(encoded) >> 1
    data[ptr:ptr + latin1_size] = data[ptr:ptr + 2 * latin1_size:2]
    ptr = cx.reallocate(ptr, src_byte_length, 2, latin1_size, "string")
    _check(cx, ptr, 2, latin1_size)
    return ptr, latin1_size


def _simple_source(cx, src) -> tuple[str, int, bytes | None]:
    """(simple source encoding, its code units, the UTF-8 bytes if already computed).

    The source is the encoding the string was lifted with ("utf8" for host strings). A
    latin1+utf16 source is Latin-1 when every code point fits, unless its producer tagged it
    UTF-16 (a `Utf16TaggedStr`). A `GuestString` knows both."""
    if type(src) is GuestString:
        return src.simple, src.units, None
    src_encoding = cx.src_encoding
    if src_encoding == "utf8":
        encoded = _encode(src, "utf-8")
        if not cx.peer and len(encoded) > MAX_STRING_BYTE_LENGTH:
            raise ValueError(f"a string of {len(encoded)} bytes exceeds the canonical ABI limit")
        return "utf8", len(encoded), encoded
    if src_encoding == "latin1+utf16" and type(src) is not Utf16TaggedStr and \
            _first_above(src, 0x100) is None:
        return "latin1", len(src), None
    return "utf16", len(_encode(src, "utf-16-le")) >> 1, None


def store_string_into_range(cx, v) -> tuple[int, int]:
    """Write `v` (lifted with `cx.src_encoding`) in the context's encoding; return
    (ptr, tagged code units). The `realloc` calls are the spec's, case by case."""
    src = _check_str(v)
    simple, units, utf8 = _simple_source(cx, src)
    dst = cx.encoding
    if dst == "utf8":
        if simple == "utf8":
            return store_string_copy(cx, src, utf8, "utf-8", units, 1, 1)
        if simple == "utf16":
            return store_string_to_utf8(cx, src, units, 3 * units)
        return store_string_to_utf8(cx, src, units, 2 * units)
    if dst == "utf16":
        if simple == "utf8":
            return store_utf8_to_utf16(cx, src, units)
        return store_string_copy(cx, src, None, "utf-16-le", units, 2, 2)
    if simple == "utf8" or (simple == "utf16" and cx.src_encoding != "latin1+utf16"):
        return store_string_to_latin1_or_utf16(cx, src, units)
    if simple == "latin1":
        return store_string_copy(cx, src, None, "latin-1", units, 1, 2)
    return store_probably_utf16_to_latin1_or_utf16(cx, src, units)
