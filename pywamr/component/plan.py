"""Translate a validated component into a flat instantiation plan, inlining nested components.

Third phase of the component pipeline (after `binary.py` and `validate.py`), as wasmtime does
it: walk the component's definitions in order with a *frame* of symbolic index spaces; a
nested component's instantiation is inlined by walking its definitions in a new frame whose
imports are bound to the arguments. What must happen at run time comes out as a flat list of
steps (make a component instance's ABI state, define a resource, instantiate a core module
with these imports, lift, lower, make a resource built-in); what is only dataflow (aliases,
inline instances, exports, outer aliases) is resolved here, once. A composed component is flat
after planning, and the same plan serves every engine: core modules are compiled, and the
plan run, by `instance.py`.

Resource types: every `resource` definition met while inlining gets a fresh placeholder
`ResourceType` (one per inlined instantiation), and each frame maps the resource types that
validation resolved (the component's own view, including its abstract imports) to those
placeholders, so both sides of a call agree on a handle's type. At run time each placeholder
becomes a fresh runtime resource type (`instance.py`), so instantiating one plan twice gives
two independent sets of resources.

Deliberately does not touch any engine or memory, and refuses what pywamr does not run
(component values, start functions, async built-ins) with NotSupported at load time.
Spec: Explainer.md "Instance Definitions", "Alias Definitions", "Canonical Definitions".
"""
from __future__ import annotations

from dataclasses import dataclass, field

from ..errors import LinkError, NotSupported
from . import ast
from ..record import record
from .types import (BorrowType, FuncType, InstanceType, ListType, MapType, OptionType,
                    OwnType, RecordType, FieldType, ResourceType, ResultType, TupleType,
                    TypeBound, VariantType, CaseType, FlagsType, EnumType, PrimValType)


# ---- symbolic values (what an index refers to) ------------------------------------------------

@record
class SlotRef:
    """A runtime object made by the step that owns `slot` (a lifted or lowered function, a
    resource built-in, a core instance)."""
    slot: int


@record
class CoreExportRef:
    """Export `name` of the core instance made in `slot`."""
    slot: int
    name: str


@record
class CoreBag:
    """A core instance made of other core items (`core instance (export ...)*`)."""
    exports: dict


@record
class HostRef:
    """An item the host provides: the top-level import `path[0]`, then exports by name."""
    path: tuple


@record
class InstanceRef:
    """A component instance known by its exports (name -> symbolic value)."""
    exports: dict
    types: InstanceType | None = None


@record
class ComponentRef:
    """A component definition closed over the frame where it was defined (outer aliases)."""
    validated: object
    frame: "Frame"


@record
class ModuleRef:
    """A core module: its validated form, compiled once per engine by `instance.py`."""
    validated: object
    name: str


# ---- steps -------------------------------------------------------------------------------------

@record
class NewState:
    """Create the ABI state (handle table, reentrance flags) of one component instance."""
    slot: int
    parent: int | None
    name: str


@record
class EndState:
    """The instance made by NewState `slot` is complete: it may be entered from now on."""
    slot: int


@record
class DefineResource:
    """Make the runtime resource type for `placeholder`, defined by instance `state`."""
    placeholder: ResourceType
    dtor: object            # symbolic core function or None
    state: int


@record
class InstantiateCore:
    """Instantiate a core module. For a module of the component, `imports` has one symbolic
    core item per import, in order; for a module the host provides (`module` a HostRef),
    `imports` maps instantiation argument names to symbolic core instances."""
    slot: int
    module: object          # ModuleRef | HostRef
    imports: object         # tuple | dict
    name: str
    component: str = "root"     # the path of the component instance it belongs to
    module_label: str = ""      # the module's name for messages (name sections, else its path)


@record
class Options:
    """Canonical options with symbolic memory, realloc and post-return."""
    string_encoding: str = "utf8"
    memory: object = None
    realloc: object = None
    post_return: object = None


@record
class Lift:
    slot: int
    core_func: object
    options: Options
    functype: FuncType
    subst: dict             # placeholder substitution of the lifting component's types
    state: int
    name: str


@record
class Lower:
    slot: int
    callee: object          # SlotRef of a Lift, or HostRef
    options: Options
    functype: FuncType
    subst: dict
    state: int
    name: str


@record
class ResourceBuiltin:
    slot: int
    kind: str               # "new" | "rep" | "drop"
    resource: ResourceType  # a placeholder
    state: int


