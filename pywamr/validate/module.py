"""Module-level validation: index spaces, limits, constant expressions, exports, segments.

Second phase of the pipeline: takes a decoded `ast.Module`, checks every rule of the spec's
module validation and returns a `ValidatedModule` holding the module and the side tables of
every function. Both engines take a `ValidatedModule`; neither re-validates.

`validate_module(..., bodies=False)` checks everything but the function bodies and leaves
`funcs` None; `validate_bodies` finishes the job. The engine layer uses the split to skip the
bodies of a module whose exact bytes already have a verified compiled artifact (they were
validated when it was compiled); nothing may compile a module whose bodies are unchecked.
"""
from __future__ import annotations

from ..binary import ast
from ..binary.opcodes import CONST_ADMITTED, OPS
from ..binary.opcodes import SIMD_PREFIX
from ..binary.types import FUNCREF, I32, V128, GlobalType, MAX_PAGES, valtype_name
from ..errors import ValidationError
from ..record import record
from .function import FuncInfo, ModuleContext, validate_function


@record
class ValidatedModule:
    module: ast.Module
    func_types: tuple          # FuncType of every function in the index space
    funcs: tuple | None        # FuncInfo of every defined function (None: bodies unchecked)
    source: bytes | None = None

    @property
    def bodies_checked(self) -> bool:
        return self.funcs is not None

    @property
    def num_imported_funcs(self) -> int:
        return len(self.func_types) - len(self.module.funcs)


def validate_module(module: ast.Module, source: bytes | None = None, *,
                    bodies: bool = True) -> ValidatedModule:
    """Validate `module`; with `bodies=False` every rule but those of the function bodies
    (the result's `funcs` is None until `validate_bodies`)."""
    types = module.types
    for imp in module.imports:
        if imp.kind == "func" and imp.desc >= len(types):
            raise ValidationError("unknown type")
    for t in module.funcs:
        if t >= len(types):
            raise ValidationError("unknown type")
    func_types = module.func_types()
    tables = module.table_types()
    memories = module.memory_types()
    globals_ = module.global_types()
    for tt in tables:
        _check_limits(tt.limits, 0xFFFFFFFF, "table size must be at most 2^32-1")
    for mt in memories:
        _check_limits(mt.limits, MAX_PAGES, "memory size must be at most 65536 pages (4GiB)")

    refs = _declared_refs(module)
    num_imported_globals = sum(1 for imp in module.imports if imp.kind == "global")
    ctx = ModuleContext(types, func_types, tables, memories, globals_,
                        [e.elem_type for e in module.elems], module.data_count, refs)

    for i, g in enumerate(module.globals):
        _check_const(ctx, g.init, g.type.valtype, num_imported_globals + i)
    for elem in module.elems:
        for expr in elem.init:
            _check_const(ctx, expr, elem.elem_type, len(globals_))
        if elem.mode == "active":
            if elem.table >= len(tables):
                raise ValidationError("unknown table")
            if tables[elem.table].elem != elem.elem_type:
                raise ValidationError("type mismatch")
            _check_const(ctx, elem.offset, I32, len(globals_))
    for data in module.datas:
        if data.mode == "active":
            if data.memory >= len(memories):
                raise ValidationError("unknown memory %d" % data.memory)
            _check_const(ctx, data.offset, I32, len(globals_))
    if module.start is not None:
        if module.start >= len(func_types):
            raise ValidationError("unknown function")
        st = func_types[module.start]
        if st.params or st.results:
            raise ValidationError("start function must have type [] -> []")
    seen = set()
    spaces = {"func": func_types, "table": tables, "memory": memories, "global": globals_}
    for export in module.exports:
        if export.name in seen:
            raise ValidationError("duplicate export name")
        seen.add(export.name)
        space = spaces.get(export.kind)
        if space is None or export.index >= len(space):
            raise ValidationError(f"unknown {export.kind}")
    structure = ValidatedModule(module, tuple(func_types), None, source)
    return validate_bodies(structure, ctx) if bodies else structure


