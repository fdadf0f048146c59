"""Run an instantiation plan: a component instance, its typed exports, and resource objects.

Fourth phase of the component pipeline: `plan.py` produced the flat steps; this module runs
them against an engine (core modules instantiate through the engine interface only, so the
same plan serves interp and aot), then exposes the exports with the typed Python bindings of
`values.py`. Resource placeholders of the plan become fresh runtime `ResourceType`s here, so
each instantiation has its own resources, destructors and handle tables.

Deliberately does not decode, validate or plan, and does not know any host interface: host
functions come from `linker.py` through `HostDefinitions.resolve`.
"""
from __future__ import annotations

from ..errors import LinkError, NotSupported, Trap
from .abi import (CanonicalOptions, LiftedFunction, canon_lift, canon_lower,
                  canon_resource_drop, canon_resource_new, canon_resource_rep, drop_resource)
from .backtrace import FrameLocator
from .plan import (CoreBag, CoreExportRef, DefineResource, EndState, HostRef, InstanceRef,
                   InstantiateCore, Lift, Lower, ModuleRef, NewState, ResourceBuiltin, SlotRef,
                   substitute)
from .state import ComponentInstance
from .types import (BorrowType, FuncType, InstanceType, OwnType, ResourceType, ResultType,
                    TypeBound, ValType)
from .values import (ComponentError, Converter, Err, Ok, ResourceBridge, TypeNames, camel,
                     converter, snake, wit_type)


# ---- resources as Python objects ------------------------------------------------------------

class ResourceObject:
    """A guest resource held by Python: `own` (drop it with `drop()` or a `with` block) or
    `borrow` (valid during the call that handed it out). Methods of the resource are generated
    on a subclass per resource type."""

    __slots__ = ("_rt", "_rep", "_owned", "_alive")
    _constructor = None

    def __init__(self, *args):
        ctor = type(self)._constructor
        if ctor is None:
            raise TypeError(f"resource {type(self).__name__} has no constructor")
        made = ctor(*args)
        self._rt, self._rep, self._owned, self._alive = made._rt, made._rep, True, True
        made._alive = False

    @classmethod
    def _wrap(cls, rt, rep: int, owned: bool):
        obj = object.__new__(cls)
        obj._rt, obj._rep, obj._owned, obj._alive = rt, rep, owned, True
        return obj

    @property
    def rep(self) -> int:
        return self._rep

    def drop(self) -> None:
        """Drop an owned resource: its destructor runs in the guest."""
        if not self._owned:
            raise TypeError(f"cannot drop a borrowed {type(self).__name__}")
        if self._alive:
            self._alive = False
            drop_resource(self._rt, self._rep)

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        if self._owned and self._alive:
            self.drop()

    def __repr__(self) -> str:
        state = ("own" if self._owned else "borrow") if self._alive else "dropped"
        return f"<{type(self).__name__} rep={self._rep} {state}>"


class HostTable:
    """The host's side of host-defined resources: Python objects by rep."""

    def __init__(self):
        self.objects: dict[int, object] = {}
        self.lent: dict[int, int] = {}      # id(object) -> rep, for objects lent as borrows
        self.next = 1

    def add(self, obj) -> int:
        rep = self.next
        self.next += 1
        self.objects[rep] = obj
        return rep

    def lend(self, obj) -> int:
        """The rep under which `obj` is lent to a guest as a `borrow`: one per object, so
        lending the same object again does not grow the table."""
        rep = self.lent.get(id(obj))
        if rep is not None and self.objects.get(rep) is obj:
            return rep
        rep = self.lent[id(obj)] = self.add(obj)
        return rep

    def get(self, rep: int):
        try:
            return self.objects[rep]
        except KeyError:
            raise LinkError(f"unknown host resource rep {rep}") from None

    def remove(self, rep: int):
        obj = self.get(rep)
        del self.objects[rep]
        return obj