@dataclass(slots=True)
class Plan:
    """The flat plan of one component: `steps` in order, `exports` by name (symbolic),
    `imports` (name, type) of the top-level component, `host_resources` the top-level
    imported resource types as (import path, placeholder), `modules` every core module."""
    steps: list = field(default_factory=list)
    exports: dict = field(default_factory=dict)
    export_types: tuple = ()
    imports: tuple = ()
    host_resources: list = field(default_factory=list)
    modules: list = field(default_factory=list)
    root_subst: dict = field(default_factory=dict)
    slots: int = 0

    def new_slot(self) -> int:
        self.slots += 1
        return self.slots - 1


# ---- type substitution ---------------------------------------------------------------------

def substitute(t, subst: dict, memo: dict | None = None):
    """`t` with every resource type `r` replaced by `subst[id(r)]` (when present). Returns `t`
    itself when nothing changes, so types without resources keep their identity (and the
    converters cached for them)."""
    if not subst:
        return t
    if memo is None:
        memo = {}
    key = id(t)
    if key in memo:
        return memo[key]
    out = _substitute(t, subst, memo)
    memo[key] = out
    return out


def _substitute(t, subst, memo):
    s = lambda u: substitute(u, subst, memo)  # noqa: E731
    if t is None or isinstance(t, (PrimValType, EnumType, FlagsType)):
        return t
    if isinstance(t, ResourceType):
        return subst.get(id(t), t)
    if isinstance(t, (OwnType, BorrowType)):
        r = s(t.resource)
        return t if r is t.resource else type(t)(r)
    if isinstance(t, ListType):
        e = s(t.elem)
        return t if e is t.elem else ListType(e, t.length)
    if isinstance(t, MapType):
        v = s(t.value)
        return t if v is t.value else MapType(t.key, v)
    if isinstance(t, OptionType):
        e = s(t.t)
        return t if e is t.t else OptionType(e)
    if isinstance(t, ResultType):
        ok, err = s(t.ok), s(t.error)
        return t if ok is t.ok and err is t.error else ResultType(ok, err)
    if isinstance(t, TupleType):
        elems = tuple(s(e) for e in t.elems)
        return t if all(a is b for a, b in zip(elems, t.elems)) else TupleType(elems)
    if isinstance(t, RecordType):
        fields = tuple(FieldType(f.label, s(f.t)) for f in t.fields)
        same = all(a.t is b.t for a, b in zip(fields, t.fields))
        return t if same else RecordType(fields)
    if isinstance(t, VariantType):
        cases = tuple(CaseType(c.label, s(c.t)) for c in t.cases)
        same = all(a.t is b.t for a, b in zip(cases, t.cases))
        return t if same else VariantType(cases)
    if isinstance(t, FuncType):
        params = tuple((n, s(p)) for n, p in t.params)
        result = s(t.result)
        same = result is t.result and all(a[1] is b[1] for a, b in zip(params, t.params))
        return t if same else FuncType(params, result, t.is_async)
    return t


def _module_label(frame, index: int, module) -> str:
    """How messages name core module `index` of `frame`: its component-name entry, else the
    module's own name section name, else its place in the plan (`root/module0`)."""
    named = frame.validated.component.names.get("core module", {}).get(index)
    if named:
        return named
    if isinstance(module, HostRef):
        return "#".join(module.path)
    return module.validated.module.names.module or module.name


# ---- frames ----------------------------------------------------------------------------------

class Frame:
    """The symbolic index spaces of one (inlined) component instantiation."""

    def __init__(self, validated, parent: "Frame | None", args: dict, state: int, path: str):
        self.validated = validated
        self.parent = parent          # the frame where this component was defined
        self.args = args              # import name -> symbolic value (None at the top level)
        self.state = state
        self.path = path
        self.subst: dict = dict(parent.subst) if parent is not None else {}
        self.spaces: dict[str, list] = {s: [] for s in ast.SORTS}
        self.exports: dict = {}

    def get(self, sort: str, index: int):
        return self.spaces[sort][index]

    def outer(self, count: int) -> "Frame":
        frame = self
        for _ in range(count):
            frame = frame.parent
        return frame

    def bind_type(self, static_type, value) -> None:
        """Record that the type validation resolved as `static_type` is `value` here."""
        if isinstance(static_type, ResourceType) and isinstance(value, ResourceType) \
                and static_type is not value:
            self.subst[id(static_type)] = value


