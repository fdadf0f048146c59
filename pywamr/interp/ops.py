"""Python expression templates of the fixed-signature instructions, keyed by opcode name.

The interpreter's translator fills `{0}`, `{1}` with operand slot names; an entry is one
expression producing the result in the internal representation. The opcode list itself comes
from `binary/opcodes.py`; this table only says how each one is computed in Python. Booleans
stand for i32 0/1 (bool is an int; the API boundary converts).
"""
from __future__ import annotations

S32 = "(({0} ^ 0x80000000) - 0x80000000)"
S64 = "(({0} ^ 0x8000000000000000) - 0x8000000000000000)"


def _sx(expr: str, bits: int) -> str:
    """Sign view of an unsigned expression of `bits` bits."""
    half = 1 << (bits - 1)
    return f"(({expr} ^ {half:#x}) - {half:#x})"


EXPR = {
    # i32 comparisons and tests
    "i32.eqz": "({0} == 0)", "i32.eq": "({0} == {1})", "i32.ne": "({0} != {1})",
    "i32.lt_u": "({0} < {1})", "i32.gt_u": "({0} > {1})",
    "i32.le_u": "({0} <= {1})", "i32.ge_u": "({0} >= {1})",
    "i32.lt_s": "(({0} ^ 0x80000000) < ({1} ^ 0x80000000))",
    "i32.gt_s": "(({0} ^ 0x80000000) > ({1} ^ 0x80000000))",
    "i32.le_s": "(({0} ^ 0x80000000) <= ({1} ^ 0x80000000))",
    "i32.ge_s": "(({0} ^ 0x80000000) >= ({1} ^ 0x80000000))",
    "i64.eqz": "({0} == 0)", "i64.eq": "({0} == {1})", "i64.ne": "({0} != {1})",
    "i64.lt_u": "({0} < {1})", "i64.gt_u": "({0} > {1})",
    "i64.le_u": "({0} <= {1})", "i64.ge_u": "({0} >= {1})",
    "i64.lt_s": "(({0} ^ 0x8000000000000000) < ({1} ^ 0x8000000000000000))",
    "i64.gt_s": "(({0} ^ 0x8000000000000000) > ({1} ^ 0x8000000000000000))",
    "i64.le_s": "(({0} ^ 0x8000000000000000) <= ({1} ^ 0x8000000000000000))",
    "i64.ge_s": "(({0} ^ 0x8000000000000000) >= ({1} ^ 0x8000000000000000))",
    # i32 arithmetic
    "i32.clz": "(32 - {0}.bit_length())", "i32.ctz": "i32_ctz({0})",
    "i32.popcnt": "{0}.bit_count()",
    "i32.add": "(({0} + {1}) & 0xFFFFFFFF)", "i32.sub": "(({0} - {1}) & 0xFFFFFFFF)",
    "i32.mul": "(({0} * {1}) & 0xFFFFFFFF)",
    "i32.div_s": "i32_div_s({0}, {1})", "i32.div_u": "({0} // {1})",
    "i32.rem_s": "i32_rem_s({0}, {1})", "i32.rem_u": "({0} % {1})",
    "i32.and": "({0} & {1})", "i32.or": "({0} | {1})", "i32.xor": "({0} ^ {1})",
    "i32.shl": "(({0} << ({1} & 31)) & 0xFFFFFFFF)",
    "i32.shr_u": "({0} >> ({1} & 31))",
    "i32.shr_s": "(((({0} ^ 0x80000000) - 0x80000000) >> ({1} & 31)) & 0xFFFFFFFF)",
    "i32.rotl": "((({0} << ({1} & 31)) | ({0} >> ((32 - ({1} & 31)) & 31))) & 0xFFFFFFFF)",
    "i32.rotr": "((({0} >> ({1} & 31)) | ({0} << ((32 - ({1} & 31)) & 31))) & 0xFFFFFFFF)",
    # i64 arithmetic
    "i64.clz": "(64 - {0}.bit_length())", "i64.ctz": "i64_ctz({0})",
    "i64.popcnt": "{0}.bit_count()",
    "i64.add": "(({0} + {1}) & 0xFFFFFFFFFFFFFFFF)",
    "i64.sub": "(({0} - {1}) & 0xFFFFFFFFFFFFFFFF)",
    "i64.mul": "(({0} * {1}) & 0xFFFFFFFFFFFFFFFF)",
    "i64.div_s": "i64_div_s({0}, {1})", "i64.div_u": "({0} // {1})",
    "i64.rem_s": "i64_rem_s({0}, {1})", "i64.rem_u": "({0} % {1})",
    "i64.and": "({0} & {1})", "i64.or": "({0} | {1})", "i64.xor": "({0} ^ {1})",
    "i64.shl": "(({0} << ({1} & 63)) & 0xFFFFFFFFFFFFFFFF)",
    "i64.shr_u": "({0} >> ({1} & 63))",
    "i64.shr_s": "(((({0} ^ 0x8000000000000000) - 0x8000000000000000) >> ({1} & 63))"
                 " & 0xFFFFFFFFFFFFFFFF)",
    "i64.rotl": "((({0} << ({1} & 63)) | ({0} >> ((64 - ({1} & 63)) & 63)))"
                " & 0xFFFFFFFFFFFFFFFF)",
    "i64.rotr": "((({0} >> ({1} & 63)) | ({0} << ((64 - ({1} & 63)) & 63)))"
                " & 0xFFFFFFFFFFFFFFFF)",
    # float comparisons (NaN compares false except ne)
    "f32.eq": "({0} == {1})", "f32.ne": "({0} != {1})", "f32.lt": "({0} < {1})",
    "f32.gt": "({0} > {1})", "f32.le": "({0} <= {1})", "f32.ge": "({0} >= {1})",
    "f64.eq": "({0} == {1})", "f64.ne": "({0} != {1})", "f64.lt": "({0} < {1})",
    "f64.gt": "({0} > {1})", "f64.le": "({0} <= {1})", "f64.ge": "({0} >= {1})",
    # f32 arithmetic: computed in f64 then rounded once (exact for + - * / sqrt)
    "f32.abs": "fabs({0})", "f32.neg": "(-{0})", "f32.ceil": "fceil({0})",
    "f32.floor": "ffloor({0})", "f32.trunc": "ftrunc({0})", "f32.nearest": "fnearest({0})",
    "f32.sqrt": "f32_sqrt({0})",
    "f32.add": "rf32({0} + {1})", "f32.sub": "rf32({0} - {1})", "f32.mul": "rf32({0} * {1})",
    "f32.div": "f32_div({0}, {1})", "f32.min": "fmin({0}, {1})", "f32.max": "fmax({0}, {1})",
    "f32.copysign": "copysign({0}, {1})",
    "f64.abs": "fabs({0})", "f64.neg": "(-{0})", "f64.ceil": "fceil({0})",
    "f64.floor": "ffloor({0})", "f64.trunc": "ftrunc({0})", "f64.nearest": "fnearest({0})",
    "f64.sqrt": "fsqrt({0})",
    "f64.add": "({0} + {1})", "f64.sub": "({0} - {1})", "f64.mul": "({0} * {1})",
    "f64.div": "fdiv({0}, {1})", "f64.min": "fmin({0}, {1})", "f64.max": "fmax({0}, {1})",
    "f64.copysign": "copysign({0}, {1})",
    # conversions
    "i32.wrap_i64": "({0} & 0xFFFFFFFF)",
    "i32.trunc_f32_s": "i32_trunc_s({0})", "i32.trunc_f32_u": "i32_trunc_u({0})",
    "i32.trunc_f64_s": "i32_trunc_s({0})", "i32.trunc_f64_u": "i32_trunc_u({0})",
    "i64.extend_i32_s": "((({0} ^ 0x80000000) - 0x80000000) & 0xFFFFFFFFFFFFFFFF)",
    "i64.extend_i32_u": "{0}",
    "i64.trunc_f32_s": "i64_trunc_s({0})", "i64.trunc_f32_u": "i64_trunc_u({0})",
    "i64.trunc_f64_s": "i64_trunc_s({0})", "i64.trunc_f64_u": "i64_trunc_u({0})",
    "f32.convert_i32_s": "rf32(float((({0} ^ 0x80000000) - 0x80000000)))",
    "f32.convert_i32_u": "rf32(float({0}))",
    "f32.convert_i64_s": "f32_convert_int((({0} ^ 0x8000000000000000) - 0x8000000000000000))",
    "f32.convert_i64_u": "f32_convert_int({0})",
    "f32.demote_f64": "rf32({0})",
    "f64.convert_i32_s": "float((({0} ^ 0x80000000) - 0x80000000))",
    "f64.convert_i32_u": "float({0})",
    "f64.convert_i64_s": "float((({0} ^ 0x8000000000000000) - 0x8000000000000000))",
    "f64.convert_i64_u": "float({0})",
    "f64.promote_f32": "({0} * 1.0)",
    "i32.reinterpret_f32": "i32_reinterpret_f32({0})",
    "i64.reinterpret_f64": "i64_reinterpret_f64({0})",
    "f32.reinterpret_i32": "f32_reinterpret_i32({0})",
    "f64.reinterpret_i64": "f64_reinterpret_i64({0})",
    "i32.extend8_s": "(((({0} & 0xFF) ^ 0x80) - 0x80) & 0xFFFFFFFF)",
    "i32.extend16_s": "(((({0} & 0xFFFF) ^ 0x8000) - 0x8000) & 0xFFFFFFFF)",
    "i64.extend8_s": "(((({0} & 0xFF) ^ 0x80) - 0x80) & 0xFFFFFFFFFFFFFFFF)",
    "i64.extend16_s": "(((({0} & 0xFFFF) ^ 0x8000) - 0x8000) & 0xFFFFFFFFFFFFFFFF)",
    "i64.extend32_s": "(((({0} & 0xFFFFFFFF) ^ 0x80000000) - 0x80000000) & 0xFFFFFFFFFFFFFFFF)",
    "i32.trunc_sat_f32_s": "i32_trunc_sat_s({0})", "i32.trunc_sat_f32_u": "i32_trunc_sat_u({0})",
    "i32.trunc_sat_f64_s": "i32_trunc_sat_s({0})", "i32.trunc_sat_f64_u": "i32_trunc_sat_u({0})",
    "i64.trunc_sat_f32_s": "i64_trunc_sat_s({0})", "i64.trunc_sat_f32_u": "i64_trunc_sat_u({0})",
    "i64.trunc_sat_f64_s": "i64_trunc_sat_s({0})", "i64.trunc_sat_f64_u": "i64_trunc_sat_u({0})",
}

