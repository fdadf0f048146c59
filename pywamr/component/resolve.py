"""Type resolution: turn the type syntax of `ast.py` (indices) into the objects of `types.py`.

Part of component validation, used by `validate.py` for type definitions, imports, exports and
aliases of a component, and recursively for the declarators of component and instance types
(each of which is a new `Scope` with an initially empty type index space, reaching outward only
through outer aliases). Checks the rules that belong to types: labels, borrow only in
parameters, handles only of resources, resources only in concrete components, visibility of
named types in imports and exports. Spec: Explainer.md "Type Definitions", "Declarators",
"Alias Definitions"; Binary.md notes of those sections.
"""
from __future__ import annotations

from ..binary.types import FuncType as CoreFuncType, I32, MAX_PAGES
from ..errors import NotSupported, ValidationError
from . import ast
from .names import NameSet, check_attributes, check_label, check_unique_labels, \
    parse_extern_name
from .scope import CoreInstanceType, Scope, _parts
from .size import check_elem_size
from .visibility import check_visible
from .subtype import contains_borrow, copy_type, refresh_exports
from .types import (BorrowType, CaseType, ComponentType, CoreModuleType, EnumType, FieldType,
                    FlagsType, FuncType, FutureType, InstanceType, ListType, MAP_KEY_NAMES,
                    MapType, OptionType, OwnType, PrimValType, RecordType, ResourceType,
                    ResultType, StreamType, TupleType, TypeBound, ValType, VariantType)

MAX_FLAGS = 32


# ---- value types -------------------------------------------------------------------------------

def valtype(scope: Scope, v) -> ValType:
    if isinstance(v, PrimValType):
        return v
    t = scope.get("type", v)
    if not isinstance(t, ValType):
        raise ValidationError(f"type index {v} is not a defined type")
    return t


def _opt_valtype(scope: Scope, v):
    return None if v is None else valtype(scope, v)


def defvaltype(scope: Scope, d) -> ValType:
    t = _defvaltype(scope, d)
    check_elem_size(t, scope.sizes)
    return t


def _defvaltype(scope: Scope, d) -> ValType:
    if isinstance(d, PrimValType):
        return d
    if isinstance(d, ast.RecordDef):
        if not d.fields:
            raise ValidationError("record type must have at least one field")
        check_unique_labels((label for label, _ in d.fields), "record field")
        return RecordType(tuple(FieldType(label, valtype(scope, t)) for label, t in d.fields))
    if isinstance(d, ast.VariantDef):
        if not d.cases:
            raise ValidationError("variant type must have at least one case")
        check_unique_labels((label for label, _ in d.cases), "variant case")
        return VariantType(tuple(CaseType(label, _opt_valtype(scope, t)) for label, t in d.cases))
    if isinstance(d, ast.ListDef):
        if d.length is not None and d.length == 0:
            raise ValidationError("fixed size list must have a length greater than zero")
        return ListType(valtype(scope, d.elem), d.length)
    if isinstance(d, ast.TupleDef):
        if not d.elems:
            raise ValidationError("tuple type must have at least one type")
        return TupleType(tuple(valtype(scope, t) for t in d.elems))
    if isinstance(d, ast.FlagsDef):
        if not d.labels:
            raise ValidationError("flags must have at least one entry")
        if len(d.labels) > MAX_FLAGS:
            raise ValidationError(f"cannot have more than {MAX_FLAGS} flags")
        check_unique_labels(d.labels, "flag")
        return FlagsType(d.labels)
    if isinstance(d, ast.EnumDef):
        if not d.labels:
            raise ValidationError("enum type must have at least one variant")
        check_unique_labels(d.labels, "enum tag")
        return EnumType(d.labels)
    if isinstance(d, ast.OptionDef):
        return OptionType(valtype(scope, d.t))
    if isinstance(d, ast.ResultDef):
        return ResultType(_opt_valtype(scope, d.ok), _opt_valtype(scope, d.error))
    if isinstance(d, (ast.OwnDef, ast.BorrowDef)):
        r = scope.get("type", d.type_index)
        if not isinstance(r, ResourceType):
            raise ValidationError(f"type index {d.type_index} is not a resource type")
        handle = (OwnType if isinstance(d, ast.OwnDef) else BorrowType)(r)
        how = scope.index_visibility.get(d.type_index)
        if how is not None:
            scope.mark_one(handle, how)
        return handle
    if isinstance(d, ast.StreamDef):
        t = _opt_valtype(scope, d.t)
        if t is not None and contains_borrow(t):
            raise ValidationError("stream payload type cannot contain a borrow")
        if t == PrimValType("char"):
            raise ValidationError("`stream<char>` is not valid at this time")
        return StreamType(t)
    if isinstance(d, ast.FutureDef):
        t = _opt_valtype(scope, d.t)
        if t is not None and contains_borrow(t):
            raise ValidationError("future payload type cannot contain a borrow")
        return FutureType(t)
    if isinstance(d, ast.MapDef):
        return _map(scope, d)
    raise ValidationError(f"unexpected defined type {type(d).__name__}")


