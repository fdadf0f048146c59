"""Module instantiation in the spec's order: the single driver, shared by both engines.

Sits between a compiled module (any engine, through `interface.CompiledModule`) and whoever
instantiates it (the engine layer's Linker, a component instantiation plan): given the compiled
module and one runtime object per import, `instantiate_module` checks the imports (link errors
name the import and the mismatch), allocates tables, memories and globals, asks the engine for
its functions, evaluates constant expressions, lets the engine link its code, lets the caller
bind host contexts, then initialises element and data segments and runs the start function.
Engines only answer the protocol's two calls; they never re-implement this order.

Deliberately not here: resolving imports by name (the caller passes them in order) and the
bodies of the table operations (tables.py, which this module calls like the engines do).
"""
from __future__ import annotations

from ..record import field, record

from ..binary import ast
from ..binary.types import extern_type_matches
from ..errors import LinkError, Trap, TrapCode
from .numerics import f32_from_bits, f64_from_bits
from .objects import Function, Global, Memory, Table, extern_type_of
from .trapping import call_guarded


@record
class Imports:
    """Resolved imports in index-space order, one list per kind."""
    funcs: list = field(default_factory=list)
    tables: list = field(default_factory=list)
    memories: list = field(default_factory=list)
    globals: list = field(default_factory=list)


class InstanceState:
    """What an instance is made of: full index spaces of runtime objects, segments, exports."""

    __slots__ = ("module", "funcs", "tables", "memories", "globals", "elems", "datas",
                 "exports", "engine_data", "__weakref__")

    def __init__(self, module: ast.Module):
        self.module = module
        self.funcs: list[Function] = []
        self.tables: list[Table] = []
        self.memories: list[Memory] = []
        self.globals: list[Global] = []
        self.elems: list[list] = []      # element segments as lists of references ([] = dropped)
        self.datas: list[bytes] = []     # data segments (b"" = dropped)
        self.exports: dict[str, object] = {}
        self.engine_data = None


_KIND_CLASS = {"func": Function, "table": Table, "memory": Memory, "global": Global}


def describe_kind(extern) -> str:
    for kind, cls in _KIND_CLASS.items():
        if isinstance(extern, cls):
            return kind
    return type(extern).__name__


def resolve_imports(module: ast.Module, externs: list) -> Imports:
    """Check `externs` (one runtime object per import, in order) against the module's imports."""
    if len(externs) != len(module.imports):
        raise LinkError(f"expected {len(module.imports)} imports, got {len(externs)}")
    out = Imports()
    for imp, extern in zip(module.imports, externs):
        where = f"import \"{imp.module}\" \"{imp.name}\""
        if extern is None:
            raise LinkError(f"unknown import: {where} has not been defined")
        expected_cls = _KIND_CLASS.get(imp.kind)
        if expected_cls is None or not isinstance(extern, expected_cls):
            raise LinkError(f"incompatible import type for {where}: expected {imp.kind}, "
                            f"got {describe_kind(extern)}")
        expected = module.types[imp.desc] if imp.kind == "func" else imp.desc
        actual = extern_type_of(extern)
        if not extern_type_matches(actual, expected):
            raise LinkError(f"incompatible import type for {where}: expected {expected}, "
                            f"got {actual}")
        getattr(out, {"func": "funcs", "table": "tables", "memory": "memories",
                      "global": "globals"}[imp.kind]).append(extern)
    return out


def eval_const(expr: tuple, state: InstanceState):
    """Evaluate a (validated) constant expression: consts (v128.const included), global.get,
    ref.null/func, and the extended-const arithmetic (i32/i64 add, sub, mul)."""
    stack = []
    for instr in expr:
        op = instr[0]
        if op == 0x41 or op == 0x42 or op == 0xFD000C:     # i32/i64/v128.const: int as is
            stack.append(instr[1])
        elif op == 0x43:
            stack.append(f32_from_bits(instr[1]))
        elif op == 0x44:
            stack.append(f64_from_bits(instr[1]))
        elif op == 0x23:
            stack.append(state.globals[instr[1]].value)
        elif op == 0xD0:
            stack.append(None)
        elif op == 0xD2:
            stack.append(state.funcs[instr[1]])
        elif op in (0x6A, 0x6B, 0x6C, 0x7C, 0x7D, 0x7E):
            b = stack.pop()
            a = stack.pop()
            mask = 0xFFFFFFFF if op < 0x70 else 0xFFFFFFFFFFFFFFFF
            kind = op - (0x6A if op < 0x70 else 0x7C)
            stack.append((a + b if kind == 0 else a - b if kind == 1 else a * b) & mask)
        else:
            raise AssertionError(f"non-constant instruction {op:#x} passed validation")
    return stack[-1]