def host_resource_type(name: str, cls=None) -> ResourceType:
    """A resource type whose values are Python objects; dropping one calls its `drop()`
    method when it has one."""
    table = HostTable()

    def dtor(rep: int) -> None:
        obj = table.objects.pop(rep, None)
        drop = getattr(obj, "drop", None)
        if callable(drop):
            drop()
    rt = ResourceType(name, dtor=dtor, host_class=cls or object)
    rt.host_table = table
    return rt


class _Bridge(ResourceBridge):
    def __init__(self):
        self.classes: dict[int, type] = {}

    def class_for(self, rt: ResourceType) -> type:
        cls = self.classes.get(id(rt))
        if cls is None:
            cls = type(camel(rt.name), (ResourceObject,), {"__slots__": ()})
            cls.resource_type = rt
            self.classes[id(rt)] = cls
        return cls

    @staticmethod
    def _check_guest(rt, value, what: str):
        if not isinstance(value, ResourceObject) or value._rt is not rt:
            raise TypeError(f"expected {what}<{rt.name}>, got {type(value).__name__}")
        if not value._alive:
            raise ValueError(f"{type(value).__name__} was already dropped or moved")

    def own_to_abi(self, rt, value) -> int:
        if rt.host_class is not None:
            if not isinstance(value, rt.host_class):
                raise TypeError(f"expected {rt.host_class.__name__} for resource {rt.name}")
            return rt.host_table.add(value)
        self._check_guest(rt, value, "own")
        if not value._owned:
            raise TypeError(f"cannot pass a borrowed {rt.name} as an owned one")
        value._alive = False          # ownership moves to the callee
        return value._rep

    def borrow_to_abi(self, rt, value) -> int:
        if rt.host_class is not None:
            if not isinstance(value, rt.host_class):
                raise TypeError(f"expected {rt.host_class.__name__} for resource {rt.name}")
            return rt.host_table.lend(value)
        self._check_guest(rt, value, "borrow")
        return value._rep

    def own_from_abi(self, rt, rep: int):
        if rt.host_class is not None:
            return rt.host_table.remove(rep)
        return self.class_for(rt)._wrap(rt, rep, True)

    def borrow_from_abi(self, rt, rep: int):
        if rt.host_class is not None:
            return rt.host_table.get(rep)
        return self.class_for(rt)._wrap(rt, rep, False)


# ---- typed functions -------------------------------------------------------------------------

class TypedFunc:
    """A component function called with Python values (see `values.py`). A function returning
    `result<T, E>` returns `T` or raises `ComponentError` carrying `E`."""

    __slots__ = ("lifted", "ft", "name", "_params", "_result", "_unwrap", "_locator")

    def __init__(self, lifted, ft: FuncType, names: TypeNames, bridge, name: str,
                 locator: FrameLocator | None = None):
        self.lifted = lifted
        self.ft = ft
        self.name = name
        self._locator = locator     # names the component and core module of trap frames
        self._params = [(p, converter(t, names, bridge)) for p, t in ft.params]
        self._result = None if ft.result is None else converter(ft.result, names, bridge)
        self._unwrap = isinstance(ft.result, ResultType)

    def __call__(self, *args, **kwargs):
        params = self._params
        if kwargs:
            args = list(args)
            for p, _ in params[len(args):]:
                key = snake(p)
                if key not in kwargs:
                    raise TypeError(f"{self.name}() missing argument {key!r}")
                args.append(kwargs.pop(key))
            if kwargs:
                raise TypeError(f"{self.name}() got an unexpected argument {next(iter(kwargs))!r}")
        if len(args) != len(params):
            raise TypeError(f"{self.name}() takes {len(params)} argument(s), got {len(args)}")
        abi_args = []
        for (p, conv), value in zip(params, args):
            try:
                abi_args.append(conv.to_abi(value))
            except (TypeError, ValueError) as exc:
                raise type(exc)(f"{self.name}() argument {snake(p)!r}: {exc}") from None
        try:
            out = self.lifted(*abi_args)
        except Trap as trap:
            if self._locator is not None:
                self._locator.place(trap)
            raise
        if self._result is None:
            return None
        value = self._result.from_abi(out)
        if self._unwrap:
            if isinstance(value, Err):
                raise ComponentError(value.value)
            return value.value
        return value

    def call_abi(self, *abi_args):
        """Call with the canonical ABI's values (see `abi/__init__.py`)."""
        try:
            return self.lifted(*abi_args)
        except Trap as trap:
            if self._locator is not None:
                self._locator.place(trap)
            raise

    def __repr__(self) -> str:
        return f"<component func {self.name}: {wit_type(self.ft)}>"