class Planner:
    def __init__(self, validated):
        self.plan = Plan(imports=tuple(validated.type.imports))
        self.root = validated
        self.module_refs: dict[int, ModuleRef] = {}
        self.lifts: dict[int, Lift] = {}
        self.host_types: dict[tuple, ResourceType] = {}     # host resource by import path

    def build(self) -> Plan:
        plan = self.plan
        state = plan.new_slot()
        plan.steps.append(NewState(state, None, "root"))
        frame = Frame(self.root, None, None, state, "root")
        self.walk(frame)
        plan.steps.append(EndState(state))
        plan.exports = frame.exports
        plan.root_subst = frame.subst
        plan.export_types = tuple(self.root.type.exports)
        return plan

    # ---- the walk ------------------------------------------------------------------------
    def walk(self, frame: Frame) -> None:
        vc = frame.validated
        for d, info in zip(vc.component.definitions, vc.info):
            self.definition(frame, d, info)

    def definition(self, frame: Frame, d, info) -> None:
        sp = frame.spaces
        if isinstance(d, ast.CoreModule):
            key = id(info)
            ref = self.module_refs.get(key)
            if ref is None:
                ref = self.module_refs[key] = ModuleRef(info, f"{frame.path}/module{len(sp['core module'])}")
                self.plan.modules.append(ref)
            sp["core module"].append(ref)
        elif isinstance(d, ast.CoreInstance):
            sp["core instance"].append(self.core_instance(frame, d.expr))
        elif isinstance(d, ast.CoreType):
            sp["core type"].append(info)
        elif isinstance(d, ast.Component):
            sp["component"].append(ComponentRef(info, frame))
        elif isinstance(d, ast.Instance):
            sp["instance"].append(self.instance(frame, d.expr, info))
        elif isinstance(d, ast.AliasExport):
            self.alias_export(frame, d)
        elif isinstance(d, ast.AliasCoreExport):
            sp[d.sort].append(self.core_export(frame.get("core instance", d.instance), d.name))
        elif isinstance(d, ast.AliasOuter):
            self.alias_outer(frame, d)
        elif isinstance(d, ast.Type):
            self.type_definition(frame, d, len(sp["type"]))
        elif isinstance(d, ast.CanonLift):
            sp["func"].append(self.lift(frame, d, info))
        elif isinstance(d, ast.CanonLower):
            sp["core func"].append(self.lower(frame, d, info))
        elif isinstance(d, (ast.CanonResourceNew, ast.CanonResourceRep, ast.CanonResourceDrop)):
            sp["core func"].append(self.resource_builtin(frame, d))
        elif isinstance(d, ast.CanonUnsupported):
            raise NotSupported(f"the canonical built-in `{d.name}` is not supported")
        elif isinstance(d, ast.Start):
            raise NotSupported("start definitions (component values) are not supported")
        elif isinstance(d, ast.Import):
            self.import_(frame, d)
        elif isinstance(d, ast.Export):
            self.export(frame, d)
        else:
            raise NotSupported(f"component definition {type(d).__name__} is not supported")

    # ---- core instances ------------------------------------------------------------------
    def core_instance(self, frame: Frame, expr):
        if isinstance(expr, ast.CoreInlineExports):
            return CoreBag({name: frame.get(si.sort, si.index) for name, si in expr.exports})
        module = frame.get("core module", expr.module)
        args = {name: frame.get("core instance", index) for name, index in expr.args}
        slot = self.plan.new_slot()
        name = f"{frame.path}/instance{len(frame.spaces['core instance'])}"
        label = _module_label(frame, expr.module, module)
        if isinstance(module, HostRef):
            # a core module the host provides: its imports are known only at run time
            self.plan.steps.append(InstantiateCore(slot, module, args, name, frame.path, label))
            return SlotRef(slot)
        imports = []
        for imp in module.validated.module.imports:
            arg = args.get(imp.module)
            if arg is None:
                raise LinkError(f"core module instantiation lacks the argument {imp.module!r}")
            imports.append(self.core_export(arg, imp.name))
        self.plan.steps.append(InstantiateCore(slot, module, tuple(imports), name, frame.path,
                                               label))
        return SlotRef(slot)

    @staticmethod
    def core_export(core_instance, name: str):
        """The symbolic core item `name` of a symbolic core instance."""
        if isinstance(core_instance, CoreBag):
            try:
                return core_instance.exports[name]
            except KeyError:
                raise LinkError(f"core instance has no export {name!r}") from None
        return CoreExportRef(core_instance.slot, name)

    # ---- component instances ---------------------------------------------------------------
    def instance(self, frame: Frame, expr, info):
        if isinstance(expr, ast.InlineExports):
            exports = {name: frame.get(si.sort, si.index) for name, si in expr.exports}
            return InstanceRef(exports, info)
        component: ComponentRef = frame.get("component", expr.component)
        args = {name: frame.get(si.sort, si.index) for name, si in expr.args}
        state = self.plan.new_slot()
        index = len(frame.spaces["instance"])
        named = frame.validated.component.names.get("instance", {}).get(index)
        path = f"{frame.path}/{named or f'c{index}'}"
        self.plan.steps.append(NewState(state, frame.state, path))
        inner = Frame(component.validated, component.frame, args, state, path)
        self.walk(inner)
        self.plan.steps.append(EndState(state))
        ref = InstanceRef(dict(inner.exports), info)
        self.bind_instance_types(frame, info, ref)
        return ref

    def bind_instance_types(self, frame: Frame, itype, ref) -> None:
        """Map the resource types of validation's view of an instance (`itype`) to what the
        instance really exports (`ref`), recursively."""
        if not isinstance(itype, InstanceType) or not isinstance(ref, InstanceRef):
            return
        for name, ext in itype.exports:
            value = ref.exports.get(name)
            if value is None:
                continue
            if isinstance(ext, TypeBound):
                frame.bind_type(ext.t, value)
            elif isinstance(ext, InstanceType):
                self.bind_instance_types(frame, ext, value)

    # ---- aliases -------------------------------------------------------------------------
    def alias_export(self, frame: Frame, d: ast.AliasExport) -> None:
        inst = frame.get("instance", d.instance)
        value = self.instance_export(frame, inst, d.name, d.sort)
        if d.sort == "type":
            static = frame.validated.types[len(frame.spaces["type"])]
            if value is None:
                value = substitute(static, frame.subst)
            else:
                frame.bind_type(static, value)
        frame.spaces[d.sort].append(value)

    def instance_export(self, frame: Frame, inst, name: str, sort: str):
        if isinstance(inst, HostRef):
            if sort == "type":
                return None            # a host instance's types are validation's own
            return HostRef(inst.path + (name,))
        try:
            return inst.exports[name]
        except KeyError:
            raise LinkError(f"instance has no export {name!r}") from None

    def alias_outer(self, frame: Frame, d: ast.AliasOuter) -> None:
        target = frame.outer(d.count)
        value = target.get(d.sort, d.index)
        if d.sort == "type":
            static = frame.validated.types[len(frame.spaces["type"])]
            frame.bind_type(static, value)
        frame.spaces[d.sort].append(value)

    # ---- types -----------------------------------------------------------------------------
    def type_definition(self, frame: Frame, d: ast.Type, index: int) -> None:
        static = frame.validated.types[index]
        if isinstance(d.t, ast.ResourceTypeDef):
            placeholder = ResourceType(static.name)
            frame.bind_type(static, placeholder)
            dtor = None if d.t.dtor is None else frame.get("core func", d.t.dtor)
            self.plan.steps.append(DefineResource(placeholder, dtor, frame.state))
            frame.spaces["type"].append(placeholder)
        else:
            frame.spaces["type"].append(substitute(static, frame.subst))

    # ---- canonical definitions ---------------------------------------------------------
    def options(self, frame: Frame, opts) -> Options:
        if opts is None:
            return Options()
        if opts.is_async or opts.callback is not None:
            raise NotSupported("the async canonical ABI is not supported")
        get = frame.get
        return Options(
            opts.string_encoding,
            None if opts.memory is None else get("core memory", opts.memory),
            None if opts.realloc is None else get("core func", opts.realloc),
            None if opts.post_return is None else get("core func", opts.post_return))

    def lift(self, frame: Frame, d: ast.CanonLift, info) -> SlotRef:
        slot = self.plan.new_slot()
        name = frame.validated.component.names.get("func", {}).get(
            len(frame.spaces["func"]), f"{frame.path}/func{len(frame.spaces['func'])}")
        step = Lift(slot, frame.get("core func", d.core_func), self.options(frame, info.options),
                    info.func_type, dict(frame.subst), frame.state, name)
        self.plan.steps.append(step)
        self.lifts[slot] = step
        return SlotRef(slot)

    def lower(self, frame: Frame, d: ast.CanonLower, info) -> SlotRef:
        callee = frame.get("func", d.func)
        slot = self.plan.new_slot()
        lifted = self.lifts.get(callee.slot) if isinstance(callee, SlotRef) else None
        if lifted is not None:
            # the callee's own view of the type, under its substitution: both sides of the
            # call then agree on every resource type
            functype, subst = lifted.functype, lifted.subst
        else:
            functype, subst = info.func_type, dict(frame.subst)
        name = f"{frame.path}/lower{len(frame.spaces['core func'])}"
        self.plan.steps.append(Lower(slot, callee, self.options(frame, info.options),
                                     functype, subst, frame.state, name))
        return SlotRef(slot)

    def resource_builtin(self, frame: Frame, d) -> SlotRef:
        kind = {ast.CanonResourceNew: "new", ast.CanonResourceRep: "rep",
                ast.CanonResourceDrop: "drop"}[type(d)]
        if getattr(d, "is_async", False):
            raise NotSupported("`resource.drop async` is not supported")
        rt = frame.get("type", d.type_index)
        if not isinstance(rt, ResourceType):
            rt = substitute(rt, frame.subst)
        slot = self.plan.new_slot()
        self.plan.steps.append(ResourceBuiltin(slot, kind, rt, frame.state))
        return SlotRef(slot)

    # ---- imports and exports ----------------------------------------------------------------
    def import_(self, frame: Frame, d: ast.Import) -> None:
        name = d.name.name
        sort = d.desc.sort
        if sort == "value":
            raise NotSupported("component values are not supported")
        index = len(frame.spaces[sort])
        if frame.args is None:
            # the top level: the host provides it
            if sort == "type":
                static = frame.validated.types[index]
                if isinstance(static, ResourceType):
                    self.plan.host_resources.append(((name,), static))
                    self.host_types[(name,)] = static
                value = static
            else:
                value = HostRef((name,))
                if sort == "instance":
                    self.host_instance_resources(frame.validated.instances[index], (name,))
        else:
            value = frame.args.get(name)
            if value is None:
                raise LinkError(f"missing instantiation argument {name!r}")
            if sort == "type":
                frame.bind_type(frame.validated.types[index], value)
            elif sort == "instance":
                self.bind_import_types(frame, frame.validated.instances[index], value)
        frame.spaces[sort].append(value)

    def bind_import_types(self, frame: Frame, itype, value) -> None:
        if isinstance(value, InstanceRef):
            self.bind_instance_types(frame, itype, value)
        elif isinstance(value, HostRef) and isinstance(itype, InstanceType):
            # an instance the host provides, passed down: its resources are the host's
            for name, ext in itype.exports:
                path = value.path + (name,)
                if isinstance(ext, TypeBound) and path in self.host_types:
                    frame.bind_type(ext.t, self.host_types[path])
                elif isinstance(ext, InstanceType):
                    self.bind_import_types(frame, ext, HostRef(path))

    def host_instance_resources(self, itype, path: tuple) -> None:
        if not isinstance(itype, InstanceType):
            return
        for name, ext in itype.exports:
            if isinstance(ext, TypeBound) and isinstance(ext.t, ResourceType):
                if ext.kind == "sub-resource":
                    self.plan.host_resources.append((path + (name,), ext.t))
                self.host_types[path + (name,)] = ext.t
            elif isinstance(ext, InstanceType):
                self.host_instance_resources(ext, path + (name,))

    def export(self, frame: Frame, d: ast.Export) -> None:
        sort = d.target.sort
        value = frame.get(sort, d.target.index)
        frame.exports[d.name.name] = value
        if sort == "type":
            static = frame.validated.types[len(frame.spaces["type"])]
            frame.bind_type(static, value)
        frame.spaces[sort].append(value)


def build_plan(validated) -> Plan:
    """The flat instantiation plan of a validated component."""
    return Planner(validated).build()


__all__ = ["build_plan", "Plan", "substitute", "SlotRef", "CoreExportRef", "CoreBag", "HostRef",
           "InstanceRef", "ComponentRef", "ModuleRef", "NewState", "DefineResource",
           "InstantiateCore", "Options", "Lift", "Lower", "ResourceBuiltin", "EndState"]
