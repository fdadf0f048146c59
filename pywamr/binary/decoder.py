"""Decode the binary format of a core module into `ast.Module`.

First phase of the pipeline: checks well-formedness only (encodings, section order and sizes,
counts that must agree). Index bounds, typing and constant-ness are the validator's job.
SIMD and relaxed SIMD are decoded like the core (v128 value type, 16-byte constants, lane
indices, shuffle lanes, memarg plus lane). Encodings of proposals pywamr does not run
(threads, GC, exceptions, memory64) are refused with `MalformedNotSupported`, naming the feature (and the instruction,
for those the instruction table lists); an opcode the table does not list is malformed
("illegal opcode"), whatever its prefix.
"""
from __future__ import annotations

from . import ast
from .opcodes import MAX_SUB_OPCODE, OPS, UNSUPPORTED_FEATURES, prefixed
from .reader import Reader
from .types import (EXTERNREF, F32, F64, FUNCREF, I32, I64, V128, FuncType, GlobalType, Limits,
                    MemoryType, TableType)
from ..errors import DecodeError, MalformedNotSupported

MAGIC = b"\0asm"
VERSION = b"\x01\0\0\0"
COMPONENT_VERSION_LAYER = b"\x0d\0\x01\0"

# Section ids in the order the binary format requires them (custom sections go anywhere).
SECTION_ORDER = {1: 1, 2: 2, 3: 3, 4: 4, 5: 5, 13: 6, 6: 7, 7: 8, 8: 9, 9: 10, 12: 11, 10: 12, 11: 13}
EXTERN_KINDS = {0: "func", 1: "table", 2: "memory", 3: "global", 4: "tag"}

_M32 = 0xFFFFFFFF
_M64 = 0xFFFFFFFFFFFFFFFF


def is_component(data: bytes) -> bool:
    return data[:4] == MAGIC and data[4:8] == COMPONENT_VERSION_LAYER


def decode_module(data: bytes, *, bodies: bool = True) -> ast.Module:
    """Decode `data` (the bytes of a .wasm core module) or raise `DecodeError`.

    With `bodies=False`, the instructions of function bodies are skipped (each `Code` has
    `body` and `offsets` None, `locals` and `size` as usual), and so are the rules only they
    can break: for a module whose exact bytes were decoded in full before (a verified cache
    entry). `validate.validate_bodies` decodes them when it needs them."""
    data = bytes(data)
    r = Reader(data)
    if len(data) < 4 or data[:4] != MAGIC:
        raise DecodeError("magic header not detected", 0)
    if len(data) < 8:
        raise DecodeError("unexpected end", len(data))
    if data[4:8] != VERSION:
        if is_component(data):
            raise MalformedNotSupported("this is a WebAssembly component, not a core module; "
                                        "components are not supported yet", 4)
        raise DecodeError("unknown binary version", 4)
    r.pos = 8
    return _ModuleDecoder(r, bodies).decode()


def decode_code(data: bytes, code: ast.Code) -> ast.Code:
    """`code` (an entry of `decode_module(data, bodies=False)`) with its body decoded: for
    one function of a module whose bytes are known to decode (and validate) in full, so
    that only the bodies that run are decoded. Rules that span sections (the data count) are
    not checked here."""
    if code.body is not None:
        return code
    return _ModuleDecoder(Reader(data), True)._code_at(data, code.start, code.size)


