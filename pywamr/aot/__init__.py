"""The `aot` engine: compile a validated core module to native code through LLVM (llvmlite).

Pipeline: validated module -> IR text per chunk (`translate`, `emit/`) -> objects compiled in
worker processes (`compiler`, `worker`, `codegen`) -> artifact bytes (`artifact`, also the disk
cache format) -> objects linked into one mapping without LLVM (`loader`; LLVM's LLJIT,
`codegen.load_objects`, is its fallback) -> instances
(`instance`, over `entry`, `bridge` and `handles`) made by the shared instantiation driver
(`runtime.instantiate.instantiate_module`). This package never imports the interpreter; both
engines meet only at the runtime interface and objects.

Interface used by the engine layer:
  compile_module(validated, *, cache=<default AotCache>, jobs=None, progress=False,
                 in_process=False) -> AotModule
  load_cached(validated, cache) -> AotModule | None   (a verified cache hit; never compiles)
  compile_functions(validated, funcs, *, opt_level, direct_calls, cache) -> AotModule (partial)
  load_cached_functions(validated, cache) -> [(partial AotModule, opt level, direct calls)]
  from_artifact(validated, artifact_bytes) -> AotModule
  load_artifact(path_or_bytes, *, source_bytes=None) -> AotModule   (ArtifactError if unusable)
  AotModule: a `runtime.interface.CompiledModule` (define_functions, link), plus save(path)
  AotCache(dir=None)   ($PYWAMR_CACHE_DIR, $XDG_CACHE_HOME/pywamr or ~/.cache/pywamr;
                        PYWAMR_NO_CACHE=1 or cache=None turns the cache off)
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from .artifact import (AotCache, ArtifactError, cache_entry, cache_key, read_artifact,
                       read_cache_entry, sha256, write_artifact)

if TYPE_CHECKING:   # annotations only: an LLVM worker process imports this package
    from ..runtime.instantiate import InstanceState

__all__ = ["compile_module", "compile_functions", "partial_objects", "partial_from_objects",
           "load_cached", "load_cached_functions", "from_artifact", "load_artifact",
           "AotModule", "AotCache", "ArtifactError", "CompileError", "stats"]

_DEFAULT = object()


def __getattr__(name: str):
    """`CompileError` and `stats` live in `compiler`, imported on first use: it imports LLVM,
    which a run of cached or precompiled code never needs."""
    if name in ("CompileError", "stats"):
        from . import compiler
        return getattr(compiler, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


class AotModule:
    """A compiled module with its native code loaded, ready to instantiate."""

    engine_name = "aot"
    private_globals = False     # native code reads every global through its cell
    cache = None                # the AotCache it was compiled through (adapters use it too)
    from_cache = False          # a partial module whose code came from the code cache

    def __init__(self, module, func_types, artifact_bytes: bytes, objects: list[bytes],
                 validated=None, compiled: "frozenset[int] | None" = None,
                 referenced: "frozenset[int] | None" = None, osr: frozenset = frozenset()):
        from . import bridge
        from .conventions import c_symbol, tail_symbol
        from .helpers import func_symbol, native_functions, signature_key
        from .loader import link_objects
        self.module = module
        self.validated = validated
        self.func_types = list(func_types)
        self.num_imported_funcs = module.num_imported_funcs()
        self._artifact = artifact_bytes
        # a partial module (`compile_functions`): the functions with native code here, and
        # the functions that code reaches through vmctx FUNCS (calls, ref.func)
        self.compiled = compiled
        self.referenced = referenced
        defined = native_functions(self.num_imported_funcs, len(self.func_types), compiled)
        self.defined = defined
        # the functions with an OSR entry here (osr.py; partial modules only) and its type
        if osr:     # (osr.py imports the translator: only partial modules with entries)
            from .osr import osr_symbol, osr_type
        self.osr_types = {i: osr_type(self.func_types[i],
                                      module.codes[i - self.num_imported_funcs].locals)
                          for i in sorted(osr)}

        def exports() -> list[str]:       # only LLVM's linker needs the list
            from .translate import ModuleInfo, entry_symbols
            symbols = [name(i) for name in (func_symbol, c_symbol, tail_symbol) for i in defined]
            symbols += [osr_symbol(i) for i in self.osr_types]
            return symbols + (
                entry_symbols(ModuleInfo(module, self.func_types, compiled=compiled,
                                         osr=frozenset(self.osr_types)))
                if defined else [])
        if objects:
            linked = link_objects(objects, bridge.symbol_imports(), exports)
            self._tracker, addresses = linked.owner, linked.symbols
            self.linker, self.fallback_reason = linked.linker, linked.fallback_reason
        else:
            self._tracker, addresses, linked = None, {}, None
            self.linker, self.fallback_reason = None, None
        # per defined function: its code, and its entries in the C and the tailcc calling
        # conventions (one of them is the code itself; conventions.py)
        self.code_addresses = [addresses[func_symbol(i)] for i in defined]
        self.c_addresses = [addresses[c_symbol(i)] for i in defined]
        self.tail_addresses = [addresses[tail_symbol(i)] for i in defined]
        self.osr_addresses = {i: addresses[osr_symbol(i)] for i in self.osr_types}
        if objects:
            bridge.register_code(self, module, _code_ranges(linked.function_sizes, defined,
                                                            self.code_addresses,
                                                            self.osr_addresses))
        self._entries = {name[len("entry_"):]: address
                         for name, address in addresses.items() if name.startswith("entry_")}
        self._signature_key = signature_key

    def entry_address(self, ft) -> int:
        return self._entries[self._signature_key(ft)]

    def function_name(self, index: int) -> str:
        return self.module.func_name(index)

    # -- runtime.interface.CompiledModule ------------------------------------------------------
    def define_functions(self, state: InstanceState) -> list:
        from .instance import AotInstance
        native = AotInstance(self, state)
        state.engine_data = native
        return native.define_functions(state)

    def link(self, state: InstanceState) -> None:
        state.engine_data.link(state)

    def adopt(self, state: InstanceState):
        """Run an instance another engine made (same module) on this native code, keeping
        its `Function` objects: returns (native state, native entry callables of the module's
        functions in index order). See `instance.AotInstance.adopt`; used by the tiered
        engine, which installs the callables and keeps the native state alive."""
        from .instance import AotInstance
        native = AotInstance(self, state)
        return native, native.adopt(state)

    def adopt_functions(self, state: InstanceState, skip=frozenset()):
        """Run this partial module's functions for an instance another engine made (same
        module): the tiered engine's per-function switch, leaving the functions in `skip`
        alone. Returns (native state, {function index: native entry callable}); see
        `instance.AotInstance.adopt_functions`. The caller keeps the native state alive."""
        from .instance import AotInstance
        native = AotInstance(self, state)
        return native, native.adopt_functions(state, skip)

    def save(self, path) -> None:
        if self.compiled is not None:
            raise ValueError("a partial module (compile_functions) has no artifact to save")
        Path(path).write_bytes(self._artifact)

    def artifact_bytes(self) -> bytes:
        return self._artifact


def _code_ranges(sizes, defined, addresses, osr_addresses=None):
    """(start, end, function index) of every defined function: its size from the objects'
    symbol tables (`sizes`), or else up to the next function's address (an OSR entry, which
    gets no range of its own (osr.py), still ends the function before it)."""
    from .helpers import func_symbol
    ordered = sorted([*zip(addresses, defined),
                      *((address, -1) for address in (osr_addresses or {}).values())])
    ranges = []
    for k, (start, index) in enumerate(ordered):
        if index < 0:
            continue
        size = sizes.get(func_symbol(index))
        if size:
            end = start + size
        else:
            end = ordered[k + 1][0] if k + 1 < len(ordered) else start + (1 << 20)
        ranges.append((start, end, index))
    return ranges


_host_identity: dict | None = None


def _host(cache: "AotCache | None" = None) -> dict:
    """This process's host identity (target, CPU, features, LLVM versions). Known once per
    process; asking LLVM costs its import (tens of MiB, tens of ms), so the answer is first
    looked up in the host record a code cache keeps (`AotCache.host_identity`: `cache`, else
    the default cache unless $PYWAMR_NO_CACHE), which a run that loads cached or precompiled
    code then needs nothing else of LLVM for."""
    global _host_identity
    if _host_identity is None:
        if cache is None and not os.environ.get("PYWAMR_NO_CACHE"):
            cache = AotCache()
        _host_identity = cache.host_identity(_llvm_host) if cache is not None \
            else _llvm_host()
    return _host_identity


def _llvm_host() -> dict:
    from .codegen import host_identity
    return host_identity()


def _source_of(validated) -> tuple[bytes, bool]:
    """The bytes that identify the module: its wasm source, else a pickle of the syntax."""
    source = getattr(validated, "source", None)
    if source is not None:
        return bytes(source), True
    import pickle
    return pickle.dumps(validated.module, protocol=pickle.HIGHEST_PROTOCOL), False


def load_cached(validated, cache: "AotCache | None",
                opt_level: int | None = None) -> AotModule | None:
    """The module's code from the cache, or None on a miss; compiles nothing. The entry must
    be for exactly the module's bytes (`read_cache_entry` checks its key, which names the
    source, compiler and host, its checksum and the embedded source); a stale or corrupt
    entry is dropped. Only the module's structure is used, so `validated` may have its bodies
    unchecked (see `Engine.compile`). The tiered engine asks this before starting on the
    interpreter."""
    if cache is None:
        return None
    source, _ = _source_of(validated)
    host = _host(cache)
    if opt_level is not None:
        host = {**host, "opt": opt_level}
    key = cache_key(sha256(source), host)
    data = cache.get(key)
    if data is None:
        return None
    try:
        artifact, objects = read_cache_entry(data, key, source)
    except ArtifactError:
        cache.discard(key)
        return None
    loaded = AotModule(validated.module, validated.func_types, artifact, objects, validated)
    loaded.cache = cache
    return loaded


def from_artifact(validated, data: bytes) -> AotModule:
    """Load artifact bytes compiled from `validated`'s own source (ArtifactError if they are
    stale, foreign or corrupt), without decoding the embedded wasm again."""
    source, _ = _source_of(validated)
    art = read_artifact(data, _host(), source)
    return AotModule(validated.module, validated.func_types, data, art.objects, validated)


def compile_module(validated, *, cache: "AotCache | None" = _DEFAULT, jobs: int | None = None,
                   progress: bool = False, in_process: bool = False,
                   opt_level: int | None = None) -> AotModule:
    """Compile (or fetch from the cache) a validated module. `in_process` runs LLVM in this
    process instead of worker processes (for a caller that is itself an isolated worker).
    `opt_level` (0-3; None: `codegen.OPT_LEVEL`, default 2) is LLVM's optimisation level
    (0: no IR passes and fast instruction selection, the cheapest compile); it is part of
    the cache key, so code compiled at one level never serves a request for another."""
    if cache is _DEFAULT:
        cache = None if os.environ.get("PYWAMR_NO_CACHE") else AotCache()
    cached = load_cached(validated, cache, opt_level)
    if cached is not None:
        return cached
    if validated.funcs is None:
        raise ValueError("compile_module needs a module whose function bodies are validated")
    source, is_wasm = _source_of(validated)
    host = _host()
    if opt_level is not None:
        host = {**host, "opt": opt_level}
    key = cache_key(sha256(source), host)
    from .compiler import compile_objects
    from .translate import ModuleInfo
    info = ModuleInfo(validated.module, validated.func_types, validated.funcs)
    objects = (compile_objects(info, jobs=jobs, progress=progress, in_process=in_process,
                               opt_level=opt_level)
               if validated.module.codes else [])
    data = write_artifact(source, objects, host, {"source_kind": "wasm" if is_wasm else "pickle"})
    if cache is not None:
        cache.put(key, cache_entry(key, data))
    loaded = AotModule(validated.module, validated.func_types, data, objects, validated)
    loaded.cache = cache
    return loaded


def compile_functions(validated, funcs, *, opt_level: int | None = None,
                      in_process: bool = False, jobs: int = 1,
                      direct_calls: bool = True, cache: "AotCache | None" = None,
                      osr=()) -> AotModule:
    """A partial module: native code for the defined functions `funcs` only (calls to any
    other function go through its function record), at `opt_level` (0-3; None: the default
    level, `codegen.OPT_LEVEL`). Used by the tiered engine to compile hot functions alone;
    instances run it through `AotModule.adopt_functions`. `in_process`: LLVM in this process
    (for an isolated worker). Without `direct_calls`, even calls between `funcs` go through
    function records. With a `cache`, the code comes from its per-function entries when they
    have it, and goes there otherwise (`cache_functions.py`: keyed by the group's bodies and
    the module context; `from_cache` on the result says which). A new parameter that changes
    the generated code must go into that key (`cache_functions.descriptor`). The functions
    in `osr` (some of `funcs`, none making tail calls) also get an OSR entry (osr.py;
    `AotInstance.osr_entry` makes its callable); such a group bypasses the cache (its index
    records no OSR entries)."""
    from .compiler import compile_objects
    from .translate import ModuleInfo
    if validated.funcs is None:
        raise ValueError("compile_functions needs a module whose function bodies are validated")
    compiled = frozenset(funcs)
    first = validated.module.num_imported_funcs()
    if not compiled or min(compiled) < first or max(compiled) >= len(validated.func_types):
        raise ValueError("compile_functions: function indices must name defined functions")
    osr = frozenset(osr)
    if not osr <= compiled:
        raise ValueError("compile_functions: OSR entries only for compiled functions")
    if osr:
        cache = None
    if cache is not None:
        hit = _cached_functions(validated, compiled, opt_level, direct_calls, cache)
        if hit is not None:
            return hit
    info = ModuleInfo(validated.module, validated.func_types, validated.funcs, compiled,
                      direct_calls, osr)
    if any(info.is_tail_function(i) for i in osr):
        raise ValueError("compile_functions: no OSR entry for a function making tail calls")
    objects = compile_objects(info, jobs=jobs, in_process=in_process, opt_level=opt_level)
    if cache is not None:
        _store_functions(validated, compiled, opt_level, direct_calls, cache, objects)
    return partial_from_objects(validated, compiled, objects, osr)


def _function_key_parts(validated, funcs, opt_level, direct_calls, cache):
    """(host, module context digest, descriptor, opt level) of a partial module's cache
    entry."""
    from .cache_functions import context_digest, descriptor
    host = _host(cache)
    level = host.get("opt", 2) if opt_level is None else opt_level
    context = context_digest(validated.module)
    return (host, context, descriptor(validated.module, funcs, level, direct_calls, context),
            level)


def _cached_functions(validated, funcs, opt_level, direct_calls, cache,
                      remember: bool = True) -> "AotModule | None":
    """The partial module of `funcs` from the code cache's per-function entries, or None."""
    from .cache_functions import FunctionCache
    host, context, described, level = _function_key_parts(validated, funcs, opt_level,
                                                   direct_calls, cache)
    store = FunctionCache(cache)
    objects = store.get(described, host)
    if objects is None:
        return None
    try:
        partial = partial_from_objects(validated, funcs, objects)
    except Exception:       # objects that pass every check yet do not link: compile again
        store.drop(described, host)
        return None
    partial.from_cache = True
    if remember:
        store.remember(context, host, funcs, level, direct_calls)
    return partial