class Exports:
    """Exports by attribute (snake_case, interface paths split: `exports.docs.adder.add`) and
    by full name (`exports["docs:adder/add@0.1.0"]["add"]`)."""

    def __init__(self, items: dict):
        self._items = items
        self._attrs: dict = {}
        for name, value in items.items():
            _insert_path(self._attrs, name, value)

    def __getitem__(self, name: str):
        return self._items[name]

    def __contains__(self, name: str) -> bool:
        return name in self._items

    def __iter__(self):
        return iter(self._items)

    def items(self):
        return self._items.items()

    def __getattr__(self, name: str):
        try:
            return self.__dict__["_attrs"][name]
        except KeyError:
            raise AttributeError(f"no export {name!r} (have: "
                                 f"{', '.join(sorted(self.__dict__['_attrs']))})") from None

    def __dir__(self):
        return sorted(self._attrs)

    def __repr__(self) -> str:
        return f"<exports {', '.join(self._items)}>"


class _Namespace:
    def __init__(self):
        self._attrs: dict = {}

    def __getattr__(self, name: str):
        try:
            return self.__dict__["_attrs"][name]
        except KeyError:
            raise AttributeError(name) from None

    def __dir__(self):
        return sorted(self._attrs)


def _insert_path(attrs: dict, name: str, value) -> None:
    """`docs:adder/add@0.1.0` -> attrs docs.adder.add; a plain name -> its snake_case."""
    base = name.split("@", 1)[0]
    if ":" in base and "/" in base:
        namespace, rest = base.split(":", 1)
        package, _, interface = rest.partition("/")
        parts = [snake(namespace)] + [snake(p) for p in package.split(":")] + [snake(interface)]
    else:
        parts = [snake(base)]
    node = attrs
    for part in parts[:-1]:
        child = node.get(part)
        if not isinstance(child, _Namespace):
            child = node[part] = _Namespace()
        node = child._attrs
    node.setdefault(parts[-1], value)


# ---- running the plan --------------------------------------------------------------------------