class _ModuleDecoder:
    def __init__(self, r: Reader, bodies: bool = True):
        self.r = r
        self.bodies = bodies
        self.fields: dict = {}
        self.uses_data_count = False

    def decode(self) -> ast.Module:
        r = self.r
        last_order = 0
        customs = []
        names = ast.Names()
        while not r.at_end():
            section_id = r.byte()
            size = r.u32()
            start = r.pos
            if start + size > r.end:
                raise r.error("length out of bounds" if size else "unexpected end", start)
            sub = Reader(r.data, start, start + size)
            if section_id == 0:
                name = sub.name()
                payload = bytes(sub.data[sub.pos:sub.end])
                customs.append((name, payload))
                if name == "name":
                    names = _decode_names(payload)
            else:
                order = SECTION_ORDER.get(section_id)
                if order is None:
                    raise r.error("malformed section id", start - 1)
                if order <= last_order:
                    raise r.error("unexpected content after last section", start - 1)
                last_order = order
                self._section(section_id, sub)
                if sub.pos != sub.end:
                    raise sub.error("section size mismatch")
            r.pos = start + size
        f = self.fields
        funcs = f.get("funcs", ())
        codes = f.get("codes", ())
        if len(funcs) != len(codes):
            raise DecodeError("function and code section have inconsistent lengths", r.pos)
        data_count = f.get("data_count")
        datas = f.get("datas", ())
        if data_count is not None and data_count != len(datas):
            raise DecodeError("data count and data section have inconsistent lengths", r.pos)
        if self.uses_data_count and data_count is None:
            raise DecodeError("data count section required", r.pos)
        return ast.Module(
            types=f.get("types", ()), imports=f.get("imports", ()), funcs=funcs,
            tables=f.get("tables", ()), memories=f.get("memories", ()),
            globals=f.get("globals", ()), exports=f.get("exports", ()), start=f.get("start"),
            elems=f.get("elems", ()), datas=datas, data_count=data_count, codes=codes,
            customs=tuple(customs), names=names, tags=f.get("tags", ()))

    # ---- sections ------------------------------------------------------------------------
    def _section(self, section_id: int, r: Reader) -> None:
        f = self.fields
        if section_id == 1:
            f["types"] = tuple(self._vec(r, self._functype))
        elif section_id == 2:
            f["imports"] = tuple(self._vec(r, self._import))
        elif section_id == 3:
            f["funcs"] = tuple(self._vec(r, Reader.u32))
        elif section_id == 4:
            f["tables"] = tuple(self._vec(r, self._table))
        elif section_id == 5:
            f["memories"] = tuple(self._vec(r, _memtype))
        elif section_id == 13:
            f["tags"] = tuple(self._vec(r, self._tag))
        elif section_id == 6:
            f["globals"] = tuple(self._vec(r, self._global))
        elif section_id == 7:
            f["exports"] = tuple(self._vec(r, self._export))
        elif section_id == 8:
            f["start"] = r.u32()
        elif section_id == 9:
            f["elems"] = tuple(self._vec(r, self._elem))
        elif section_id == 12:
            f["data_count"] = r.u32()
        elif section_id == 10:
            f["codes"] = tuple(self._vec(r, self._code))
        elif section_id == 11:
            f["datas"] = tuple(self._vec(r, self._data))

    @staticmethod
    def _vec(r: Reader, item):
        n = r.u32()
        if n > r.end - r.pos:
            # every item takes at least one byte: this vector cannot fit
            raise r.error("unexpected end of section or function")
        return [item(r) for _ in range(n)]

    def _functype(self, r: Reader) -> FuncType:
        form = r.byte()
        if form != 0x60:
            if form in (0x4E, 0x4F, 0x50, 0x5F, 0x5E, 0x5D):
                raise MalformedNotSupported("GC types (rec/sub/struct/array) are not supported",
                                            r.pos - 1)
            raise r.error("integer representation too long" if form & 0x80 else
                          "malformed functype", r.pos - 1)
        params = tuple(self._vec(r, _valtype))
        results = tuple(self._vec(r, _valtype))
        return FuncType(params, results)

    def _import(self, r: Reader) -> ast.Import:
        module = r.name()
        name = r.name()
        kind_byte = r.byte()
        kind = EXTERN_KINDS.get(kind_byte)
        if kind == "func":
            desc = r.u32()
        elif kind == "table":
            desc = _tabletype(r)
        elif kind == "memory":
            desc = _memtype(r)
        elif kind == "global":
            desc = _globaltype(r)
        elif kind == "tag":
            raise MalformedNotSupported("exception tags are not supported", r.pos - 1)
        else:
            raise r.error("malformed import kind", r.pos - 1)
        return ast.Import(module, name, kind, desc)

    def _table(self, r: Reader) -> ast.Table:
        if r.pos < r.end and r.data[r.pos] == 0x40:
            raise MalformedNotSupported("tables with initialiser expressions "
                                        "(function-references) are not supported", r.pos)
        return ast.Table(_tabletype(r))

    def _tag(self, r: Reader):
        raise MalformedNotSupported("exception tags are not supported", r.pos)

    def _global(self, r: Reader) -> ast.Global:
        gt = _globaltype(r)
        return ast.Global(gt, self._const_expr(r))

    def _export(self, r: Reader) -> ast.Export:
        name = r.name()
        kind_byte = r.byte()
        kind = EXTERN_KINDS.get(kind_byte)
        if kind is None:
            raise r.error("malformed export kind", r.pos - 1)
        return ast.Export(name, kind, r.u32())

    def _elem(self, r: Reader) -> ast.Elem:
        flags = r.u32()
        if flags > 7:
            raise r.error("malformed elements segment kind")
        passive_or_declarative = flags & 1
        explicit_table = flags & 2
        uses_exprs = flags & 4
        table = 0
        offset: tuple = ()
        if not passive_or_declarative:
            if explicit_table:
                table = r.u32()
            offset = self._const_expr(r)
            mode = "active"
        else:
            mode = "declarative" if explicit_table else "passive"
        if passive_or_declarative or explicit_table:
            if uses_exprs:
                elem_type = _reftype(r)
            else:
                kind = r.byte()
                if kind != 0x00:
                    raise r.error("malformed element kind", r.pos - 1)
                elem_type = FUNCREF
        else:
            elem_type = FUNCREF
        if uses_exprs:
            init = tuple(self._vec(r, self._const_expr))
        else:
            init = tuple(((0xD2, idx),) for idx in self._vec(r, Reader.u32))
        return ast.Elem(mode, elem_type, init, table, offset)

    def _data(self, r: Reader) -> ast.Data:
        flags = r.u32()
        if flags == 0:
            offset = self._const_expr(r)
            return ast.Data("active", r.bytes(r.u32()), 0, offset)
        if flags == 1:
            return ast.Data("passive", r.bytes(r.u32()))
        if flags == 2:
            memory = r.u32()
            offset = self._const_expr(r)
            return ast.Data("active", r.bytes(r.u32()), memory, offset)
        raise r.error("malformed data segment kind")

    def _code(self, r: Reader) -> ast.Code:
        size = r.u32()
        start = r.pos
        end = start + size
        if end > r.end:
            raise r.error("unexpected end of section or function")
        r.pos = end
        return self._code_at(r.data, start, size)

    def _code_at(self, data: bytes, start: int, size: int) -> ast.Code:
        """The code entry whose `size` bytes (locals, then the body) start at `start`."""
        end = start + size
        body_reader = Reader(data, start, end)
        local_types: list[int] = []
        total = 0
        for _ in range(body_reader.u32()):
            count = body_reader.u32()
            total += count
            if total > 50000:
                raise body_reader.error("too many locals")
            t = _valtype(body_reader)
            local_types.extend([t] * count)
        if not self.bodies:
            return ast.Code(tuple(local_types), None, None, size, start)
        body, offsets = self._expr(body_reader)
        if body_reader.pos != end:
            raise body_reader.error("section size mismatch")
        return ast.Code(tuple(local_types), body, offsets, size, start)

    def _const_expr(self, r: Reader) -> tuple:
        body, _ = self._expr(r)
        return body[:-1]

    # ---- instructions --------------------------------------------------------------------
    def _expr(self, r: Reader):
        """Decode instructions up to and including the `end` that closes the expression."""
        out = []
        offsets = []
        depth = 1
        ops = OPS
        append = out.append
        while True:
            if r.pos >= r.end:
                raise r.error("unexpected end of section or function")
            at = r.pos
            op = r.data[at]
            r.pos = at + 1
            if op >= 0xFB:
                op = _prefixed_opcode(r, op, at)
            info = ops.get(op)
            if info is None:
                raise DecodeError("illegal opcode", at)
            if info.feature in UNSUPPORTED_FEATURES:
                raise _unsupported(info, at)
            imm = info.imm
            if imm == "none":
                append((op,))
                if op == 0x0B:
                    depth -= 1
                    offsets.append(at)
                    if depth == 0:
                        return tuple(out), tuple(offsets)
                    continue
            elif imm == "local" or imm == "global" or imm == "label" or imm == "func":
                append((op, r.u32()))
            elif imm == "i32":
                append((op, r.s32() & _M32))
            elif imm == "memarg":
                append((op, *self._memarg(r)))
            elif imm == "blocktype":
                append((op, _blocktype(r)))
                depth += 1
            else:
                append(self._instruction(r, op, info, at))
            offsets.append(at)

    def _instruction(self, r: Reader, op: int, info, at: int) -> tuple:
        """The instruction tuple of `op` for the immediate kinds `_expr` does not read inline
        (the less frequent ones; see `ast.py` for each shape)."""
        imm = info.imm
        if imm == "i64":
            return (op, r.s64() & _M64)
        if imm == "f32":
            return (op, r.f32_bits())
        if imm == "f64":
            return (op, r.f64_bits())
        if imm == "br_table":
            labels = tuple(self._vec(r, Reader.u32))
            return (op, labels, r.u32())
        if imm == "call_indirect" or imm == "table_init" or imm == "table_copy":
            first = r.u32()
            return (op, first, r.u32())
        if imm == "memory":
            return (op, _zero_byte(r))
        if imm == "table" or imm == "elem":
            return (op, r.u32())
        if imm == "select_t":
            return (op, tuple(self._vec(r, _valtype)))
        if imm == "reftype":
            return (op, _reftype(r))
        if imm == "memory_init":
            self.uses_data_count = True
            dataidx = r.u32()
            return (op, dataidx, _zero_byte(r))
        if imm == "data":
            self.uses_data_count = True
            return (op, r.u32())
        if imm == "memory_copy":
            dst = _zero_byte(r)
            return (op, dst, _zero_byte(r))
        if imm == "v128":
            return (op, int.from_bytes(r.bytes(16), "little"))
        if imm == "lane":
            return (op, r.byte())
        if imm == "memarg_lane":
            return (op, *self._memarg(r), r.byte())
        if imm == "shuffle":
            return (op, tuple(r.bytes(16)))
        raise MalformedNotSupported(f"instruction {info.name} is not supported", at)

    @staticmethod
    def _memarg(r: Reader):
        """(alignment exponent, offset, memory index); bit 6 of the flags says a memory
        index follows (multi-memory), and validation checks the exponent against the
        natural alignment in the instruction table."""
        at = r.pos
        align = r.u32()
        memory = 0
        if align >= 0x80:
            raise r.error("malformed memop flags", at)
        if align & 0x40:
            align &= ~0x40
            memory = r.u32()
        offset = r.u32()
        return align, offset, memory


