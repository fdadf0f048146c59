"""Registration of the built-in engines, "interp", "aot" and "auto", in the engine registry.

Sits in the engine layer, above both engines (with `tiered.py`, the only modules of this layer
that name them). Each engine is imported when first used, so that choosing interp never loads
LLVM. "auto" (tiered.py) hands out the aot engine's module when the code cache has it, the
interpreter's when there is nothing to tier up (no code, no LLVM, or the "never" policy), and
a `TieredModule` otherwise; it reads the aot engine's `.cwasm` artifacts directly.
"""
from __future__ import annotations

import os

from .registry import register_engine


def _compile_interp(validated, engine, osr: bool = False):
    from ..interp import compile_module
    return compile_module(validated, cache_dir=_cache_dir(engine), osr=osr)


def _cache_dir(engine):
    """The code cache's directory (the interpreter keeps its translations there), or None when
    caching is off (`Engine(cache=False)`, `--no-cache`, $PYWAMR_NO_CACHE)."""
    if not getattr(engine, "cache", True) or os.environ.get("PYWAMR_NO_CACHE"):
        return None
    cache_dir = getattr(engine, "cache_dir", None)
    if cache_dir is not None:
        return cache_dir
    from ..aot.artifact import default_cache_dir     # no LLVM: paths and file formats only
    return default_cache_dir()


def _aot_available() -> tuple[bool, str]:
    try:
        import llvmlite  # noqa: F401
        from .. import aot
        aot.compile_module  # noqa: B018 - the engine must really be there
    except Exception as exc:  # ImportError or a broken install
        return False, str(exc) or type(exc).__name__
    return True, ""


def _aot_cache(engine):
    from ..aot import AotCache
    if not getattr(engine, "cache", True) or os.environ.get("PYWAMR_NO_CACHE"):
        return None
    cache_dir = getattr(engine, "cache_dir", None)
    return AotCache(cache_dir) if cache_dir is not None else AotCache()


def _compile_aot(validated, engine):
    from ..aot import compile_module
    return compile_module(validated, cache=_aot_cache(engine),
                          progress=getattr(engine, "progress", False))


def _load_aot_cached(validated, engine):
    if not _aot_available()[0]:
        return None         # auto without llvmlite: the interpreter alone
    from ..aot import load_cached
    return load_cached(validated, _aot_cache(engine))


def _load_aot_artifact(path_or_bytes, source_bytes=None):
    from ..aot import load_artifact
    return load_artifact(path_or_bytes, source_bytes=source_bytes)


def _open_aot_bundle(path, container: bytes):
    from ..aot.bundle import open_bundle
    return open_bundle(path, container)


def _write_aot_bundle(out_dir, container: bytes, cores, engine, adapters=()):
    from ..aot.bundle import write_bundle
    return write_bundle(out_dir, container, cores, cache=_aot_cache(engine),
                        progress=getattr(engine, "progress", False), adapters=adapters)


def _load_interp_cached(validated, engine):
    from ..interp import load_cached
    return load_cached(validated, _cache_dir(engine))


register_engine("interp", _compile_interp, load_cached=_load_interp_cached)
register_engine("aot", _compile_aot, available=_aot_available, fallback="interp",
                load_artifact=_load_aot_artifact, open_bundle=_open_aot_bundle,
                write_bundle=_write_aot_bundle, load_cached=_load_aot_cached)


def _compile_auto(validated, engine):
    from .tiered import TierPolicy, TieredModule
    policy = TierPolicy.parse(getattr(engine, "tiering", None))
    if policy.mode == "never" or not validated.module.codes or not _aot_available()[0]:
        return _compile_interp(validated, engine)
    from .. import aot
    from .tier_worker import compile_in_worker, load_lock
    cache = _aot_cache(engine)
    with load_lock:
        cached = aot.load_cached(validated, cache)
    if cached is not None:
        return cached
    if policy.mode == "calls" or validated.source is None:
        def compile_native():
            with load_lock:
                return aot.compile_module(validated, cache=cache, jobs=1)
    else:
        def compile_native():
            return compile_in_worker(validated, cache_dir=getattr(engine, "cache_dir", None),
                                     cache=cache is not None)
    # with policy.osr, its loop headers check for on-stack-replacement entries
    interp = _compile_interp(validated, engine, osr=policy.osr)
    return TieredModule(validated, interp, compile_native, policy, cache=cache)


register_engine("auto", _compile_auto, load_artifact=_load_aot_artifact,
                open_bundle=_open_aot_bundle, write_bundle=_write_aot_bundle,
                load_cached=_load_aot_cached)