# loads: name -> expression of the loaded value from address expression {0} in the bytes
# named {m} (`mem` for memory 0, `memN` for memory N: see `memory_name`)
LOAD = {
    "i32.load": "ld_i32({m}, {0})[0]",
    "i64.load": "ld_i64({m}, {0})[0]",
    "f32.load": "f32_load({m}, {0})",
    "f64.load": "ld_f64({m}, {0})[0]",
    "i32.load8_s": "(ld_i8({m}, {0})[0] & 0xFFFFFFFF)",
    "i32.load8_u": "{m}[{0}]",
    "i32.load16_s": "(ld_i16({m}, {0})[0] & 0xFFFFFFFF)",
    "i32.load16_u": "ld_u16({m}, {0})[0]",
    "i64.load8_s": "(ld_i8({m}, {0})[0] & 0xFFFFFFFFFFFFFFFF)",
    "i64.load8_u": "{m}[{0}]",
    "i64.load16_s": "(ld_i16({m}, {0})[0] & 0xFFFFFFFFFFFFFFFF)",
    "i64.load16_u": "ld_u16({m}, {0})[0]",
    "i64.load32_s": "(ld_s32({m}, {0})[0] & 0xFFFFFFFFFFFFFFFF)",
    "i64.load32_u": "ld_i32({m}, {0})[0]",
}

