"""Validate a decoded component and resolve every index into the types of `types.py`.

Second phase of the component pipeline: takes the `ast.Component` that `binary.py` produced,
walks its definitions in order building the index spaces (Explainer.md "Index Spaces"), checks
every rule of validation, and returns a `ValidatedComponent`: the component's type (resolved
imports and exports by name) and, parallel to `component.definitions`, what each definition
resolved to (the ValidatedModule of a core module, the InstanceType of an instance, the
CanonInfo of a canon definition, ...), plus the final index spaces. The instantiation planner
reads only that; it never looks a type index up again.

Embedded core modules are validated here with `pywamr.validate` (the engine compiles the
ValidatedModule later). Deliberately does not instantiate anything, and refuses what pywamr
does not run (values, start, async) with `NotSupported`. Helpers: `resolve.py` (types,
imports, exports, aliases), `canon.py` (canonical definitions), `subtype.py` (type checking),
`names.py` (name rules), `scope.py` (index spaces), `visibility.py` (external names),
`size.py` (size and depth bounds).

Resource types are objects compared by identity: one per `resource` definition, per
`(sub resource)` import, and per abstract resource an instantiation exports (validation
instantiates types, not components, so these are type-level identities; a runtime resource
per component instance is the planner's to make). An export ascribed `(sub resource)` gets
a fresh ResourceType standing for the exported one (`ValidatedComponent.resource_aliases`).
"""
from __future__ import annotations

from dataclasses import dataclass, field

from ..errors import DecodeError, NotSupported, ValidationError
from ..validate.module import ValidatedModule, validate_module
from . import ast
from .canon import CanonInfo, validate_canon
from .names import NameSet, check_attributes, parse_extern_name
from .resolve import (add_import, alias, core_instance_of_module, core_type, declare_export,
                      deftype, extern_desc, sort_of)
from .visibility import check_visible
from .scope import CoreInstanceType, Scope
from .subtype import TypeMismatch, copy_type, is_subtype, refresh_exports
from .types import (ComponentType, CoreModuleType, FuncType, InstanceType, ResourceType,
                    TypeBound, ValType)


@dataclass(frozen=True, slots=True, eq=False)
class ValidatedComponent:
    """A valid component, its resolved type, and per-definition and per-index results.

    `info[i]` is what `component.definitions[i]` resolved to: ValidatedModule (core module),
    CoreInstanceType (core instance), the resolved core type, ValidatedComponent (nested
    component), InstanceType (instance), the aliased item's type (alias), the resolved type
    (type), CanonInfo (canon), the extern type (import, export). The index spaces hold the
    resolved type of every index, in index order."""
    component: ast.Component
    type: ComponentType
    info: tuple
    funcs: tuple                 # FuncType per component function index
    core_funcs: tuple            # core FuncType per core function index
    core_memories: tuple
    core_tables: tuple
    core_globals: tuple
    core_modules: tuple          # CoreModuleType per core module index
    core_instances: tuple        # CoreInstanceType per core instance index
    types: tuple                 # resolved type per type index
    components: tuple            # ComponentType per component index
    instances: tuple             # InstanceType per instance index
    # a `(sub resource)`-ascribed export's fresh resource -> the resource it stands for
    resource_aliases: dict = field(default_factory=dict)
    # core module index -> ValidatedModule, for the modules this component defines
    validated_modules: dict = field(default_factory=dict)

    @property
    def imports(self) -> tuple:
        return self.type.imports

    @property
    def exports(self) -> tuple:
        return self.type.exports


def validate_component(component: ast.Component, *, core_bodies: bool = True
                       ) -> ValidatedComponent:
    """Validate `component` or raise ValidationError (or NotSupported). With
    `core_bodies=False` the function bodies of its core modules are left unchecked (their
    `ValidatedModule.funcs` is None): for a caller that hands them to `Engine.compile`, which
    checks them unless it has code compiled from exactly those bytes."""
    try:
        return _validate(component, None, core_bodies)
    except RecursionError:
        raise ValidationError("component or type nesting is too deep") from None


def core_modules_of(validated: ValidatedComponent):
    """Every core module `validated` defines, its nested components' included (instantiated
    or not), as `ValidatedModule`s."""
    yield from validated.validated_modules.values()
    for info in validated.info:
        if isinstance(info, ValidatedComponent):
            yield from core_modules_of(info)


