"""Emitters of relaxed SIMD, with the deterministic answers wasmtime gives on x86-64.

Part of the SIMD family (`emit/__init__.py` registers its `HANDLERS`). The relaxed proposal lets
each instruction answer one of several ways where hardware differs; pywamr answers as wasmtime
(Cranelift) does on an x86-64 host with SSE4.1 and FMA, so that both pywamr engines and wasmtime
agree bit for bit (the interpreter follows the same table, `runtime/relaxed.py`, and
tests/aot/test_simd_wasmtime.py checks both engines against wasmtime):

  i8x16.relaxed_swizzle          `pshufb`: index bytes with the top bit set give 0, the others
                                 use their low four bits (16..127 wrap)
  i32x4.relaxed_trunc_f32x4_s    `cvttps2dq`: NaN and out-of-range lanes give INT_MIN
  i32x4.relaxed_trunc_f64x2_s_zero  `cvttpd2dq`: likewise
  i32x4.relaxed_trunc_*_u        the saturating (non-relaxed) answers
  f32x4/f64x2.relaxed_madd       fused multiply-add (one rounding); `nmadd` is fma(-a, b, c)
  i8x16/i32x4/i64x2.relaxed_laneselect  `pblendvb`/`blendvps`/`blendvpd`: the top bit of
                                 each mask lane picks a over b
  i16x8.relaxed_laneselect       `v128.bitselect` (bit by bit)
  f32x4/f64x2.relaxed_min/max    `pmin`/`pmax` (`minps`/`maxps` with swapped operands)
  i16x8.relaxed_q15mulr_s        `pmulhrsw`: -32768 * -32768 gives -32768
  i16x8.relaxed_dot_i8x16_i7x16_s  `pmaddubsw` with b unsigned: pairs of sext(a) * zext(b),
                                 summed with i16 saturation
  i32x4.relaxed_dot_i8x16_i7x16_add_s  that, then pairs of i16 summed to i32, plus c (wrapping)

Where the host lacks the x86 instruction the same answers are spelled in generic IR.
"""
from __future__ import annotations

from .simd import bitselect, swizzle
from .simd_arith import pmin_pmax, q15mulr
from .simd_convert import pairwise_add, trunc_sat, zero_extend_pair
from .vector import V, has_feature, pop_as, push_as, shuffle, splat_const, suffix, vtype


def emit_relaxed_swizzle(t, instr) -> None:
    vt = vtype("i8", 16)
    index = pop_as(t, vt)
    a = pop_as(t, vt)
    push_as(t, vt, swizzle(t, a, index, relaxed=True))


def relaxed_trunc_signed(t, lane: str, count: int, x: str) -> str:
    """`<4 x i32>` of `cvttps2dq`/`cvttpd2dq`: in-range lanes truncated, the rest INT_MIN
    (a `<2 x double>` gives two lanes and two zero lanes)."""
    vt = vtype(lane, count)
    if has_feature("sse2"):
        name = "llvm.x86.sse2.cvttps2dq" if lane == "float" else "llvm.x86.sse2.cvttpd2dq"
        return t.call_intrinsic(name, "<4 x i32>", [(vt, x)])
    it = vtype("i32", count)
    bools = vtype("i1", count)
    low = t.value(f"fcmp oge {vt} {x}, {splat_const(lane, count, '0xC1E0000000000000')}")
    high = t.value(f"fcmp olt {vt} {x}, {splat_const(lane, count, '0x41E0000000000000')}")
    ok = t.value(f"and {bools} {low}, {high}")
    safe = t.value(f"select {bools} {ok}, {vt} {x}, {vt} zeroinitializer")
    r = t.value(f"fptosi {vt} {safe} to {it}")
    r = t.value(f"select {bools} {ok}, {it} {r}, {it} {splat_const('i32', count, '-2147483648')}")
    return r if count == 4 else zero_extend_pair(t, "i32", r)


def _relaxed_trunc(lane: str, signed: bool):
    count = 4 if lane == "float" else 2

    def emit(t, instr) -> None:
        x = pop_as(t, vtype(lane, count))
        if signed:
            r = relaxed_trunc_signed(t, lane, count, x)
        else:
            r = trunc_sat(t, lane, count, x, False)
            if count == 2:
                r = zero_extend_pair(t, "i32", r)
        push_as(t, vtype("i32", 4), r)
    return emit


def _madd(shape_lane: str, count: int, negate: bool):
    vt = vtype(shape_lane, count)

    def emit(t, instr) -> None:
        c = pop_as(t, vt)
        b = pop_as(t, vt)
        a = pop_as(t, vt)
        if negate:
            a = t.value(f"fneg {vt} {a}")
        push_as(t, vt, t.call_intrinsic(f"llvm.fma.{suffix(shape_lane, count)}", vt,
                                        [(vt, a), (vt, b), (vt, c)]))
    return emit