def _map(scope: Scope, d: ast.MapDef) -> MapType:
    """`(map k v)`: `k` must be one of the primitive `keytype`s, written directly or through a
    type index (Explainer.md `keytype`; wasm-tools accepts an index to such a primitive)."""
    key = valtype(scope, d.key)
    if not (isinstance(key, PrimValType) and key.name in MAP_KEY_NAMES):
        raise ValidationError("invalid map key type")
    return MapType(key, valtype(scope, d.value))


def functype(scope: Scope, d: ast.FuncTypeDef) -> FuncType:
    seen = NameSet("function parameter")
    params = []
    for label, t in d.params:
        check_label(label, "function parameter name")
        seen.add(label)
        params.append((label, valtype(scope, t)))
    result = _opt_valtype(scope, d.result)
    if result is not None and contains_borrow(result):
        raise ValidationError("function result cannot contain a `borrow` type")
    return FuncType(tuple(params), result, d.is_async)


# ---- definitions of the type index space -------------------------------------------------------

def deftype(scope: Scope, t, index: int):
    """Resolve the definition `t` of type index `index` (not yet appended)."""
    if isinstance(t, ast.FuncTypeDef):
        return functype(scope, t)
    if isinstance(t, ast.ComponentTypeDef):
        inner = Scope("component-type", scope)
        declarators(inner, t.decls)
        return ComponentType(tuple(inner.imports), tuple(inner.exports))
    if isinstance(t, ast.InstanceTypeDef):
        inner = Scope("instance-type", scope)
        declarators(inner, t.decls)
        it = InstanceType(tuple(inner.exports))
        if inner.deferred:
            scope.unexportable[id(it)] = (it, inner.deferred[0])
        return it
    if isinstance(t, ast.ResourceTypeDef):
        if scope.kind != "component":
            raise ValidationError("resources can only be defined within a concrete component")
        if t.rep != I32:
            raise ValidationError("resources can only be represented by `i32`")
        if t.dtor is not None:
            dt = scope.get("core func", t.dtor)
            if dt != CoreFuncType((I32,), ()):
                raise ValidationError("wrong signature for a destructor: expected "
                                      "(func (param i32))")
        r = ResourceType(scope.name_of("type", index, "resource"))
        scope.defined_resources.add(r)
        return r
    return defvaltype(scope, t)


def core_type(scope: Scope, ct) -> object:
    if isinstance(ct, CoreFuncType):
        return ct
    if isinstance(ct, ast.CoreModuleTypeDef):
        return module_type(scope, ct)
    raise ValidationError(f"unexpected core type {type(ct).__name__}")