def _validate(component: ast.Component, parent: Scope | None,
              core_bodies: bool = True) -> ValidatedComponent:
    scope = Scope("component", parent, component.names)
    v = _ComponentValidator(scope, core_bodies)
    info = []
    for definition in component.definitions:
        try:
            info.append(v.definition(definition))
        except ValidationError as e:
            if e.offset is None and e.func_index is None:
                raise ValidationError(e.message, offset=getattr(definition, "offset", None)) \
                    from None
            raise
    ct = ComponentType(tuple(scope.imports), tuple(scope.exports))
    return ValidatedComponent(
        component, ct, tuple(info), tuple(scope.funcs), tuple(scope.core_funcs),
        tuple(scope.core_memories), tuple(scope.core_tables), tuple(scope.core_globals),
        tuple(scope.core_modules), tuple(scope.core_instances), tuple(scope.types),
        tuple(scope.components), tuple(scope.instances), dict(scope.resource_aliases),
        v.validated_modules)


class _ComponentValidator:
    def __init__(self, scope: Scope, core_bodies: bool = True):
        self.scope = scope
        self.core_bodies = core_bodies
        self.generated: set = set()      # resources made fresh by instantiations here
        self.validated_modules: dict = {}

    def definition(self, d):
        s = self.scope
        if isinstance(d, ast.CoreModule):
            return self.core_module(d)
        if isinstance(d, ast.CoreInstance):
            t = self.core_instance(d.expr)
            s.core_instances.append(t)
            return t
        if isinstance(d, ast.CoreType):
            t = core_type(s, d.t)
            s.core_types.append(t)
            return t
        if isinstance(d, ast.Component):
            nested = _validate(d, s, self.core_bodies)
            s.components.append(nested.type)
            return nested
        if isinstance(d, ast.Instance):
            t = self.instance(d.expr)
            s.instances.append(t)
            return t
        if isinstance(d, (ast.AliasExport, ast.AliasCoreExport, ast.AliasOuter)):
            alias(s, d)
            return s.space(d.sort)[-1]
        if isinstance(d, ast.Type):
            t = deftype(s, d.t, len(s.types))
            s.types.append(t)
            return t
        if isinstance(d, (ast.CanonLift, ast.CanonLower, ast.CanonResourceNew,
                          ast.CanonResourceDrop, ast.CanonResourceRep, ast.CanonUnsupported)):
            info: CanonInfo = validate_canon(s, d)
            if isinstance(d, ast.CanonLift):
                s.funcs.append(info.func_type)
            return info
        if isinstance(d, ast.Start):
            raise NotSupported("start definitions (component values) are not supported")
        if isinstance(d, ast.Import):
            return add_import(s, d.name, d.desc)
        if isinstance(d, ast.Export):
            return self.export(d)
        raise ValidationError(f"unexpected definition {type(d).__name__}")

    # ---- core modules and core instances -------------------------------------------------------
    def core_module(self, d: ast.CoreModule) -> ValidatedModule:
        try:
            module = d.decode()
            validated = validate_module(module, d.data, bodies=self.core_bodies)
            _check_unique_imports(module)
        except NotSupported:
            raise
        except DecodeError as e:
            raise ValidationError(f"core module: {e.message}", offset=d.offset) from None
        except ValidationError as e:
            if "not supported" in e.message:
                # the core validator words refusals of later proposals this way
                raise NotSupported(f"core module: {e.message}") from None
            raise ValidationError(f"core module: {e.message}", offset=d.offset) from None
        self.validated_modules[len(self.scope.core_modules)] = validated
        self.scope.core_modules.append(module_type_of(validated))
        return validated

    def core_instance(self, expr) -> CoreInstanceType:
        s = self.scope
        if isinstance(expr, ast.CoreInlineExports):
            seen, exports = set(), []
            for name, sortidx in expr.exports:
                if name in seen:
                    raise ValidationError(f"export name `{name}` already defined")
                seen.add(name)
                kind = sortidx.sort.removeprefix("core ")
                if kind not in ("func", "table", "memory", "global"):
                    raise ValidationError(f"a core instance cannot export a {sortidx.sort}")
                exports.append((name, kind, s.get(sortidx.sort, sortidx.index)))
            return CoreInstanceType(tuple(exports))
        mt = s.get("core module", expr.module, "module")
        args: dict = {}
        for name, index in expr.args:
            if name in args:
                raise ValidationError(f"duplicate module instantiation argument named `{name}`")
            args[name] = s.get("core instance", index, "core instance")
        for module, name, expected in mt.imports:
            inst = args.get(module)
            if inst is None:
                raise ValidationError(f"missing module instantiation argument named `{module}`")
            found = inst.export(name)
            if found is None:
                raise ValidationError(f"module instantiation argument `{module}` does not "
                                      f"export an item named `{name}`")
            if not _core_matches(found[1], expected):
                raise ValidationError(f"type mismatch for export `{name}` of module "
                                      f"instantiation argument `{module}`")
        return core_instance_of_module(mt)

    # ---- component instances ------------------------------------------------------------------
    def _argument(self, sortidx: ast.SortIndex):
        s = self.scope
        sort = sortidx.sort
        if sort == "value":
            raise NotSupported("component values are not supported")
        item = s.get(sort, sortidx.index)
        if sort == "type":
            return TypeBound("eq", item)
        if sort in ("func", "instance", "component", "core module"):
            return item
        raise ValidationError(f"a {sort} cannot be an instantiation argument or an export "
                              "of a component instance")

    def instance(self, expr) -> InstanceType:
        s = self.scope
        if isinstance(expr, ast.InlineExports):
            names, exports = NameSet("instance export"), []
            for i, (name, sortidx) in enumerate(expr.exports):
                parsed = parse_extern_name(name)
                if expr.attributes:
                    check_attributes(name, parsed, expr.attributes[i], sortidx.sort)
                names.add(name)
                item = self._argument(sortidx)
                _check_bag_annotation(name, parsed, item)
                exports.append((name, item))
            return InstanceType(tuple(exports))
        ct = s.get("component", expr.component)
        args: dict = {}
        for name, sortidx in expr.args:
            if name in args:
                raise ValidationError(f"instantiation argument `{name}` conflicts with "
                                      "previous argument")
            args[name] = self._argument(sortidx)
        mapping: dict = {}
        for name, expected in ct.imports:
            actual = args.get(name)
            if actual is None:
                raise ValidationError(f"missing import named `{name}`")
            if sort_of(actual) != sort_of(expected):
                raise ValidationError(f"expected {sort_of(expected)} for instantiation "
                                      f"argument `{name}`, found {sort_of(actual)}")
            try:
                is_subtype(actual, expected, mapping)
            except TypeMismatch as e:
                raise ValidationError(f"type mismatch for component instantiation argument "
                                      f"`{name}`: {e}") from None
        fresh: list = []
        exports = refresh_exports(ct.exports, mapping, fresh)
        self.generated.update(fresh)
        return InstanceType(exports)

    # ---- exports ------------------------------------------------------------------------------
    def export(self, d: ast.Export):
        s = self.scope
        sort = d.target.sort
        if sort.startswith("core ") and sort != "core module":
            raise ValidationError(f"a component cannot export a {sort}")
        if sort == "value":
            raise NotSupported("component values are not supported")
        item = s.get(sort, d.target.index)
        index = len(s.space(sort))
        if sort == "type":
            inferred = self._type_export(item)
        elif sort == "instance":
            inferred = self._abstract_instance(item)
        else:
            inferred = item
        if d.desc is not None:
            if d.desc.sort != sort:
                raise ValidationError(f"export `{d.name.name}` is a {sort} but its ascribed "
                                      f"type is a {d.desc.sort}")
            ext = self._ascribed(d, inferred)
        else:
            ext = self._append_export(sort, inferred)
        if isinstance(ext, TypeBound):
            check_visible(s, ext.t, "export", sort, contents_only=True)
        else:
            check_visible(s, ext, "export", sort)
        if sort == "instance":
            s.instance_visibility[index] = "export"
            s.make_visible(ext, "export")
        declare_export(s, d.name, ext)
        if isinstance(ext, TypeBound) and isinstance(ext.t, ResourceType) and \
                ext.t.name == "resource":
            ext.t.name = d.name.name        # for messages: the resource's exported name
        return ext

    def _type_export(self, t) -> TypeBound:
        s = self.scope
        if isinstance(t, ResourceType):
            local = t in s.defined_resources or t in self.generated
            if local and t not in s.exported_resources:
                s.exported_resources.add(t)
                return TypeBound("sub-resource", t)
            return TypeBound("eq", t)
        return TypeBound("eq", t)

    def _abstract_instance(self, inst: InstanceType) -> InstanceType:
        """An exported instance's type: its first export of each resource this component
        created (defined, or fresh from an instantiation) becomes `(sub resource)`, so the
        resource is abstract, and generative, for the outside (as for type exports)."""
        changed, exports = False, []
        for name, e in inst.exports:
            if isinstance(e, TypeBound) and e.kind == "eq" and isinstance(e.t, ResourceType):
                new = self._type_export(e.t)
                changed |= new.kind != e.kind
                e = new
            elif isinstance(e, InstanceType):
                new_inst = self._abstract_instance(e)
                changed |= new_inst is not e
                e = new_inst
            exports.append((name, e))
        return InstanceType(tuple(exports)) if changed else inst

    def _append_export(self, sort: str, ext):
        """The index an export introduces: types get a new named object (records and the
        like are named by their export, Explainer.md "External Visibility of Types")."""
        s = self.scope
        if isinstance(ext, TypeBound):
            index = len(s.types)
            if isinstance(ext.t, ValType):
                named = copy_type(ext.t)
                s.mark_one(named, "export")
                ext = TypeBound("eq", named)
            s.types.append(ext.t)
            s.index_visibility[index] = "export"
            return ext
        s.space(sort).append(ext)
        return ext

    def _ascribed(self, d: ast.Export, inferred):
        s = self.scope
        bound = d.desc.bound
        if bound is not None and bound.kind == "sub-resource":
            if not isinstance(inferred.t, ResourceType):
                raise ValidationError("type mismatch: a resource is required for "
                                      "`(sub resource)`")
            # the export hides the resource's identity: a fresh abstract resource type,
            # which at run time is the exported resource (`resource_aliases`)
            fresh = ResourceType(inferred.t.name)
            s.resource_aliases[fresh] = s.resource_aliases.get(inferred.t, inferred.t)
            s.exported_resources.add(fresh)
            index = len(s.types)
            s.types.append(fresh)
            s.index_visibility[index] = "export"
            return TypeBound("sub-resource", fresh)
        ext = extern_desc(s, d.desc, d.name.name, is_import=False)
        try:
            is_subtype(inferred, ext, {})
        except TypeMismatch as e:
            raise ValidationError(f"ascribed type of export is not compatible with item's "
                                  f"type: {e}") from None
        return ext


