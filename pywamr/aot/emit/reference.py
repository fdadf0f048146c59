"""Emitters of `ref.null`, `ref.is_null` and `ref.func`.

A reference is an i64 handle: 0 is null, a funcref is the address of a function record
(listed in the vmctx function array), an externref a key of the Python-side registry.
"""
from __future__ import annotations

from .. import vmctx


def emit_ref_null(t, instr) -> None:
    t.push("i64", "0")


def emit_ref_is_null(t, instr) -> None:
    c = t.value(f"icmp eq i64 {t.pop()}, 0")
    t.push("i32", t.value(f"zext i1 {c} to i32"))


def emit_ref_func(t, instr) -> None:
    t.push("i64", t.array_slot(vmctx.FUNCS, instr[1], "i64"))


HANDLERS = {"ref.null": emit_ref_null, "ref.is_null": emit_ref_is_null,
            "ref.func": emit_ref_func}