def module_type(scope: Scope, mt: ast.CoreModuleTypeDef) -> CoreModuleType:
    inner = Scope("module-type", scope)
    imports, exports, seen, imported = [], [], set(), set()
    for decl in mt.decls:
        if isinstance(decl, ast.CoreTypeDecl):
            if isinstance(decl.t, ast.CoreModuleTypeDef):
                raise ValidationError("core module types cannot be nested in module types")
            inner.core_types.append(decl.t)
        elif isinstance(decl, ast.CoreOuterAlias):
            target = inner.depth_scopes(decl.count)
            t = target.get("core type", decl.index)
            if isinstance(t, CoreModuleType):
                raise ValidationError("a module type cannot alias an outer module type")
            inner.core_types.append(t)
        elif isinstance(decl, ast.CoreExportDecl):
            if decl.name in seen:
                raise ValidationError(f"duplicate export name `{decl.name}` in module type")
            seen.add(decl.name)
            exports.append((decl.name, _core_desc(inner, decl.kind, decl.desc)))
        else:   # a core import
            key = (decl.module, decl.name)
            if key in imported:
                raise ValidationError(f"duplicate import name `{decl.module}:{decl.name}` in "
                                      "module type")
            imported.add(key)
            imports.append((decl.module, decl.name, _core_desc(inner, decl.kind, decl.desc)))
    return CoreModuleType(tuple(imports), tuple(exports))


def _core_desc(inner: Scope, kind: str, desc):
    if kind in ("table", "memory"):
        limits = desc.limits
        bound = MAX_PAGES if kind == "memory" else 0xFFFFFFFF
        if limits.max is not None and limits.max < limits.min:
            raise ValidationError("size minimum must not be greater than maximum")
        if limits.min > bound or (limits.max or 0) > bound:
            raise ValidationError("memory size must be at most 65536 pages (4GiB)"
                                  if kind == "memory" else "table size must be at most 2^32-1")
    if kind != "func":
        return desc
    t = inner.get("core type", desc)
    if not isinstance(t, CoreFuncType):
        raise ValidationError(f"core type index {desc} is not a function type")
    return t


# ---- declarators of component and instance types -----------------------------------------------

def declarators(scope: Scope, decls) -> None:
    for decl in decls:
        if isinstance(decl, ast.CoreType):
            scope.core_types.append(core_type(scope, decl.t))
        elif isinstance(decl, ast.Type):
            scope.types.append(deftype(scope, decl.t, len(scope.types)))
        elif isinstance(decl, (ast.AliasExport, ast.AliasCoreExport, ast.AliasOuter)):
            if isinstance(decl, ast.AliasCoreExport):
                raise ValidationError("core export aliases are not allowed in type declarations")
            if isinstance(decl, ast.AliasExport) and decl.sort not in ("instance", "type"):
                raise ValidationError(f"export aliases of a {decl.sort} are not allowed in "
                                      "type declarations")
            if isinstance(decl, ast.AliasOuter) and decl.sort not in ("core type", "type"):
                raise ValidationError(f"outer aliases of a {decl.sort} are not allowed in "
                                      "type declarations")
            alias(scope, decl)
        elif isinstance(decl, ast.ImportDecl):
            add_import(scope, decl.name, decl.desc)
        elif isinstance(decl, ast.ExportDecl):
            index = len(scope.space(decl.desc.sort)) if decl.desc.sort != "value" else 0
            ext = extern_desc(scope, decl.desc, decl.name.name, is_import=False)
            check_visible(scope, ext.t if isinstance(ext, TypeBound) else ext, "export",
                          decl.desc.sort, contents_only=isinstance(ext, TypeBound))
            if decl.desc.sort == "instance":
                scope.instance_visibility[index] = "export"
            declare_export(scope, decl.name, ext)
        else:
            raise ValidationError(f"unexpected declaration {type(decl).__name__}")


# ---- imports, exports, extern descriptors -------------------------------------------------------

