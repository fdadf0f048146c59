"""Emitters of local and global access.

Locals are allocas (SROA makes them SSA). Numeric globals live in 8-byte cells whose addresses
the vmctx lists, so an imported global shares its cell with the exporting instance; reference
globals hold Python objects and are read and written through the runtime helper.
"""
from __future__ import annotations

from ...binary.types import EXTERNREF, FUNCREF
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
    if gtype.valtype in (FUNCREF, EXTERNREF):
        t.push(lltype, t.runtime_call(vmctx.RT_GLOBAL_GET, str(instr[1])))
        return
    cell = t.array_slot(vmctx.GLOBALS, instr[1])
    t.push(lltype, t.value(f"load {lltype}, ptr {cell}, align 8"))


def emit_global_set(t, instr) -> None:
    lltype, operand = t.stack.pop()
    if t.info.global_types[instr[1]].valtype in (FUNCREF, EXTERNREF):
        t.runtime_call(vmctx.RT_GLOBAL_SET, str(instr[1]), operand)
        return
    cell = t.array_slot(vmctx.GLOBALS, instr[1])
    t.emit(f"store {lltype} {operand}, ptr {cell}, align 8")


HANDLERS = {"local.get": emit_local_get, "local.set": emit_local_set,
            "local.tee": emit_local_tee, "global.get": emit_global_get,
            "global.set": emit_global_set}