def _laneselect(lane: str, count: int):
    vt = vtype(lane, count)

    def emit(t, instr) -> None:
        m = pop_as(t, vt)
        b = pop_as(t, vt)
        a = pop_as(t, vt)
        top = t.value(f"icmp slt {vt} {m}, zeroinitializer")
        push_as(t, vt, t.value(f"select {vtype('i1', count)} {top}, {vt} {a}, {vt} {b}"))
    return emit


def emit_laneselect_i16(t, instr) -> None:
    m = t.pop()
    b = t.pop()
    a = t.pop()
    t.push(V, bitselect(t, a, b, m))


def _relaxed_min_max(lane: str, count: int, is_max: bool):
    vt = vtype(lane, count)

    def emit(t, instr) -> None:
        b = pop_as(t, vt)
        a = pop_as(t, vt)
        push_as(t, vt, pmin_pmax(t, vt, count, a, b, is_max))
    return emit


def emit_relaxed_q15mulr(t, instr) -> None:
    vt = vtype("i16", 8)
    b = pop_as(t, vt)
    a = pop_as(t, vt)
    push_as(t, vt, q15mulr(t, a, b, saturate=False))


def relaxed_dot(t, a: str, b: str) -> str:
    """`<8 x i16>`: sext(a) * zext(b) in pairs of bytes, each pair summed with saturation."""
    vt = vtype("i8", 16)
    out = vtype("i16", 8)
    if has_feature("ssse3"):
        return t.call_intrinsic("llvm.x86.ssse3.pmadd.ub.sw.128", out, [(vt, b), (vt, a)])
    wide = vtype("i16", 16)
    wa = t.value(f"sext {vt} {a} to {wide}")
    wb = t.value(f"zext {vt} {b} to {wide}")
    p = t.value(f"mul {wide} {wa}, {wb}")
    even = shuffle(t, wide, p, "poison", range(0, 16, 2))
    odd = shuffle(t, wide, p, "poison", range(1, 16, 2))
    return t.call_intrinsic("llvm.sadd.sat.v8i16", out, [(out, even), (out, odd)])


def emit_relaxed_dot(t, instr) -> None:
    vt = vtype("i8", 16)
    b = pop_as(t, vt)
    a = pop_as(t, vt)
    push_as(t, vtype("i16", 8), relaxed_dot(t, a, b))


def emit_relaxed_dot_add(t, instr) -> None:
    vt = vtype("i8", 16)
    c = pop_as(t, vtype("i32", 4))
    b = pop_as(t, vt)
    a = pop_as(t, vt)
    d = relaxed_dot(t, a, b)
    wide = t.value(f"sext <8 x i16> {d} to <8 x i32>")
    s = pairwise_add(t, "i32", 8, wide)
    push_as(t, vtype("i32", 4), t.value(f"add <4 x i32> {s}, {c}"))


HANDLERS = {
    "i8x16.relaxed_swizzle": emit_relaxed_swizzle,
    "i32x4.relaxed_trunc_f32x4_s": _relaxed_trunc("float", True),
    "i32x4.relaxed_trunc_f32x4_u": _relaxed_trunc("float", False),
    "i32x4.relaxed_trunc_f64x2_s_zero": _relaxed_trunc("double", True),
    "i32x4.relaxed_trunc_f64x2_u_zero": _relaxed_trunc("double", False),
    "f32x4.relaxed_madd": _madd("float", 4, False),
    "f32x4.relaxed_nmadd": _madd("float", 4, True),
    "f64x2.relaxed_madd": _madd("double", 2, False),
    "f64x2.relaxed_nmadd": _madd("double", 2, True),
    "i8x16.relaxed_laneselect": _laneselect("i8", 16),
    "i16x8.relaxed_laneselect": emit_laneselect_i16,
    "i32x4.relaxed_laneselect": _laneselect("i32", 4),
    "i64x2.relaxed_laneselect": _laneselect("i64", 2),
    "f32x4.relaxed_min": _relaxed_min_max("float", 4, False),
    "f32x4.relaxed_max": _relaxed_min_max("float", 4, True),
    "f64x2.relaxed_min": _relaxed_min_max("double", 2, False),
    "f64x2.relaxed_max": _relaxed_min_max("double", 2, True),
    "i16x8.relaxed_q15mulr_s": emit_relaxed_q15mulr,
    "i16x8.relaxed_dot_i8x16_i7x16_s": emit_relaxed_dot,
    "i32x4.relaxed_dot_i8x16_i7x16_add_s": emit_relaxed_dot_add,
}
