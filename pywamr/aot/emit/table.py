"""Emitters of table instructions.

`table.get` and `table.size` read the table descriptor natively; every mutation (set, grow,
fill, copy, init, elem.drop) goes through the Python runtime helper, which runs the table's
`ElementStore` operation (runtime/tables.py: the spec's traps; the store keeps its native
mirror in step).
"""
from __future__ import annotations

from ...errors import TrapCode
from .. import vmctx


def table_size(t, table_index: int) -> tuple[str, str]:
    """The table's descriptor pointer and its current size (i64)."""
    desc = t.array_slot(vmctx.TABLES, table_index)
    size_ptr = t.value(f"getelementptr inbounds i8, ptr {desc}, i64 {vmctx.TABLE_SIZE}")
    return desc, t.value(f"load i64, ptr {size_ptr}, align 8")


def element_slot(t, table_index: int, index32: str, code: TrapCode) -> str:
    """Pointer to element `index32` of a table, trapping with `code` when out of bounds.
    Shared by table.get and call_indirect (which trap with different codes)."""
    desc, size = table_size(t, table_index)
    index = t.value(f"zext i32 {index32} to i64")
    oob = t.value(f"icmp uge i64 {index}, {size}")
    t.trap_if(oob, code)
    elements = t.value(f"load ptr, ptr {desc}, align 8")
    return t.value(f"getelementptr inbounds i64, ptr {elements}, i64 {index}")


def emit_table_get(t, instr) -> None:
    slot = element_slot(t, instr[1], t.pop(), TrapCode.TABLE_OUT_OF_BOUNDS)
    t.push("i64", t.value(f"load i64, ptr {slot}, align 8"))


def emit_table_set(t, instr) -> None:
    ref = t.pop()
    index = t.value(f"zext i32 {t.pop()} to i64")
    t.runtime_call(vmctx.RT_TABLE_SET, str(instr[1]), index, ref)


def emit_table_size(t, instr) -> None:
    _, size = table_size(t, instr[1])
    t.push("i32", t.value(f"trunc i64 {size} to i32"))


def emit_table_grow(t, instr) -> None:
    delta = t.value(f"zext i32 {t.pop()} to i64")
    init = t.pop()
    old = t.runtime_call(vmctx.RT_TABLE_GROW, str(instr[1]), delta, init)
    t.push("i32", t.value(f"trunc i64 {old} to i32"))


def emit_table_fill(t, instr) -> None:
    n = t.value(f"zext i32 {t.pop()} to i64")
    ref = t.pop()
    dst = t.value(f"zext i32 {t.pop()} to i64")
    t.runtime_call(vmctx.RT_TABLE_FILL, str(instr[1]), dst, ref, n)


def emit_table_copy(t, instr) -> None:
    dst_table, src_table = instr[1], instr[2]
    n = t.value(f"zext i32 {t.pop()} to i64")
    src = t.value(f"zext i32 {t.pop()} to i64")
    dst = t.value(f"zext i32 {t.pop()} to i64")
    t.runtime_call(vmctx.RT_TABLE_COPY, str(dst_table | src_table << 32), dst, src, n)


def emit_table_init(t, instr) -> None:
    elem_index, table_index = instr[1], instr[2]
    n = t.value(f"zext i32 {t.pop()} to i64")
    src = t.value(f"zext i32 {t.pop()} to i64")
    dst = t.value(f"zext i32 {t.pop()} to i64")
    t.runtime_call(vmctx.RT_TABLE_INIT, str(table_index | elem_index << 32), dst, src, n)


def emit_elem_drop(t, instr) -> None:
    t.runtime_call(vmctx.RT_ELEM_DROP, str(instr[1]))


HANDLERS = {"table.get": emit_table_get, "table.set": emit_table_set,
            "table.size": emit_table_size, "table.grow": emit_table_grow,
            "table.fill": emit_table_fill, "table.copy": emit_table_copy,
            "table.init": emit_table_init, "elem.drop": emit_elem_drop}
