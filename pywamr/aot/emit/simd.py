"""Emitters of the SIMD family: v128 memory access, constants, shuffles, lane access, bitwise
operations and comparisons. The family's arithmetic, conversion and relaxed emitters live in
`simd_arith`, `simd_convert` and `simd_relaxed`; `emit/__init__.py` registers all four
modules' `HANDLERS` for the instruction table's family "simd".

Sits beside the scalar families. Every emitter is real vector IR (`vector.py` spells the
shapes), so LLVM selects SSE/AVX instructions for the host CPU. Memory accesses take their
address from the translator's one bounds-check helper (`memory_address`: the whole access is
checked before any byte is read or written, so a trap is exact and a store is never partial)
and use `align 1`, because wasm addresses need not be aligned. Immediates come as the decoder
spells them (`binary/ast.py`): memarg `(align, offset, memory)`, a lane index, the 16 lane
indices of a shuffle, and a v128 constant as an int (lane 0 in the low bits).
"""
from __future__ import annotations

from ...binary.opcodes import OPS
from ..helpers import int_const
from .vector import SHAPES, V, has_feature, pop_as, push_as, shuffle, splat, splat_const, vtype

_SCALAR_LL = {"i32": "i32", "i64": "i64", "f32": "float", "f64": "double"}


# ---- memory -----------------------------------------------------------------------------------

def _address(t, instr, width: int) -> str:
    return t.memory_address(t.pop(), instr[2], width, instr[3])


def emit_load(t, instr) -> None:
    ptr = _address(t, instr, 16)
    t.push(V, t.value(f"load {V}, ptr {ptr}, align 1"))


def emit_store(t, instr) -> None:
    value = t.pop()
    ptr = _address(t, instr, 16)
    t.emit(f"store {V} {value}, ptr {ptr}, align 1")


def _load_extend(lane_bits: int, ext: str):
    """`v128.load8x8_s` and kin: 8 bytes as 64/lane_bits lanes, each extended to twice its width."""
    count = 64 // lane_bits
    narrow = vtype(f"i{lane_bits}", count)
    wide = vtype(f"i{2 * lane_bits}", count)

    def emit(t, instr) -> None:
        ptr = _address(t, instr, 8)
        v = t.value(f"load {narrow}, ptr {ptr}, align 1")
        push_as(t, wide, t.value(f"{ext} {narrow} {v} to {wide}"))
    return emit