def _prefixed_opcode(r: Reader, prefix: int, at: int) -> int:
    """The table key of a prefixed instruction: the sub-opcode is a u32 LEB128 (up to five
    bytes, redundant zero padding allowed: `FC 80 00` is `FC 00`); values past
    MAX_SUB_OPCODE are illegal opcodes, never truncated into another instruction's key."""
    if prefix == 0xFB:
        raise MalformedNotSupported("GC instructions are not supported", at)
    if prefix == 0xFF:
        raise DecodeError("illegal opcode", at)
    sub = r.u32()
    if sub > MAX_SUB_OPCODE:
        raise DecodeError("illegal opcode", at)
    return prefixed(prefix, sub)


def _unsupported(info, at: int) -> MalformedNotSupported:
    if info.feature == "threads":
        return MalformedNotSupported(f"atomic instruction {info.name} is not supported "
                                     "(threads)", at)
    return MalformedNotSupported(
        f"instruction {info.name} ({info.feature} proposal) is not supported", at)


def _zero_byte(r: Reader) -> int:
    """A memory index (a reserved zero byte before multi-memory); validation checks it."""
    return r.u32()


def _nullable_abstract(r: Reader):
    """`(ref null func)` / `(ref null extern)` are funcref / externref spelled long-hand."""
    if r.pos < r.end and r.data[r.pos] in (FUNCREF, EXTERNREF):
        r.pos += 1
        return r.data[r.pos - 1]
    return None


