"""Emitters of SIMD lane arithmetic: integer add/sub/mul/neg/abs, saturating ops, min/max,
averages, shifts, popcount and q15 multiplication; float arithmetic, min/max (both the IEEE
`min`/`max` and the `b < a ? b : a` forms `pmin`/`pmax`), rounding and square root.

Part of the SIMD family (`emit/__init__.py` registers its `HANDLERS`). Each operation is one
LLVM vector instruction or intrinsic where one has wasm's exact meaning: `llvm.sadd.sat`,
`llvm.usub.sat` and kin, `llvm.smin`/`umax` and kin, `llvm.abs` (INT_MIN stays INT_MIN: its flag
is false), `llvm.ctpop`, `llvm.roundeven` (nearest), `llvm.minimum`/`maximum` (NaN-propagating,
-0 < +0). Where LLVM has no such operation the IR spells the definition and LLVM's instruction
selection finds the x86 instruction (averages become `pavgb`/`pavgw`). Shift counts are taken
modulo the lane width, as wasm requires.

NaN results: wasm asks for an arithmetic (quiet) NaN. Hardware arithmetic gives one, but LLVM
folds `x + -0.0`, `x * 1.0` and the like to `x`, which would let a signalling NaN through; a
constant operand of a float operation is therefore hidden from the optimiser behind an empty
inline asm, as the scalar emitters do. `minimum`/`maximum` may return a NaN operand as it is,
so their NaN lanes come from `a + b` instead.
"""
from __future__ import annotations

from .vector import (SHAPES, V, has_feature, is_constant, pop_as, push_as, splat,
                     splat_const, suffix, vtype)


def _types(shape: str):
    lane, count, bits = SHAPES[shape]
    return lane, count, bits, vtype(lane, count)


def _binary(shape: str, op: str):
    *_, vt = _types(shape)

    def emit(t, instr) -> None:
        b = pop_as(t, vt)
        a = pop_as(t, vt)
        push_as(t, vt, t.value(f"{op} {vt} {a}, {b}"))
    return emit


def _intrinsic2(shape: str, name: str):
    lane, count, _, vt = _types(shape)
    full = f"llvm.{name}.{suffix(lane, count)}"

    def emit(t, instr) -> None:
        b = pop_as(t, vt)
        a = pop_as(t, vt)
        push_as(t, vt, t.call_intrinsic(full, vt, [(vt, a), (vt, b)]))
    return emit


def _neg(shape: str):
    *_, vt = _types(shape)

    def emit(t, instr) -> None:
        a = pop_as(t, vt)
        push_as(t, vt, t.value(f"sub {vt} zeroinitializer, {a}"))
    return emit


def _abs(shape: str):
    lane, count, _, vt = _types(shape)

    def emit(t, instr) -> None:
        a = pop_as(t, vt)
        push_as(t, vt, t.call_intrinsic(f"llvm.abs.{suffix(lane, count)}", vt,
                                        [(vt, a), ("i1", "false")]))
    return emit


def emit_popcnt(t, instr) -> None:
    vt = vtype("i8", 16)
    a = pop_as(t, vt)
    push_as(t, vt, t.call_intrinsic("llvm.ctpop.v16i8", vt, [(vt, a)]))


def _avgr_u(shape: str):
    """(a + b + 1) / 2 without overflow: computed in lanes twice as wide."""
    lane, count, bits, vt = _types(shape)
    wide = vtype(f"i{2 * bits}", count)
    one = splat_const(f"i{2 * bits}", count, "1")

    def emit(t, instr) -> None:
        b = pop_as(t, vt)
        a = pop_as(t, vt)
        wa = t.value(f"zext {vt} {a} to {wide}")
        wb = t.value(f"zext {vt} {b} to {wide}")
        s = t.value(f"add {wide} {wa}, {wb}")
        s = t.value(f"add {wide} {s}, {one}")
        s = t.value(f"lshr {wide} {s}, {one}")
        push_as(t, vt, t.value(f"trunc {wide} {s} to {vt}"))
    return emit


