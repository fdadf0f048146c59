"""Run-time helpers for the interpreter's float SIMD instructions and SIMD conversions.

Lanes are unpacked with `struct` into Python floats (an f32 lane is exactly representable as
a double), computed with the same scalar rules as the scalar instructions (`helpers.py`: the
wasm min/max, rounding and division rules), and packed back. An f32 result is computed in
double precision and rounded once to f32, which is exact for + - * / and sqrt (the double
has more than 2 * 24 + 2 bits). NaN results are the canonical NaN (see runtime/v128.py);
abs, neg, pmin and pmax keep lane bits exactly. Reached through `simd_float_namespace()`.
"""
from __future__ import annotations

from ..runtime.v128 import (F32, F64, I32, I64, U32, f32_lanes_bits, f64_lanes_bits,
                            from_lanes, lanes)
from .helpers import fceil, fdiv, ffloor, fmax, fmin, fnearest, fsqrt, ftrunc
from .simd_int import LANE_COMPARISONS


def _b(v: int) -> bytes:
    return v.to_bytes(16, "little")


def _compare(fmt, out, fn):
    unpack = fmt.unpack
    pack = out.pack

    def op(a, b):
        return int.from_bytes(pack(*map(fn, unpack(_b(a)), unpack(_b(b)))), "little")
    return op


def _add(x, y):
    return x + y


def _sub(x, y):
    return x - y


def _mul(x, y):
    return x * y


def _arith2(fmt, finish, fn):
    unpack = fmt.unpack

    def op(a, b):
        return finish(list(map(fn, unpack(_b(a)), unpack(_b(b)))))
    return op


def _arith1(fmt, finish, fn):
    unpack = fmt.unpack

    def op(a):
        return finish(list(map(fn, unpack(_b(a)))))
    return op


def _pick(fmt, bits, take_b):
    """pmin/pmax: lane i of b where take_b(a_i, b_i), else lane i of a, as bit patterns."""
    unpack = fmt.unpack
    full = (1 << bits) - 1

    def op(a, b):
        out = a
        for i, (x, y) in enumerate(zip(unpack(_b(a)), unpack(_b(b)))):
            if take_b(x, y):
                mask = full << (i * bits)
                out = (out & ~mask) | (b & mask)
        return out
    return op


def _define() -> dict:
    out = {}
    for shape, fmt, mask_fmt, bits, finish in (("f32x4", F32, I32, 32, f32_lanes_bits),
                                                ("f64x2", F64, I64, 64, f64_lanes_bits)):
        for name, fn in LANE_COMPARISONS.items():
            out[f"{shape}_{name}"] = _compare(fmt, mask_fmt, fn)
        for name, fn in (("add", _add), ("sub", _sub), ("mul", _mul), ("div", fdiv),
                         ("min", fmin), ("max", fmax)):
            out[f"{shape}_{name}"] = _arith2(fmt, finish, fn)
        for name, fn in (("sqrt", fsqrt), ("ceil", fceil), ("floor", ffloor),
                         ("trunc", ftrunc), ("nearest", fnearest)):
            out[f"{shape}_{name}"] = _arith1(fmt, finish, fn)
        out[f"{shape}_pmin"] = _pick(fmt, bits, lambda x, y: y < x)
        out[f"{shape}_pmax"] = _pick(fmt, bits, lambda x, y: x < y)
    return out


# ---- conversions ---------------------------------------------------------------------------
def f32x4_demote_f64x2_zero(a):
    x, y = lanes(F64, a)
    return f32_lanes_bits((x, y, 0.0, 0.0))


def f64x2_promote_low_f32x4(a):
    x, y, _, _ = lanes(F32, a)
    return f64_lanes_bits((x, y))


def f32x4_convert_i32x4_s(a):
    return f32_lanes_bits([float(x) for x in lanes(I32, a)])


def f32x4_convert_i32x4_u(a):
    return f32_lanes_bits([float(x) for x in lanes(U32, a)])


def f64x2_convert_low_i32x4_s(a):
    x, y, _, _ = lanes(I32, a)
    return from_lanes(F64, (float(x), float(y)))


def f64x2_convert_low_i32x4_u(a):
    x, y, _, _ = lanes(U32, a)
    return from_lanes(F64, (float(x), float(y)))


def _sat_s32(x: float) -> int:
    if x != x:
        return 0
    if x <= -2147483648.0:
        return 0x80000000
    if x >= 2147483647.0:
        return 0x7FFFFFFF
    return int(x) & 0xFFFFFFFF


def _sat_u32(x: float) -> int:
    if x != x or x <= 0.0:
        return 0
    if x >= 4294967295.0:
        return 0xFFFFFFFF
    return int(x)


def i32x4_trunc_sat_f32x4_s(a):
    return from_lanes(U32, map(_sat_s32, lanes(F32, a)))


def i32x4_trunc_sat_f32x4_u(a):
    return from_lanes(U32, map(_sat_u32, lanes(F32, a)))


def i32x4_trunc_sat_f64x2_s_zero(a):
    x, y = lanes(F64, a)
    return _sat_s32(x) | _sat_s32(y) << 32


def i32x4_trunc_sat_f64x2_u_zero(a):
    x, y = lanes(F64, a)
    return _sat_u32(x) | _sat_u32(y) << 32


def simd_float_namespace() -> dict:
    ns = {name: obj for name, obj in globals().items()
          if callable(obj) and name[:5] in ("f32x4", "f64x2", "i32x4")}
    ns.update(_define())
    return ns
