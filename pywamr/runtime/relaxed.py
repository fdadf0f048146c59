"""Relaxed SIMD: the one deterministic choice pywamr makes for each instruction, on both engines.

The relaxed-SIMD proposal lets each instruction return one of a few results. pywamr returns
what wasmtime returns on x86-64 (with its default, non-"deterministic" relaxed SIMD; measured
with the `wasmtime` package on a CPU with SSE4.1, AVX2 and FMA: tests/test_simd_relaxed.py checks
every row against it on random and edge-case inputs). Both engines must implement exactly this
table; the functions below are the reference (v128 ints in, v128 ints out) and the interpreter
calls them directly.

  instruction                      result (lanes; a, b, c are the operands in order)
  -------------------------------  ------------------------------------------------------------
  i8x16.relaxed_swizzle a s        lane i = 0 if s[i] >= 128 (top bit set), else a[s[i] & 15]
                                   (x86 pshufb; the plain swizzle gives 0 for s[i] >= 16)
  i32x4.relaxed_trunc_f32x4_s      truncate; NaN and out-of-range lanes give 0x80000000
                                   (x86 cvttps2dq)
  i32x4.relaxed_trunc_f32x4_u      as i32x4.trunc_sat_f32x4_u (NaN and negatives 0, large
                                   0xFFFFFFFF)
  i32x4.relaxed_trunc_f64x2_s_zero truncate lanes 0-1; NaN / out of range give 0x80000000;
                                   lanes 2-3 are 0
  i32x4.relaxed_trunc_f64x2_u_zero as i32x4.trunc_sat_f64x2_u_zero
  f32x4/f64x2.relaxed_madd a b c   fused: a * b + c rounded once (x86 FMA)
  f32x4/f64x2.relaxed_nmadd a b c  fused: -(a * b) + c rounded once
                                   NaN results of madd/nmadd: the canonical NaN (runtime/v128.py)
  i8x16.relaxed_laneselect a b m   per byte: a if m's byte has its top bit set, else b (pblendvb)
  i16x8.relaxed_laneselect a b m   bitwise: (a & m) | (b & ~m), as v128.bitselect
  i32x4.relaxed_laneselect a b m   per 32-bit lane: a if m's lane has its top bit set, else b
  i64x2.relaxed_laneselect a b m   per 64-bit lane: a if m's lane has its top bit set, else b
  f32x4/f64x2.relaxed_min a b      b if b < a else a: as f32x4/f64x2.pmin (bits kept exactly,
                                   NaN operands included: min(NaN, 1) = NaN, min(1, NaN) = 1,
                                   min(0, -0) = 0, min(-0, 0) = -0)
  f32x4/f64x2.relaxed_max a b      b if b > a else a: as pmax
  i16x8.relaxed_q15mulr_s a b      (a * b + 0x4000) >> 15, wrapped to 16 bits:
                                   0x8000 * 0x8000 gives 0x8000 (x86 pmulhrsw; the plain
                                   q15mulr_sat_s saturates to 0x7FFF)
  i16x8.relaxed_dot_i8x16_i7x16_s a b
                                   lane i = sat16(s8(a[2i]) * u8(b[2i]) + s8(a[2i+1]) * u8(b[2i+1])):
                                   a's bytes signed, b's unsigned, the pair sum saturated to
                                   i16 (x86 pmaddubsw with b as its unsigned operand)
  i32x4.relaxed_dot_i8x16_i7x16_add_s a b c
                                   lane i = the two saturated i16 sums above of lane i's four
                                   bytes, added (as i32) to c's lane, wrapping

Sits in the runtime layer (below both engines). Does not emit code.
"""
from __future__ import annotations

import math

from .v128 import (F32, F64, F32_CANONICAL_NAN, F64_CANONICAL_NAN, I8, I16, I32, M128, U8, U16,
                   U32, U64, f32_lanes_bits, f64_lanes_bits, fma, from_lanes, lanes)

