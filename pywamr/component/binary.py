"""Decode the binary format of a component into `component.ast.Component`.

First phase of the component pipeline: checks well-formedness only (preamble, section framing,
opcodes, LEB128 encodings, UTF-8 names, the shape of every production). Index bounds, name rules
and typing are `component/validate.py`'s job. Embedded core modules keep their raw bytes and
offset, and are decoded here with `pywamr.binary.decoder` (a malformed core module makes the
component malformed); validation validates them. Encodings of
proposals pywamr does not run are handled two ways: value definitions (section 12), value
imports and GC core types are refused here with `MalformedNotSupported`; async, stream, future,
error-context and thread built-ins are decoded into `CanonUnsupported` so that a later phase can
refuse them by name. Every failure is a `DecodeError` with a byte offset, never another
exception. The type productions (value types, extern names and descriptors) are in
`binary_types.py`. Spec: Binary.md.
"""
from __future__ import annotations

from ..binary import ast as core_ast
from ..binary.decoder import (_globaltype, _memtype, _tabletype, _valtype as _core_valtype,
                              decode_module)
from ..binary.reader import Reader
from ..binary.types import FuncType as CoreFuncType
from ..errors import DecodeError, MalformedNotSupported
from . import ast
from .binary_types import (defvaltype, expect, extern_name, externdesc, flag, label_valtype,
                           optional, resultlist, vec)

MAGIC = b"\0asm"
COMPONENT_VERSION = b"\x0d\x00"
COMPONENT_LAYER = b"\x01\x00"
MAX_NESTING = 100        # components and types nested deeper than this are refused

CORE_SORT_CODES = {0x00: "core func", 0x01: "core table", 0x02: "core memory",
                   0x03: "core global", 0x04: "core tag", 0x10: "core type",
                   0x11: "core module", 0x12: "core instance"}
SORT_CODES = {0x01: "func", 0x02: "value", 0x03: "type", 0x04: "component", 0x05: "instance"}

OUTER_ALIAS_SORTS = ("core module", "core type", "type", "component")

STRING_ENCODINGS = {0x00: "utf8", 0x01: "utf16", 0x02: "latin1+utf16"}

# canon opcodes of the async / error-context / thread proposals: (name, immediates reader name)
_UNSUPPORTED_CANON = {
    0x24: ("backpressure.inc", ""), 0x25: ("backpressure.dec", ""),
    0x08: ("backpressure.set", ""),
    0x09: ("task.return", "resultlist opts"), 0x05: ("task.cancel", ""),
    0x0A: ("context.get", "coreval u32"), 0x0B: ("context.set", "coreval u32"),
    0x06: ("subtask.cancel", "flag"), 0x0D: ("subtask.drop", ""),
    0x0E: ("stream.new", "u32"), 0x0F: ("stream.read", "u32 opts"),
    0x10: ("stream.write", "u32 opts"), 0x11: ("stream.cancel-read", "u32 flag"),
    0x12: ("stream.cancel-write", "u32 flag"), 0x13: ("stream.drop-readable", "u32"),
    0x14: ("stream.drop-writable", "u32"), 0x15: ("future.new", "u32"),
    0x16: ("future.read", "u32 opts"), 0x17: ("future.write", "u32 opts"),
    0x18: ("future.cancel-read", "u32 flag"), 0x19: ("future.cancel-write", "u32 flag"),
    0x1A: ("future.drop-readable", "u32"), 0x1B: ("future.drop-writable", "u32"),
    0x1C: ("error-context.new", "opts"), 0x1D: ("error-context.debug-message", "opts"),
    0x1E: ("error-context.drop", ""), 0x1F: ("waitable-set.new", ""),
    0x20: ("waitable-set.wait", "flag u32"), 0x21: ("waitable-set.poll", "flag u32"),
    0x22: ("waitable-set.drop", ""), 0x23: ("waitable.join", ""),
    0x26: ("thread.index", ""), 0x27: ("thread.new-indirect", "u32 u32"),
    0x28: ("thread.resume-later", ""), 0x29: ("thread.suspend", "flag"),
    0x0C: ("thread.yield", "flag"), 0x2A: ("thread.suspend-then-resume", "flag"),
    0x2B: ("thread.yield-then-resume", "flag"), 0x2C: ("thread.suspend-then-promote", "flag"),
    0x2D: ("thread.yield-then-promote", "flag"),
    0x40: ("thread.spawn-ref", "flag u32"), 0x41: ("thread.spawn-indirect", "flag u32 u32"),
    0x42: ("thread.available-parallelism", "flag"),
}


