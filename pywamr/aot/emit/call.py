"""Emitters of `call`, `call_indirect` and the tail calls `return_call`,
`return_call_indirect`.

Defined functions are called directly by symbol; imported functions and table elements through
their function record (`callrec_<sig>` glue: native code when the record has some, the Python
host-call callback otherwise). `call_indirect` checks bounds, null and the structural type id
in that order, as the spec does.

Tail calls go to the callee's entry in the `tailcc` convention, which a function making tail
calls has too (`conventions.py`): a `tail call` in tail position between `tailcc` functions is a
guaranteed tail call in LLVM, whatever the two prototypes, so the caller's frame is gone before
the callee runs. A record's TAIL_CODE (vmctx.py) is that entry, in this instance or another; a
record without one (a host or interpreter function, a component adapter) is called normally
and its results returned: the stack grows by that one call, which returns before the chain
goes on.
"""
from __future__ import annotations

from ...errors import TrapCode
from .. import vmctx
from ..conventions import results_in_memory, tailcc_ret
from .table import element_slot


def emit_call(t, instr) -> None:
    t.call_direct(instr[1])


def emit_call_indirect(t, instr) -> None:
    ft = t.info.types[instr[1]]
    t.call_record(ft, _table_record(t, instr))


def _table_record(t, instr) -> str:
    """The checked function record (i64) a `call_indirect`-shaped instruction calls: bounds,
    null and signature traps first."""
    type_index, table_index = instr[1], instr[2]
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
    return record


def emit_return_call(t, instr) -> None:
    callee = instr[1]
    ft = t.info.func_types[callee]
    if not t.info.is_native(callee):       # an import, or not in this partial module
        _tail_call_record(t, ft, t.array_slot(vmctx.FUNCS, callee, "i64"))
        return
    _tail_call(t, ft, t.declare_tail_entry(callee), "%vmctx", t.pop_n(len(ft.params)))


def emit_return_call_indirect(t, instr) -> None:
    _tail_call_record(t, t.info.types[instr[1]], _table_record(t, instr))


def _tail_call(t, ft, target: str, callee_vmctx: str, args) -> None:
    """`tail call tailcc` + `ret`: the function ends here. The call is never inlined (`#1`):
    inlined, a trap in the callee would be reported in the caller, whose frame a tail call
    removes from the backtrace."""
    rt = tailcc_ret(ft.results)
    results = ", ptr %results" if results_in_memory(ft.results) else ""    # handed on
    call = (f"tail call tailcc {rt} {target}(ptr {callee_vmctx}{results}"
            + "".join(f", {lltype} {v}" for lltype, v in args) + ") #1")
    if rt != "void":
        t.emit(f"ret {rt} {t.value(call)}")
    else:
        t.emit(call)
        t.emit("ret void")
    t.mark_dead()


def _tail_call_record(t, ft, record: str) -> None:
    """Tail-call the function of `record`: through its TAIL_CODE when it has one, else an
    ordinary call through `callrec` whose results are returned."""
    args = t.pop_n(len(ft.params))
    rp = t.value(f"inttoptr i64 {record} to ptr")
    tp = t.value(f"getelementptr inbounds i8, ptr {rp}, i64 {vmctx.RECORD_TAIL_CODE}")
    tail = t.value(f"load ptr, ptr {tp}, align 8")
    none = t.value(f"icmp eq ptr {tail}, null")
    wasm, other = t.new_label("tailwasm"), t.new_label("tailother")
    t.emit(f"br i1 {none}, label %{other}, label %{wasm}")
    t.start_block(wasm)
    vp = t.value(f"getelementptr inbounds i8, ptr {rp}, i64 {vmctx.RECORD_VMCTX}")
    _tail_call(t, ft, tail, t.value(f"load ptr, ptr {vp}, align 8"), args)
    t.start_block(other)
    t.stack.extend(args)
    t.call_record(ft, record)
    arity = len(ft.results)
    t.emit_return(t.stack[len(t.stack) - arity:] if arity else [])


HANDLERS = {"call": emit_call, "call_indirect": emit_call_indirect,
            "return_call": emit_return_call, "return_call_indirect": emit_return_call_indirect}
