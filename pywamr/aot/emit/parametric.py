"""Emitters of `drop` and `select` (typed or not)."""
from __future__ import annotations


def emit_drop(t, instr) -> None:
    t.stack.pop()


def emit_select(t, instr) -> None:
    cond = t.pop()
    lltype, b = t.stack.pop()
    _, a = t.stack.pop()
    c = t.value(f"icmp ne i32 {cond}, 0")
    t.push(lltype, t.value(f"select i1 {c}, {lltype} {a}, {lltype} {b}"))


HANDLERS = {"drop": emit_drop, "select": emit_select, "select_t": emit_select}
