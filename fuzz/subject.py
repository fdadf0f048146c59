"""The subject: run a fuzz module on one pywamr engine through the public API only.

Uses `Engine`, `Module`, `Linker`, `Store` exactly as an embedder would. pywamr's own errors
(`WasmError` and subclasses) are results to compare; `NotSupported` (a feature the engine
refuses, e.g. SIMD before it lands) is recorded as "unsupported", which the comparison counts
apart from passes and failures; any other Python exception is recorded as "escaped", which the
comparison always counts as a failure. v128 arguments are passed, and results and globals read,
in the API representation (an int in [0, 2**128), lane 0 in the low bits).
"""
from __future__ import annotations

import traceback

from pywamr import Engine, Linker, Module, Store
from pywamr.binary.types import (FUNCREF, NAME_TO_VALTYPE, GlobalType, Limits, MemoryType,
                                 TableType, valtype_name)
from pywamr.errors import NotSupported, Trap, WasmError
from pywamr.runtime.numerics import from_internal, to_internal
from pywamr.runtime.objects import Global, Memory, Table

from . import host
from .outcome import Outcome, table_digest, trap_result
from .values import ARGUMENT_SETS, arguments, value_key


HOST_OBJECT = ("host", "object")


def _escaped(exc: BaseException) -> list:
    frame = traceback.extract_tb(exc.__traceback__)[-1:] if exc.__traceback__ else []
    where = f" at {frame[0].filename}:{frame[0].lineno}" if frame else ""
    return ["escaped", f"{type(exc).__name__}: {exc}{where}"]


def _failure(exc: Exception) -> list:
    if isinstance(exc, Trap):
        return trap_result(exc.code.name)
    if isinstance(exc, NotSupported):
        return ["unsupported", f"{type(exc).__name__}: {exc}"]
    if isinstance(exc, WasmError):
        return ["error", f"{type(exc).__name__}: {exc}"]
    return _escaped(exc)


AUTO_POLICY = "calls:3"      # the first calls on the interpreter, the rest native


def make_engine(kind: str) -> Engine:
    """The engine `kind` names, without the code cache. "auto" tiers up after AUTO_POLICY's
    calls into each instance, so a module's calls run on both tiers (deterministically);
    "auto:POLICY" picks another policy (e.g. "auto:calls:0", "auto:background:0.01", or the
    per-function switches "auto:hot:1", "auto:cheap:2", or on-stack replacement at loop
    headers "auto:osr:1")."""
    name, _, policy = kind.partition(":")
    if name == "auto":
        return Engine("auto", cache=False, tiering=policy or AUTO_POLICY)
    return Engine(kind, cache=False)


def _host_objects(linker: Linker, log: list) -> dict:
    """The fuzz host (`host.py`) as pywamr objects, defined in `linker`."""
    for name, functype in host.FUNCTIONS.items():
        linker.define_func("host", name, functype, host.behaviour(name, log))
    objects = {
        "memory": Memory(MemoryType(Limits(*host.MEMORY_LIMITS))),
        "table": Table(TableType(FUNCREF, Limits(*host.TABLE_LIMITS)), None),
    }
    for name, (valtype, mutable, value) in host.GLOBALS.items():
        code = NAME_TO_VALTYPE[valtype]
        objects[name] = Global(GlobalType(code, mutable), to_internal(code, value))
    for name, extern in objects.items():
        linker.define("host", name, extern)
    return objects


def _record_state(outcome: Outcome, externs) -> None:
    for name, extern in externs:
        if isinstance(extern, Global):
            valtype = extern.type.valtype
            outcome.globals[name] = value_key(valtype_name(valtype),
                                              from_internal(valtype, extern.value))
        elif isinstance(extern, Memory):
            outcome.add_memory(name, bytes(extern.data))
        elif isinstance(extern, Table):
            outcome.tables[name] = table_digest([e is None for e in extern.elements])


def _call_exports(outcome: Outcome, module: Module, exports) -> None:
    functions = [exports[name].function for name, kind in module.exports if kind == "func"]
    funcref = functions[0] if functions else None
    for name, kind in module.exports:
        if kind != "func":
            continue
        func = exports[name]
        params = [valtype_name(t) for t in func.type.params]
        results = [valtype_name(t) for t in func.type.results]
        for which in range(ARGUMENT_SETS):
            try:
                out = func(*arguments(params, which, funcref, HOST_OBJECT))
            except Exception as exc:   # noqa: BLE001 - every failure is recorded and classified
                outcome.calls.append([name, which, _failure(exc)])
                continue
            values = [] if not results else [out] if len(results) == 1 else list(out)
            try:
                keys = list(map(value_key, results, values))
            except Exception as exc:   # noqa: BLE001 - a malformed result value
                outcome.calls.append([name, which, _escaped(exc)])
                continue
            outcome.calls.append([name, which, ["ok", *keys]])


def run_pywamr(data: bytes, engine: Engine) -> Outcome:
    outcome = Outcome()
    linker = Linker(engine)
    provided = {}
    try:
        module = Module(engine, data)
        if module.imports:
            provided = _host_objects(linker, outcome.host_log)
        instance = linker.instantiate(Store(engine), module)
    except Exception as exc:   # noqa: BLE001
        outcome.instantiation = _failure(exc)
    else:
        _call_exports(outcome, module, instance.exports)
        _record_state(outcome, [(name, instance.exports[name]) for name, _ in module.exports])
    try:
        _record_state(outcome, [(f"host:{name}", extern) for name, extern in provided.items()])
    except Exception as exc:   # noqa: BLE001 - a host object left broken
        outcome.calls.append(["host", -1, _escaped(exc)])
    return outcome
