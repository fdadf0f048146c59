"""Emission of the SIMD instructions that carry immediates beyond a memarg: `v128.const`, lane
extraction and replacement, `i8x16.shuffle`, and lane loads and stores.

Part of the interpreter's translator, beside `emit.py` (whose `Emitter` calls these through its
handler table). The lane index is known at translation time, so a lane access becomes a shift
and a mask with literal constants; a shuffle becomes one `itemgetter` over the 32 bytes of its
operands. Fixed-typing SIMD instructions go through `ops.EXPR` like any numeric instruction.
"""
from __future__ import annotations

import operator

from ..binary.opcodes import OPS
from .ops import memory_name
from .simd_ops import LANE_LOAD, LANE_STORE
from .stack import constant

_LANE_BITS = {"i8x16": 8, "i16x8": 16, "i32x4": 32, "i64x2": 64, "f32x4": 32, "f64x2": 64}
M128 = (1 << 128) - 1


def _named(emitter, value) -> str:
    """A constant too long to inline (128-bit masks, itemgetters), bound once per function."""
    name = f"kv{emitter.info.index}_{len(emitter.consts)}"
    emitter.consts[name] = value
    return name


def v128_const(emitter, instr) -> None:
    emitter.stack.push(constant(f"({instr[1]:#x})"))


def extract_lane(emitter, instr) -> None:
    name = OPS[instr[0]].name
    shape = name.split(".")[0]
    bits = _LANE_BITS[shape]
    full = (1 << bits) - 1
    operand = emitter.stack.pop()
    lane = f"(({operand.expr} >> {instr[1] * bits}) & {full:#x})"
    if name.endswith("_s"):
        half = 1 << (bits - 1)
        expr = f"((({lane} ^ {half:#x}) - {half:#x}) & 0xFFFFFFFF)"
    elif shape == "f32x4":
        expr = f"f32_reinterpret_i32({lane})"
    elif shape == "f64x2":
        expr = f"f64_reinterpret_i64({lane})"
    else:
        expr = lane
    emitter.push_pure(expr, operand.reads)


def replace_lane(emitter, instr) -> None:
    shape = OPS[instr[0]].name.split(".")[0]
    bits = _LANE_BITS[shape]
    full = (1 << bits) - 1
    shift = instr[1] * bits
    value, vector = emitter.stack.pop(), emitter.stack.pop()
    if shape == "f32x4":
        scalar = f"i32_reinterpret_f32({value.expr})"
    elif shape == "f64x2":
        scalar = f"i64_reinterpret_f64({value.expr})"
    else:
        scalar = f"({value.expr} & {full:#x})"
    clear = _named(emitter, M128 ^ (full << shift))
    expr = f"(({vector.expr} & {clear}) | ({scalar} << {shift}))"
    emitter.push_pure(expr, vector.reads | value.reads)


def shuffle(emitter, instr) -> None:
    getter = _named(emitter, operator.itemgetter(*instr[1]))
    b, a = emitter.stack.pop(), emitter.stack.pop()
    emitter.push_pure(f"i8x16_shuffle({a.expr}, {b.expr}, {getter})", a.reads | b.reads)


def _address(emitter, instr, base: str) -> str:
    offset = instr[2]
    return f"{base} + {offset}" if offset else base


def load_lane(emitter, instr) -> None:
    info = OPS[instr[0]]
    bits = info.width * 8
    shift = instr[4] * bits
    vector = emitter.stack.pop()
    base = emitter.stack.pop().expr
    read = LANE_LOAD[info.width].format(_address(emitter, instr, base),
                                        m=memory_name(instr[3]))
    clear = _named(emitter, M128 ^ (((1 << bits) - 1) << shift))
    emitter.assign(f"(({vector.expr} & {clear}) | ({read} << {shift}))")


def store_lane(emitter, instr) -> None:
    info = OPS[instr[0]]
    bits = info.width * 8
    vector = emitter.stack.pop()
    base = emitter.stack.pop().expr
    lane = f"(({vector.expr} >> {instr[4] * bits}) & {(1 << bits) - 1:#x})"
    emitter.emit(LANE_STORE[info.width].format(_address(emitter, instr, base), lane,
                                               m=memory_name(instr[3])))


def simd_handlers() -> dict:
    """Opcode -> handler for the SIMD instructions with lane, shuffle or constant immediates."""
    out = {}
    for code, info in OPS.items():
        if info.family != "simd":
            continue
        if info.imm == "v128":
            out[code] = v128_const
        elif info.imm == "shuffle":
            out[code] = shuffle
        elif info.imm == "lane":
            out[code] = extract_lane if "extract_lane" in info.name else replace_lane
        elif info.imm == "memarg_lane":
            out[code] = load_lane if "load" in info.name else store_lane
    return out
