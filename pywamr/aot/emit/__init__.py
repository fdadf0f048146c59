"""The dispatch table from opcode to emitter, derived from the one instruction table.

Each family module (`control`, `call`, ... ) maps instruction names to emitters with the same
signature `emit(translator, instr)`; this module joins them to `binary.opcodes.OPS` so that no
second opcode list exists. The SIMD family is four modules (`simd`, `simd_arith`,
`simd_convert`, `simd_relaxed`). Instructions of the proposals the aot engine does not run
get no emitter and are refused by the translator with `NotSupported`.
"""
from __future__ import annotations

from ...binary.opcodes import OPS
from . import (call, compare, constant, control, conversion, memory, numeric, parametric,
               reference, simd, simd_arith, simd_convert, simd_relaxed, table, variable)

FAMILIES = {
    "control": control, "call": call, "parametric": parametric, "variable": variable,
    "memory": memory, "constant": constant, "compare": compare, "numeric": numeric,
    "conversion": conversion, "reference": reference, "table": table,
    "simd": (simd, simd_arith, simd_convert, simd_relaxed),
}
# The proposals beyond Wasm 2.0 whose instructions the aot engine runs.
RUN_FEATURES = frozenset({None, "simd", "relaxed-simd"})


def _build() -> dict:
    table_ = {}
    for code, info in OPS.items():
        if info.feature not in RUN_FEATURES:
            continue
        family = FAMILIES.get(info.family, ())
        modules = family if isinstance(family, tuple) else (family,)
        handler = next((m.HANDLERS[info.name] for m in modules if info.name in m.HANDLERS),
                       None)
        if handler is not None:
            table_[code] = handler
    return table_


EMITTERS = _build()
