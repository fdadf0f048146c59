"""Deterministic call arguments and engine-neutral keys for wasm values.

Both sides of a comparison derive the same arguments from a function's parameter types and an
argument-set number, and turn every value they observe into a short string key, so outcomes
compare with `==` and serialise to JSON. NaN is "nan" whatever its payload or sign (the spec
leaves both nondeterministic); every other float is keyed by its exact bits, so -0.0 and 0.0
differ. References are keyed by null-ness only (identities cannot be compared across engines).

A v128 is a Python int in [0, 2**128) with lane 0 in the low bits (pywamr's API representation;
the oracle converts wasmtime's 16 little-endian bytes to the same). Its key is the exact 128 bits;
`values_equal` is the comparison that forgives NaN lanes (see there).
"""
from __future__ import annotations

import math
import struct

NAN = float("nan")
INF = float("inf")

# one column per argument set: zeros, small values, edge values, other edge values, the
# largest signed values with floats at the integer-conversion boundaries, then a page size
# and denormals
_ARGUMENTS = {
    "i32": (0, 1, -0x80000000, -1, 0x7FFFFFFF, 0x10000),
    "i64": (0, 2, -1, -0x8000000000000000, 0x7FFFFFFFFFFFFFFF, 0x100000000),
    "f32": (0.0, 1.5, NAN, -INF, 2147483648.0, 1.401298464324817e-45),
    "f64": (0.0, -2.5, -0.0, NAN, -9.223372036854775808e18, 5e-324),
}
ARGUMENT_SETS = 6
V128_MASK = (1 << 128) - 1


def lanes(width: int, values) -> int:
    """A v128 int from lane values of `width` bits, lane 0 first (each masked to its width)."""
    out = 0
    for position, value in enumerate(values):
        out |= (value & ((1 << width) - 1)) << (width * position)
    return out


# v128 argument sets: zero, distinct small i32 lanes, all ones, f32 lanes NaN / -inf / -0.0 /
# 2**31, signed-byte edges, f64 lanes the smallest denormal / a negative quiet NaN
_ARGUMENTS["v128"] = (
    0,
    lanes(32, (1, 2, 3, 4)),
    V128_MASK,
    lanes(32, (0x7FC00000, 0xFF800000, 0x80000000, 0x4F000000)),
    lanes(8, (0x80, 0x7F, 0x00, 0xFF) * 4),
    lanes(64, (1, 0xFFF8000000000000)),
)


def arguments(param_types: list[str], which: int, funcref=None, externref=None) -> list:
    """Argument set `which` for parameters named "i32", "i64", "f32", "f64", "funcref", ...

    References are null in even sets; odd sets pass `funcref` and `externref`, which each
    side supplies as the same thing in its own terms (the module's first exported function,
    a host object)."""
    args = []
    for position, name in enumerate(param_types):
        row = _ARGUMENTS.get(name)
        if row is None:
            args.append(None if which % 2 == 0 else
                        funcref if name == "funcref" else externref)
        elif which == 1 and name in ("i32", "i64", "v128"):
            args.append(row[1] + position)   # small, but not all equal
        else:
            args.append(row[which])
    return args


def value_key(type_name: str, value) -> str:
    if type_name in ("i32", "i64"):
        bits = 32 if type_name == "i32" else 64
        return f"{type_name}:{int(value) & ((1 << bits) - 1):#x}"
    if type_name in ("f32", "f64"):
        value = float(value)
        if math.isnan(value):
            return f"{type_name}:nan"
        if type_name == "f32":
            packed = struct.pack("<f", value)
            if struct.unpack("<f", packed)[0] != value:
                return f"f32:not-an-f32:{value!r}"   # an engine produced an impossible value
            return f"f32:{struct.unpack('<I', packed)[0]:#010x}"
        return f"f64:{struct.unpack('<Q', struct.pack('<d', value))[0]:#018x}"
    if type_name == "v128":
        if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= V128_MASK:
            return f"v128:not-a-v128:{value!r}"   # outside the API's representation
        return f"v128:{value:#034x}"
    return f"{type_name}:{'null' if value is None else 'non-null'}"


def _nan_lanes_agree(a: int, b: int, width: int) -> bool:
    """Every `width`-bit lane of a and b equal, or a NaN of that width in both."""
    exponent = (1 << (11 if width == 64 else 8)) - 1
    mantissa_bits = 52 if width == 64 else 23
    mask = (1 << width) - 1
    for shift in range(0, 128, width):
        x, y = (a >> shift) & mask, (b >> shift) & mask
        if x == y:
            continue
        is_nan = [((v >> mantissa_bits) & exponent) == exponent and v & ((1 << mantissa_bits) - 1)
                  for v in (x, y)]
        if not all(is_nan):
            return False
    return True


def values_equal(want: str, got: str) -> bool:
    """Two value keys describe equal results. Exact, except for v128: the spec leaves the sign
    and payload of a NaN produced by a SIMD float instruction nondeterministic, and a v128 does
    not say whether it holds f32x4 or f64x2 lanes, so two v128 values are equal when every
    32-bit lane is equal or an f32 NaN on both sides, or every 64-bit lane is equal or an f64
    NaN on both sides (the scalar keys already key every f32/f64 NaN as "nan")."""
    if want == got:
        return True
    if not (want.startswith("v128:0x") and got.startswith("v128:0x")):
        return False
    a, b = int(want[5:], 16), int(got[5:], 16)
    return _nan_lanes_agree(a, b, 32) or _nan_lanes_agree(a, b, 64)