def _store_functions(validated, funcs, opt_level, direct_calls, cache, objects) -> None:
    from .cache_functions import FunctionCache
    host, context, described, level = _function_key_parts(validated, funcs, opt_level,
                                                   direct_calls, cache)
    store = FunctionCache(cache)
    store.put(described, host, objects)
    store.remember(context, host, funcs, level, direct_calls)


def load_cached_functions(validated, cache: "AotCache | None") -> list:
    """Every partial module the code cache holds for this module (`compile_functions` with
    a cache stored them, in this run or an earlier one), as (partial module, opt level,
    direct calls), oldest first; compiles nothing. A group whose code is missing, stale
    (one of its bodies changed) or corrupt is left out. See `cache_functions.py`."""
    if cache is None or validated.funcs is None:
        return []
    from .cache_functions import FunctionCache, context_digest
    host = _host(cache)
    first = validated.module.num_imported_funcs()
    count = len(validated.func_types)
    out = []
    for funcs, level, direct in FunctionCache(cache).groups(
            context_digest(validated.module), host):
        if not funcs or not all(first <= index < count for index in funcs):
            continue        # an index made for another module: never look its bodies up
        partial = _cached_functions(validated, frozenset(funcs), level, direct, cache,
                                    remember=False)
        if partial is not None:
            out.append((partial, level, direct))
    return out