_M32 = 0xFFFFFFFF
_M64 = 0xFFFFFFFFFFFFFFFF
_INT32_MIN = 0x80000000


def _bytes(v: int) -> bytes:
    return v.to_bytes(16, "little")


# ---- swizzle -----------------------------------------------------------------------------
def relaxed_swizzle(a: int, s: int) -> int:
    table = _bytes(a) * 8 + bytes(128)        # index 0..127 -> a[index & 15], 128.. -> 0
    return int.from_bytes(_bytes(s).translate(table), "little")


# ---- truncation --------------------------------------------------------------------------
def _trunc_s_x86(x: float) -> int:
    if x != x or not -2147483649.0 < x < 2147483648.0:
        return _INT32_MIN
    return int(x) & _M32


def _trunc_sat_u32(x: float) -> int:
    if x != x or x <= 0.0:
        return 0
    if x >= 4294967295.0:
        return _M32
    return int(x)


def relaxed_trunc_f32x4_s(a: int) -> int:
    return from_lanes(U32, map(_trunc_s_x86, lanes(F32, a)))


def relaxed_trunc_f32x4_u(a: int) -> int:
    return from_lanes(U32, map(_trunc_sat_u32, lanes(F32, a)))


def relaxed_trunc_f64x2_s_zero(a: int) -> int:
    x, y = lanes(F64, a)
    return _trunc_s_x86(x) | _trunc_s_x86(y) << 32


def relaxed_trunc_f64x2_u_zero(a: int) -> int:
    x, y = lanes(F64, a)
    return _trunc_sat_u32(x) | _trunc_sat_u32(y) << 32


# ---- fused multiply-add --------------------------------------------------------------------
def _madd_lanes(fmt, a, b, c, negate, f32):
    return [fma(-x if negate else x, y, z, f32)
            for x, y, z in zip(lanes(fmt, a), lanes(fmt, b), lanes(fmt, c))]


def f32x4_relaxed_madd(a: int, b: int, c: int) -> int:
    return f32_lanes_bits(_madd_lanes(F32, a, b, c, False, True))


def f32x4_relaxed_nmadd(a: int, b: int, c: int) -> int:
    return f32_lanes_bits(_madd_lanes(F32, a, b, c, True, True))


def f64x2_relaxed_madd(a: int, b: int, c: int) -> int:
    return f64_lanes_bits(_madd_lanes(F64, a, b, c, False, False))


def f64x2_relaxed_nmadd(a: int, b: int, c: int) -> int:
    return f64_lanes_bits(_madd_lanes(F64, a, b, c, True, False))


# ---- lane select ---------------------------------------------------------------------------
def _top_bit_mask(m: int, bits: int) -> int:
    """Every lane of width `bits` all ones where m's lane has its top bit set, else zeros."""
    out = 0
    top = 1 << (bits - 1)
    full = (1 << bits) - 1
    for shift in range(0, 128, bits):
        if (m >> shift) & top:
            out |= full << shift
    return out


def i8x16_relaxed_laneselect(a: int, b: int, m: int) -> int:
    mask = int.from_bytes(bytes(0xFF if x & 0x80 else 0 for x in _bytes(m)), "little")
    return (a & mask) | (b & ~mask & M128)


def i16x8_relaxed_laneselect(a: int, b: int, m: int) -> int:
    return (a & m) | (b & ~m & M128)


def i32x4_relaxed_laneselect(a: int, b: int, m: int) -> int:
    mask = _top_bit_mask(m, 32)
    return (a & mask) | (b & ~mask & M128)


def i64x2_relaxed_laneselect(a: int, b: int, m: int) -> int:
    mask = _top_bit_mask(m, 64)
    return (a & mask) | (b & ~mask & M128)


# ---- min / max (pmin / pmax: lane bits kept) ------------------------------------------------
def _select_lanes(fmt, bits, a, b, take_b) -> int:
    """Lane i of `b` where take_b(a_i, b_i), else lane i of `a` (as bit patterns)."""
    out = a
    full = (1 << bits) - 1
    for i, (x, y) in enumerate(zip(lanes(fmt, a), lanes(fmt, b))):
        if take_b(x, y):
            shift = i * bits
            out = (out & ~(full << shift)) | (b & (full << shift))
    return out


