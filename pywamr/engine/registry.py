"""The registry of engines: name -> how to compile a validated module for it.

Sits at the bottom of the engine layer: `Engine` (api.py) looks engines up here by name and
never branches on a particular one. The built-in engines ("interp", "aot") are registered by
`backends.py`; an embedder or a test may register another with `register_engine`. Deliberately
not here: engine implementations (siblings below this layer) and instantiation (runtime layer).
"""
from __future__ import annotations

from ..record import record
from typing import Callable

from ..errors import NotSupported


def _always_available() -> tuple[bool, str]:
    return True, ""


@record
class EngineBackend:
    """One registered engine.

    - `compile(validated, engine) -> CompiledModule` (runtime/interface.py); `engine` is the
      `Engine` holding the options (cache_dir, cache, progress) an engine may use.
    - `available() -> (ok, why not)`: whether the engine can run in this process.
    - `fallback`: the engine to use instead when this one is unavailable (None: an error).
    - `load_artifact(path_or_bytes, source_bytes=None) -> CompiledModule`: precompiled code,
      for engines that have an artifact format (None otherwise).
    - `open_bundle(path, container_bytes) -> bundle` and `write_bundle(out_dir,
      container_bytes, cores, engine, adapters=()) -> manifest`: precompiled bundles of all
      the core modules (and generated adapters) of one container (a component), for engines
      that have them (None otherwise). An open bundle answers `check_covers(validateds)`
      (raises unless it has them all), `compiled(validated) -> CompiledModule` and
      `adapter(id) -> (manifest entry, bytes) | None`.
    - `load_cached(validated, engine) -> CompiledModule | None`: code already compiled from
      exactly `validated.source` (verified), or None; never compiles. Lets `Engine.compile`
      skip validating the bodies of a module whose code was compiled (hence validated) before.
    """
    name: str
    compile: Callable
    available: Callable[[], tuple[bool, str]] = _always_available
    fallback: str | None = None
    load_artifact: Callable | None = None
    open_bundle: Callable | None = None
    write_bundle: Callable | None = None
    load_cached: Callable | None = None


_ENGINES: dict[str, EngineBackend] = {}


def register_engine(name: str, compile: Callable, *, available=None, fallback: str | None = None,
                    load_artifact: Callable | None = None, open_bundle: Callable | None = None,
                    write_bundle: Callable | None = None,
                    load_cached: Callable | None = None) -> EngineBackend:
    """Register (or replace) the engine called `name`; see `EngineBackend`."""
    backend = EngineBackend(name, compile, available or _always_available, fallback,
                            load_artifact, open_bundle, write_bundle, load_cached)
    _ENGINES[name] = backend
    return backend


def engine_names() -> tuple[str, ...]:
    return tuple(_ENGINES)


def get_backend(name: str) -> EngineBackend:
    try:
        return _ENGINES[name]
    except KeyError:
        raise ValueError(f"unknown engine {name!r}: choose one of "
                         f"{', '.join(engine_names())}") from None


def engine_available(name: str) -> tuple[bool, str]:
    """Whether engine `name` is registered and can run here: (ok, reason if not)."""
    backend = _ENGINES.get(name)
    if backend is None:
        return False, f"no engine named {name!r} is registered"
    try:
        return backend.available()
    except Exception as exc:  # a broken optional dependency must not break the registry
        return False, str(exc) or type(exc).__name__


def load_artifact(name: str, path_or_bytes, source_bytes=None):
    backend = get_backend(name)
    if backend.load_artifact is None:
        raise NotSupported(f"the {name} engine has no precompiled artifact format")
    return backend.load_artifact(path_or_bytes, source_bytes=source_bytes)