def is_component(data: bytes) -> bool:
    return data[:4] == MAGIC and data[4:6] == COMPONENT_VERSION and data[6:8] == COMPONENT_LAYER


def decode_component(data: bytes, *, core_bodies: bool = True) -> ast.Component:
    """Decode `data` (the bytes of a .wasm component) or raise `DecodeError`. With
    `core_bodies=False` the function bodies of its core modules are left undecoded (see
    `binary.decoder.decode_module(..., bodies=False)`): `validate_bodies` decodes a core's
    when it is compiled, and a run whose cores all come from verified compiled code never
    spends time on them."""
    data = bytes(data)
    return _Decoder(data, core_bodies).component(Reader(data), 0)


class _Decoder:
    def __init__(self, data: bytes, core_bodies: bool = True):
        self.data = data
        self.core_bodies = core_bodies

    # ---- framing ---------------------------------------------------------------------------
    def component(self, r: Reader, depth: int) -> ast.Component:
        if depth > MAX_NESTING:
            raise MalformedNotSupported(f"components nested more than {MAX_NESTING} deep",
                                        r.pos)
        start = r.pos
        _preamble(r)
        definitions: list = []
        customs: list = []
        while not r.at_end():
            section_id = r.byte()
            size = r.u32()
            body = r.pos
            if body + size > r.end:
                raise r.error("section size out of bounds" if size else "unexpected end", body)
            sub = Reader(r.data, body, body + size)
            self.section(section_id, sub, definitions, customs, depth)
            if sub.pos != sub.end:
                raise sub.error("section size mismatch: unexpected content after the section")
            r.pos = body + size
        names = {}
        for name, payload in customs:
            if name == "component-name":
                names = _decode_names(payload)
        return ast.Component(tuple(definitions), tuple(customs), start, r.pos - start, names)

    def section(self, section_id: int, r: Reader, out: list, customs: list, depth: int) -> None:
        if section_id == 0:
            name = r.name()
            customs.append((name, bytes(r.data[r.pos:r.end])))
            r.pos = r.end
        elif section_id == 1:
            start = r.pos
            raw = bytes(r.data[start:r.end])
            out.append(ast.CoreModule(raw, start, _decode_core_module(raw, start,
                                                                     self.core_bodies)))
            r.pos = r.end
        elif section_id == 2:
            out.extend(vec(r, self.core_instance))
        elif section_id == 3:
            out.extend(vec(r, lambda r: self.core_type(r, depth)))
        elif section_id == 4:
            out.append(self.component(r, depth + 1))
        elif section_id == 5:
            out.extend(vec(r, self.instance))
        elif section_id == 6:
            out.extend(vec(r, self.alias))
        elif section_id == 7:
            out.extend(vec(r, lambda r: self.type(r, depth)))
        elif section_id == 8:
            out.extend(vec(r, self.canon))
        elif section_id == 9:
            out.append(self.start(r))
        elif section_id == 10:
            out.extend(vec(r, self.import_))
        elif section_id == 11:
            out.extend(vec(r, self.export))
        elif section_id == 12:
            raise MalformedNotSupported("value definitions (section 12) are not supported",
                                        r.pos)
        else:
            raise r.error(f"unknown component section id {section_id}", r.pos - 1)

    # ---- core instances and core types -----------------------------------------------------
    def core_instance(self, r: Reader) -> ast.CoreInstance:
        offset = r.pos
        tag = r.byte()
        if tag == 0x00:
            module = r.u32()
            args = tuple(vec(r, _core_instantiate_arg))
            return ast.CoreInstance(ast.CoreInstantiate(module, args), offset)
        if tag == 0x01:
            exports = tuple(vec(r, lambda r: (r.name(), _core_sort_index(r))))
            return ast.CoreInstance(ast.CoreInlineExports(exports), offset)
        raise r.error(f"invalid leading byte {tag:#x} for core instance", offset)

    def core_type(self, r: Reader, depth: int) -> ast.CoreType:
        offset = r.pos
        form = r.byte()
        if form == 0x60:
            return ast.CoreType(_core_functype_body(r), offset)
        if form == 0x50:
            if depth > MAX_NESTING:
                raise MalformedNotSupported("types nested too deep", offset)
            decls = tuple(vec(r, lambda r: self.module_decl(r, depth + 1)))
            return ast.CoreType(ast.CoreModuleTypeDef(decls), offset)
        if form in (0x4E, 0x4F, 0x00, 0x5F, 0x5E, 0x5D):
            raise MalformedNotSupported("GC core types (rec/sub/struct/array) are not supported",
                                        offset)
        raise r.error(f"invalid leading byte {form:#x} for core type", offset)

    def module_decl(self, r: Reader, depth: int):
        tag = r.byte()
        if tag == 0x00:
            return _core_import(r)
        if tag == 0x01:
            # a module type inside a module type is decoded; validation refuses it
            return ast.CoreTypeDecl(self.core_type(r, depth).t)
        if tag == 0x02:
            sort = r.byte()
            if sort != 0x10:
                raise r.error("invalid leading byte in core module type alias: only types "
                              "may be aliased", r.pos - 1)
            kind = r.byte()
            if kind != 0x01:
                raise r.error("invalid leading byte in core module type alias: only outer "
                              "aliases are allowed", r.pos - 1)
            return ast.CoreOuterAlias(r.u32(), r.u32())
        if tag == 0x03:
            name = r.name()
            kind, desc = _core_externtype(r)
            return ast.CoreExportDecl(name, kind, desc)
        raise r.error(f"invalid leading byte {tag:#x} for core module type declaration",
                      r.pos - 1)

    # ---- component instances, aliases ------------------------------------------------------
    def instance(self, r: Reader) -> ast.Instance:
        offset = r.pos
        tag = r.byte()
        if tag == 0x00:
            component = r.u32()
            args = tuple(vec(r, lambda r: (r.name(), _sort_index(r))))
            return ast.Instance(ast.Instantiate(component, args), offset)
        if tag == 0x01:
            items = vec(r, lambda r: (extern_name(r), _sort_index(r)))
            exports = tuple((name.name, sortidx) for name, sortidx in items)
            attributes = tuple(name.attributes for name, _ in items)
            if not any(attributes):
                attributes = ()
            return ast.Instance(ast.InlineExports(exports, attributes), offset)
        raise r.error(f"invalid leading byte {tag:#x} for component instance", offset)

    def alias(self, r: Reader):
        offset = r.pos
        sort = _sort(r)
        tag = r.byte()
        if tag == 0x00:
            return ast.AliasExport(sort, r.u32(), r.name(), offset)
        if tag == 0x01:
            return ast.AliasCoreExport(sort, r.u32(), r.name(), offset)
        if tag == 0x02:
            if sort not in OUTER_ALIAS_SORTS:
                raise r.error(f"invalid leading byte for outer alias: a {sort} cannot be "
                              "aliased from an outer scope", offset)
            return ast.AliasOuter(sort, r.u32(), r.u32(), offset)
        raise r.error(f"invalid leading byte {tag:#x} for alias", r.pos - 1)

    # ---- types -----------------------------------------------------------------------------
    def type(self, r: Reader, depth: int) -> ast.Type:
        offset = r.pos
        if depth > MAX_NESTING:
            raise MalformedNotSupported("types nested too deep", offset)
        form = r.byte()
        if form in (0x40, 0x43):
            params = tuple(vec(r, label_valtype))
            result = resultlist(r)
            return ast.Type(ast.FuncTypeDef(params, result, form == 0x43), offset)
        if form == 0x41:
            decls = tuple(vec(r, lambda r: self.component_decl(r, depth + 1)))
            return ast.Type(ast.ComponentTypeDef(decls), offset)
        if form == 0x42:
            decls = tuple(vec(r, lambda r: self.instance_decl(r, depth + 1)))
            return ast.Type(ast.InstanceTypeDef(decls), offset)
        if form == 0x3F:
            rep = _core_valtype(r)
            dtor = optional(r, Reader.u32)
            return ast.Type(ast.ResourceTypeDef(rep, dtor), offset)
        r.pos = offset
        return ast.Type(defvaltype(r), offset)

    def component_decl(self, r: Reader, depth: int):
        if r.pos < r.end and r.data[r.pos] == 0x03:
            r.pos += 1
            return ast.ImportDecl(extern_name(r), externdesc(r))
        return self.instance_decl(r, depth, "component")

    def instance_decl(self, r: Reader, depth: int, what: str = "instance"):
        tag = r.byte()
        if tag == 0x00:
            return self.core_type(r, depth)
        if tag == 0x01:
            return self.type(r, depth)
        if tag == 0x02:
            return self.alias(r)
        if tag == 0x04:
            return ast.ExportDecl(extern_name(r), externdesc(r))
        raise r.error(f"invalid leading byte {tag:#x} for {what} type declaration", r.pos - 1)

    # ---- canon, start, import, export --------------------------------------------------------
    def canon(self, r: Reader):
        offset = r.pos
        op = r.byte()
        if op == 0x00:
            expect(r, 0x00, "canon lift")
            core_func = r.u32()
            options = _options(r)
            return ast.CanonLift(core_func, options, r.u32(), offset)
        if op == 0x01:
            expect(r, 0x00, "canon lower")
            func = r.u32()
            return ast.CanonLower(func, _options(r), offset)
        if op == 0x02:
            return ast.CanonResourceNew(r.u32(), offset)
        if op == 0x03:
            return ast.CanonResourceDrop(r.u32(), offset)
        if op == 0x07:
            return ast.CanonResourceDrop(r.u32(), offset, is_async=True)
        if op == 0x04:
            return ast.CanonResourceRep(r.u32(), offset)
        entry = _UNSUPPORTED_CANON.get(op)
        if entry is None:
            raise r.error(f"invalid leading byte {op:#x} for canonical function", offset)
        name, shape = entry
        immediates = []
        for item in shape.split():
            if item == "u32":
                immediates.append(r.u32())
            elif item == "flag":
                immediates.append(flag(r))
            elif item == "coreval":
                immediates.append(_core_valtype(r))
            elif item == "opts":
                immediates.append(_options(r))
            elif item == "resultlist":
                immediates.append(resultlist(r))
        return ast.CanonUnsupported(name, offset, tuple(immediates))

    def start(self, r: Reader) -> ast.Start:
        offset = r.pos
        func = r.u32()
        args = tuple(vec(r, Reader.u32))
        return ast.Start(func, args, r.u32(), offset)

    def import_(self, r: Reader) -> ast.Import:
        offset = r.pos
        return ast.Import(extern_name(r), externdesc(r), offset)

    def export(self, r: Reader) -> ast.Export:
        offset = r.pos
        name = extern_name(r)
        target = _sort_index(r)
        desc = optional(r, externdesc)
        return ast.Export(name, target, desc, offset)


