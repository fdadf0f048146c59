"""Run-time helpers for the interpreter's integer SIMD instructions (v128 ints in and out).

The cheap lane-wise instructions (add, sub, neg, eq, ne, splat, bitwise) are single Python
expressions over the 128-bit int (SWAR: see `simd_ops.py`); the ones here need per-lane work:
`struct` unpacks the 16 bytes into a tuple of lanes in one C call, a comprehension computes,
and `struct` packs the result. Byte-wise table lookups (`bytes.translate`) do popcnt, abs and
swizzle. Shifts use precomputed per-count masks. Reached from generated code through
`simd_namespace()`; the float instructions are in `simd_float.py`, memory in `simd_memory.py`.
"""
from __future__ import annotations

from ..runtime.v128 import HIGH, I8, I16, I32, I64, M128, U8, U16, U32, U64, replicate

_LANE_FORMATS = {8: (I8, U8), 16: (I16, U16), 32: (I32, U32), 64: (I64, U64)}


def _b(v: int) -> bytes:
    return v.to_bytes(16, "little")


def _fb(data: bytes) -> int:
    return int.from_bytes(data, "little")


# ---- shifts ---------------------------------------------------------------------------------
def _shift_masks(bits: int):
    full = (1 << bits) - 1
    left = [replicate((full << s) & full, bits) for s in range(bits)]
    right = [replicate(full >> s, bits) for s in range(bits)]
    fill = [(((1 << s) - 1) << (bits - s)) for s in range(bits)]
    return left, right, fill


def _make_shifts(bits: int):
    left, right, fill = _shift_masks(bits)
    count_mask = bits - 1
    sign_shift = bits - 1
    high = HIGH[bits]

    def shl(a, s):
        s &= count_mask
        return (a << s) & left[s]

    def shr_u(a, s):
        s &= count_mask
        return (a >> s) & right[s]

    def shr_s(a, s):
        s &= count_mask
        return ((a >> s) & right[s]) | (((a & high) >> sign_shift) * fill[s])

    return shl, shr_u, shr_s


i8x16_shl, i8x16_shr_u, i8x16_shr_s = _make_shifts(8)
i16x8_shl, i16x8_shr_u, i16x8_shr_s = _make_shifts(16)
i32x4_shl, i32x4_shr_u, i32x4_shr_s = _make_shifts(32)
i64x2_shl, i64x2_shr_u, i64x2_shr_s = _make_shifts(64)


# ---- lane-wise binary operations via struct --------------------------------------------------
def _binary(fmt_in, fmt_out, fn):
    unpack = fmt_in.unpack
    pack = fmt_out.pack

    def op(a, b):
        return _fb(pack(*map(fn, unpack(_b(a)), unpack(_b(b)))))
    return op


def _unary(fmt_in, fmt_out, fn):
    unpack = fmt_in.unpack
    pack = fmt_out.pack

    def op(a):
        return _fb(pack(*map(fn, unpack(_b(a)))))
    return op


# Lane comparisons: all ones (-1, masked by the pack) when true, 0 when false; shared with
# the float shapes (`simd_float.py`).
LANE_COMPARISONS = {
    "eq": lambda x, y: -(x == y), "ne": lambda x, y: -(x != y),
    "lt": lambda x, y: -(x < y), "gt": lambda x, y: -(x > y),
    "le": lambda x, y: -(x <= y), "ge": lambda x, y: -(x >= y),
}


def _define_shape(bits: int) -> dict:
    """The struct-based helpers of one integer shape, named `iNxM_<op>`."""
    signed, unsigned = _LANE_FORMATS[bits]
    shape = f"i{bits}x{128 // bits}"
    full = (1 << bits) - 1
    lo, hi = -(1 << (bits - 1)), (1 << (bits - 1)) - 1
    out = {}
    for name in ("lt", "gt", "le", "ge"):
        fn = LANE_COMPARISONS[name]
        out[f"{shape}_{name}_s"] = _binary(signed, signed, fn)
        out[f"{shape}_{name}_u"] = _binary(unsigned, signed, fn)
    out[f"{shape}_min_s"] = _binary(signed, signed, min)
    out[f"{shape}_max_s"] = _binary(signed, signed, max)
    out[f"{shape}_min_u"] = _binary(unsigned, unsigned, min)
    out[f"{shape}_max_u"] = _binary(unsigned, unsigned, max)
    out[f"{shape}_mul"] = _binary(unsigned, unsigned, lambda x, y: (x * y) & full)
    out[f"{shape}_abs"] = _unary(signed, unsigned, lambda x: abs(x) & full)
    out[f"{shape}_avgr_u"] = _binary(unsigned, unsigned, lambda x, y: (x + y + 1) >> 1)
    out[f"{shape}_add_sat_s"] = _binary(signed, signed, lambda x, y: max(lo, min(hi, x + y)))
    out[f"{shape}_sub_sat_s"] = _binary(signed, signed, lambda x, y: max(lo, min(hi, x - y)))
    out[f"{shape}_add_sat_u"] = _binary(unsigned, unsigned, lambda x, y: min(full, x + y))
    out[f"{shape}_sub_sat_u"] = _binary(unsigned, unsigned, lambda x, y: max(0, x - y))
    top = bits - 1
    unpack_u = unsigned.unpack

    def bitmask(a):
        result = 0
        for i, x in enumerate(unpack_u(_b(a))):
            result |= (x >> top) << i
        return result
    out[f"{shape}_bitmask"] = bitmask
    return out


_GENERATED = {}
for _bits in (8, 16, 32, 64):
    _GENERATED.update(_define_shape(_bits))


# ---- byte tables ------------------------------------------------------------------------------
_POPCNT = bytes(bin(i).count("1") for i in range(256))
_ABS8 = bytes(abs(i - 256 if i >= 128 else i) & 0xFF for i in range(256))


