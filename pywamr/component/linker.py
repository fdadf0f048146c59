"""The component `Linker`: host implementations of a component's imports, and instantiation.

Top of the component layer, the API that Python users and the WASI 0.2 host (above this
layer) use. Python provides imported interfaces, functions and resources; names are matched
as the Component Model says, with semver-compatible versions (an import of
`wasi:cli/stdout@0.2.3` is satisfied by a definition of `wasi:cli/stdout@0.2.12`). A host
function receives and returns the Python values of `values.py` (or, defined with `raw=True`,
the canonical ABI's values: the fast path for host worlds).

Deliberately holds no WASI: `pywamr.wasi` defines its interfaces through this API.
"""
from __future__ import annotations

import os
from pathlib import Path

from ..errors import LinkError
from .instance import ComponentInstanceHandle, TypedFunc, host_resource_type
from .names import parse_semver
from ..record import is_record, record_items
from .types import CoreModuleType, FuncType, InstanceType, ResourceType, ResultType, TypeBound
from .values import ComponentError, Err, Ok, converter, snake


def _split_version(name: str) -> tuple[str, tuple | None]:
    base, at, version = name.partition("@")
    if not at:
        return name, None
    try:
        return base, parse_semver(version)
    except Exception:
        return name, None


def _compatible(want, have) -> bool:
    """Semver compatibility as the Component Model uses it: the same major version (or, for
    0.x, the same minor; for 0.0.x the same patch), no pre-release mismatch."""
    if want is None or have is None:
        return want == have
    (wmaj, wmin, wpat, wpre, _), (hmaj, hmin, hpat, hpre, _) = want, have
    if wpre or hpre:
        return want[:4] == have[:4]
    if wmaj != hmaj:
        return False
    if wmaj == 0:
        if wmin != hmin:
            return False
        if wmin == 0:
            return wpat == hpat
    return True


class _HostFunc:
    __slots__ = ("fn", "raw")

    def __init__(self, fn, raw: bool):
        self.fn = fn
        self.raw = raw


