"""The element-size bound of defined value types (validation's use of the ABI layout).

Part of component validation: `resolve.py` calls `check_elem_size` for every defined value
type, since Binary.md requires `elem_size(t, 'i64') < 2**28` (pointers counted as 8 bytes, so
the bound holds on 64-bit memories too). Sizes are cached per type object, so a type built out
of shared parts is measured once. Deliberately not the ABI's layout module (`abi/layout.py`
computes 32-bit layouts for lifting and lowering); this one only guards validation.
Spec: CanonicalABI.md "Alignment", "Element Size".
"""
from __future__ import annotations

from ..errors import ValidationError
from .types import (BorrowType, FlagsType, FutureType, ListType, OwnType, PrimValType,
                    RecordType, StreamType, VariantType, despecialize)

MAX_ELEM_SIZE = 1 << 28
PTR = 8

_PRIM = {"bool": 1, "s8": 1, "u8": 1, "s16": 2, "u16": 2, "s32": 4, "u32": 4, "f32": 4,
         "char": 4, "s64": 8, "u64": 8, "f64": 8, "error-context": 4}


def check_elem_size(t, cache: dict) -> None:
    size, _ = _layout(t, cache)
    if size >= MAX_ELEM_SIZE:
        raise ValidationError(f"type exceeds maximum byte size ({size} >= {MAX_ELEM_SIZE})")


def _align_to(n: int, a: int) -> int:
    return (n + a - 1) // a * a


def _layout(t, cache: dict) -> tuple[int, int]:
    """(elem_size, alignment) with 8-byte pointers; cached by object identity."""
    entry = cache.get(id(t))
    if entry is not None and entry[0] is t:
        return entry[1]
    result = _compute(t, cache)
    cache[id(t)] = (t, result)
    return result


def _compute(t, cache: dict) -> tuple[int, int]:
    d = despecialize(t)
    if isinstance(d, PrimValType):
        if d.name == "string":
            return 2 * PTR, PTR
        return _PRIM[d.name], _PRIM[d.name]
    if isinstance(d, ListType):
        if d.length is None:
            return 2 * PTR, PTR
        size, align = _layout(d.elem, cache)
        return size * d.length, align
    if isinstance(d, RecordType):
        offset, align = 0, 1
        for f in d.fields:
            fs, fa = _layout(f.t, cache)
            offset = _align_to(offset, fa) + fs
            align = max(align, fa)
        return _align_to(offset, align), align
    if isinstance(d, VariantType):
        n = len(d.cases)
        disc = 1 if n <= 1 << 8 else 2 if n <= 1 << 16 else 4
        case_size, case_align = 0, 1
        for c in d.cases:
            if c.t is not None:
                cs, ca = _layout(c.t, cache)
                case_size, case_align = max(case_size, cs), max(case_align, ca)
        align = max(disc, case_align)
        return _align_to(_align_to(disc, case_align) + case_size, align), align
    if isinstance(d, FlagsType):
        n = len(d.labels)
        size = 1 if n <= 8 else 2 if n <= 16 else 4
        return size, size
    if isinstance(d, (OwnType, BorrowType, StreamType, FutureType)):
        return 4, 4
    raise ValidationError(f"cannot measure {type(t).__name__}")
