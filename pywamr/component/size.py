"""Size bounds of defined value types: element size and nesting depth.

Part of component validation: `resolve.py` calls `check_elem_size` for every defined value
type, since Binary.md requires `elem_size(t, 'i64') < 2**28` (pointers counted as 8 bytes, so
the bound holds on 64-bit memories too). It also bounds the nesting depth of value types to
MAX_DEPTH (as wasmtime does), so that the recursive walks of later phases (lifting, lowering,
printing) stay far from Python's recursion limit. Sizes are cached per type object, so a type
built out of shared parts is measured once. Deliberately not the ABI's layout module (`abi/layout.py`
computes 32-bit layouts for lifting and lowering); this one only guards validation.
Spec: CanonicalABI.md "Alignment", "Element Size".
"""
from __future__ import annotations

from ..errors import ValidationError
from .types import (BorrowType, FlagsType, FutureType, ListType, OwnType, PrimValType,
                    RecordType, StreamType, VariantType, despecialize)

MAX_ELEM_SIZE = 1 << 28
MAX_DEPTH = 100
PTR = 8

_PRIM = {"bool": 1, "s8": 1, "u8": 1, "s16": 2, "u16": 2, "s32": 4, "u32": 4, "f32": 4,
         "char": 4, "s64": 8, "u64": 8, "f64": 8, "error-context": 4}


def check_elem_size(t, cache: dict) -> None:
    size, _, depth = _layout(t, cache)
    if size >= MAX_ELEM_SIZE:
        raise ValidationError(f"type exceeds maximum byte size ({size} >= {MAX_ELEM_SIZE})")
    if depth > MAX_DEPTH:
        raise ValidationError(f"type nesting is too deep (more than {MAX_DEPTH} levels)")


def _align_to(n: int, a: int) -> int:
    return (n + a - 1) // a * a


def _layout(t, cache: dict) -> tuple[int, int, int]:
    """(elem_size, alignment, depth) with 8-byte pointers; cached by object identity."""
    entry = cache.get(id(t))
    if entry is not None and entry[0] is t:
        return entry[1]
    result = _compute(t, cache)
    cache[id(t)] = (t, result)
    return result


def _compute(t, cache: dict) -> tuple[int, int, int]:
    d = despecialize(t)
    if isinstance(d, PrimValType):
        if d.name == "string":
            return 2 * PTR, PTR, 1
        return _PRIM[d.name], _PRIM[d.name], 1
    if isinstance(d, ListType):
        size, align, depth = _layout(d.elem, cache)
        if d.length is None:
            return 2 * PTR, PTR, depth + 1
        return size * d.length, align, depth + 1
    if isinstance(d, RecordType):
        offset, align, depth = 0, 1, 0
        for f in d.fields:
            fs, fa, fd = _layout(f.t, cache)
            offset = _align_to(offset, fa) + fs
            align, depth = max(align, fa), max(depth, fd)
        return _align_to(offset, align), align, depth + 1
    if isinstance(d, VariantType):
        n = len(d.cases)
        disc = 1 if n <= 1 << 8 else 2 if n <= 1 << 16 else 4
        case_size, case_align, depth = 0, 1, 0
        for c in d.cases:
            if c.t is not None:
                cs, ca, cd = _layout(c.t, cache)
                case_size, case_align = max(case_size, cs), max(case_align, ca)
                depth = max(depth, cd)
        align = max(disc, case_align)
        return _align_to(_align_to(disc, case_align) + case_size, align), align, depth + 1
    if isinstance(d, FlagsType):
        n = len(d.labels)
        size = 1 if n <= 8 else 2 if n <= 16 else 4
        return size, size, 1
    if isinstance(d, (OwnType, BorrowType)):
        return 4, 4, 1
    if isinstance(d, (StreamType, FutureType)):
        depth = 0 if d.t is None else _layout(d.t, cache)[2]
        return 4, 4, depth + 1
    raise ValidationError(f"cannot measure {type(t).__name__}")