def validate_bodies(validated: ValidatedModule, ctx: ModuleContext | None = None
                    ) -> ValidatedModule:
    """`validated` with its function bodies validated too (their side tables in `funcs`)."""
    if validated.funcs is not None:
        return validated
    module = validated.module
    if module.codes and module.codes[0].body is None:   # decoded without its bodies
        if validated.source is None:
            raise ValueError("a module decoded without its function bodies needs its bytes")
        from ..binary.decoder import decode_module
        module = decode_module(validated.source)
        validated = ValidatedModule(module, validated.func_types, None, validated.source)
        ctx = None
    if ctx is None:
        ctx = module_context(module, validated.func_types)
    types = module.types
    imported = module.num_imported_funcs()
    infos = []
    for i, (tidx, code) in enumerate(zip(module.funcs, module.codes)):
        infos.append(validate_function(ctx, imported + i, types[tidx], code))
    return ValidatedModule(module, validated.func_types, tuple(infos), validated.source)


def uses_simd(module: ast.Module) -> bool:
    """Does the module use SIMD anywhere: a v128 in a type or global, or SIMD in a function
    (`simd_in_code`) or constant expression? (An engine that does not run SIMD refuses such a
    module as a whole, at compile time.)"""
    if any(V128 in ft.params or V128 in ft.results for ft in module.types):
        return True
    if any(gt.valtype == V128 for gt in module.global_types()):
        return True
    if any(instr[0] >> 16 == SIMD_PREFIX for g in module.globals for instr in g.init):
        return True
    return simd_in_code(module)


def simd_in_code(module: ast.Module) -> bool:
    """Does a function body use SIMD: a v128 local, block type or typed select, or a 0xFD
    instruction?"""
    simd_key = SIMD_PREFIX << 16
    for code in module.codes:
        if V128 in code.locals:
            return True
        for instr in code.body:
            op = instr[0]
            if op & ~0xFFFF == simd_key:
                return True
            if (op in (0x02, 0x03, 0x04) and instr[1] == -V128) or (op == 0x1C
                                                                    and V128 in instr[1]):
                return True
    return False


def module_context(module: ast.Module, func_types) -> ModuleContext:
    """The context function bodies are validated in (for validating one body alone)."""
    return ModuleContext(module.types, list(func_types), module.table_types(),
                         module.memory_types(), module.global_types(),
                         [e.elem_type for e in module.elems], module.data_count,
                         _declared_refs(module))


def _check_limits(limits, bound, message):
    if limits.min > bound or (limits.max is not None and limits.max > bound):
        raise ValidationError(message)
    if limits.max is not None and limits.min > limits.max:
        raise ValidationError("size minimum must not be greater than maximum")


def _declared_refs(module: ast.Module) -> frozenset:
    """Functions that `ref.func` may name in code: those referenced outside function bodies."""
    refs = set()
    for elem in module.elems:
        for expr in elem.init:
            refs.update(instr[1] for instr in expr if instr[0] == 0xD2)
    for g in module.globals:
        refs.update(instr[1] for instr in g.init if instr[0] == 0xD2)
    refs.update(e.index for e in module.exports if e.kind == "func")
    return frozenset(refs)


def _check_const(ctx: ModuleContext, expr: tuple, expected: int, visible_globals: int) -> None:
    """A constant expression: only instructions the table marks `in_const` (Wasm 2.0 plus
    extended-const), typed by the table's signature or, for the indexed ones, here."""
    stack = []
    for instr in expr:
        op = instr[0]
        info = OPS.get(op)
        if info is None or info.in_const not in CONST_ADMITTED:
            raise ValidationError("constant expression required")
        if op == 0xD0:
            stack.append(instr[1])
        elif op == 0xD2:
            if instr[1] >= len(ctx.funcs):
                raise ValidationError("unknown function %d" % instr[1])
            stack.append(FUNCREF)
        elif op == 0x23:
            idx = instr[1]
            if idx >= visible_globals or idx >= len(ctx.globals):
                raise ValidationError("unknown global %d" % idx)
            g: GlobalType = ctx.globals[idx]
            if g.mutable:
                raise ValidationError("constant expression required")
            stack.append(g.valtype)
        else:
            params, results = info.sig
            if len(stack) < len(params) or tuple(stack[len(stack) - len(params):]) != params:
                raise ValidationError("type mismatch")
            del stack[len(stack) - len(params):]
            stack.extend(results)
    if len(stack) != 1 or stack[0] != expected:
        raise ValidationError(f"type mismatch (constant expression must be "
                              f"{valtype_name(expected)})")
