"""Public objects of the embedding API (see package docstring)."""
from __future__ import annotations

import os
import sys
from pathlib import Path

from ..binary import decoder
from ..binary.types import FuncType, NAME_TO_VALTYPE
from ..errors import LinkError, NotSupported, WasmError
from ..runtime.instantiate import initialize, resolve_imports
from ..runtime.numerics import from_internal, to_internal
from ..runtime.objects import Function, Global, Memory, Table
from ..runtime.trapping import call_guarded
from ..validate import validate_module

ENGINE_KINDS = ("interp", "aot")
_aot_warning_shown = False


def aot_available() -> tuple[bool, str]:
    try:
        import llvmlite  # noqa: F401
        from .. import aot
        aot.compile_module  # noqa: B018 - the engine must really be there
    except Exception as exc:  # ImportError or a broken install
        return False, str(exc) or type(exc).__name__
    return True, ""


def default_engine_kind() -> str:
    ok, _ = aot_available()
    return "aot" if ok else "interp"


class Engine:
    """Chooses the engine (`"interp"` or `"aot"`) and holds its configuration.

    `kind=None` picks aot when llvmlite is importable, else interp. `cache_dir` moves the AOT
    code cache; `cache=False` turns it off."""

    def __init__(self, kind: str | None = None, *, cache_dir: str | os.PathLike | None = None,
                 cache: bool = True, progress: bool = False):
        global _aot_warning_shown
        if kind is None:
            kind = os.environ.get("PYWAMR_ENGINE") or "aot"
        if kind not in ENGINE_KINDS:
            raise ValueError(f"unknown engine {kind!r}: choose one of {', '.join(ENGINE_KINDS)}")
        if kind == "aot":
            ok, why = aot_available()
            if not ok:
                if not _aot_warning_shown:
                    print(f"pywamr: the aot engine is unavailable ({why}); running on interp",
                          file=sys.stderr)
                    _aot_warning_shown = True
                kind = "interp"
        self.kind = kind
        self.cache_dir = cache_dir
        self.cache = cache
        self.progress = progress

    def _aot_cache(self):
        from ..aot import AotCache
        if not self.cache or os.environ.get("PYWAMR_NO_CACHE"):
            return None
        return AotCache(self.cache_dir) if self.cache_dir is not None else AotCache()

    def compile(self, validated):
        if self.kind == "interp":
            from ..interp import compile_module
            return compile_module(validated)
        from ..aot import compile_module
        return compile_module(validated, cache=self._aot_cache(), progress=self.progress)


class Module:
    """A decoded, validated and compiled core module."""

    def __init__(self, engine: Engine, data: bytes | bytearray | memoryview):
        data = bytes(data)
        self.engine = engine
        self.bytes = data
        syntax = decoder.decode_module(data)
        self.validated = validate_module(syntax, data)
        self.syntax = syntax
        self.compiled = engine.compile(self.validated)

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


class Caller:
    """What a host function sees of the instance calling it."""

    __slots__ = ("instance",)

    def __init__(self):
        self.instance = None

    @property
    def memory(self) -> Memory:
        mem = self.instance.exports.get("memory") if self.instance else None
        if not isinstance(mem, Memory):
            raise WasmError("the calling instance exports no memory named 'memory'")
        return mem

    def get_export(self, name: str):
        return self.instance.exports.get(name)


def _functype(spec) -> FuncType:
    if isinstance(spec, FuncType):
        return spec
    params, results = spec
    conv = lambda ts: tuple(NAME_TO_VALTYPE[t] if isinstance(t, str) else t for t in ts)
    return FuncType(conv(params), conv(results))


class _HostDefinition:
    __slots__ = ("functype", "fn", "wants_caller", "raw", "name")

    def __init__(self, functype, fn, wants_caller, raw, name):
        self.functype = functype
        self.fn = fn
        self.wants_caller = wants_caller
        self.raw = raw
        self.name = name

    def bind(self, caller: Caller) -> Function:
        ft = self.functype
        fn = self.fn
        if self.raw:
            # internal representation in and out (used by WASI and the spec harness)
            call = (lambda *a: fn(caller, *a)) if self.wants_caller else fn
        else:
            params, results = ft.params, ft.results

            def call(*args):
                py_args = [from_internal(t, a) for t, a in zip(params, args)]
                out = fn(caller, *py_args) if self.wants_caller else fn(*py_args)
                if not results:
                    return None
                if len(results) == 1:
                    return to_internal(results[0], out)
                return tuple(to_internal(t, v) for t, v in zip(results, out))
        return Function(ft, call, self.name, host=True)


class Linker:
    """Defines imports by (module, name) and instantiates modules against them."""

    def __init__(self, engine: Engine | None = None):
        self.engine = engine or Engine()
        self.definitions: dict[tuple[str, str], object] = {}
        self.allow_shadowing = True

    def define(self, module: str, name: str, extern) -> None:
        if isinstance(extern, Func):
            extern = extern.function
        self.definitions[(module, name)] = extern

    def define_func(self, module: str, name: str, functype, fn, *, access_caller: bool = False,
                    raw: bool = False) -> None:
        """Define a host function. `functype` is a FuncType or (params, results) with type
        names ("i32", ...). With `access_caller`, `fn(caller, *args)`. With `raw`, arguments
        and results use the internal representation (unsigned ints)."""
        self.definitions[(module, name)] = _HostDefinition(
            _functype(functype), fn, access_caller, raw, f"{module}!{name}")

    def define_instance(self, module: str, instance: "Instance") -> None:
        for name, extern in instance.state.exports.items():
            self.definitions[(module, name)] = extern

    def define_wasi(self, config) -> None:
        """Define WASI preview 1 from a `pywamr.wasi.WasiConfig`.

        WASI sits above this layer; it plugs in through `config.define_in(linker)`."""
        self.wasi_context = config.define_in(self)

    def instantiate(self, store: Store | None, module: Module) -> "Instance":
        caller = Caller()
        externs = []
        for imp in module.syntax.imports:
            d = self.definitions.get((imp.module, imp.name))
            if d is None:
                raise LinkError(f"unknown import: \"{imp.module}\" \"{imp.name}\" has not been "
                                f"defined")
            if isinstance(d, _HostDefinition):
                d = d.bind(caller)
            externs.append(d)
        return Instance(store, module, externs, caller=caller)


class Instance:
    """An instantiated module; `exports[name]` gives Func, Memory, Table or Global.

    `imports` are runtime objects, one per import in order (the Linker resolves them by
    name); instantiation runs segment initialisation and the start function."""

    def __init__(self, store: Store | None, module: Module, imports=(), *,
                 caller: Caller | None = None):
        caller = caller or Caller()
        self.module = module
        resolved = resolve_imports(module.syntax, list(imports))
        self.state = module.compiled.instantiate(resolved)
        caller.instance = self
        self.exports = _Exports(self.state.exports)
        if store is not None:
            store.instances.append(self)
        call_guarded(initialize, (self.state,))


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


__all__ = ["Engine", "Store", "Module", "Linker", "Instance", "Func", "Caller", "NotSupported"]
