"""Emitters of SIMD conversions between lane shapes: narrowing (saturate, then truncate),
widening (`extend_low`/`extend_high`), pairwise and widening arithmetic (`extadd_pairwise`,
`extmul`, `i32x4.dot_i16x8_s`), float-to-int truncation with saturation, int-to-float,
`demote`/`promote`.

Part of the SIMD family (`emit/__init__.py` registers its `HANDLERS`). Each is spelled in
generic vector IR that LLVM's x86 instruction selection maps onto single instructions
(`packsswb`, `pmovsxbw`, `pmaddwd`, `cvtdq2ps`, ...). Saturating truncation is lowered here by
hand rather than with `llvm.fptosi.sat` on vectors, which LLVM scalarises: NaN lanes become 0,
lanes at or beyond a bound take the bound, and only lanes known to be in range reach
`fptosi`/`fptoui` (whose result is otherwise poison). The `_zero` forms fill the upper two lanes
with zeros.
"""
from __future__ import annotations

import struct

from ..helpers import f64_const
from .vector import SHAPES, half, has_feature, pop_as, push_as, shuffle, splat_const, vtype


def _double_text(value: float) -> str:
    return f64_const(struct.unpack("<Q", struct.pack("<d", value))[0])


def _narrow(shape: str, signed: bool):
    """`i8x16.narrow_i16x8_s` and kin: the lanes of a then b, clamped to the narrow range
    (signed input; the `_u` forms clamp to [0, 2^n - 1])."""
    lane, count, bits = SHAPES[shape]
    src_lane = f"i{2 * bits}"
    src = vtype(src_lane, count // 2)
    joined = vtype(src_lane, count)
    low, high = ((-(1 << (bits - 1)), (1 << (bits - 1)) - 1) if signed
                 else (0, (1 << bits) - 1))
    suffix_ = f"v{count}{src_lane}"

    def emit(t, instr) -> None:
        b = pop_as(t, src)
        a = pop_as(t, src)
        both = shuffle(t, src, a, b, range(count))
        both = t.call_intrinsic(f"llvm.smax.{suffix_}", joined,
                                [(joined, both), (joined, splat_const(src_lane, count, str(low)))])
        both = t.call_intrinsic(f"llvm.smin.{suffix_}", joined,
                                [(joined, both), (joined, splat_const(src_lane, count, str(high)))])
        push_as(t, vtype(lane, count), t.value(f"trunc {joined} {both} to {vtype(lane, count)}"))
    return emit


def _source(shape: str):
    """Lane type and count of the shape a widening op of result `shape` reads."""
    _, count, bits = SHAPES[shape]
    return f"i{bits // 2}", count * 2


def widen_half(t, shape: str, operand: str, high: bool, signed: bool) -> str:
    """One half of the narrow lanes of `operand` (a v128 in the shape half as wide as `shape`),
    sign- or zero-extended to `shape`'s lanes."""
    lane, count = _source(shape)
    v = t.value(f"bitcast <2 x i64> {operand} to {vtype(lane, count)}")
    part = half(t, lane, count, v, high)
    _, n, bits = SHAPES[shape]
    return t.value(f"{'sext' if signed else 'zext'} {vtype(lane, n)} {part} "
                   f"to {vtype(f'i{bits}', n)}")


def _extend(shape: str, high: bool, signed: bool):
    _, count, bits = SHAPES[shape]

    def emit(t, instr) -> None:
        push_as(t, vtype(f"i{bits}", count), widen_half(t, shape, t.pop(), high, signed))
    return emit


def _extmul(shape: str, high: bool, signed: bool):
    _, count, bits = SHAPES[shape]
    vt = vtype(f"i{bits}", count)

    def emit(t, instr) -> None:
        b = widen_half(t, shape, t.pop(), high, signed)
        a = widen_half(t, shape, t.pop(), high, signed)
        push_as(t, vt, t.value(f"mul {vt} {a}, {b}"))
    return emit


def pairwise_add(t, lane: str, count: int, operand: str) -> str:
    """Lanes 2i and 2i+1 of a `<count x lane>` added (a `<count/2 x lane>`)."""
    vt = vtype(lane, count)
    even = shuffle(t, vt, operand, "poison", range(0, count, 2))
    odd = shuffle(t, vt, operand, "poison", range(1, count, 2))
    return t.value(f"add {vtype(lane, count // 2)} {even}, {odd}")


def _extadd_pairwise(shape: str, signed: bool):
    _, count, bits = SHAPES[shape]
    src_lane, src_count = _source(shape)
    src = vtype(src_lane, src_count)
    wide = vtype(f"i{bits}", src_count)

    def emit(t, instr) -> None:
        a = pop_as(t, src)
        r = _extadd_pairwise_x86(t, shape, a, signed) if has_feature("ssse3") else None
        if r is None:
            w = t.value(f"{'sext' if signed else 'zext'} {src} {a} to {wide}")
            r = pairwise_add(t, f"i{bits}", src_count, w)
        push_as(t, vtype(f"i{bits}", count), r)
    return emit


def _extadd_pairwise_x86(t, shape: str, a: str, signed: bool) -> str:
    """The pairwise sums as one multiply-add by ones (`pmaddubsw`, `pmaddwd`), which LLVM
    does not find by itself. pmaddubsw reads its first operand unsigned and its second
    signed (no sum of two bytes saturates); pmaddwd is signed only, so the unsigned i16 form
    biases each lane by -32768 first and adds 2 * 32768 back."""
    if shape == "i16x8":
        b16 = vtype("i8", 16)
        ones = splat_const("i8", 16, "1")
        args = [(b16, ones), (b16, a)] if signed else [(b16, a), (b16, ones)]
        return t.call_intrinsic("llvm.x86.ssse3.pmadd.ub.sw.128", vtype("i16", 8), args)
    w16 = vtype("i16", 8)
    if not signed:
        a = t.value(f"xor {w16} {a}, {splat_const('i16', 8, '-32768')}")
    r = t.call_intrinsic("llvm.x86.sse2.pmadd.wd", vtype("i32", 4),
                         [(w16, a), (w16, splat_const("i16", 8, "1"))])
    if not signed:
        r = t.value(f"add <4 x i32> {r}, {splat_const('i32', 4, '65536')}")
    return r


def dot_i16x8(t, a: str, b: str) -> str:
    """Pairwise sums of the i32 products of the i16 lanes of `a` and `b` (`pmaddwd`)."""
    wide = vtype("i32", 8)
    wa = t.value(f"sext <8 x i16> {a} to {wide}")
    wb = t.value(f"sext <8 x i16> {b} to {wide}")
    p = t.value(f"mul {wide} {wa}, {wb}")
    return pairwise_add(t, "i32", 8, p)


def emit_dot(t, instr) -> None:
    vt = vtype("i16", 8)
    b = pop_as(t, vt)
    a = pop_as(t, vt)
    push_as(t, vtype("i32", 4), dot_i16x8(t, a, b))


# ---- float <-> int -------------------------------------------------------------------------

def trunc_sat(t, src_lane: str, count: int, x: str, signed: bool) -> str:
    """`<count x i32>` of the float lanes of `x` truncated toward zero, NaN -> 0, saturated."""
    vt = vtype(src_lane, count)
    it = vtype("i32", count)
    bools = vtype("i1", count)
    zero = "zeroinitializer"
    if signed:
        lower, upper = -2147483648.0, 2147483648.0
        low_result, high_result = "-2147483648", "2147483647"
        bad = t.value(f"fcmp uno {vt} {x}, {x}")                      # NaN -> 0
    else:
        lower, upper = 0.0, 4294967296.0
        low_result, high_result = "0", "-1"
        bad = t.value(f"fcmp ult {vt} {x}, {zero}")                   # NaN or < 0 -> 0
    upper_c = splat_const(src_lane, count, _double_text(upper))
    above = t.value(f"fcmp oge {vt} {x}, {upper_c}")
    safe = t.value(f"select {bools} {bad}, {vt} {zero}, {vt} {x}")
    safe = t.value(f"select {bools} {above}, {vt} {zero}, {vt} {safe}")
    if signed:
        lower_c = splat_const(src_lane, count, _double_text(lower))
        below = t.value(f"fcmp olt {vt} {x}, {lower_c}")
        safe = t.value(f"select {bools} {below}, {vt} {zero}, {vt} {safe}")
    r = t.value(f"{'fptosi' if signed else 'fptoui'} {vt} {safe} to {it}")
    r = t.value(f"select {bools} {above}, {it} {splat_const('i32', count, high_result)}, "
                f"{it} {r}")
    if signed:
        r = t.value(f"select {bools} {below}, {it} {splat_const('i32', count, low_result)}, "
                    f"{it} {r}")
    return r


def zero_extend_pair(t, lane: str, pair: str) -> str:
    """A `<2 x lane>` as the low lanes of a `<4 x lane>` whose high lanes are zero."""
    return shuffle(t, vtype(lane, 2), pair, "zeroinitializer", range(4))


def _trunc_sat_f32x4(signed: bool):
    def emit(t, instr) -> None:
        x = pop_as(t, vtype("float", 4))
        push_as(t, vtype("i32", 4), trunc_sat(t, "float", 4, x, signed))
    return emit


def _trunc_sat_f64x2_zero(signed: bool):
    def emit(t, instr) -> None:
        x = pop_as(t, vtype("double", 2))
        r = trunc_sat(t, "double", 2, x, signed)
        push_as(t, vtype("i32", 4), zero_extend_pair(t, "i32", r))
    return emit


def _convert_i32x4(signed: bool):
    def emit(t, instr) -> None:
        a = pop_as(t, vtype("i32", 4))
        op = "sitofp" if signed else "uitofp"
        push_as(t, vtype("float", 4), t.value(f"{op} <4 x i32> {a} to <4 x float>"))
    return emit


def _convert_low_i32x4(signed: bool):
    def emit(t, instr) -> None:
        a = pop_as(t, vtype("i32", 4))
        low = half(t, "i32", 4, a, False)
        op = "sitofp" if signed else "uitofp"
        push_as(t, vtype("double", 2), t.value(f"{op} <2 x i32> {low} to <2 x double>"))
    return emit


def emit_demote(t, instr) -> None:
    a = pop_as(t, vtype("double", 2))
    narrow = t.value(f"fptrunc <2 x double> {a} to <2 x float>")
    push_as(t, vtype("float", 4), zero_extend_pair(t, "float", narrow))


def emit_promote(t, instr) -> None:
    a = pop_as(t, vtype("float", 4))
    low = half(t, "float", 4, a, False)
    push_as(t, vtype("double", 2), t.value(f"fpext <2 x float> {low} to <2 x double>"))


def _build() -> dict:
    h = {"i32x4.dot_i16x8_s": emit_dot, "f32x4.demote_f64x2_zero": emit_demote,
         "f64x2.promote_low_f32x4": emit_promote}
    for su, signed in (("s", True), ("u", False)):
        h[f"i8x16.narrow_i16x8_{su}"] = _narrow("i8x16", signed)
        h[f"i16x8.narrow_i32x4_{su}"] = _narrow("i16x8", signed)
        for shape, src in (("i16x8", "i8x16"), ("i32x4", "i16x8"), ("i64x2", "i32x4")):
            h[f"{shape}.extend_low_{src}_{su}"] = _extend(shape, False, signed)
            h[f"{shape}.extend_high_{src}_{su}"] = _extend(shape, True, signed)
            h[f"{shape}.extmul_low_{src}_{su}"] = _extmul(shape, False, signed)
            h[f"{shape}.extmul_high_{src}_{su}"] = _extmul(shape, True, signed)
        h[f"i16x8.extadd_pairwise_i8x16_{su}"] = _extadd_pairwise("i16x8", signed)
        h[f"i32x4.extadd_pairwise_i16x8_{su}"] = _extadd_pairwise("i32x4", signed)
        h[f"i32x4.trunc_sat_f32x4_{su}"] = _trunc_sat_f32x4(signed)
        h[f"i32x4.trunc_sat_f64x2_{su}_zero"] = _trunc_sat_f64x2_zero(signed)
        h[f"f32x4.convert_i32x4_{su}"] = _convert_i32x4(signed)
        h[f"f64x2.convert_low_i32x4_{su}"] = _convert_low_i32x4(signed)
    return h


HANDLERS = _build()