class ComponentInstanceHandle:
    """An instantiated component: `exports` (typed), `state` (the root's ABI state)."""

    def __init__(self, component, linker, store=None):
        self.component = component
        plan = component.plan
        self.bridge = _Bridge()
        self.names = TypeNames()
        self.slots: list = [None] * plan.slots
        self.runtime_rts: dict[int, ResourceType] = {}
        self._memo: dict = {}
        self._keep: list = []
        self.store = store
        self.linker = linker
        self.locator = FrameLocator()
        self._bind_host_resources(linker)
        linker.check_imports(component)
        try:
            for step in plan.steps:
                self._run(step, linker)
        finally:
            # an instance under construction may not be entered (wasmtime's rule: a start
            # function calling back into its own component traps) until its EndState; a
            # failed instantiation leaves nothing half-locked
            for state in self.slots:
                if isinstance(state, ComponentInstance):
                    state.may_enter = True
        self.state = self.slots[0]
        self.exports = self._bind_exports()

    # ---- types at run time --------------------------------------------------------------------
    def runtime_type(self, t, subst: dict):
        """Validation's type `t`, with plan placeholders, then runtime resource types."""
        key = (id(t), id(subst))
        hit = self._memo.get(key)
        if hit is not None:
            return hit
        memo: dict = {}
        staged = substitute(t, subst, memo)
        out = substitute(staged, self.runtime_rts, {})
        self._memo[key] = out
        self._keep.append((t, subst))
        return out

    def _bind_host_resources(self, linker) -> None:
        for path, placeholder in self.component.plan.host_resources:
            rt = linker.resource(path)
            if rt is None:
                rt = host_resource_type(path[-1])
            self.runtime_rts[id(placeholder)] = rt
            self.names.add(rt, path[-1])

    # ---- steps -----------------------------------------------------------------------------
    def _value(self, ref):
        if isinstance(ref, SlotRef):
            return self.slots[ref.slot]
        if isinstance(ref, CoreExportRef):
            inst = self.slots[ref.slot]
            try:
                return inst.state.exports[ref.name]
            except KeyError:
                raise LinkError(f"core instance has no export {ref.name!r}") from None
        raise NotSupported(f"cannot evaluate {ref!r}")

    def _instantiate_host_module(self, step, linker):
        """Instantiate a core module the host provided (an engine `Module`)."""
        from ..engine.api import Instance, Module
        module = linker.core_module(step.module.path)
        if not isinstance(module, Module):
            raise LinkError(f"import {'#'.join(step.module.path)} is not a core module")
        externs = []
        for imp in module.syntax.imports:
            arg = step.imports.get(imp.module)
            if arg is None:
                raise LinkError(f"module import `{imp.module}::{imp.name}` not defined")
            if isinstance(arg, CoreBag):
                ref = arg.exports.get(imp.name)
                if ref is None:
                    raise LinkError(f"module import `{imp.module}::{imp.name}` not defined")
                externs.append(self._value(ref))
            else:
                externs.append(self._value(CoreExportRef(arg.slot, imp.name)))
        return Instance(self.store, module, externs)

    def _options(self, o) -> CanonicalOptions:
        value = self._value
        return CanonicalOptions(
            memory=None if o.memory is None else value(o.memory),
            string_encoding=o.string_encoding,
            realloc=None if o.realloc is None else value(o.realloc),
            post_return=None if o.post_return is None else value(o.post_return))

    def _run(self, step, linker) -> None:
        slots = self.slots
        if isinstance(step, NewState):
            parent = None if step.parent is None else slots[step.parent]
            # wasmtime's rule (the reference for behaviour): a child may not call back into
            # the parent that is calling it ("donut" reentrance traps)
            slots[step.slot] = state = ComponentInstance(parent, step.name,
                                                         donut_reentrance=False)
            state.may_enter = False
        elif isinstance(step, EndState):
            slots[step.slot].may_enter = True
        elif isinstance(step, DefineResource):
            dtor = None if step.dtor is None else self._value(step.dtor)
            rt = ResourceType(step.placeholder.name, dtor=dtor, instance=slots[step.state])
            self.runtime_rts[id(step.placeholder)] = rt
        elif isinstance(step, InstantiateCore):
            if isinstance(step.module, HostRef):
                slots[step.slot] = self._instantiate_host_module(step, linker)
            else:
                externs = [self._value(ref) for ref in step.imports]
                slots[step.slot] = self.component.instantiate_core(step.module, externs,
                                                                   self.store)
            self.locator.record(step, slots[step.slot])
        elif isinstance(step, Lift):
            ft = self.runtime_type(step.functype, step.subst)
            slots[step.slot] = canon_lift(self._options(step.options), slots[step.state],
                                          self._value(step.core_func), ft, step.name)
        elif isinstance(step, Lower):
            ft = self.runtime_type(step.functype, step.subst)
            if isinstance(step.callee, HostRef):
                callee = linker.host_function(step.callee.path, ft, self)
            else:
                callee = self._value(step.callee)
            slots[step.slot] = canon_lower(self._options(step.options), slots[step.state],
                                           callee, ft, step.name)
        elif isinstance(step, ResourceBuiltin):
            rt = self.runtime_rts.get(id(step.resource), step.resource)
            make = {"new": canon_resource_new, "rep": canon_resource_rep,
                    "drop": canon_resource_drop}[step.kind]
            slots[step.slot] = make(slots[step.state], rt)
        else:
            raise NotSupported(f"plan step {type(step).__name__} is not supported")

    # ---- exports -----------------------------------------------------------------------------
    def _bind_exports(self) -> Exports:
        plan = self.component.plan
        self._name_types(plan.export_types, plan.root_subst)
        return Exports(self._bind_items(plan.exports, plan.export_types, plan.root_subst))

    def _name_types(self, exports, subst) -> None:
        for name, ext in exports:
            if isinstance(ext, TypeBound):
                t = ext.t if not isinstance(ext.t, ResourceType) else self.runtime_type(ext.t, subst)
                self.names.add(t, name)
            elif isinstance(ext, InstanceType):
                self._name_types(ext.exports, subst)

    def _bind_items(self, values: dict, types, subst) -> dict:
        types = dict(types)
        out = {}
        for name, ref in values.items():
            t = types.get(name)
            out[name] = self._bind_item(name, ref, t, subst)
        self._attach_resource_methods(out, types, subst)
        return out

    def _bind_item(self, name, ref, t, subst):
        if isinstance(ref, SlotRef) and isinstance(self.slots[ref.slot], LiftedFunction):
            lifted = self.slots[ref.slot]
            ft = self.runtime_type(t, subst) if isinstance(t, FuncType) else lifted.ft
            return TypedFunc(lifted, ft, self.names, self.bridge, name, self.locator)
        if isinstance(ref, InstanceRef):
            inner_types = t.exports if isinstance(t, InstanceType) else ()
            return Exports(self._bind_items(ref.exports, inner_types, subst))
        if isinstance(ref, ResourceType):
            rt = self.runtime_rts.get(id(ref), ref)
            return self.bridge.class_for(rt) if rt.host_class is None else rt
        if isinstance(ref, ModuleRef):
            return self.component._module(ref)
        if isinstance(ref, HostRef):
            return self.linker._lookup(ref.path)     # an import re-exported as it is
        if isinstance(t, TypeBound) and isinstance(t.t, ValType):
            # a named type: its generated Python class (records, variants, enums, flags)
            conv = converter(self.runtime_type(t.t, subst), self.names, self.bridge)
            return conv.py_type if conv.py_type is not None else t.t
        return ref

    def _attach_resource_methods(self, items: dict, types: dict, subst) -> None:
        """Give each exported resource class its constructor, methods and static functions
        (`[constructor]r`, `[method]r.m`, `[static]r.s`)."""
        classes = {name: v for name, v in items.items()
                   if isinstance(v, type) and issubclass(v, ResourceObject)}
        for name, fn in items.items():
            if not isinstance(fn, TypedFunc) or not name.startswith("["):
                continue
            kind, _, rest = name[1:].partition("]")
            resource, _, member = rest.partition(".")
            cls = classes.get(resource)
            if cls is None:
                continue
            if kind == "constructor":
                cls._constructor = fn
            elif kind == "method":
                setattr(cls, snake(member), _method(fn))
            elif kind == "static":
                setattr(cls, snake(member), staticmethod(fn))


def _method(fn: TypedFunc):
    def method(self, *args, **kwargs):
        return fn(self, *args, **kwargs)
    method.__name__ = fn.name
    return method


__all__ = ["ComponentInstanceHandle", "TypedFunc", "Exports", "ResourceObject", "HostTable",
           "host_resource_type", "ComponentError", "Ok", "Err", "Converter", "OwnType",
           "BorrowType"]