def _shift(shape: str, op: str):
    lane, count, bits, vt = _types(shape)

    def emit(t, instr) -> None:
        n = t.value(f"and i32 {t.pop()}, {bits - 1}")
        a = pop_as(t, vt)
        if bits < 32:
            n = t.value(f"trunc i32 {n} to {lane}")
        elif bits > 32:
            n = t.value(f"zext i32 {n} to {lane}")
        amount = splat(t, lane, count, n)
        push_as(t, vt, t.value(f"{op} {vt} {a}, {amount}"))
    return emit


def q15mulr(t, a: str, b: str, *, saturate: bool) -> str:
    """(a * b + 0x4000) >> 15 in each i16 lane (`<8 x i16>` operands).

    The only product that leaves the i16 range is -32768 * -32768 (giving 32768): the
    saturating form clamps it to 32767, the relaxed one keeps x86's `pmulhrsw` answer,
    -32768. With SSSE3 both start from `pmulhrsw`; the saturating form then flips the
    lanes that came out as -32768 (only that product can) to 32767."""
    vt = vtype("i16", 8)
    if has_feature("ssse3"):
        r = t.call_intrinsic("llvm.x86.ssse3.pmul.hr.sw.128", vt, [(vt, a), (vt, b)])
        if not saturate:
            return r
        min16 = splat_const("i16", 8, "-32768")
        overflow = t.value(f"icmp eq {vt} {r}, {min16}")
        flip = t.value(f"sext <8 x i1> {overflow} to {vt}")
        return t.value(f"xor {vt} {r}, {flip}")
    wide = vtype("i32", 8)
    wa = t.value(f"sext {vt} {a} to {wide}")
    wb = t.value(f"sext {vt} {b} to {wide}")
    p = t.value(f"mul {wide} {wa}, {wb}")
    p = t.value(f"add {wide} {p}, {splat_const('i32', 8, '16384')}")
    p = t.value(f"ashr {wide} {p}, {splat_const('i32', 8, '15')}")
    if saturate:
        p = t.call_intrinsic("llvm.smin.v8i32", wide, [(wide, p),
                                                       (wide, splat_const("i32", 8, "32767"))])
    return t.value(f"trunc {wide} {p} to {vt}")


def emit_q15mulr_sat(t, instr) -> None:
    vt = vtype("i16", 8)
    b = pop_as(t, vt)
    a = pop_as(t, vt)
    push_as(t, vt, q15mulr(t, a, b, saturate=True))


# ---- floats ------------------------------------------------------------------------------------

def opaque(t, operand: str) -> str:
    """`operand` (a v128) unchanged, but hidden from constant folding if it is a constant."""
    if is_constant(operand):
        return t.value(f'call {V} asm "", "=x,0"({V} {operand})')
    return operand


def _pop_float(t, vt: str) -> str:
    operand = opaque(t, t.pop())
    return t.value(f"bitcast {V} {operand} to {vt}")


def _float_binary(shape: str, op: str):
    *_, vt = _types(shape)

    def emit(t, instr) -> None:
        b = _pop_float(t, vt)
        a = _pop_float(t, vt)
        push_as(t, vt, t.value(f"{op} {vt} {a}, {b}"))
    return emit


def _float_unary(shape: str, name: str):
    lane, count, _, vt = _types(shape)
    full = f"llvm.{name}.{suffix(lane, count)}"

    def emit(t, instr) -> None:
        a = pop_as(t, vt)
        push_as(t, vt, t.call_intrinsic(full, vt, [(vt, a)]))
    return emit


def _fneg(shape: str):
    *_, vt = _types(shape)

    def emit(t, instr) -> None:
        push_as(t, vt, t.value(f"fneg {vt} {pop_as(t, vt)}"))
    return emit