def extern_desc(scope: Scope, desc: ast.ExternDesc, name: str, is_import: bool):
    """The extern type an import or export declaration describes, appended to its index
    space. Type imports/exports with `(sub resource)` introduce a fresh resource type."""
    sort = desc.sort
    how = "import" if is_import else "export"
    if sort == "core module":
        t = scope.get("core type", desc.index)
        if not isinstance(t, CoreModuleType):
            raise ValidationError(f"core type index {desc.index} is not a module type")
        scope.core_modules.append(t)
        return t
    if sort == "type":
        bound = desc.bound
        index = len(scope.types)
        if bound.kind == "sub-resource":
            r = ResourceType(_resource_label(name))
            scope.types.append(r)
            scope.index_visibility[index] = how
            return TypeBound("sub-resource", r)
        t = scope.get("type", bound.index)
        if isinstance(t, (ValType, ResourceType)):
            named = copy_type(t)
            check_visible(scope, named, how, "type", contents_only=True)
            scope.types.append(named)
            scope.mark_one(named, how)
            scope.index_visibility[index] = how
            return TypeBound("eq", named)
        scope.types.append(t)
        return TypeBound("eq", t)
    expected = {"func": FuncType, "component": ComponentType, "instance": InstanceType}
    if sort in expected:
        t = scope.get("type", desc.index)
        if not isinstance(t, expected[sort]):
            raise ValidationError(f"type index {desc.index} is not a {sort} type")
        if sort == "instance":
            # each imported or exported instance has its own abstract resources
            fresh = InstanceType(refresh_exports(t.exports, {}))
            if id(t) in scope.unexportable:
                scope.unexportable[id(fresh)] = (fresh, scope.unexportable[id(t)][1])
            t = fresh
        scope.space(sort).append(t)
        return t
    raise NotSupported(f"{sort} imports and exports are not supported")


def _resource_label(name: str) -> str:
    return name.rpartition("/")[2] or name


def sort_of(ext) -> str:
    if isinstance(ext, TypeBound):
        return "type"
    if isinstance(ext, FuncType):
        return "func"
    if isinstance(ext, InstanceType):
        return "instance"
    if isinstance(ext, ComponentType):
        return "component"
    if isinstance(ext, CoreModuleType):
        return "core module"
    return "value"


def add_import(scope: Scope, name: ast.ExternName, desc: ast.ExternDesc):
    parsed = parse_extern_name(name.name)
    check_attributes(name.name, parsed, name.attributes, desc.sort)
    scope.import_names.add(name.name)
    index = len(scope.space(desc.sort)) if desc.sort != "value" else 0
    ext = extern_desc(scope, desc, name.name, is_import=True)
    check_visible(scope, ext.t if isinstance(ext, TypeBound) else ext, "import", desc.sort,
                  contents_only=isinstance(ext, TypeBound))
    scope.make_visible(ext, "import")
    if desc.sort == "instance":
        scope.instance_visibility[index] = "import"
    _register_resource_name(scope, parsed, ext, "import")
    check_annotation(scope, name.name, parsed, ext, "import")
    scope.imports.append((name.name, ext))
    return ext


def declare_export(scope: Scope, name: ast.ExternName, ext) -> None:
    """Record an export (declared in a type, or defined by a component) under its name."""
    parsed = parse_extern_name(name.name)
    check_attributes(name.name, parsed, name.attributes, sort_of(ext))
    scope.export_names.add(name.name)
    _register_resource_name(scope, parsed, ext, "export")
    check_annotation(scope, name.name, parsed, ext, "export")
    scope.exports.append((name.name, ext))


def _register_resource_name(scope: Scope, parsed, ext, how: str) -> None:
    if isinstance(ext, TypeBound) and isinstance(ext.t, ResourceType) and \
            parsed.kind == "plain":
        scope.resource_names[(how, parsed.label)] = ext.t


def check_annotation(scope: Scope, name: str, parsed, ext, how: str) -> None:
    """`[constructor]r`, `[method]r.m`, `[static]r.m`: a function of the resource `r` named
    by a preceding import (for an import) or export (for an export) of this scope."""
    if parsed.kind not in ("constructor", "method", "static"):
        return
    if not isinstance(ext, FuncType):
        raise ValidationError(f"`{name}` is a {parsed.kind} name but not a function")
    r = scope.resource_names.get((how, parsed.resource))
    if r is None:
        raise ValidationError(f"`{name}`: resource `{parsed.resource}` is not a resource "
                              f"{how}ed before it in this scope (resource used in function "
                              "does not have a name in this context)")
    if parsed.kind == "constructor":
        res = ext.result
        if isinstance(res, ResultType) and res.ok is not None:
            res = res.ok
        if not (isinstance(res, OwnType) and res.resource is r):
            raise ValidationError(f"function `{name}` should return `(own $T)`")
    elif parsed.kind == "method":
        if not ext.params or ext.params[0][0] != "self" or \
                not (isinstance(ext.params[0][1], BorrowType) and
                     ext.params[0][1].resource is r):
            raise ValidationError(f"method `{name}` should take a first parameter `self` of "
                                  "type `(borrow $T)`")