def _load_splat(bits: int):
    lane = f"i{bits}"
    count = 128 // bits

    def emit(t, instr) -> None:
        ptr = _address(t, instr, bits // 8)
        scalar = t.value(f"load {lane}, ptr {ptr}, align 1")
        push_as(t, vtype(lane, count), splat(t, lane, count, scalar))
    return emit


def _load_zero(bits: int):
    lane = f"i{bits}"
    vt = vtype(lane, 128 // bits)

    def emit(t, instr) -> None:
        ptr = _address(t, instr, bits // 8)
        scalar = t.value(f"load {lane}, ptr {ptr}, align 1")
        push_as(t, vt, t.value(f"insertelement {vt} zeroinitializer, {lane} {scalar}, i32 0"))
    return emit


def _load_lane(bits: int):
    lane = f"i{bits}"
    vt = vtype(lane, 128 // bits)

    def emit(t, instr) -> None:
        v = pop_as(t, vt)
        ptr = _address(t, instr, bits // 8)
        scalar = t.value(f"load {lane}, ptr {ptr}, align 1")
        push_as(t, vt, t.value(f"insertelement {vt} {v}, {lane} {scalar}, i32 {instr[4]}"))
    return emit


def _store_lane(bits: int):
    lane = f"i{bits}"
    vt = vtype(lane, 128 // bits)

    def emit(t, instr) -> None:
        v = pop_as(t, vt)
        ptr = _address(t, instr, bits // 8)
        scalar = t.value(f"extractelement {vt} {v}, i32 {instr[4]}")
        t.emit(f"store {lane} {scalar}, ptr {ptr}, align 1")
    return emit


# ---- constants, shuffles, splats, lanes ----------------------------------------------------------

def v128_constant(value: int) -> str:
    """The LLVM constant of a v128 (an int, lane 0 in the low bits)."""
    if value == 0:
        return "zeroinitializer"
    low = int_const(value & (1 << 64) - 1, 64)
    high = int_const(value >> 64, 64)
    return f"<i64 {low}, i64 {high}>"


def emit_const(t, instr) -> None:
    t.push(V, v128_constant(instr[1]))


def emit_shuffle(t, instr) -> None:
    vt = vtype("i8", 16)
    b = pop_as(t, vt)
    a = pop_as(t, vt)
    push_as(t, vt, shuffle(t, vt, a, b, instr[1]))


def swizzle(t, a: str, index: str, *, relaxed: bool) -> str:
    """Bytes of `a` chosen by the bytes of `index` (both `<16 x i8>`).

    With SSSE3 this is `pshufb`, which gives 0 where an index byte has its top bit set and
    otherwise uses the index's low four bits. `i8x16.swizzle` wants 0 for every index >= 16:
    a saturating add of 0x70 keeps 0..15 in the low nibble with the top bit clear and moves
    16..255 to 0x80 and above. The relaxed form is `pshufb` alone (what wasmtime does on
    x86-64: indices 16..127 wrap to their low four bits). Without SSSE3: lane by lane."""
    vt = vtype("i8", 16)
    if has_feature("ssse3"):
        if not relaxed:
            bias = splat_const("i8", 16, "112")
            index = t.call_intrinsic("llvm.uadd.sat.v16i8", vt, [(vt, index), (vt, bias)])
        return t.call_intrinsic("llvm.x86.ssse3.pshuf.b.128", vt, [(vt, a), (vt, index)])
    result = "zeroinitializer"
    for lane in range(16):
        i = t.value(f"extractelement {vt} {index}, i32 {lane}")
        low = t.value(f"and i8 {i}, 15")
        byte = t.value(f"extractelement {vt} {a}, i8 {low}")
        keep = (t.value(f"icmp sge i8 {i}, 0") if relaxed          # top bit clear
                else t.value(f"icmp ult i8 {i}, 16"))
        byte = t.value(f"select i1 {keep}, i8 {byte}, i8 0")
        result = t.value(f"insertelement {vt} {result}, i8 {byte}, i32 {lane}")
    return result


def emit_swizzle(t, instr) -> None:
    vt = vtype("i8", 16)
    index = pop_as(t, vt)
    a = pop_as(t, vt)
    push_as(t, vt, swizzle(t, a, index, relaxed=False))


def _splat(shape: str):
    lane, count, bits = SHAPES[shape]

    def emit(t, instr) -> None:
        scalar = t.pop()
        if bits < 32:
            scalar = t.value(f"trunc i32 {scalar} to {lane}")
        push_as(t, vtype(lane, count), splat(t, lane, count, scalar))
    return emit


def _extract_lane(shape: str, ext: str | None):
    lane, count, _ = SHAPES[shape]
    vt = vtype(lane, count)

    def emit(t, instr) -> None:
        v = pop_as(t, vt)
        scalar = t.value(f"extractelement {vt} {v}, i32 {instr[1]}")
        if ext is not None:
            t.push("i32", t.value(f"{ext} {lane} {scalar} to i32"))
        else:
            t.push(lane, scalar)
    return emit


def _replace_lane(shape: str):
    lane, count, bits = SHAPES[shape]
    vt = vtype(lane, count)

    def emit(t, instr) -> None:
        scalar = t.pop()
        v = pop_as(t, vt)
        if bits < 32:
            scalar = t.value(f"trunc i32 {scalar} to {lane}")
        push_as(t, vt, t.value(f"insertelement {vt} {v}, {lane} {scalar}, i32 {instr[1]}"))
    return emit


# ---- bitwise -----------------------------------------------------------------------------------

_ONES = "<i64 -1, i64 -1>"


def emit_not(t, instr) -> None:
    t.push(V, t.value(f"xor {V} {t.pop()}, {_ONES}"))


def _bitwise(op: str, invert_b: bool = False):
    def emit(t, instr) -> None:
        b = t.pop()
        a = t.pop()
        if invert_b:
            b = t.value(f"xor {V} {b}, {_ONES}")
        t.push(V, t.value(f"{op} {V} {a}, {b}"))
    return emit


def bitselect(t, a: str, b: str, c: str) -> str:
    """Bits of `a` where `c` has a 1, of `b` elsewhere (all `<2 x i64>`)."""
    x = t.value(f"xor {V} {a}, {b}")
    x = t.value(f"and {V} {x}, {c}")
    return t.value(f"xor {V} {x}, {b}")


def emit_bitselect(t, instr) -> None:
    c = t.pop()
    b = t.pop()
    a = t.pop()
    t.push(V, bitselect(t, a, b, c))


def emit_any_true(t, instr) -> None:
    wide = t.value(f"bitcast {V} {t.pop()} to i128")
    nonzero = t.value(f"icmp ne i128 {wide}, 0")
    t.push("i32", t.value(f"zext i1 {nonzero} to i32"))


def _all_true(shape: str):
    lane, count, _ = SHAPES[shape]
    vt = vtype(lane, count)
    bools = vtype("i1", count)

    def emit(t, instr) -> None:
        v = pop_as(t, vt)
        nonzero = t.value(f"icmp ne {vt} {v}, zeroinitializer")
        all_ = t.call_intrinsic(f"llvm.vector.reduce.and.v{count}i1", "i1", [(bools, nonzero)])
        t.push("i32", t.value(f"zext i1 {all_} to i32"))
    return emit


def _bitmask(shape: str):
    lane, count, _ = SHAPES[shape]
    vt = vtype(lane, count)

    def emit(t, instr) -> None:
        v = pop_as(t, vt)
        negative = t.value(f"icmp slt {vt} {v}, zeroinitializer")
        bits = t.value(f"bitcast {vtype('i1', count)} {negative} to i{count}")
        t.push("i32", t.value(f"zext i{count} {bits} to i32"))
    return emit


# ---- comparisons -------------------------------------------------------------------------------

_INT_PREDICATES = {"eq": "eq", "ne": "ne", "lt_s": "slt", "lt_u": "ult", "gt_s": "sgt",
                   "gt_u": "ugt", "le_s": "sle", "le_u": "ule", "ge_s": "sge", "ge_u": "uge"}
# wasm's `ne` is true when either operand is NaN (unordered or not equal); the others are
# false then (ordered).
_FLOAT_PREDICATES = {"eq": "oeq", "ne": "une", "lt": "olt", "gt": "ogt", "le": "ole",
                     "ge": "oge"}


def _compare(shape: str, predicate: str):
    lane, count, bits = SHAPES[shape]
    vt = vtype(lane, count)
    ivt = vtype(f"i{bits}", count)
    cmp = "fcmp" if lane in ("float", "double") else "icmp"

    def emit(t, instr) -> None:
        b = pop_as(t, vt)
        a = pop_as(t, vt)
        mask = t.value(f"{cmp} {predicate} {vt} {a}, {b}")
        push_as(t, ivt, t.value(f"sext {vtype('i1', count)} {mask} to {ivt}"))
    return emit


# ---- the table ---------------------------------------------------------------------------------

def _build() -> dict:
    handlers = {
        "v128.load": emit_load, "v128.store": emit_store, "v128.const": emit_const,
        "i8x16.shuffle": emit_shuffle, "i8x16.swizzle": emit_swizzle,
        "v128.not": emit_not, "v128.and": _bitwise("and"),
        "v128.andnot": _bitwise("and", invert_b=True), "v128.or": _bitwise("or"),
        "v128.xor": _bitwise("xor"), "v128.bitselect": emit_bitselect,
        "v128.any_true": emit_any_true,
    }
    for shape, ext in (("8x8", "s"), ("8x8", "u"), ("16x4", "s"), ("16x4", "u"),
                       ("32x2", "s"), ("32x2", "u")):
        bits = int(shape.split("x")[0])
        handlers[f"v128.load{shape}_{ext}"] = _load_extend(bits, "sext" if ext == "s" else "zext")
    for bits in (8, 16, 32, 64):
        handlers[f"v128.load{bits}_splat"] = _load_splat(bits)
        handlers[f"v128.load{bits}_lane"] = _load_lane(bits)
        handlers[f"v128.store{bits}_lane"] = _store_lane(bits)
    for bits in (32, 64):
        handlers[f"v128.load{bits}_zero"] = _load_zero(bits)
    for shape, (lane, count, bits) in SHAPES.items():
        handlers[f"{shape}.splat"] = _splat(shape)
        handlers[f"{shape}.replace_lane"] = _replace_lane(shape)
        if bits < 32:
            handlers[f"{shape}.extract_lane_s"] = _extract_lane(shape, "sext")
            handlers[f"{shape}.extract_lane_u"] = _extract_lane(shape, "zext")
        else:
            handlers[f"{shape}.extract_lane"] = _extract_lane(shape, None)
        if lane.startswith("i"):
            handlers[f"{shape}.all_true"] = _all_true(shape)
            handlers[f"{shape}.bitmask"] = _bitmask(shape)
            for name, predicate in _INT_PREDICATES.items():
                handlers[f"{shape}.{name}"] = _compare(shape, predicate)
        else:
            for name, predicate in _FLOAT_PREDICATES.items():
                handlers[f"{shape}.{name}"] = _compare(shape, predicate)
    # only names the instruction table has (i64x2 has no unsigned comparisons)
    known = {info.name for info in OPS.values() if info.family == "simd"}
    return {name: emit for name, emit in handlers.items() if name in known}


HANDLERS = _build()
