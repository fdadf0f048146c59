"""The dispatch table from opcode to emitter, derived from the one instruction table.

Each family module (`control`, `call`, ... ) maps instruction names to emitters with the same
signature `emit(translator, instr)`; this module joins them to `binary.opcodes.OPS` so that no
second opcode list exists. Instructions of proposals beyond Wasm 2.0 get no emitter and are
refused by the translator with `NotSupported`.
"""
from __future__ import annotations

from ...binary.opcodes import OPS
from . import (call, compare, constant, control, conversion, memory, numeric, parametric,
               reference, table, variable)

FAMILIES = {
    "control": control, "call": call, "parametric": parametric, "variable": variable,
    "memory": memory, "constant": constant, "compare": compare, "numeric": numeric,
    "conversion": conversion, "reference": reference, "table": table,
}


def _build() -> dict:
    table_ = {}
    for code, info in OPS.items():
        if info.feature is not None:
            continue
        family = FAMILIES.get(info.family)
        handler = family.HANDLERS.get(info.name) if family else None
        if handler is not None:
            table_[code] = handler
    return table_


EMITTERS = _build()