# ---- helpers (no decoder state) --------------------------------------------------------------

def _preamble(r: Reader) -> None:
    start = r.pos
    if r.end - start < 4 or r.bytes(4) != MAGIC:
        raise DecodeError("magic header not detected", start)
    if r.end - r.pos < 4:
        raise DecodeError("unexpected end", r.pos)
    version = r.bytes(2)
    layer = r.bytes(2)
    if layer != COMPONENT_LAYER:
        if layer == b"\0\0" and version == b"\x01\0":
            raise DecodeError("this is a core module, not a component", start + 4)
        raise DecodeError("unknown binary layer", start + 6)
    if version != COMPONENT_VERSION:
        raise DecodeError(f"unknown component version {version.hex()}", start + 4)


def _decode_core_module(raw: bytes, start: int, bodies: bool = True):
    """Decode an embedded core module; error offsets become offsets in the component."""
    if is_component(raw):
        raise DecodeError("expected a core module in a core module section, found a "
                          "component", start + 4)
    try:
        return decode_module(raw, bodies=bodies)
    except MalformedNotSupported as e:
        raise MalformedNotSupported(f"core module: {e.message}",
                                    None if e.offset is None else start + e.offset) from None
    except DecodeError as e:
        raise DecodeError(f"core module: {e.message}",
                          None if e.offset is None else start + e.offset) from None