def _check_bag_annotation(name: str, parsed, item) -> None:
    """`[constructor]r`, `[method]r.m` and `[static]r.m` name a function of the resource `r`
    imported or exported before it "in the same scope (component, component type or instance
    type)" (Binary.md, name rules). A bag-of-exports instance is none of those: it introduces
    no names, so even a resource exported beside the function in the same bag does not name
    it (wasm-tools agrees: such an instance is invalid)."""
    if parsed.kind not in ("constructor", "method", "static"):
        return
    if not isinstance(item, FuncType):
        raise ValidationError(f"`{name}` is a {parsed.kind} name but not a function")
    raise ValidationError(f"instance export `{name}`: resource used in function does not have "
                          "a name in this context (a bag-of-exports instance names no "
                          "resources)")


def _check_unique_imports(module) -> None:
    """Inside a component, two core imports may not share a module and a name (they would
    mangle to the same single-level name)."""
    seen = set()
    for imp in module.imports:
        key = (imp.module, imp.name)
        if key in seen:
            raise ValidationError(f"duplicate import name `{imp.module}:{imp.name}`")
        seen.add(key)


def _core_matches(actual, expected) -> bool:
    from .subtype import core_extern_matches
    return core_extern_matches(actual, expected)


def module_type_of(validated: ValidatedModule) -> CoreModuleType:
    """The CoreModuleType of a validated core module: its imports and exports with types."""
    module = validated.module
    imports = []
    for imp in module.imports:
        t = module.types[imp.desc] if imp.kind == "func" else imp.desc
        imports.append((imp.module, imp.name, t))
    spaces = {"func": validated.func_types, "table": module.table_types(),
              "memory": module.memory_types(), "global": module.global_types()}
    exports = tuple((e.name, spaces[e.kind][e.index]) for e in module.exports
                    if e.kind in spaces)
    return CoreModuleType(tuple(imports), exports)


def decode_and_validate(data: bytes) -> ValidatedComponent:
    """Decode and validate the bytes of a component."""
    from .binary import decode_component
    return validate_component(decode_component(data))


__all__ = ["ValidatedComponent", "validate_component", "decode_and_validate", "module_type_of"]
