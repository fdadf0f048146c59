"""Deterministic call arguments and engine-neutral keys for wasm values.

Both sides of a comparison derive the same arguments from a function's parameter types and an
argument-set number, and turn every value they observe into a short string key, so outcomes
compare with `==` and serialise to JSON. NaN is "nan" whatever its payload or sign (the spec
leaves both nondeterministic); every other float is keyed by its exact bits, so -0.0 and 0.0
differ. References are keyed by null-ness only (identities cannot be compared across engines).
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
        elif which == 1 and name in ("i32", "i64"):
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
    return f"{type_name}:{'null' if value is None else 'non-null'}"