def _core_sort(r: Reader) -> str:
    b = r.byte()
    sort = CORE_SORT_CODES.get(b)
    if sort is None:
        raise r.error(f"invalid leading byte {b:#x} for core sort", r.pos - 1)
    return sort


def _sort(r: Reader) -> str:
    b = r.byte()
    if b == 0x00:
        return _core_sort(r)
    sort = SORT_CODES.get(b)
    if sort is None:
        raise r.error(f"invalid leading byte {b:#x} for sort", r.pos - 1)
    return sort


def _core_sort_index(r: Reader) -> ast.SortIndex:
    return ast.SortIndex(_core_sort(r), r.u32())


def _sort_index(r: Reader) -> ast.SortIndex:
    return ast.SortIndex(_sort(r), r.u32())


def _core_instantiate_arg(r: Reader) -> tuple[str, int]:
    name = r.name()
    expect(r, 0x12, "core instantiate argument (only instances may be passed)")
    return name, r.u32()


def _core_functype_body(r: Reader) -> CoreFuncType:
    params = tuple(vec(r, _core_valtype))
    results = tuple(vec(r, _core_valtype))
    return CoreFuncType(params, results)


def _core_externtype(r: Reader) -> tuple[str, object]:
    b = r.byte()
    if b == 0x00:
        return "func", r.u32()
    if b == 0x01:
        return "table", _tabletype(r)
    if b == 0x02:
        return "memory", _memtype(r)
    if b == 0x03:
        return "global", _globaltype(r)
    if b == 0x04:
        raise MalformedNotSupported("exception tags are not supported", r.pos - 1)
    raise r.error(f"invalid leading byte {b:#x} for core external type", r.pos - 1)