# stores: name -> statement storing value {1} at address expression {0} in the bytes {m}
STORE = {
    "i32.store": "st_i32({m}, {0}, {1})",
    "i64.store": "st_i64({m}, {0}, {1})",
    "f32.store": "f32_store({m}, {0}, {1})",
    "f64.store": "st_f64({m}, {0}, {1})",
    "i32.store8": "{m}[{0}] = {1} & 0xFF",
    "i32.store16": "st_u16({m}, {0}, {1} & 0xFFFF)",
    "i64.store8": "{m}[{0}] = {1} & 0xFF",
    "i64.store16": "st_u16({m}, {0}, {1} & 0xFFFF)",
    "i64.store32": "st_i32({m}, {0}, {1} & 0xFFFFFFFF)",
}

# Instructions whose evaluation can trap: never deferred or reordered by the translator.
TRAPPING = frozenset(
    [f"{t}.{op}" for t in ("i32", "i64") for op in ("div_s", "div_u", "rem_s", "rem_u")]
    + [f"{t}.trunc_{f}_{s}" for t in ("i32", "i64") for f in ("f32", "f64") for s in "su"])


# The SIMD instructions follow the same conventions (simd_ops.py).
from .simd_ops import SIMD_EXPR, SIMD_LOAD, SIMD_STORE  # noqa: E402 - after the scalar tables

EXPR.update(SIMD_EXPR)
LOAD.update(SIMD_LOAD)
STORE.update(SIMD_STORE)


def memory_name(index: int) -> str:
    """The namespace name of memory `index`'s bytes in generated code: memory 0 is `mem`
    (one global lookup, as before multi-memory), memory N is `memN`. Bound by
    `InterpModule.link`; a bytearray grows in place, so a grow never rebinds it."""
    return "mem" if index == 0 else f"mem{index}"
