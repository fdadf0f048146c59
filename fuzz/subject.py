"""The subject: run a fuzz module on one pywamr engine through the public API only.

Uses `Engine`, `Module`, `Linker`, `Store` exactly as an embedder would. pywamr's own errors
(`WasmError` and subclasses) are results to compare; any other Python exception is recorded
as "escaped", which the comparison always counts as a failure.
"""
from __future__ import annotations

import traceback

from pywamr import Engine, Linker, Module, Store
from pywamr.binary.types import valtype_name
from pywamr.errors import Trap, WasmError
from pywamr.runtime.objects import Global, Memory, Table

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
    if isinstance(exc, WasmError):
        return ["error", f"{type(exc).__name__}: {exc}"]
    return _escaped(exc)


def make_engine(kind: str) -> Engine:
    return Engine(kind, cache=False)


def run_pywamr(data: bytes, engine: Engine) -> Outcome:
    outcome = Outcome()
    try:
        module = Module(engine, data)
        instance = Linker(engine).instantiate(Store(engine), module)
    except Exception as exc:   # noqa: BLE001 - every failure is recorded and classified
        outcome.instantiation = _failure(exc)
        return outcome
    exports = instance.exports
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
            except Exception as exc:   # noqa: BLE001
                outcome.calls.append([name, which, _failure(exc)])
                continue
            values = [] if not results else [out] if len(results) == 1 else list(out)
            try:
                keys = list(map(value_key, results, values))
            except Exception as exc:   # noqa: BLE001 - a malformed result value
                outcome.calls.append([name, which, _escaped(exc)])
                continue
            outcome.calls.append([name, which, ["ok", *keys]])
    for name, kind in module.exports:
        extern = exports[name]
        if isinstance(extern, Global):
            outcome.globals[name] = value_key(valtype_name(extern.type.valtype), extern.value)
        elif isinstance(extern, Memory):
            outcome.add_memory(name, bytes(extern.data))
        elif isinstance(extern, Table):
            outcome.tables[name] = table_digest([e is None for e in extern.elements])
    return outcome