def _core_import(r: Reader) -> core_ast.Import:
    module = r.name()
    name = r.name()
    kind, desc = _core_externtype(r)
    return core_ast.Import(module, name, kind, desc)


def _options(r: Reader) -> tuple[ast.CanonOption, ...]:
    return tuple(vec(r, _option))


def _option(r: Reader) -> ast.CanonOption:
    b = r.byte()
    if b in STRING_ENCODINGS:
        return ast.CanonOption("string-encoding", STRING_ENCODINGS[b])
    if b == 0x03:
        return ast.CanonOption("memory", r.u32())
    if b == 0x04:
        return ast.CanonOption("realloc", r.u32())
    if b == 0x05:
        return ast.CanonOption("post-return", r.u32())
    if b == 0x06:
        return ast.CanonOption("async")
    if b == 0x07:
        return ast.CanonOption("callback", r.u32())
    raise r.error(f"invalid leading byte {b:#x} for canonical option", r.pos - 1)


def _decode_names(payload: bytes) -> dict:
    """The `component-name` custom section: {"self": component name, sort: {index: name}}.

    An invalid name section must not make the component invalid (Binary.md "Name Section"):
    whatever decodes before the first problem is kept, the rest ignored."""
    names: dict = {}
    r = Reader(payload)
    try:
        while not r.at_end():
            sub_id = r.byte()
            size = r.u32()
            sub = Reader(payload, r.pos, r.pos + size)
            r.pos += size
            if sub_id == 0:
                names["self"] = sub.name()
            elif sub_id == 1:
                sort = _sort(sub)
                table = names.setdefault(sort, {})
                for _ in range(sub.u32()):
                    index = sub.u32()
                    table[index] = sub.name()
    except DecodeError:
        pass
    return names
