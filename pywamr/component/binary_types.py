"""Decoding of the type productions of the component binary format.

Part of the component decoder (`binary.py` reads sections and definitions and calls these):
value types (primitive codes and type indices), defined value types, result lists, labels,
extern names with their attributes, extern descriptors and type bounds, and the small
`vec` / `optional` / flag helpers both modules share. Well-formedness only, like the rest of
the decoder: indices are not checked here. Spec: Binary.md "Type Definitions", "Import and
Export Definitions".
"""
from __future__ import annotations

from ..binary.reader import Reader
from ..errors import MalformedNotSupported
from . import ast
from .types import PRIMITIVES

PRIM_CODES = {0x7F: "bool", 0x7E: "s8", 0x7D: "u8", 0x7C: "s16", 0x7B: "u16", 0x7A: "s32",
              0x79: "u32", 0x78: "s64", 0x77: "u64", 0x76: "f32", 0x75: "f64", 0x74: "char",
              0x73: "string", 0x64: "error-context"}


def vec(r: Reader, item) -> list:
    n = r.u32()
    if n > r.end - r.pos:
        raise r.error("unexpected end: vector longer than its section")
    return [item(r) for _ in range(n)]


def expect(r: Reader, byte: int, what: str) -> None:
    b = r.byte()
    if b != byte:
        raise r.error(f"invalid leading byte {b:#x} in {what}", r.pos - 1)


def flag(r: Reader) -> bool:
    b = r.byte()
    if b > 1:
        raise r.error(f"invalid flag byte {b:#x}", r.pos - 1)
    return bool(b)


def optional(r: Reader, item):
    b = r.byte()
    if b == 0x00:
        return None
    if b == 0x01:
        return item(r)
    raise r.error(f"invalid leading byte {b:#x} for optional", r.pos - 1)


def extern_name(r: Reader) -> ast.ExternName:
    b = r.byte()
    if b in (0x00, 0x01):
        return ast.ExternName(r.name())
    if b == 0x02:
        name = r.name()
        return ast.ExternName(name, tuple(vec(r, attribute)))
    raise r.error(f"invalid leading byte {b:#x} for extern name", r.pos - 1)


def attribute(r: Reader) -> tuple[str, str]:
    b = r.byte()
    if b == 0x00:
        return "implements", r.name()
    if b == 0x01:
        return "versionsuffix", r.name()
    if b == 0x02:
        return "external-id", r.name()
    raise r.error(f"invalid leading byte {b:#x} for name attribute", r.pos - 1)


def externdesc(r: Reader) -> ast.ExternDesc:
    b = r.byte()
    if b == 0x00:
        expect(r, 0x11, "core module extern type")
        return ast.ExternDesc("core module", r.u32())
    if b == 0x01:
        return ast.ExternDesc("func", r.u32())
    if b == 0x02:
        raise MalformedNotSupported("value imports and exports are not supported", r.pos - 1)
    if b == 0x03:
        tag = r.byte()
        if tag == 0x00:
            return ast.ExternDesc("type", bound=ast.TypeBoundDef("eq", r.u32()))
        if tag == 0x01:
            return ast.ExternDesc("type", bound=ast.TypeBoundDef("sub-resource"))
        raise r.error(f"invalid leading byte {tag:#x} for type bound", r.pos - 1)
    if b == 0x04:
        return ast.ExternDesc("component", r.u32())
    if b == 0x05:
        return ast.ExternDesc("instance", r.u32())
    raise r.error(f"invalid leading byte {b:#x} for extern type", r.pos - 1)


def resultlist(r: Reader):
    b = r.byte()
    if b == 0x00:
        return valtype(r)
    if b == 0x01:
        expect(r, 0x00, "result list")
        return None
    raise r.error(f"invalid leading byte {b:#x} for result list", r.pos - 1)


def label(r: Reader) -> str:
    return r.name()


def label_valtype(r: Reader) -> tuple[str, object]:
    return label(r), valtype(r)


def valtype(r: Reader):
    """valtype ::= typeidx | primvaltype: a primitive opcode or a non-negative s33 index."""
    offset = r.pos
    if offset < r.end and r.data[offset] in PRIM_CODES:
        r.pos += 1
        return PRIMITIVES[PRIM_CODES[r.data[offset]]]
    index = r.s33()
    if index < 0:
        raise r.error("invalid leading byte for value type", offset)
    if index > 0xFFFFFFFF:
        raise r.error("type index too large", offset)
    return index


def case(r: Reader) -> tuple[str, object]:
    name = label(r)
    t = optional(r, valtype)
    refines = r.byte()
    if refines != 0x00:
        raise r.error(f"invalid leading byte {refines:#x} after variant case", r.pos - 1)
    return name, t


def defvaltype(r: Reader):
    offset = r.pos
    b = r.byte()
    if b in PRIM_CODES:
        return PRIMITIVES[PRIM_CODES[b]]
    if b == 0x72:
        return ast.RecordDef(tuple(vec(r, label_valtype)))
    if b == 0x71:
        return ast.VariantDef(tuple(vec(r, case)))
    if b == 0x70:
        return ast.ListDef(valtype(r))
    if b == 0x67:
        elem = valtype(r)
        return ast.ListDef(elem, r.u32())
    if b == 0x6F:
        return ast.TupleDef(tuple(vec(r, valtype)))
    if b == 0x6E:
        return ast.FlagsDef(tuple(vec(r, label)))
    if b == 0x6D:
        return ast.EnumDef(tuple(vec(r, label)))
    if b == 0x6B:
        return ast.OptionDef(valtype(r))
    if b == 0x6A:
        ok = optional(r, valtype)
        return ast.ResultDef(ok, optional(r, valtype))
    if b == 0x69:
        return ast.OwnDef(r.u32())
    if b == 0x68:
        return ast.BorrowDef(r.u32())
    if b == 0x66:
        return ast.StreamDef(optional(r, valtype))
    if b == 0x65:
        return ast.FutureDef(optional(r, valtype))
    if b == 0x63:
        key = valtype(r)
        return ast.MapDef(key, valtype(r))
    raise r.error(f"invalid leading byte {b:#x} for component defined type", offset)
