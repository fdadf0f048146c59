"""Value conversions shared by both engines: f32/f64 bit patterns, signed views, defaults.

f32 values are Python floats holding the exact f32 value. NaNs are the exception: an f32 NaN
with bits `b` is held as the f64 NaN whose payload is the f32 payload shifted up 29 bits (sign
kept, quiet bit not forced), so signalling payloads survive loads, stores, neg, abs, copysign
and reinterpretation exactly.

v128 values are Python ints in [0, 2**128) with lane 0 in the least-significant bits (the
vector's 16 bytes read little-endian), both at the API and inside the engines' Python code.
"""
from __future__ import annotations

import struct
from array import array

from ..binary.types import F32, F64, I32, I64, V128

M128 = (1 << 128) - 1

_f32 = struct.Struct("<f")
_u32 = struct.Struct("<I")
_f64 = struct.Struct("<d")
_u64 = struct.Struct("<Q")
_round_cell = array("f", [0.0])


def f32_from_bits(bits: int) -> float:
    if bits & 0x7F800000 == 0x7F800000 and bits & 0x007FFFFF:
        sign = (bits >> 31) << 63
        return _f64.unpack(_u64.pack(sign | 0x7FF0000000000000 | (bits & 0x007FFFFF) << 29))[0]
    return _f32.unpack(_u32.pack(bits))[0]


def f32_to_bits(value: float) -> int:
    if value != value:
        b = _u64.unpack(_f64.pack(value))[0]
        return ((b >> 63) << 31) | 0x7F800000 | ((b >> 29) & 0x007FFFFF) or 0x7FC00000
    return _u32.unpack(_f32.pack(value))[0]


def f64_from_bits(bits: int) -> float:
    return _f64.unpack(_u64.pack(bits))[0]


def f64_to_bits(value: float) -> int:
    return _u64.unpack(_f64.pack(value))[0]


def round_f32(value: float) -> float:
    """Round a double to the nearest f32 (overflow gives infinity), NaNs as arithmetic NaN."""
    cell = _round_cell
    cell[0] = value
    return cell[0]


def signed32(v: int) -> int:
    return v - 0x100000000 if v & 0x80000000 else v


def signed64(v: int) -> int:
    return v - 0x10000000000000000 if v & 0x8000000000000000 else v


def to_internal(valtype: int, value):
    """Convert a Python API value (signed or unsigned int, float) to the internal form."""
    if valtype == I32:
        return int(value) & 0xFFFFFFFF
    if valtype == I64:
        return int(value) & 0xFFFFFFFFFFFFFFFF
    if valtype == F32:
        return round_f32(float(value)) if value == value else float(value)
    if valtype == F64:
        return float(value)
    if valtype == V128:
        return v128_from_python(value)
    return value


def v128_from_python(value) -> int:
    """A v128 from the API: an int (a negative one is taken modulo 2**128, as i32/i64 are)
    or 16 bytes (little-endian, lane 0 first)."""
    if isinstance(value, (bytes, bytearray, memoryview)):
        data = bytes(value)
        if len(data) != 16:
            raise ValueError(f"a v128 given as bytes must be 16 bytes, got {len(data)}")
        return int.from_bytes(data, "little")
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"a v128 must be an int or 16 bytes, got {type(value).__name__}")
    if not -(1 << 127) <= value <= M128:
        raise ValueError("a v128 int must lie in [-2**127, 2**128)")
    return value & M128


def format_v128(value: int) -> str:
    """The one text form of a v128 (CLI output): `0x` and 32 hex digits, the most significant
    first, so lane 0 is the rightmost digits."""
    return f"0x{value:032x}"


def from_internal(valtype: int, value):
    """Convert an internal value to the Python API form: signed ints, floats, references."""
    if valtype == I32:
        return signed32(value)
    if valtype == I64:
        return signed64(value)
    return value
