"""Python templates of the SIMD instructions for the interpreter's translator, and the names
the generated code uses for them.

Representation (measured, see tests/test_simd_interp.py's note and the report): a v128 is a
Python int in [0, 2**128), lane 0 in the low bits, the same form as at the API. The bitwise
instructions, `v128.const`, any_true and lane moves are then one or two int operations; lane-wise
add, sub, neg, eq, ne and splat are SWAR expressions on the whole int (per lane width `w`:
`H<w>` has the top bit of every lane, `L<w>` the others, `R<w>` a one in every lane's low
bit, `F<w>` every bit). An i32x4.add this way costs about a quarter of unpacking the lanes
with `struct`, computing four sums and packing them again (250 ns against 1,040 ns per
operation on the development machine; a tuple-of-lanes representation costs 290 ns for the
add but pays conversions at every shape change, load, store and call). The other instructions
call helpers (`simd_int.py`, `simd_float.py`, `runtime/relaxed.py`, memory ones below).

`SIMD_EXPR` (fixed typing, no immediate), `SIMD_LOAD` and `SIMD_STORE` extend `ops.EXPR`, `LOAD`
and `STORE` with the same conventions. Instructions with lane or shuffle immediates are
emitted by `simd_emit.py`. Nothing here runs wasm code.
"""
from __future__ import annotations

import struct

from ..binary.simd_opcodes import SIMD_OPCODES
from ..runtime.relaxed import RELAXED
from ..runtime.v128 import HIGH, LOW, M128, ONES
from .simd_float import simd_float_namespace
from .simd_int import simd_int_namespace

_SHAPES = {"i8x16": 8, "i16x8": 16, "i32x4": 32, "i64x2": 64}


def _swar(shape: str, bits: int) -> dict:
    h, low, full, top = f"H{bits}", f"L{bits}", f"F{bits}", bits - 1
    nonzero = f"((((({{0}} ^ {{1}}) & {low}) + {low}) | ({{0}} ^ {{1}})) & {h})"
    return {
        f"{shape}.add": f"((({{0}} & {low}) + ({{1}} & {low})) ^ (({{0}} ^ {{1}}) & {h}))",
        f"{shape}.sub": f"((({{0}} | {h}) - ({{1}} & {low})) ^ (({{0}} ^ ~{{1}}) & {h}))",
        f"{shape}.neg": f"(({h} - ({{0}} & {low})) ^ (~{{0}} & {h}))",
        f"{shape}.eq": f"((({nonzero} ^ {h}) >> {top}) * {full})",
        f"{shape}.ne": f"(({nonzero} >> {top}) * {full})",
    }


def _build() -> dict:
    expr = {
        "v128.not": "({0} ^ M128)", "v128.and": "({0} & {1})", "v128.or": "({0} | {1})",
        "v128.xor": "({0} ^ {1})", "v128.andnot": "({0} & ~{1})",
        "v128.bitselect": "(({0} & {2}) | ({1} & ~{2}))", "v128.any_true": "({0} != 0)",
        "i8x16.splat": "(({0} & 0xFF) * R8)", "i16x8.splat": "(({0} & 0xFFFF) * R16)",
        "i32x4.splat": "({0} * R32)", "i64x2.splat": "({0} * R64)",
        "f32x4.splat": "(i32_reinterpret_f32({0}) * R32)",
        "f64x2.splat": "(i64_reinterpret_f64({0}) * R64)",
        "f32x4.abs": "({0} & L32)", "f32x4.neg": "({0} ^ H32)",
        "f64x2.abs": "({0} & L64)", "f64x2.neg": "({0} ^ H64)",
    }
    for shape, bits in _SHAPES.items():
        expr.update(_swar(shape, bits))
    for sub, name, imm, sig, width, extend, feature in SIMD_OPCODES:
        if imm == "none" and name not in expr:
            nin = len(sig.split(":")[0].split())
            args = ", ".join(f"{{{i}}}" for i in range(nin))
            expr[name] = f"{name.replace('.', '_')}({args})"
    return expr


