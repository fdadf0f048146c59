"""Helpers of the AOT tests: build modules from WAT and instantiate them on the aot engine.

Every test module of this folder imports it first: without the aot engine the module is
skipped with the reason (a failure under CI=true, see pywamr_testlib.missing_tool).

(Not named conftest: several test folders have a conftest, and `from conftest import` would
pick whichever was imported last.)"""
from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from pywamr_testlib import require_aot, wat  # noqa: E402

require_aot()


def compile_wat(text: str, cache=None, jobs: int | None = None):
    """Decode, validate and AOT-compile a WAT module (no cache unless given; `jobs` compile
    workers, by default one per CPU)."""
    from pywamr.aot import compile_module
    from pywamr.binary.decoder import decode_module
    from pywamr.validate import validate_module
    data = wat(text)
    return compile_module(validate_module(decode_module(data), data), cache=cache,
                          jobs=jobs), data


def instance(text: str, imports: dict | None = None, engine_kind: str = "aot"):
    """Instantiate WAT on an engine through the public API; `imports` maps (module, name) to
    runtime objects or (functype, python function) pairs."""
    from pywamr.engine import Engine, Linker, Module
    engine = Engine(engine_kind, cache=False)
    linker = Linker(engine)
    for (mod, name), value in (imports or {}).items():
        if isinstance(value, tuple):
            linker.define_func(mod, name, value[0], value[1])
        else:
            linker.define(mod, name, value)
    return linker.instantiate(None, Module(engine, wat(text)))
