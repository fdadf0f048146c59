"""Public objects of the embedding API (see package docstring).

Sits above the engines and the runtime layer: `Engine` picks a registered engine by name
(registry.py), `Module` decodes, validates and compiles once, `Linker` resolves imports by
name (host functions are `runtime.host.HostFunction`s, bound to each importing instance's
`Caller`), and `Instance` runs the runtime layer's instantiation driver. Nothing here knows a
particular engine or WASI (WASI plugs in through `pywamr.wasi.add_to_linker`).
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

from ..binary import decoder
from ..binary.types import FuncType
from ..errors import LinkError, NotSupported, ValidationError
from ..runtime.host import Caller, HostFunction
from ..runtime.instantiate import instantiate_module
from ..runtime.numerics import from_internal, to_internal
from ..runtime.objects import Function
from ..runtime.trapping import call_guarded
from ..validate import validate_module
from ..validate.module import validate_bodies
from . import backends  # noqa: F401  (registers the built-in engines)
from .registry import engine_available, get_backend, load_artifact

DEFAULT_ENGINE = "aot"
_fallback_warnings: set[str] = set()


def aot_available() -> tuple[bool, str]:
    """Whether the "aot" engine can run here (kept for tests and tools)."""
    return engine_available("aot")


def default_engine_kind() -> str:
    """The engine `Engine()` picks: $PYWAMR_ENGINE, else aot, falling back when unavailable."""
    return Engine._resolve(os.environ.get("PYWAMR_ENGINE") or DEFAULT_ENGINE, warn=False)


class Engine:
    """Chooses a registered engine by name (`"interp"`, `"aot"`, `"auto"`) and holds its
    options.

    `kind=None` means $PYWAMR_ENGINE or aot; an unavailable engine falls back to the one its
    registration names (aot -> interp when llvmlite is missing, with one warning). `cache_dir`
    moves a code cache and `cache=False` turns it off; `progress` reports compilation
    progress on stderr; `tiering` is the "auto" engine's policy (a `tiered.TierPolicy` or its
    text, e.g. "calls:10"; default $PYWAMR_TIER or background). Options an engine may ignore."""

    def __init__(self, kind: str | None = None, *, cache_dir: str | os.PathLike | None = None,
                 cache: bool = True, progress: bool = False, tiering=None):
        if kind is None:
            kind = os.environ.get("PYWAMR_ENGINE") or DEFAULT_ENGINE
        self.kind = self._resolve(kind, warn=True)
        self.backend = get_backend(self.kind)
        self.cache_dir = cache_dir
        self.cache = cache
        self.progress = progress
        if tiering is not None:
            from .tiered import TierPolicy
            tiering = TierPolicy.parse(tiering)     # a bad policy fails here, not later
        self.tiering = tiering

    @staticmethod
    def _resolve(kind: str, *, warn: bool) -> str:
        backend = get_backend(kind)
        seen = set()
        while True:
            ok, why = engine_available(backend.name)
            if ok:
                return backend.name
            if backend.fallback is None or backend.fallback in seen:
                raise NotSupported(f"the {backend.name} engine is unavailable ({why})")
            seen.add(backend.name)
            if warn and backend.name not in _fallback_warnings:
                print(f"pywamr: the {backend.name} engine is unavailable ({why}); running on "
                      f"{backend.fallback}", file=sys.stderr)
                _fallback_warnings.add(backend.name)
            backend = get_backend(backend.fallback)

    def compile(self, validated, *, check_bodies=validate_bodies):
        """Compile a validated module into this engine's `CompiledModule`.

        `validated` may have its function bodies unchecked (`validate_module(...,
        bodies=False)`): code this engine compiled before from exactly its bytes (a verified
        cache entry) is taken as is, since those bytes were validated when it was compiled
        (the trust placed in the code cache already covers running its native code);
        otherwise `check_bodies(validated)` (raising the validation error) completes it first."""
        if not validated.bodies_checked:
            if self.backend.load_cached is not None and validated.source is not None:
                compiled = self.backend.load_cached(validated, self)
                if compiled is not None:
                    return compiled
            validated = check_bodies(validated)
        return self.backend.compile(validated, self)

    @property
    def supports_artifacts(self) -> bool:
        return self.backend.load_artifact is not None

    def load_artifact(self, path_or_bytes, *, source_bytes=None):
        """A precompiled module of this engine (NotSupported if it has no artifact format)."""
        return load_artifact(self.kind, path_or_bytes, source_bytes)

    @property
    def supports_bundles(self) -> bool:
        return self.backend.open_bundle is not None

    def open_bundle(self, path, container: bytes):
        """The verified precompiled bundle at `path` (directory or manifest) for the
        container (component) bytes `container`; the engine's error (an ArtifactError) when
        it is stale, foreign or tampered, NotSupported when this engine has no bundles."""
        if self.backend.open_bundle is None:
            raise NotSupported(f"the {self.kind} engine cannot run precompiled bundles; "
                               f"use --engine aot")
        return self.backend.open_bundle(path, bytes(container))

    def write_bundle(self, out_dir, container: bytes, cores, adapters=()) -> dict:
        """Compile `cores` ((name, validated module) pairs) of the container `container` into
        a bundle directory, with `adapters` ((id, bytes, extra manifest keys) of generated
        code) beside them; returns its manifest."""
        if self.backend.write_bundle is None:
            raise NotSupported(f"the {self.kind} engine has no precompiled bundles")
        return self.backend.write_bundle(out_dir, bytes(container), cores, self,
                                         adapters=tuple(adapters))


class Module:
    """A decoded, validated and compiled core module."""

    def __init__(self, engine: Engine, data: bytes | bytearray | memoryview):
        data = bytes(data)
        self.engine = engine
        self.bytes = data
        # Function bodies are decoded only when needed: a verified cache hit runs code
        # compiled from exactly these bytes; any other path reaches `validate_bodies`, which
        # decodes them. A structural error defers to a malformed body's, as if eager.
        syntax = decoder.decode_module(data, bodies=False)
        try:
            structure = validate_module(syntax, data, bodies=False)
        except ValidationError:
            decoder.decode_module(data)
            raise
        self.syntax = syntax
        self.compiled = engine.compile(structure)
        self.validated = getattr(self.compiled, "validated", None) or structure

    @classmethod
    def from_file(cls, engine: Engine, path: str | os.PathLike) -> "Module":
        return cls(engine, Path(path).read_bytes())

    @classmethod
    def from_compiled(cls, engine: Engine, compiled) -> "Module":
        """Wrap an already compiled module (e.g. a loaded precompiled artifact)."""
        self = cls.__new__(cls)
        self.engine = engine
        self.compiled = compiled
        self.syntax = compiled.module
        self.validated = getattr(compiled, "validated", None)
        self.bytes = None
        return self

    @property
    def imports(self) -> list[tuple[str, str, object]]:
        m = self.syntax
        return [(i.module, i.name, m.types[i.desc] if i.kind == "func" else i.desc)
                for i in m.imports]

    @property
    def exports(self) -> list[tuple[str, str]]:
        return [(e.name, e.kind) for e in self.syntax.exports]


class Store:
    """Owns instances; kept for familiarity with other runtimes' APIs."""

    def __init__(self, engine: Engine | None = None):
        self.engine = engine or Engine()
        self.instances: list = []


