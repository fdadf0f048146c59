"""Lanes of a v128 value and the float rules of SIMD lanes, shared by both engines' Python code.

A v128 is a Python int in [0, 2**128), lane 0 in the least-significant bits (numerics.py).
This module turns such an int into a tuple of lanes and back (`struct` over the 16 little-endian
bytes, one C call each way), holds the SWAR masks of each lane width, and implements the
float-lane rules that are more than one Python operation: rounding a double to f32 without
`struct`'s overflow error, the canonical NaN, and a correctly rounded fused multiply-add.

NaN results. Wasm lets an arithmetic NaN result be any canonical NaN (or, when an operand is a
non-canonical NaN, any arithmetic NaN). pywamr always produces the positive canonical NaN
(f32 0x7FC00000, f64 0x7FF8000000000000) from float arithmetic on lanes: add, sub, mul, div,
sqrt, min, max, ceil, floor, trunc, nearest, demote, promote and the relaxed madd/nmadd. This is
what wasmtime produces with `cranelift_nan_canonicalization` on, so the two agree bit for bit.
Bitwise float operations (abs, neg, pmin, pmax, lane moves) keep NaN bits exactly.

Does not decide anything about instructions (see interp/simd_*.py and runtime/relaxed.py).
"""
from __future__ import annotations

import struct
from array import array
from fractions import Fraction

M128 = (1 << 128) - 1
F32_CANONICAL_NAN = 0x7FC00000
F64_CANONICAL_NAN = 0x7FF8000000000000

# struct formats of each lane interpretation (16 bytes each)
I8 = struct.Struct("<16b")
U8 = struct.Struct("<16B")
I16 = struct.Struct("<8h")
U16 = struct.Struct("<8H")
I32 = struct.Struct("<4i")
U32 = struct.Struct("<4I")
I64 = struct.Struct("<2q")
U64 = struct.Struct("<2Q")
F32 = struct.Struct("<4f")
F64 = struct.Struct("<2d")


def replicate(lane: int, bits: int) -> int:
    """`lane` (already within `bits` bits) in every lane of width `bits`."""
    out = 0
    for i in range(0, 128, bits):
        out |= lane << i
    return out


# Per lane width: the high bit of every lane, the other bits, one in the low bit of every lane.
HIGH = {bits: replicate(1 << (bits - 1), bits) for bits in (8, 16, 32, 64)}
LOW = {bits: M128 ^ HIGH[bits] for bits in (8, 16, 32, 64)}
ONES = {bits: replicate(1, bits) for bits in (8, 16, 32, 64)}


def lanes(fmt: struct.Struct, v: int) -> tuple:
    """The lanes of `v` as `fmt` reads them."""
    return fmt.unpack(v.to_bytes(16, "little"))


def from_lanes(fmt: struct.Struct, values) -> int:
    """The v128 whose lanes are `values` (each within `fmt`'s range)."""
    return int.from_bytes(fmt.pack(*values), "little")


# ---- f32 lanes ---------------------------------------------------------------------------
_f32_cells = array("f", bytes(16))


def f32_lanes_bits(values) -> int:
    """Four doubles rounded to f32 (overflow to infinity, ties to even), NaNs canonical, as
    a v128."""
    cells = _f32_cells
    cells[0], cells[1], cells[2], cells[3] = values
    out = int.from_bytes(cells.tobytes(), "little")
    for i, x in enumerate(values):
        if x != x:
            out = (out & ~(0xFFFFFFFF << (32 * i))) | (F32_CANONICAL_NAN << (32 * i))
    return out


def f64_lanes_bits(values) -> int:
    """Two doubles, NaNs canonical, as a v128."""
    a, b = values
    if a != a:
        a = _F64_NAN
    if b != b:
        b = _F64_NAN
    return int.from_bytes(F64.pack(a, b), "little")


_F64_NAN = struct.unpack("<d", struct.pack("<Q", F64_CANONICAL_NAN))[0]


def f32_bits_of(x: float) -> int:
    """The f32 bits of a double that already holds an f32 value (NaN -> canonical)."""
    if x != x:
        return F32_CANONICAL_NAN
    cells = _f32_cells
    cells[0] = x
    return int.from_bytes(cells.tobytes()[:4], "little")


# ---- fused multiply-add --------------------------------------------------------------------
def _round_to_f32(exact: Fraction, approx: float) -> float:
    """The f32 nearest `exact` (ties to even), given `approx`, the double nearest it. Rounding
    twice can only go wrong when `approx` is exactly halfway between two f32s (every such
    midpoint is a double, so the first rounding cannot cross one): then `exact` decides."""
    cells = _f32_cells
    cells[0] = approx
    y = cells[0]
    if y == approx:
        return y
    other = _f32_neighbour(y, approx)
    mid = (_as_fraction(y) + _as_fraction(other)) / 2
    if Fraction(approx) != mid or exact == mid:
        return y
    return max(y, other) if exact > mid else min(y, other)


_F32_MAX = struct.unpack("<f", struct.pack("<I", 0x7F7FFFFF))[0]


def _as_fraction(x: float) -> Fraction:
    """An f32 as a rational; an infinity as +-2**128 (where the next binade would start), so
    that the overflow threshold is the midpoint between it and the largest f32."""
    if x in (float("inf"), float("-inf")):
        return Fraction(2 ** 128) if x > 0 else Fraction(-(2 ** 128))
    return Fraction(x)


def _f32_neighbour(y: float, toward: float) -> float:
    """The f32 next to `y` (an f32, possibly infinite) on the side of `toward`."""
    bits = f32_bits_of(y)
    if y == 0.0:
        return struct.unpack("<f", struct.pack("<I", 1 if toward > 0 else 0x80000001))[0]
    away = (toward > y) == (y > 0)          # away from zero?
    return struct.unpack("<f", struct.pack("<I", bits + 1 if away else bits - 1))[0]


def fma(a: float, b: float, c: float, f32: bool) -> float:
    """a * b + c with a single rounding (to f32 when `f32`, else to f64); NaN for NaN results
    (the caller canonicalises)."""
    import math
    if not (math.isfinite(a) and math.isfinite(b) and math.isfinite(c)):
        return a * b + c                  # infinities and NaNs: no rounding question
    exact = Fraction(a) * Fraction(b) + Fraction(c)
    if exact == 0:
        # exact zero: its sign is that of the rounded operation on zeros (IEEE 754 6.3)
        product = a * b
        if product == 0.0:
            return product + c
        return 0.0
    try:
        approx = float(exact)
    except OverflowError:
        return math.inf if exact > 0 else -math.inf
    if not f32:
        return approx
    return _round_to_f32(exact, approx)