class Linker:
    """Host definitions by import name, then `instantiate(component)`.

    - `define_func(instance, name, fn, raw=False)`: a function of an imported interface
      (`instance` is its full name, e.g. `"docs:adder/add@0.1.0"`; None or "" for a
      function imported at the top level);
    - `define_instance(name, impl)`: a whole interface from a dict (WIT names or snake_case)
      or an object whose attributes are the snake_case names; nested dicts for nested instances;
    - `define_resource(instance, name, cls=None)`: a resource the host implements, whose
      values are Python objects (of `cls`, when given). Methods `[method]r.m` are found on the
      object as `m` unless defined with `define_func`; `[constructor]r` calls `cls`,
      `[static]r.f` calls `cls.f`.
    """

    def __init__(self, engine=None):
        from ..engine.api import Engine
        self.engine = engine or Engine()
        self.definitions: dict[str, object] = {}
        self.resources: dict[tuple, ResourceType] = {}

    # ---- definitions ---------------------------------------------------------------------
    def _instance_dict(self, name: str | None) -> dict:
        if not name:
            return self.definitions
        node = self.definitions.get(name)
        if not isinstance(node, dict):
            node = self.definitions[name] = {}
        return node

    def define_func(self, instance: str | None, name: str, fn, *, raw: bool = False) -> None:
        self._instance_dict(instance)[name] = _HostFunc(fn, raw)

    def define_instance(self, name: str, impl) -> None:
        self.definitions[name] = impl

    def define_resource(self, instance: str | None, name: str, cls=None) -> ResourceType:
        rt = host_resource_type(name, cls)
        self.resources[(instance or "", name)] = rt
        return rt

    # ---- lookup ----------------------------------------------------------------------------
    def _top(self, name: str):
        defs = self.definitions
        if name in defs:
            return defs[name], name
        base, want = _split_version(name)
        best = None
        for candidate in defs:
            cbase, have = _split_version(candidate)
            if cbase == base and _compatible(want, have):
                if best is None or (have or ()) > (best[1] or ()):
                    best = (candidate, have)
        if best is None:
            return None, None
        return defs[best[0]], best[0]

    def resource(self, path: tuple) -> ResourceType | None:
        """The resource type defined for import path (instance..., resource): a host resource,
        or a resource type exported by a component instance given to `define_instance`."""
        defined = self._lookup(path)
        if isinstance(defined, type) and isinstance(getattr(defined, "resource_type", None),
                                                    ResourceType):
            return defined.resource_type
        instance = path[0] if len(path) > 1 else ""
        name = path[-1]
        found = self.resources.get((instance, name))
        if found is not None or not instance:
            return found
        base, want = _split_version(instance)
        for (candidate, rname), rt in self.resources.items():
            cbase, have = _split_version(candidate)
            if rname == name and cbase == base and _compatible(want, have):
                return rt
        return None

    def _lookup(self, path: tuple):
        node, _ = self._top(path[0])
        for name in path[1:]:
            if node is None:
                return None
            node = _member(node, name)
        return node

    def check_imports(self, component) -> None:
        """Check every import of `component` against the definitions (kinds, resource
        identities, core module shapes, and the presence of every function it may call);
        one LinkError says what is wrong."""
        problems: list[str] = []
        bound: dict[int, ResourceType] = {}
        for name, t in component.imports:
            found, _ = self._top(name)
            if found is None and isinstance(t, InstanceType) and self._has_resources(name):
                found = {}
            self._check((name,), t, found, problems, bound)
        if problems:
            unique = list(dict.fromkeys(problems))
            missing = [p[:-len(" was not found")] for p in unique if p.endswith(" was not found")]
            other = [p for p in unique if not p.endswith(" was not found")]
            parts = ([f"unsatisfied import(s): {', '.join(missing)} (a matching "
                      f"implementation was not found)"] if missing else []) + \
                [f"import {p}" for p in other]
            raise LinkError("; ".join(parts))

    def _check(self, path, t, found, problems, bound) -> None:
        where = _render(path)
        if isinstance(t, InstanceType):
            if found is None:
                if _needs_definition(t):
                    problems.append(f"{where} was not found")
                return
            if _is_function(found):
                problems.append(f"{where}: expected instance found func")
                return
            for name, ext in t.exports:
                self._check(path + (name,), ext, _member(found, name), problems, bound)
        elif isinstance(t, FuncType):
            if found is None:
                if not self._implicit(path):
                    problems.append(f"{where} was not found")
            elif not _is_function(found):
                problems.append(f"{where}: expected function found instance")
            elif hasattr(found, "ft") and not _same_shape(found.ft, t):
                problems.append(f"{where}: function type mismatch")
        elif isinstance(t, TypeBound) and isinstance(t.t, ResourceType):
            rt = self.resource(path)
            if rt is None and t.kind == "eq" and id(t.t) in bound:
                return                  # another name for a resource bound before
            if rt is None:
                if found is not None and _is_function(found):
                    problems.append(f"{where}: expected resource found func")
                elif found is not None:
                    problems.append(f"{where}: expected resource found {type(found).__name__}")
                else:
                    problems.append(f"{where} was not found")
                return
            if t.kind == "eq":
                want = bound.get(id(t.t))
                if want is not None and want is not rt:
                    problems.append(f"{where}: mismatched resource types")
            bound.setdefault(id(t.t), rt)
        elif isinstance(t, CoreModuleType):
            problems.extend(f"{where}: {p}" for p in _module_problems(found, t))

    def _implicit(self, path: tuple) -> bool:
        return _resource_member(self, path) is not None

    def _has_resources(self, instance: str) -> bool:
        base, want = _split_version(instance)
        for candidate, _ in self.resources:
            cbase, have = _split_version(candidate)
            if cbase == base and _compatible(want, have):
                return True
        return False

    def core_module(self, path: tuple):
        return self._lookup(path)

    def host_function(self, path: tuple, ft: FuncType, instance: ComponentInstanceHandle):
        """The callable (canonical ABI values in and out) that implements import `path`."""
        found = self._lookup(path)
        if found is None:
            found = _resource_member(self, path)
        if found is None:
            raise LinkError(f"unsatisfied import: {_render(path)}")
        if isinstance(found, _HostFunc):
            fn, raw = found.fn, found.raw
        elif isinstance(found, TypedFunc):
            return found.lifted        # another component's export: a direct ABI-level call
        else:
            fn, raw = found, False
        if not callable(fn):
            raise LinkError(f"import {_render(path)} is defined as {type(fn).__name__}, "
                            f"not a function")
        if raw:
            return fn
        return _typed_host(fn, ft, instance, _render(path))

    # ---- instantiation ------------------------------------------------------------------------
    def instantiate(self, component, store=None) -> ComponentInstanceHandle:
        return ComponentInstanceHandle(component, self, store)


