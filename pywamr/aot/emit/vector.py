"""Shapes and builder idioms of the SIMD emitters: how a v128 is spelled in LLVM and how an
emitter views it as lanes.

Sits under `simd.py` and its sibling families (`simd_arith`, `simd_convert`, `simd_relaxed`).
A v128 travels through the translator (operand stack, locals, branch slots, calls) as one
canonical LLVM type, `<2 x i64>` (`helpers.LLTYPE[V128]`); an emitter bitcasts it to the
shape it works on (`<16 x i8>`, `<4 x float>`, ...) and back. The bitcasts cost nothing:
instcombine folds each pair, and x86 keeps every shape in the same XMM register. This module
knows nothing of instruction semantics; it only spells shapes, splats, constants and
shuffles, and says whether the host has an x86 feature (`has_feature`), for the few
instructions that have an x86 intrinsic far better than the generic IR LLVM would produce.
"""
from __future__ import annotations

import functools

from ..helpers import LLTYPE
from ...binary.types import V128

V = LLTYPE[V128]                     # "<2 x i64>"

# shape name -> (LLVM lane type, lane count, lane bits)
SHAPES = {
    "i8x16": ("i8", 16, 8), "i16x8": ("i16", 8, 16), "i32x4": ("i32", 4, 32),
    "i64x2": ("i64", 2, 64), "f32x4": ("float", 4, 32), "f64x2": ("double", 2, 64),
}
# LLVM lane type -> the letter LLVM uses in overloaded intrinsic names
_SUFFIX_LANE = {"i8": "i8", "i16": "i16", "i32": "i32", "i64": "i64", "float": "f32",
                "double": "f64"}


def vtype(lane: str, count: int) -> str:
    return f"<{count} x {lane}>"


def shape_type(shape: str) -> str:
    lane, count, _ = SHAPES[shape]
    return vtype(lane, count)


def suffix(lane: str, count: int) -> str:
    """The overload suffix of an intrinsic on `<count x lane>` (e.g. `v4f32`)."""
    return f"v{count}{_SUFFIX_LANE[lane]}"


def is_constant(operand: str) -> bool:
    return not operand.startswith("%")


def pop_as(t, vt: str) -> str:
    """Pop a v128 and view it as `vt`."""
    operand = t.pop()
    return operand if vt == V else t.value(f"bitcast {V} {operand} to {vt}")


def push_as(t, vt: str, operand: str) -> None:
    """Push a value of vector type `vt` as a v128."""
    t.push(V, operand if vt == V else t.value(f"bitcast {vt} {operand} to {V}"))


def splat_const(lane: str, count: int, text: str) -> str:
    """A constant vector with every lane `text` (an LLVM constant of type `lane`)."""
    return "<" + ", ".join([f"{lane} {text}"] * count) + ">"


def lanes_const(lane: str, values) -> str:
    return "<" + ", ".join(f"{lane} {v}" for v in values) + ">"


def mask(indices) -> str:
    """A shufflevector mask, typed."""
    indices = list(indices)
    return f"<{len(indices)} x i32> " + lanes_const("i32", indices)


def splat(t, lane: str, count: int, scalar: str) -> str:
    """A `<count x lane>` whose lanes are all `scalar` (insertelement + broadcast shuffle)."""
    vt = vtype(lane, count)
    one = t.value(f"insertelement {vt} poison, {lane} {scalar}, i32 0")
    return t.value(f"shufflevector {vt} {one}, {vt} poison, <{count} x i32> zeroinitializer")


def shuffle(t, vt: str, a: str, b: str, indices) -> str:
    """`shufflevector` of two `vt` operands (b may be "poison") with a constant mask."""
    return t.value(f"shufflevector {vt} {a}, {vt} {b}, {mask(indices)}")


def half(t, lane: str, count: int, operand: str, high: bool) -> str:
    """The low or high half of a `<count x lane>`, as `<count/2 x lane>`."""
    n = count // 2
    start = n if high else 0
    return shuffle(t, vtype(lane, count), operand, "poison", range(start, start + n))


def intrinsic(t, name: str, ret: str, args: list[tuple[str, str]]) -> str:
    return t.call_intrinsic(name, ret, args)


@functools.lru_cache(maxsize=None)
def _host_features() -> frozenset:
    from ..codegen import host_features
    return host_features()


def has_feature(name: str) -> bool:
    """Whether the host CPU, for which every object is compiled, has the x86 feature `name`
    (e.g. "ssse3"); always False off x86."""
    return name in _host_features()
