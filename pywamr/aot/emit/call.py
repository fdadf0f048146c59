"""Emitters of `call` and `call_indirect`.

Defined functions are called directly by symbol; imported functions and table elements through
their function record (`callrec_<sig>` glue: native code when the record has some, the Python
host-call callback otherwise). `call_indirect` checks bounds, null and the structural type id
in that order, as the spec does.
"""
from __future__ import annotations

from ...errors import TrapCode
from .. import vmctx
from .table import element_slot


def emit_call(t, instr) -> None:
    t.call_direct(instr[1])


def emit_call_indirect(t, instr) -> None:
    type_index, table_index = instr[1], instr[2]
    ft = t.info.types[type_index]
    slot = element_slot(t, table_index, t.pop(), TrapCode.UNDEFINED_ELEMENT)
    record = t.value(f"load i64, ptr {slot}, align 8")
    null = t.value(f"icmp eq i64 {record}, 0")
    t.trap_if(null, TrapCode.UNINITIALIZED_ELEMENT)
    rp = t.value(f"inttoptr i64 {record} to ptr")
    tp = t.value(f"getelementptr inbounds i8, ptr {rp}, i64 {vmctx.RECORD_TYPE_ID}")
    actual = t.value(f"load i64, ptr {tp}, align 8")
    expected = t.array_slot(vmctx.TYPE_IDS, type_index, "i64")
    bad = t.value(f"icmp ne i64 {actual}, {expected}")
    t.trap_if(bad, TrapCode.INDIRECT_CALL_TYPE_MISMATCH)
    t.call_record(ft, record)


HANDLERS = {"call": emit_call, "call_indirect": emit_call_indirect}
