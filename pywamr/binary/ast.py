"""Syntax of a decoded core module: immutable records, nothing validated yet.

Instructions are tuples `(opcode, *immediates)` (opcodes from `opcodes.py`); a function body is
a tuple of them plus a parallel tuple of byte offsets for error messages. Immediates:
  blocktype          -> int: >= 0 a type index, BLOCK_EMPTY, or -valtype for one result
  label / func / local / global / table / memory / data / elem -> int index
  br_table           -> (tuple of label indices, default label)
  call_indirect      -> (type index, table index)
  memarg             -> (align exponent, offset, memory index)
  i32 / i64 const    -> int in unsigned form; f32 / f64 const -> int bit pattern
  select_t           -> tuple of value types; reftype -> value type
  memory_init        -> (data index, memory index); memory_copy -> (dst mem, src mem)
  table_init         -> (elem index, table index); table_copy -> (dst table, src table)
  v128 const         -> int in [0, 2**128), lane 0 in the least-significant bits
  lane               -> int lane index (one byte; validation bounds it)
  memarg_lane        -> (align exponent, offset, memory index, lane index)
  shuffle            -> tuple of 16 lane indices (bytes; validation bounds them by 32)
Constant expressions (global initialisers, segment offsets) are instruction tuples too.
"""
from __future__ import annotations

from ..record import field, record

from .types import FuncType, GlobalType, MemoryType, TableType

BLOCK_EMPTY = -0x40


@record
class Import:
    module: str
    name: str
    kind: str          # "func" | "table" | "memory" | "global" | "tag"
    desc: object       # type index (func) or TableType / MemoryType / GlobalType


@record
class Export:
    name: str
    kind: str          # "func" | "table" | "memory" | "global" | "tag"
    index: int


@record
class Global:
    type: GlobalType
    init: tuple        # constant expression (tuple of instructions, without the final end)


@record
class Table:
    type: TableType
    init: tuple | None = None   # table initialiser expression (function-references), unused


@record
class Elem:
    """An element segment. mode: "passive" | "active" | "declarative"."""
    mode: str
    elem_type: int
    init: tuple        # tuple of constant expressions, one per element
    table: int = 0
    offset: tuple = ()


@record
class Data:
    """A data segment. mode: "passive" | "active"."""
    mode: str
    init: bytes
    memory: int = 0
    offset: tuple = ()


@record
class Code:
    locals: tuple[int, ...]          # declared locals (expanded), parameters not included
    body: tuple | None               # instruction tuples, the final `end` included
    offsets: tuple[int, ...] | None  # byte offset of each instruction
    # (body and offsets are None when decoded with `decode_module(..., bodies=False)`)
    size: int                        # size in bytes of the body
    start: int = 0                   # offset of its first byte (the locals) in the module


@record
class Names:
    module: str | None = None
    functions: dict = field(default_factory=dict)   # func index -> name
    locals: dict = field(default_factory=dict)      # func index -> {local index -> name}


@record
class Module:
    types: tuple[FuncType, ...] = ()
    imports: tuple[Import, ...] = ()
    funcs: tuple[int, ...] = ()        # type index of each defined function
    tables: tuple[Table, ...] = ()
    memories: tuple[MemoryType, ...] = ()
    globals: tuple[Global, ...] = ()
    exports: tuple[Export, ...] = ()
    start: int | None = None
    elems: tuple[Elem, ...] = ()
    datas: tuple[Data, ...] = ()
    data_count: int | None = None
    codes: tuple[Code, ...] = ()
    customs: tuple[tuple[str, bytes], ...] = ()
    names: Names = field(default_factory=Names)
    tags: tuple[int, ...] = ()

    # -- index spaces (imports first, then definitions) -------------------------------------
    def imported(self, kind: str) -> list[Import]:
        return [imp for imp in self.imports if imp.kind == kind]

    def func_types(self) -> list[FuncType]:
        """The type of every function in the function index space."""
        out = [self.types[imp.desc] if imp.desc < len(self.types) else None
               for imp in self.imports if imp.kind == "func"]
        out.extend(self.types[t] if t < len(self.types) else None for t in self.funcs)
        return out

    def table_types(self) -> list[TableType]:
        return [imp.desc for imp in self.imports if imp.kind == "table"] + [t.type for t in self.tables]

    def memory_types(self) -> list[MemoryType]:
        return [imp.desc for imp in self.imports if imp.kind == "memory"] + list(self.memories)

    def global_types(self) -> list[GlobalType]:
        return [imp.desc for imp in self.imports if imp.kind == "global"] + [g.type for g in self.globals]

    def num_imported_funcs(self) -> int:
        return sum(1 for imp in self.imports if imp.kind == "func")

    def func_name(self, index: int) -> str:
        name = self.names.functions.get(index)
        if name is not None:
            return name
        if index < self.num_imported_funcs():
            imp = self.imported("func")[index]
            return f"{imp.module}!{imp.name}"
        return f"<wasm function {index}>"