def i8x16_popcnt(a):
    return _fb(_b(a).translate(_POPCNT))


def i8x16_abs(a):
    return _fb(_b(a).translate(_ABS8))


def i8x16_swizzle(a, s):
    return _fb(_b(s).translate(_b(a) + bytes(240)))


def i8x16_shuffle(a, b, getter):
    """`getter` is an `operator.itemgetter` of the 16 lane indices into a's and b's bytes."""
    return _fb(bytes(getter(_b(a) + _b(b))))


# ---- narrowing, widening, pairwise -----------------------------------------------------------
def _clamp(lo, hi):
    return lambda x: lo if x < lo else hi if x > hi else x


_sat_s8 = _clamp(-128, 127)
_sat_u8 = _clamp(0, 255)
_sat_s16 = _clamp(-32768, 32767)
_sat_u16 = _clamp(0, 65535)


def i8x16_narrow_i16x8_s(a, b):
    return _fb(I8.pack(*map(_sat_s8, I16.unpack(_b(a)) + I16.unpack(_b(b)))))


def i8x16_narrow_i16x8_u(a, b):
    return _fb(U8.pack(*map(_sat_u8, I16.unpack(_b(a)) + I16.unpack(_b(b)))))


def i16x8_narrow_i32x4_s(a, b):
    return _fb(I16.pack(*map(_sat_s16, I32.unpack(_b(a)) + I32.unpack(_b(b)))))


def i16x8_narrow_i32x4_u(a, b):
    return _fb(U16.pack(*map(_sat_u16, I32.unpack(_b(a)) + I32.unpack(_b(b)))))


def _half_formats(bits):
    """(signed, unsigned) struct formats of the 8-byte half of a v128 in `bits`-bit lanes."""
    import struct
    n = 64 // bits
    code = {8: "b", 16: "h", 32: "i"}[bits]
    return struct.Struct(f"<{n}{code}"), struct.Struct(f"<{n}{code.upper()}")


def _make_extends(bits: int):
    """extend_low/high_s/u from `bits`-bit lanes to twice that width."""
    half_s, half_u = _half_formats(bits)
    wide_u = _LANE_FORMATS[2 * bits][1]
    mask = (1 << (2 * bits)) - 1

    def make(fmt, high):
        start = 8 if high else 0

        def extend(a):
            values = fmt.unpack(_b(a)[start:start + 8])
            return _fb(wide_u.pack(*[x & mask for x in values]))
        return extend

    def make_mul(fmt, high):
        start = 8 if high else 0

        def extmul(a, b):
            xs = fmt.unpack(_b(a)[start:start + 8])
            ys = fmt.unpack(_b(b)[start:start + 8])
            return _fb(wide_u.pack(*[(x * y) & mask for x, y in zip(xs, ys)]))
        return extmul

    return {"extend_low_s": make(half_s, False), "extend_high_s": make(half_s, True),
            "extend_low_u": make(half_u, False), "extend_high_u": make(half_u, True),
            "extmul_low_s": make_mul(half_s, False), "extmul_high_s": make_mul(half_s, True),
            "extmul_low_u": make_mul(half_u, False), "extmul_high_u": make_mul(half_u, True)}


for _bits, _shape in ((8, "i16x8"), (16, "i32x4"), (32, "i64x2")):
    _source = f"i{_bits}x{128 // _bits}"
    for _kind, _fn in _make_extends(_bits).items():
        _op, _half, _sign = _kind.split("_")
        _GENERATED[f"{_shape}_{_op}_{_half}_{_source}_{_sign}"] = _fn


def _make_extadd(bits: int):
    signed, unsigned = _LANE_FORMATS[bits]
    wide_u = _LANE_FORMATS[2 * bits][1]
    mask = (1 << (2 * bits)) - 1

    def make(fmt):
        def extadd(a):
            v = fmt.unpack(_b(a))
            return _fb(wide_u.pack(*[(v[i] + v[i + 1]) & mask for i in range(0, len(v), 2)]))
        return extadd
    return make(signed), make(unsigned)


(i16x8_extadd_pairwise_i8x16_s, i16x8_extadd_pairwise_i8x16_u) = _make_extadd(8)
(i32x4_extadd_pairwise_i16x8_s, i32x4_extadd_pairwise_i16x8_u) = _make_extadd(16)


def i32x4_dot_i16x8_s(a, b):
    x = I16.unpack(_b(a))
    y = I16.unpack(_b(b))
    return _fb(U32.pack(*[(x[i] * y[i] + x[i + 1] * y[i + 1]) & 0xFFFFFFFF
                          for i in range(0, 8, 2)]))


def i16x8_q15mulr_sat_s(a, b):
    return _fb(I16.pack(*[_sat_s16((x * y + 0x4000) >> 15)
                          for x, y in zip(I16.unpack(_b(a)), I16.unpack(_b(b)))]))


# ---- tests of all lanes -----------------------------------------------------------------------
def _make_all_true(bits: int):
    high = HIGH[bits]
    low = M128 ^ high

    def all_true(a):
        # a lane is nonzero iff the high bit of ((lane & low) + low) | lane is set
        return (((a & low) + low) | a) & high == high
    return all_true


i8x16_all_true = _make_all_true(8)
i16x8_all_true = _make_all_true(16)
i32x4_all_true = _make_all_true(32)
i64x2_all_true = _make_all_true(64)


def simd_int_namespace() -> dict:
    ns = {name: obj for name, obj in globals().items()
          if callable(obj) and name[:1] == "i" and "x" in name[:6]}
    for name, fn in _GENERATED.items():
        ns.setdefault(name, fn)         # the byte-table versions above win
    return ns