def _is_function(value) -> bool:
    if isinstance(value, (_HostFunc, TypedFunc)):
        return True
    if isinstance(value, dict) or hasattr(value, "items"):
        return False
    if isinstance(value, type) and hasattr(value, "resource_type"):
        return False                    # a component's resource class
    return callable(value)


def _needs_definition(t: InstanceType) -> bool:
    """Whether an imported instance needs a definition: not when all it holds (recursively)
    is value types, which need nothing from the host."""
    for _, ext in t.exports:
        if isinstance(ext, InstanceType):
            if _needs_definition(ext):
                return True
        elif not (isinstance(ext, TypeBound) and not isinstance(ext.t, ResourceType)):
            return True
    return False


def _same_shape(a, b) -> bool:
    """Structural type equality with resource identities left out (the resource check
    compares those)."""
    if a is b:
        return True
    if type(a) is not type(b):
        return False
    if isinstance(a, ResourceType):
        return True
    if isinstance(a, FuncType):
        return len(a.params) == len(b.params) and all(
            _same_shape(x, y) for (_, x), (_, y) in zip(a.params, b.params)) and \
            _same_shape(a.result, b.result)
    if is_record(a):
        return all(_same_shape(x, y) for (_, x), (_, y) in zip(record_items(a), record_items(b)))
    if isinstance(a, tuple):
        return len(a) == len(b) and all(_same_shape(x, y) for x, y in zip(a, b))
    return a == b


def _core_text(t) -> str:
    """A core type as wasmtime writes it in link errors: `(func (param i32))`, `(func)`."""
    from ..binary.types import FuncType as CoreFuncType, valtype_name
    if isinstance(t, CoreFuncType):
        parts = ["func"]
        if t.params:
            parts.append("(param " + " ".join(valtype_name(v) for v in t.params) + ")")
        if t.results:
            parts.append("(result " + " ".join(valtype_name(v) for v in t.results) + ")")
        return "(" + " ".join(parts) + ")"
    return str(t)


def _kind_name(value) -> str:
    if isinstance(value, dict) or hasattr(value, "items"):
        return "instance"
    return "func" if _is_function(value) else type(value).__name__


def _module_problems(module, expected: CoreModuleType) -> list[str]:
    """Does core module `module` have core module type `expected`? Its imports must all be
    expected (with types the importer's will satisfy), and every expected export must be
    there with a matching type. Messages in wasmtime's words."""
    from ..binary.types import extern_type_matches
    from ..engine.api import Module
    from .resolve import core_kind
    from .validate import module_type_of
    if module is None:
        return ["was not found"]
    if not isinstance(module, Module):
        return [f"expected module found {_kind_name(module)}"]
    actual_type = module_type_of(module.validated)
    problems = []
    allowed = {(m, n): t for m, n, t in expected.imports}
    for m, n, actual in actual_type.imports:
        want = allowed.get((m, n))
        if want is None:
            problems.append(f"module import `{m}::{n}` not defined")
        elif core_kind(want) != core_kind(actual):
            problems.append(f"module import `{m}::{n}`: expected {core_kind(actual)} found "
                            f"{core_kind(want)}")
        elif not extern_type_matches(want, actual):
            problems.append(f"module import `{m}::{n}` has the wrong type")
    actual_exports = dict(actual_type.exports)
    for name, want in expected.exports:
        have = actual_exports.get(name)
        if have is None:
            problems.append(f"module export `{name}` not defined")
        elif core_kind(have) != core_kind(want):
            problems.append(f"export `{name}` has the wrong type: expected {core_kind(want)} "
                            f"found {core_kind(have)}")
        elif not extern_type_matches(have, want):
            problems.append(f"export `{name}` has the wrong type: expected type "
                            f"`{_core_text(want)}`, found type `{_core_text(have)}`")
    return problems