def f32x4_relaxed_min(a: int, b: int) -> int:
    return _select_lanes(F32, 32, a, b, lambda x, y: y < x)


def f32x4_relaxed_max(a: int, b: int) -> int:
    return _select_lanes(F32, 32, a, b, lambda x, y: y > x)


def f64x2_relaxed_min(a: int, b: int) -> int:
    return _select_lanes(F64, 64, a, b, lambda x, y: y < x)


def f64x2_relaxed_max(a: int, b: int) -> int:
    return _select_lanes(F64, 64, a, b, lambda x, y: y > x)


# ---- integer products ------------------------------------------------------------------------
def i16x8_relaxed_q15mulr_s(a: int, b: int) -> int:
    return from_lanes(U16, [((x * y + 0x4000) >> 15) & 0xFFFF
                            for x, y in zip(lanes(I16, a), lanes(I16, b))])


def _sat16(x: int) -> int:
    return -0x8000 if x < -0x8000 else 0x7FFF if x > 0x7FFF else x


def _dot_pairs(a: int, b: int) -> list:
    x = lanes(I8, a)
    y = lanes(U8, b)
    return [_sat16(x[i] * y[i] + x[i + 1] * y[i + 1]) for i in range(0, 16, 2)]


def i16x8_relaxed_dot_i8x16_i7x16_s(a: int, b: int) -> int:
    return from_lanes(I16, _dot_pairs(a, b))


def i32x4_relaxed_dot_i8x16_i7x16_add_s(a: int, b: int, c: int) -> int:
    pairs = _dot_pairs(a, b)
    acc = lanes(I32, c)
    return from_lanes(U32, [(pairs[2 * i] + pairs[2 * i + 1] + acc[i]) & _M32
                            for i in range(4)])


RELAXED = {
    "i8x16.relaxed_swizzle": relaxed_swizzle,
    "i32x4.relaxed_trunc_f32x4_s": relaxed_trunc_f32x4_s,
    "i32x4.relaxed_trunc_f32x4_u": relaxed_trunc_f32x4_u,
    "i32x4.relaxed_trunc_f64x2_s_zero": relaxed_trunc_f64x2_s_zero,
    "i32x4.relaxed_trunc_f64x2_u_zero": relaxed_trunc_f64x2_u_zero,
    "f32x4.relaxed_madd": f32x4_relaxed_madd,
    "f32x4.relaxed_nmadd": f32x4_relaxed_nmadd,
    "f64x2.relaxed_madd": f64x2_relaxed_madd,
    "f64x2.relaxed_nmadd": f64x2_relaxed_nmadd,
    "i8x16.relaxed_laneselect": i8x16_relaxed_laneselect,
    "i16x8.relaxed_laneselect": i16x8_relaxed_laneselect,
    "i32x4.relaxed_laneselect": i32x4_relaxed_laneselect,
    "i64x2.relaxed_laneselect": i64x2_relaxed_laneselect,
    "f32x4.relaxed_min": f32x4_relaxed_min,
    "f32x4.relaxed_max": f32x4_relaxed_max,
    "f64x2.relaxed_min": f64x2_relaxed_min,
    "f64x2.relaxed_max": f64x2_relaxed_max,
    "i16x8.relaxed_q15mulr_s": i16x8_relaxed_q15mulr_s,
    "i16x8.relaxed_dot_i8x16_i7x16_s": i16x8_relaxed_dot_i8x16_i7x16_s,
    "i32x4.relaxed_dot_i8x16_i7x16_add_s": i32x4_relaxed_dot_i8x16_i7x16_add_s,
}
"""Instruction name -> reference implementation (v128 ints); every relaxed-SIMD instruction."""

__all__ = ["RELAXED", "F32_CANONICAL_NAN", "F64_CANONICAL_NAN", "math"]