def _valtype(r: Reader) -> int:
    b = r.byte()
    if b in (I32, I64, F32, F64, V128, FUNCREF, EXTERNREF):
        return b
    if b == 0x63:
        t = _nullable_abstract(r)
        if t is not None:
            return t
    if b in (0x63, 0x64, 0x6E, 0x6D, 0x6C, 0x6B, 0x6A, 0x71, 0x72, 0x73, 0x74, 0x69):
        raise MalformedNotSupported("GC / typed function reference types are not supported",
                                    r.pos - 1)
    raise r.error("malformed value type", r.pos - 1)


def _reftype(r: Reader) -> int:
    b = r.byte()
    if b in (FUNCREF, EXTERNREF):
        return b
    if b == 0x63:
        t = _nullable_abstract(r)
        if t is not None:
            return t
    if b in (0x63, 0x64, 0x6E, 0x6D, 0x6C, 0x6B, 0x6A, 0x71, 0x72, 0x73, 0x74, 0x69):
        raise MalformedNotSupported("GC / typed function reference types are not supported",
                                    r.pos - 1)
    raise r.error("malformed reference type", r.pos - 1)


def _blocktype(r: Reader) -> int:
    b = r.data[r.pos] if r.pos < r.end else None
    if b is None:
        raise r.error("unexpected end")
    if b == 0x40:
        r.pos += 1
        return ast.BLOCK_EMPTY
    if b in (I32, I64, F32, F64, FUNCREF, EXTERNREF, V128) or b in (0x63, 0x64):
        return -_valtype(r)
    index = r.s33()
    if index < 0:
        raise r.error("malformed block type")
    return index


