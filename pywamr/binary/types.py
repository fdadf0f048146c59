"""Type shapes of core WebAssembly: value, function, table, memory and global types.

Pure data, shared by every later phase. Value types are small ints (their binary encoding) so
that hot paths compare ints, not objects.
"""
from __future__ import annotations

from ..record import record

I32 = 0x7F
I64 = 0x7E
F32 = 0x7D
F64 = 0x7C
V128 = 0x7B
FUNCREF = 0x70
EXTERNREF = 0x6F

REF_TYPES = (FUNCREF, EXTERNREF)

VALTYPE_NAMES = {I32: "i32", I64: "i64", F32: "f32", F64: "f64", V128: "v128",
                 FUNCREF: "funcref", EXTERNREF: "externref"}
NAME_TO_VALTYPE = {v: k for k, v in VALTYPE_NAMES.items()}

PAGE_SIZE = 65536
MAX_PAGES = 65536


def valtype_name(t: int) -> str:
    return VALTYPE_NAMES.get(t, f"<type {t:#x}>")


def is_ref(t: int) -> bool:
    return t == FUNCREF or t == EXTERNREF


@record
class FuncType:
    params: tuple[int, ...]
    results: tuple[int, ...]

    def __str__(self) -> str:
        p = " ".join(valtype_name(t) for t in self.params)
        r = " ".join(valtype_name(t) for t in self.results)
        return f"(func (param {p}) (result {r}))"


@record
class Limits:
    min: int
    max: int | None = None

    def __str__(self) -> str:
        return f"{self.min}" if self.max is None else f"{self.min} {self.max}"


@record
class TableType:
    elem: int
    limits: Limits

    def __str__(self) -> str:
        return f"(table {self.limits} {valtype_name(self.elem)})"


@record
class MemoryType:
    limits: Limits
    shared: bool = False

    def __str__(self) -> str:
        return f"(memory {self.limits})"


@record
class GlobalType:
    valtype: int
    mutable: bool

    def __str__(self) -> str:
        t = valtype_name(self.valtype)
        return f"(global (mut {t}))" if self.mutable else f"(global {t})"


def limits_match(actual: Limits, expected: Limits) -> bool:
    """Import subtyping of limits (spec: "Limits" in external-type matching)."""
    if actual.min < expected.min:
        return False
    if expected.max is None:
        return True
    return actual.max is not None and actual.max <= expected.max


def extern_type_matches(actual, expected) -> bool:
    """Spec "Import Subtyping": does an external value of type `actual` satisfy `expected`?"""
    if type(actual) is not type(expected):
        return False
    if isinstance(actual, FuncType):
        return actual == expected
    if isinstance(actual, TableType):
        return actual.elem == expected.elem and limits_match(actual.limits, expected.limits)
    if isinstance(actual, MemoryType):
        return limits_match(actual.limits, expected.limits)
    if isinstance(actual, GlobalType):
        return actual == expected
    return False
