"""Emitters of numeric constants (f32 NaNs go through a bitcast to keep their payload)."""
from __future__ import annotations

from ..helpers import f32_const_or_none, f64_const, int_const


def emit_i32_const(t, instr) -> None:
    t.push("i32", int_const(instr[1], 32))


def emit_i64_const(t, instr) -> None:
    t.push("i64", int_const(instr[1], 64))


def emit_f32_const(t, instr) -> None:
    text = f32_const_or_none(instr[1])
    if text is None:
        text = t.value(f"bitcast i32 {int_const(instr[1], 32)} to float")
    t.push("float", text)


def emit_f64_const(t, instr) -> None:
    t.push("double", f64_const(instr[1]))


HANDLERS = {"i32.const": emit_i32_const, "i64.const": emit_i64_const,
            "f32.const": emit_f32_const, "f64.const": emit_f64_const}