# ---- aliases ----------------------------------------------------------------------------------

def alias(scope: Scope, a) -> None:
    if isinstance(a, ast.AliasExport):
        inst = scope.get("instance", a.instance)
        ext = inst.export(a.name)
        if ext is None:
            raise ValidationError(f"instance {a.instance} has no export named `{a.name}`")
        if sort_of(ext) != a.sort:
            raise ValidationError(f"export `{a.name}` for instance {a.instance} is not a "
                                  f"{a.sort}")
        _append_extern(scope, a.sort, ext, scope.instance_visibility.get(a.instance))
    elif isinstance(a, ast.AliasCoreExport):
        inst = scope.get("core instance", a.instance)
        found = inst.export(a.name)
        if found is None:
            raise ValidationError(f"core instance {a.instance} has no export named `{a.name}`")
        kind, t = found
        if "core " + kind != a.sort:
            raise ValidationError(f"export `{a.name}` for core instance {a.instance} is not a "
                                  f"{a.sort.removeprefix('core ')}")
        scope.space(a.sort).append(t)
    else:
        _outer_alias(scope, a)


def _append_extern(scope: Scope, sort: str, ext, how: str | None) -> None:
    """Append an aliased export; it has an external name only when the instance it comes
    from has one (an imported or exported instance)."""
    index = len(scope.space(sort))
    if isinstance(ext, TypeBound):
        scope.types.append(ext.t)
        if how is not None:
            scope.index_visibility[index] = how
            scope.make_visible(ext.t, how)
        return
    scope.space(sort).append(ext)
    if how is not None:
        scope.make_visible(ext, how)
        if sort == "instance":
            scope.instance_visibility[index] = how


def _outer_alias(scope: Scope, a: ast.AliasOuter) -> None:
    if a.sort not in ("core module", "core type", "type", "component"):
        raise ValidationError(f"outer aliases of a {a.sort} are not allowed")
    target = scope
    crosses_component = False
    for _ in range(a.count):
        if target.kind == "component":
            crosses_component = True
        target = target.parent
        if target is None:
            raise ValidationError(f"invalid outer alias count of {a.count}")
    t = target.get(a.sort, a.index)
    if a.sort == "type" and crosses_component and _refers_to_resource(t):
        raise ValidationError("refers to resources not defined in the current component")
    index = len(scope.space(a.sort))
    scope.space(a.sort).append(t)
    # an outer alias keeps an external name only within type declarators of one component
    how = target.index_visibility.get(a.index) if a.sort == "type" else None
    if how is not None and not crosses_component:
        scope.index_visibility[index] = how
        scope.make_visible(t, how)


def _refers_to_resource(t) -> bool:
    stack = [t]
    while stack:
        x = stack.pop()
        if isinstance(x, (ResourceType, OwnType, BorrowType)):
            return True
        if isinstance(x, TypeBound) and isinstance(x.t, ResourceType):
            return True
        if x is not None:
            stack.extend(_parts(x))
    return False


def core_instance_of_module(mt: CoreModuleType) -> CoreInstanceType:
    return CoreInstanceType(tuple((n, core_kind(t), t) for n, t in mt.exports))


def core_kind(t) -> str:
    """The kind of a core extern type: "func", "table", "memory", "global" or "tag"."""
    from ..binary.types import GlobalType, MemoryType, TableType
    if isinstance(t, CoreFuncType):
        return "func"
    if isinstance(t, TableType):
        return "table"
    if isinstance(t, MemoryType):
        return "memory"
    if isinstance(t, GlobalType):
        return "global"
    return "tag"