def allocate(module: ast.Module, imports: Imports, define_functions, *,
             private_globals: bool = False) -> InstanceState:
    """Allocate an instance: imported objects first, then defined tables, memories, the
    engine's functions (`define_functions(state) -> list[Function]` for the module's own
    functions; they may refer to `state` lazily) and globals with their initial values
    (non-exported ones as `Global.private` when `private_globals`)."""
    state = InstanceState(module)
    state.funcs = list(imports.funcs)
    state.tables = list(imports.tables)
    state.memories = list(imports.memories)
    state.globals = list(imports.globals)
    for table in module.tables:
        state.tables.append(Table(table.type, None))
    for memtype in module.memories:
        state.memories.append(Memory(memtype))
    state.funcs.extend(define_functions(state))
    exported = {e.index for e in module.exports if e.kind == "global"}
    first = len(imports.globals)
    for i, g in enumerate(module.globals):
        make = Global.private if private_globals and first + i not in exported else Global
        state.globals.append(make(g.type, eval_const(g.init, state)))
    state.elems = [[eval_const(e, state) for e in seg.init] for seg in module.elems]
    state.datas = [seg.init for seg in module.datas]
    for export in module.exports:
        space = {"func": state.funcs, "table": state.tables, "memory": state.memories,
                 "global": state.globals}[export.kind]
        state.exports[export.name] = space[export.index]
    return state


def segment_init(target, segments: list, index: int, dst: int, src: int, n: int,
                 code: TrapCode) -> None:
    """`memory.init`: copy `n` bytes of data segment `index` into `target` (a memory's
    bytes), trapping with `code` before writing anything if either range is out of bounds.
    (Tables have their own `ElementStore.init`.) Shared by instantiation and the interpreter."""
    seg = segments[index]
    if src + n > len(seg) or dst + n > len(target):
        raise Trap(code)
    if n:
        target[dst:dst + n] = seg[src:src + n]


def table_init(state: InstanceState, table_index: int, elem_index: int, dst: int, src: int,
               n: int) -> None:
    """The `table.init` instruction on an instance's index spaces."""
    state.tables[table_index].elements.init(dst, state.elems[elem_index], src, n)


def table_copy(state: InstanceState, dst_index: int, src_index: int, dst: int, src: int,
               n: int) -> None:
    """The `table.copy` instruction on an instance's index spaces."""
    state.tables[dst_index].elements.copy(dst, state.tables[src_index].elements, src, n)


def elem_drop(state: InstanceState, elem_index: int) -> None:
    """The `elem.drop` instruction: the segment behaves as empty from now on."""
    state.elems[elem_index] = []


def memory_init(state: InstanceState, memory_index: int, data_index: int, dst: int, src: int,
                n: int) -> None:
    """The `memory.init` instruction on an instance's index spaces."""
    segment_init(state.memories[memory_index].data, state.datas, data_index, dst, src, n,
                 TrapCode.MEMORY_OUT_OF_BOUNDS)


def data_drop(state: InstanceState, data_index: int) -> None:
    """The `data.drop` instruction."""
    state.datas[data_index] = b""


def initialize(state: InstanceState) -> None:
    """Segment initialisation then the start function, in the spec's order.

    A trap here aborts instantiation; effects of earlier segments stay (Wasm 2.0 semantics)."""
    module = state.module
    for i, seg in enumerate(module.elems):
        if seg.mode == "active":
            offset = eval_const(seg.offset, state)
            table_init(state, seg.table, i, offset, 0, len(seg.init))
            elem_drop(state, i)
        elif seg.mode == "declarative":
            elem_drop(state, i)
    for i, seg in enumerate(module.datas):
        if seg.mode == "active":
            offset = eval_const(seg.offset, state)
            memory_init(state, seg.memory, i, offset, 0, len(seg.init))
            data_drop(state, i)
    if module.start is not None:
        state.funcs[module.start].call()


def instantiate_module(compiled, externs: list, *, bind=None) -> InstanceState:
    """Instantiate `compiled` (a `CompiledModule` of any engine) with `externs`, one runtime
    object per import in the module's import order.

    `bind(state)`, if given, runs once the instance exists and before any of its code runs
    (segment initialisation, start function): the place to attach host contexts. A trap in
    initialisation propagates as `Trap` (wasm-side Python failures are mapped to traps)."""
    imports = resolve_imports(compiled.module, list(externs))
    state = allocate(compiled.module, imports, compiled.define_functions,
                     private_globals=compiled.private_globals)
    compiled.link(state)
    if bind is not None:
        bind(state)
    call_guarded(initialize, (state,))
    return state
