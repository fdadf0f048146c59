"""Emitters of local and global access.

Locals are allocas (SROA makes them SSA). Globals live in 8-byte cells whose addresses the
vmctx lists, so an imported global shares its cell with the exporting instance.
"""
from __future__ import annotations

from ..helpers import LLTYPE
from .. import vmctx


def emit_local_get(t, instr) -> None:
    index = instr[1]
    lltype = LLTYPE[t.local_types[index]]
    t.push(lltype, t.value(f"load {lltype}, ptr {t.locals[index]}, align 8"))


def emit_local_set(t, instr) -> None:
    lltype, operand = t.stack.pop()
    t.emit(f"store {lltype} {operand}, ptr {t.locals[instr[1]]}, align 8")


def emit_local_tee(t, instr) -> None:
    lltype, operand = t.stack[-1]
    t.emit(f"store {lltype} {operand}, ptr {t.locals[instr[1]]}, align 8")


def emit_global_get(t, instr) -> None:
    gtype = t.info.global_types[instr[1]]
    lltype = LLTYPE[gtype.valtype]
    cell = t.array_slot(vmctx.GLOBALS, instr[1])
    t.push(lltype, t.value(f"load {lltype}, ptr {cell}, align 8"))


def emit_global_set(t, instr) -> None:
    lltype, operand = t.stack.pop()
    cell = t.array_slot(vmctx.GLOBALS, instr[1])
    t.emit(f"store {lltype} {operand}, ptr {cell}, align 8")


HANDLERS = {"local.get": emit_local_get, "local.set": emit_local_set,
            "local.tee": emit_local_tee, "global.get": emit_global_get,
            "global.set": emit_global_set}