class Linker:
    """Defines imports by (module, name) and instantiates modules against them."""

    def __init__(self, engine: Engine | None = None):
        self.engine = engine or Engine()
        self.definitions: dict[tuple[str, str], object] = {}

    def define(self, module: str, name: str, extern) -> None:
        """Define an import as a runtime object (Function, Memory, Table, Global), a `Func`
        or a `runtime.host.HostFunction` (bound to each importing instance)."""
        if isinstance(extern, Func):
            extern = extern.function
        self.definitions[(module, name)] = extern

    def define_func(self, module: str, name: str, functype, fn, *, access_caller: bool = False,
                    raw: bool = False) -> None:
        """Define a host function. `functype` is a FuncType or (params, results) with type
        names ("i32", ...). With `access_caller`, `fn(caller, *args)` where `caller` is the
        importing instance's `Caller` (its `.memory` is that instance's memory 0). With `raw`,
        arguments and results use the internal representation (unsigned ints)."""
        self.definitions[(module, name)] = HostFunction(
            functype, fn, context=access_caller, raw=raw, name=f"{module}!{name}")

    def define_instance(self, module: str, instance: "Instance") -> None:
        for name, extern in instance.state.exports.items():
            self.definitions[(module, name)] = extern

    def resolve(self, module: Module, caller: Caller) -> list:
        """The runtime objects for `module`'s imports, in order; host functions bound to
        `caller`."""
        externs = []
        for imp in module.syntax.imports:
            d = self.definitions.get((imp.module, imp.name))
            if d is None:
                raise LinkError(f"unknown import: \"{imp.module}\" \"{imp.name}\" has not been "
                                f"defined")
            externs.append(d.bind(caller) if isinstance(d, HostFunction) else d)
        return externs

    def instantiate(self, store: Store | None, module: Module) -> "Instance":
        caller = Caller()
        return Instance(store, module, self.resolve(module, caller), caller=caller)


class Instance:
    """An instantiated module; `exports[name]` gives Func, Memory, Table or Global.

    `imports` are runtime objects, one per import in order (the Linker resolves them by
    name). Instantiation is the runtime layer's driver: allocation, then `caller` (the host
    context of the instance's host imports) is attached, then segment initialisation and the
    start function."""

    def __init__(self, store: Store | None, module: Module, imports=(), *,
                 caller: Caller | None = None):
        caller = caller or Caller()
        self.module = module
        self.caller = caller
        self.state = instantiate_module(module.compiled, list(imports), bind=caller.attach)
        self.exports = _Exports(self.state.exports)
        if store is not None:
            store.instances.append(self)


class _Exports(dict):
    """Exports by name; functions are wrapped as typed `Func`s."""

    def __init__(self, raw: dict):
        super().__init__()
        for name, extern in raw.items():
            self[name] = Func(extern) if isinstance(extern, Function) else extern

    def __getattr__(self, name):
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None


class Func:
    """A typed handle on a wasm or host function: call it with Python values."""

    __slots__ = ("function",)

    def __init__(self, function: Function):
        self.function = function

    @property
    def type(self) -> FuncType:
        return self.function.type

    def __call__(self, *args):
        ft = self.function.type
        if len(args) != len(ft.params):
            raise TypeError(f"{self.function.name} expects {len(ft.params)} arguments, "
                            f"got {len(args)}")
        internal = [to_internal(t, a) for t, a in zip(ft.params, args)]
        out = call_guarded(self.function.call, internal)
        return _results_from_internal(ft.results, out)

    def call_internal(self, *args):
        return call_guarded(self.function.call, args)

    def __repr__(self) -> str:
        return f"<Func {self.function.name} {self.function.type}>"


def _results_from_internal(types, out):
    if not types:
        return None
    if len(types) == 1:
        v = from_internal(types[0], out)
        return int(v) if isinstance(v, bool) else v
    return tuple(int(x) if isinstance(x, bool) else x
                 for x in (from_internal(t, v) for t, v in zip(types, out)))


__all__ = ["Engine", "Store", "Module", "Linker", "Instance", "Func", "Caller", "HostFunction",
           "NotSupported"]
