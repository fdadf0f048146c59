"""Strings across the canonical ABI: decoding from and encoding into guest memory.

Sits under `load.py`, `store.py` and `flat.py`, which call `load_string_from_range` and
`store_string_into_range` with a pointer/length pair read from memory or from flat values.
Three encodings: utf8 (length in bytes), utf16 (length in 16-bit code units) and latin1+utf16
(Latin-1 bytes, or UTF-16 code units when the length carries `UTF16_TAG`).

Lifted strings are plain Python `str`s (the spec's `(str, encoding, code units)` hint is
dropped). Lowering therefore knows the whole string before it allocates and makes exactly one
`realloc` call of the final size and alignment, where the spec's single-pass algorithms may
allocate optimistically and then reallocate; the bytes written, the lengths returned and every
alignment/bounds trap are the same. Latin-1 is chosen for latin1+utf16 whenever every code
point is below 256 (the spec's outcome for every source encoding).

Deliberately does no other transcoding: Python's codecs do the work. Spec: CanonicalABI.md,
"Loading" (`load_string_from_range`) and "Storing" (`store_string_into_range`).
"""
from __future__ import annotations

from ...errors import Trap, TrapCode
from .options import MAX_STRING_BYTE_LENGTH, UTF16_TAG, check_range


def _decode(cx, ptr: int, byte_length: int, alignment: int, codec: str) -> str:
    if byte_length > MAX_STRING_BYTE_LENGTH:
        raise Trap(TrapCode.LENGTH_TOO_LARGE, f"string byte length {byte_length} too large")
    check_range(cx, ptr, alignment, byte_length, "string")
    try:
        return cx.data[ptr:ptr + byte_length].decode(codec)
    except UnicodeDecodeError:
        raise Trap(TrapCode.INVALID_STRING,
                   "invalid utf-8" if codec == "utf-8" else "invalid utf-16") from None


def _load_utf8(cx, ptr: int, length: int) -> str:
    return _decode(cx, ptr, length, 1, "utf-8")


def _load_utf16(cx, ptr: int, length: int) -> str:
    return _decode(cx, ptr, 2 * length, 2, "utf-16-le")


def _load_latin1_utf16(cx, ptr: int, tagged: int) -> str:
    if tagged & UTF16_TAG:
        return _decode(cx, ptr, 2 * (tagged ^ UTF16_TAG), 2, "utf-16-le")
    return _decode(cx, ptr, tagged, 2, "latin-1")


_LOADERS = {"utf8": _load_utf8, "utf16": _load_utf16, "latin1+utf16": _load_latin1_utf16}


def load_string_from_range(cx, ptr: int, tagged_code_units: int) -> str:
    """Decode the string at `ptr` whose (tagged) length in code units is given."""
    return _LOADERS[cx.encoding](cx, ptr, tagged_code_units)


def _encode(v, codec: str) -> bytes:
    if type(v) is not str:
        if not isinstance(v, str):
            raise TypeError(f"expected a str for a component string, got {type(v).__name__}")
    try:
        return v.encode(codec)
    except UnicodeEncodeError:
        raise ValueError("a component string cannot hold lone surrogates") from None


def _write(cx, alignment: int, encoded: bytes) -> int:
    n = len(encoded)
    if n > MAX_STRING_BYTE_LENGTH:
        raise ValueError(f"string of {n} bytes exceeds the canonical ABI limit")
    ptr = cx.allocate(alignment, n)
    cx.data[ptr:ptr + n] = encoded
    return ptr


def _store_utf8(cx, v) -> tuple[int, int]:
    encoded = _encode(v, "utf-8")
    return _write(cx, 1, encoded), len(encoded)


def _store_utf16(cx, v) -> tuple[int, int]:
    encoded = _encode(v, "utf-16-le")
    return _write(cx, 2, encoded), len(encoded) >> 1


def _store_latin1_utf16(cx, v) -> tuple[int, int]:
    try:
        encoded = v.encode("latin-1")
    except UnicodeEncodeError:
        encoded = _encode(v, "utf-16-le")
        return _write(cx, 2, encoded), (len(encoded) >> 1) | UTF16_TAG
    except AttributeError:
        raise TypeError(f"expected a str for a component string, got {type(v).__name__}") \
            from None
    return _write(cx, 2, encoded), len(encoded)


_STORERS = {"utf8": _store_utf8, "utf16": _store_utf16, "latin1+utf16": _store_latin1_utf16}


def store_string_into_range(cx, v: str) -> tuple[int, int]:
    """Allocate with `realloc`, write `v` in the context's encoding; return (ptr, tagged len)."""
    return _STORERS[cx.encoding](cx, v)
