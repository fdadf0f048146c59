"""Emitters of comparisons: integer `icmp` and ordered/unordered float `fcmp`, as i32 0/1."""
from __future__ import annotations

_INT = {"eq": "eq", "ne": "ne", "lt_s": "slt", "lt_u": "ult", "gt_s": "sgt", "gt_u": "ugt",
        "le_s": "sle", "le_u": "ule", "ge_s": "sge", "ge_u": "uge"}
_FLOAT = {"eq": "oeq", "ne": "une", "lt": "olt", "gt": "ogt", "le": "ole", "ge": "oge"}


def _compare(instruction: str, pred: str, lltype: str):
    """A binary comparison (`icmp` or `fcmp`) producing i32 0/1."""
    def emit(t, instr) -> None:
        b = t.pop()
        a = t.pop()
        c = t.value(f"{instruction} {pred} {lltype} {a}, {b}")
        t.push("i32", t.value(f"zext i1 {c} to i32"))
    return emit


def _eqz(lltype: str):
    def emit(t, instr) -> None:
        a = t.pop()
        c = t.value(f"icmp eq {lltype} {a}, 0")
        t.push("i32", t.value(f"zext i1 {c} to i32"))
    return emit


HANDLERS = {"i32.eqz": _eqz("i32"), "i64.eqz": _eqz("i64")}
for _prefix, _lltype in (("i32", "i32"), ("i64", "i64")):
    for _name, _pred in _INT.items():
        HANDLERS[f"{_prefix}.{_name}"] = _compare("icmp", _pred, _lltype)
for _prefix, _lltype in (("f32", "float"), ("f64", "double")):
    for _name, _pred in _FLOAT.items():
        HANDLERS[f"{_prefix}.{_name}"] = _compare("fcmp", _pred, _lltype)