def _render(path: tuple) -> str:
    return path[0] + "".join(f"#{p}" for p in path[1:])


def _member(node, name: str):
    if isinstance(node, dict):
        if name in node:
            return node[name]
        return node.get(snake(name))
    if isinstance(node, _HostFunc):
        return None
    return getattr(node, snake(name), None)


def _resource_member(linker: Linker, path: tuple):
    """`[constructor]r`, `[method]r.m`, `[static]r.s` of a resource the host defined with
    `define_resource`: methods are looked up on the object, the others on its class."""
    name = path[-1]
    if not name.startswith("["):
        return None
    kind, _, rest = name[1:].partition("]")
    resource, _, member = rest.partition(".")
    rt = linker.resource(path[:-1] + (resource,))
    if rt is None:
        return None
    cls = rt.host_class if rt.host_class is not object else None
    if kind == "method":
        method = snake(member)
        if cls is not None and not hasattr(cls, method):
            return None

        def call(self, *args):
            return getattr(self, method)(*args)
        return call
    if cls is None:
        return None
    if kind == "constructor":
        return cls
    if kind == "static":
        return getattr(cls, snake(member), None)
    return None


def _typed_host(fn, ft: FuncType, instance: ComponentInstanceHandle, where: str):
    names, bridge = instance.names, instance.bridge
    params = [converter(t, names, bridge) for _, t in ft.params]
    result = None if ft.result is None else converter(ft.result, names, bridge)
    wraps_result = isinstance(ft.result, ResultType)

    def call(*abi_args):
        args = [c.from_abi(a) for c, a in zip(params, abi_args)]
        if result is None:
            fn(*args)
            return None
        try:
            out = fn(*args)
        except ComponentError as exc:
            if not wraps_result:
                raise
            out = Err(exc.value)
        if wraps_result and not isinstance(out, (Ok, Err)):
            out = Ok(out)
        try:
            return result.to_abi(out)
        except (TypeError, ValueError) as exc:
            raise type(exc)(f"host function {where} returned a bad value: {exc}") from None
    return call


def _embedder_restrictions(component) -> None:
    """What wasmtime, the reference for behaviour, refuses at the root of a component it
    runs; refused here with its words, as not supported."""
    from ..errors import NotSupported
    from .plan import HostRef
    from .types import ComponentType
    for name, t in component.validated.type.imports:
        if isinstance(t, ComponentType):
            raise NotSupported("root-level component imports are not supported")
    for name, t in component.validated.type.exports:
        if isinstance(t, ComponentType):
            raise NotSupported("exporting a component from the root component is not supported")
        if isinstance(t, FuncType) and isinstance(component.plan.exports.get(name), HostRef):
            raise NotSupported(f"component export `{name}` is a reexport of an imported "
                               f"function which is not implemented")