def _min_max(shape: str, name: str):
    lane, count, _, vt = _types(shape)
    full = f"llvm.{name}.{suffix(lane, count)}"

    def emit(t, instr) -> None:
        b = _pop_float(t, vt)
        a = _pop_float(t, vt)
        r = t.call_intrinsic(full, vt, [(vt, a), (vt, b)])
        nan = t.value(f"fcmp uno {vt} {a}, {b}")
        s = t.value(f"fadd {vt} {a}, {b}")
        push_as(t, vt, t.value(f"select {vtype('i1', count)} {nan}, {vt} {s}, {vt} {r}"))
    return emit


def pmin_pmax(t, vt: str, count: int, a: str, b: str, is_max: bool) -> str:
    """pmin: `b < a ? b : a`; pmax: `a < b ? b : a` (lane by lane; a NaN or equal operands
    give `a`, bit for bit)."""
    less = t.value(f"fcmp olt {vt} {a}, {b}" if is_max else f"fcmp olt {vt} {b}, {a}")
    return t.value(f"select {vtype('i1', count)} {less}, {vt} {b}, {vt} {a}")


def _pmin_pmax(shape: str, is_max: bool):
    lane, count, _, vt = _types(shape)

    def emit(t, instr) -> None:
        b = pop_as(t, vt)
        a = pop_as(t, vt)
        push_as(t, vt, pmin_pmax(t, vt, count, a, b, is_max))
    return emit


_MINMAX = {"min_s": "smin", "min_u": "umin", "max_s": "smax", "max_u": "umax"}


def _build() -> dict:
    h = {"i8x16.popcnt": emit_popcnt, "i16x8.q15mulr_sat_s": emit_q15mulr_sat}
    for shape in ("i8x16", "i16x8", "i32x4", "i64x2"):
        h[f"{shape}.add"] = _binary(shape, "add")
        h[f"{shape}.sub"] = _binary(shape, "sub")
        h[f"{shape}.neg"] = _neg(shape)
        h[f"{shape}.abs"] = _abs(shape)
        h[f"{shape}.shl"] = _shift(shape, "shl")
        h[f"{shape}.shr_s"] = _shift(shape, "ashr")
        h[f"{shape}.shr_u"] = _shift(shape, "lshr")
    for shape in ("i16x8", "i32x4", "i64x2"):
        h[f"{shape}.mul"] = _binary(shape, "mul")
    for shape in ("i8x16", "i16x8"):
        for name, intrinsic in (("add_sat_s", "sadd.sat"), ("add_sat_u", "uadd.sat"),
                                ("sub_sat_s", "ssub.sat"), ("sub_sat_u", "usub.sat")):
            h[f"{shape}.{name}"] = _intrinsic2(shape, intrinsic)
        h[f"{shape}.avgr_u"] = _avgr_u(shape)
    for shape in ("i8x16", "i16x8", "i32x4"):
        for name in ("min_s", "min_u", "max_s", "max_u"):
            h[f"{shape}.{name}"] = _intrinsic2(shape, _MINMAX[name])
    for shape in ("f32x4", "f64x2"):
        for name, op in (("add", "fadd"), ("sub", "fsub"), ("mul", "fmul"), ("div", "fdiv")):
            h[f"{shape}.{name}"] = _float_binary(shape, op)
        for name, intrinsic in (("abs", "fabs"), ("sqrt", "sqrt"), ("ceil", "ceil"),
                                ("floor", "floor"), ("trunc", "trunc"),
                                ("nearest", "roundeven")):
            h[f"{shape}.{name}"] = _float_unary(shape, intrinsic)
        h[f"{shape}.neg"] = _fneg(shape)
        h[f"{shape}.min"] = _min_max(shape, "minimum")
        h[f"{shape}.max"] = _min_max(shape, "maximum")
        h[f"{shape}.pmin"] = _pmin_pmax(shape, False)
        h[f"{shape}.pmax"] = _pmin_pmax(shape, True)
    return h

HANDLERS = _build()