SIMD_EXPR = _build()

# loads: address {0}, the memory's bytes {m}
SIMD_LOAD = {
    "v128.load": "v128_load({m}, {0})",
    "v128.load8x8_s": "v128_load8x8_s({m}, {0})", "v128.load8x8_u": "v128_load8x8_u({m}, {0})",
    "v128.load16x4_s": "v128_load16x4_s({m}, {0})",
    "v128.load16x4_u": "v128_load16x4_u({m}, {0})",
    "v128.load32x2_s": "v128_load32x2_s({m}, {0})",
    "v128.load32x2_u": "v128_load32x2_u({m}, {0})",
    "v128.load8_splat": "({m}[{0}] * R8)", "v128.load16_splat": "(ld_u16({m}, {0})[0] * R16)",
    "v128.load32_splat": "(ld_i32({m}, {0})[0] * R32)",
    "v128.load64_splat": "(ld_i64({m}, {0})[0] * R64)",
    "v128.load32_zero": "ld_i32({m}, {0})[0]", "v128.load64_zero": "ld_i64({m}, {0})[0]",
}

SIMD_STORE = {"v128.store": "v128_store({m}, {0}, {1})"}

# lane loads and stores: the lane value read from / written to address {0}
LANE_LOAD = {1: "{m}[{0}]", 2: "ld_u16({m}, {0})[0]", 4: "ld_i32({m}, {0})[0]",
             8: "ld_i64({m}, {0})[0]"}
LANE_STORE = {1: "{m}[{0}] = {1}", 2: "st_u16({m}, {0}, {1})", 4: "st_i32({m}, {0}, {1})",
              8: "st_i64({m}, {0}, {1})"}


# ---- memory helpers -------------------------------------------------------------------------
_QQ = struct.Struct("<QQ")
_ld_qq = _QQ.unpack_from
_st_qq = _QQ.pack_into


def v128_load(mem, addr):
    lo, hi = _ld_qq(mem, addr)
    return lo | hi << 64


def v128_store(mem, addr, value):
    _st_qq(mem, addr, value & 0xFFFFFFFFFFFFFFFF, value >> 64)


def _extend_load(half: str, wide: str, mask: int):
    """An 8-byte load widened lane by lane: `half` reads it, `wide` packs the result."""
    read = struct.Struct("<" + half).unpack_from
    pack = struct.Struct("<" + wide).pack

    def load(mem, addr):
        return int.from_bytes(pack(*[x & mask for x in read(mem, addr)]), "little")
    return load


_EXTEND_LOADS = {
    "v128_load8x8_s": _extend_load("8b", "8H", 0xFFFF),
    "v128_load8x8_u": _extend_load("8B", "8H", 0xFFFF),
    "v128_load16x4_s": _extend_load("4h", "4I", 0xFFFFFFFF),
    "v128_load16x4_u": _extend_load("4H", "4I", 0xFFFFFFFF),
    "v128_load32x2_s": _extend_load("2i", "2Q", 0xFFFFFFFFFFFFFFFF),
    "v128_load32x2_u": _extend_load("2I", "2Q", 0xFFFFFFFFFFFFFFFF),
}


def simd_namespace() -> dict:
    """Every name SIMD templates use, for the instance namespace (`helpers.namespace`)."""
    ns = {"M128": M128, "v128_load": v128_load, "v128_store": v128_store}
    for bits in (8, 16, 32, 64):
        ns[f"H{bits}"] = HIGH[bits]
        ns[f"L{bits}"] = LOW[bits]
        ns[f"R{bits}"] = ONES[bits]
        ns[f"F{bits}"] = (1 << bits) - 1
    ns.update(_EXTEND_LOADS)
    ns.update(simd_int_namespace())
    ns.update(simd_float_namespace())
    ns.update({name.replace(".", "_"): fn for name, fn in RELAXED.items()})
    return ns