class Component:
    """A decoded, validated and planned component, with its core modules compiled.

    `Component.from_file(engine, path)`; `imports` and `exports` give the resolved types by
    name; `Linker(engine).instantiate(component)` runs it.

    `precompiled` names a bundle (its directory or manifest, see `write_bundle`) whose code
    the core modules are loaded from instead of being compiled. A bundle that does not fit
    (stale, foreign, tampered) raises the engine's ArtifactError before any of its code is
    loaded; with `on_refused`, that function gets the error instead and the cores are
    compiled as usual."""

    def __init__(self, engine, data: bytes | bytearray | memoryview, *, precompiled=None,
                 on_refused=None):
        from .binary import decode_component
        from .plan import build_plan
        from .validate import validate_component
        from ..errors import WasmError
        self.engine = engine
        self.bytes = bytes(data)
        self.syntax = decode_component(self.bytes, core_bodies=False)
        # The core modules' function bodies (decoding and validation) are left to
        # `Engine.compile`, which skips those it has verified code for; on any failure the
        # whole component is decoded and validated again with the bodies, so a malformed or
        # invalid one fails with the same error as with eager checks.
        try:
            self.validated = validate_component(self.syntax, core_bodies=False)
            self.plan = build_plan(self.validated)
            _embedder_restrictions(self)
            self._modules: dict[int, object] = {}
            self.bundle = None
            if precompiled is not None:
                self.bundle = self._open_bundle(precompiled, on_refused)
            for ref in self.plan.modules:
                self._module(ref)
            _check_uncompiled_bodies(self.validated, self.plan)
        except WasmError:
            validate_component(decode_component(self.bytes))    # the eager order's error
            raise

    def _open_bundle(self, path, on_refused):
        from ..errors import WasmError
        try:
            bundle = self.engine.open_bundle(path, self.bytes)
            bundle.check_covers([ref.validated for ref in self.plan.modules])
            _install_bundled_adapters(bundle)
            return bundle
        except WasmError as exc:
            if on_refused is None:
                raise
            on_refused(exc)
            return None

    @classmethod
    def from_file(cls, engine, path: str | os.PathLike, **options) -> "Component":
        return cls(engine, Path(path).read_bytes(), **options)

    @property
    def imports(self) -> tuple:
        return self.validated.type.imports

    @property
    def exports(self) -> tuple:
        return self.validated.type.exports

    def wit(self, name: str = "root") -> str:
        """The component's imports and exports as a WIT world (what `pywamr inspect` prints)."""
        from .wit import world
        return world(self.validated.type, name)

    def _module(self, ref):
        module = self._modules.get(id(ref))
        if module is None:
            from ..engine.api import Module
            compiled = (self.bundle.compiled(ref.validated) if self.bundle is not None
                        else self.engine.compile(ref.validated))
            module = Module.from_compiled(self.engine, compiled)
            self._modules[id(ref)] = module
        return module

    def instantiate_core(self, ref, externs: list, store=None):
        from ..engine.api import Instance
        return Instance(store, self._module(ref), externs)

    def host_paths(self) -> list[tuple]:
        """The host items the plan lowers (import paths)."""
        from .plan import HostRef, Lower
        return [s.callee.path for s in self.plan.steps
                if isinstance(s, Lower) and isinstance(s.callee, HostRef)]


def _check_uncompiled_bodies(validated, plan) -> None:
    """Validate the function bodies of the core modules the plan never compiles (defined in
    a nested component that is not instantiated): `Engine.compile` checked the others."""
    from ..validate.module import validate_bodies
    from .validate import core_modules_of
    compiled = {id(ref.validated) for ref in plan.modules}
    for module in core_modules_of(validated):
        if id(module) not in compiled:
            validate_bodies(module)


def write_bundle(engine, data: bytes | bytearray | memoryview, out_dir, adapters=()) -> dict:
    """Compile every core module of every nested sub-component of the component `data` into
    a precompiled bundle directory `out_dir` (the engine's format; aot: `aot/bundle.py`) and
    return its manifest. Decodes, validates and plans, as running it would, so a component
    that cannot run is refused here too. `adapters`: (stable id, bytes, extra manifest keys)
    of generated adapter code to store with the cores (read back with
    `Component.bundle.adapter(id)`)."""
    from .binary import decode_component
    from .plan import build_plan
    from .validate import validate_component
    data = bytes(data)
    plan = build_plan(validate_component(decode_component(data)))
    cores = [(ref.name.lstrip("/") or "module", ref.validated) for ref in plan.modules]
    if not adapters:
        adapters = _native_adapters(engine, plan)
    return engine.write_bundle(out_dir, data, cores, adapters)


_ADAPTER_KIND = "native-adapter"


def _native_adapters(engine, plan) -> list:
    """The native component-to-component adapters `plan` may use, compiled for the bundle
    (ids are the adapters' descriptions; see `abi/native.py`). None when native adapters are
    off."""
    from ..engine.backends import _aot_cache
    from .abi import native
    if not native.enabled():
        return []
    cache = _aot_cache(engine)
    return [(description, native.adapter_artifact(description, cache), {"kind": _ADAPTER_KIND})
            for description in native.adapter_descriptions(plan)]


def _install_bundled_adapters(bundle) -> None:
    """Preload a bundle's native adapters, so that instantiation does no LLVM work for them
    (each is checked like a core: a stale, foreign or tampered one raises ArtifactError)."""
    from .abi import native
    for entry in bundle.manifest.get("adapters", ()):
        if entry.get("kind") != _ADAPTER_KIND:
            continue
        found = bundle.adapter(entry["id"])
        if found is not None:
            native.install_adapter(entry["id"], found[1])


__all__ = ["Linker", "Component", "write_bundle"]