def _limits(r: Reader, is_memory: bool) -> tuple[Limits, bool]:
    flags = r.byte()
    if flags in (0x00, 0x01):
        shared = False
    elif is_memory and flags in (0x02, 0x03):
        raise MalformedNotSupported("shared memories (threads) are not supported", r.pos - 1)
    elif is_memory and flags in (0x04, 0x05, 0x06, 0x07):
        raise MalformedNotSupported("64-bit memories (memory64) are not supported", r.pos - 1)
    elif is_memory and 0x08 <= flags <= 0x0F:
        _custom_page_size(r, flags)
    else:
        raise r.error("malformed limits flags", r.pos - 1)
    minimum = r.u32()
    maximum = r.u32() if flags & 1 else None
    return Limits(minimum, maximum), shared


def _custom_page_size(r: Reader, flags: int):
    """Flag 0x08 announces a page size (custom-page-sizes proposal): read the limits and the
    size as that proposal lays them out, so a truncated one is malformed like any other
    truncated memory type, then refuse a well-formed one as not supported."""
    at = r.pos - 1
    r.u64()                 # limits are read as u64 here: their bounds are validation's
    if flags & 0x01:
        r.u64()
    r.u32()
    raise MalformedNotSupported("custom page sizes are not supported", at)


def _memtype(r: Reader) -> MemoryType:
    limits, shared = _limits(r, True)
    return MemoryType(limits, shared)


def _tabletype(r: Reader) -> TableType:
    elem = _reftype(r)
    limits, _ = _limits(r, False)
    return TableType(elem, limits)


def _globaltype(r: Reader) -> GlobalType:
    t = _valtype(r)
    mut = r.byte()
    if mut not in (0, 1):
        raise r.error("malformed mutability", r.pos - 1)
    return GlobalType(t, bool(mut))


def _decode_names(payload: bytes) -> ast.Names:
    """Decode the `name` custom section; a broken name section is ignored (it is custom)."""
    module_name = None
    functions: dict = {}
    local_names: dict = {}
    r = Reader(payload)
    try:
        while not r.at_end():
            sub_id = r.byte()
            size = r.u32()
            sub = Reader(payload, r.pos, r.pos + size)
            if sub_id == 0:
                module_name = sub.name()
            elif sub_id == 1:
                for _ in range(sub.u32()):
                    idx = sub.u32()
                    functions[idx] = sub.name()
            elif sub_id == 2:
                for _ in range(sub.u32()):
                    fidx = sub.u32()
                    table = {}
                    for _ in range(sub.u32()):
                        lidx = sub.u32()
                        table[lidx] = sub.name()
                    local_names[fidx] = table
            r.pos += size
    except DecodeError:
        pass
    return ast.Names(module_name, functions, local_names)