def partial_objects(validated, funcs, opt_level: int | None,
                    direct_calls: bool = True) -> list[bytes]:
    """The objects of a partial module compiled in this process, one chunk after another
    (for an isolated worker; load them with `partial_from_objects`)."""
    from .compiler import compile_objects
    from .translate import ModuleInfo
    info = ModuleInfo(validated.module, validated.func_types, validated.funcs,
                      frozenset(funcs), direct_calls)
    return compile_objects(info, jobs=1, in_process=True, opt_level=opt_level)


def partial_from_objects(validated, compiled, objects: list[bytes],
                         osr: frozenset = frozenset()) -> AotModule:
    """Load the objects of a partial module (see `compile_functions`) compiled elsewhere.
    The functions its code reaches by index (`referenced`) are found in every body, which
    covers code made with or without direct calls."""
    from .translate import referenced_functions
    compiled = frozenset(compiled)
    referenced = frozenset(referenced_functions(validated.module, compiled))
    return AotModule(validated.module, validated.func_types, b"", objects, validated,
                     compiled=compiled, referenced=referenced, osr=frozenset(osr))


def load_artifact(path_or_bytes, *, source_bytes=None) -> AotModule:
    """Load a precompiled artifact written by `AotModule.save` (no LLVM compilation)."""
    if isinstance(path_or_bytes, (bytes, bytearray, memoryview)):
        data = bytes(path_or_bytes)
    else:
        try:
            data = Path(path_or_bytes).read_bytes()
        except OSError as exc:
            raise ArtifactError(f"cannot read artifact: {exc}") from None
    art = read_artifact(data, _host(), source_bytes)
    if art.header.get("source_kind") != "wasm":
        # never unpickle: an artifact is untrusted input, and pickle would run its code
        raise ArtifactError("artifact does not embed its wasm module (it was compiled from a "
                            "module without its bytes); recompile it from the .wasm file")
    from ..binary.decoder import decode_module
    try:        # the bodies are compiled already: their instructions are not needed
        module = decode_module(art.wasm, bodies=False)
    except Exception as exc:
        raise ArtifactError(f"corrupt artifact: embedded module does not decode: {exc}") \
            from None
    return AotModule(module, module.func_types(), data, art.objects)
