"""The oracle: run a fuzz module on the `wasmtime` PyPI package and record its `Outcome`.

One wasmtime `Engine` (default configuration: Wasm 2.0 features are on, SIMD and relaxed SIMD
included, relaxed SIMD in wasmtime's default non-deterministic mode, i.e. the choices its x86-64
lowering makes on this CPU) is shared by all modules; each module gets a fresh `Store`.
wasmtime's trap codes are mapped to pywamr's `TrapCode` names. Functions and globals whose type
mentions v128, which the package's Python layer cannot handle, go through `wasmtime_v128`.
Nothing in `pywamr` may import this module.
"""
from __future__ import annotations

import wasmtime

from . import host, wasmtime_v128
from .outcome import Outcome, table_digest, trap_result
from .values import ARGUMENT_SETS, arguments, value_key

_CODES = {
    wasmtime.TrapCode.STACK_OVERFLOW: "STACK_EXHAUSTED",
    wasmtime.TrapCode.MEMORY_OUT_OF_BOUNDS: "MEMORY_OUT_OF_BOUNDS",
    wasmtime.TrapCode.TABLE_OUT_OF_BOUNDS: "TABLE_OUT_OF_BOUNDS",
    wasmtime.TrapCode.INDIRECT_CALL_TO_NULL: "UNINITIALIZED_ELEMENT",
    wasmtime.TrapCode.BAD_SIGNATURE: "INDIRECT_CALL_TYPE_MISMATCH",
    wasmtime.TrapCode.INTEGER_OVERFLOW: "INTEGER_OVERFLOW",
    wasmtime.TrapCode.INTEGER_DIVISION_BY_ZERO: "INTEGER_DIVIDE_BY_ZERO",
    wasmtime.TrapCode.BAD_CONVERSION_TO_INTEGER: "BAD_CONVERSION_TO_INTEGER",
    wasmtime.TrapCode.UNREACHABLE: "UNREACHABLE",
    wasmtime.TrapCode.NULL_REFERENCE: "NULL_REFERENCE",
}

_engine: wasmtime.Engine | None = None
HOST_OBJECT = ("host", "object")


def _shared_engine() -> wasmtime.Engine:
    global _engine
    if _engine is None:
        config = wasmtime.Config()
        config.parallel_compilation = False   # no thread pool: the shrinker forks
        config.wasm_multi_memory = True       # the multi-memory mode (generate.MODES)
        config.wasm_tail_call = True          # the tail-call mode
        config.wasm_simd = True               # the simd and relaxed-simd modes
        config.wasm_relaxed_simd = True
        _engine = wasmtime.Engine(config)
    return _engine


def _type_name(valtype) -> str:
    text = wasmtime_v128.type_name(valtype)
    return {"anyref": "externref"}.get(text, text)


def _plain(value):
    """wasmtime hands some reference values back wrapped in a `Val`."""
    return value.value if isinstance(value, wasmtime.Val) else value


def _failure(exc: Exception) -> list:
    if isinstance(exc, wasmtime.Trap):
        code = exc.trap_code
        return trap_result(_CODES.get(code, f"wasmtime:{code}"))
    return ["error", str(exc).splitlines()[0] if str(exc) else type(exc).__name__]


_VALTYPES = {"i32": wasmtime.ValType.i32, "i64": wasmtime.ValType.i64,
             "f32": wasmtime.ValType.f32, "f64": wasmtime.ValType.f64}


def _host_objects(store: wasmtime.Store, log: list) -> dict:
    """The fuzz host (`host.py`) as wasmtime objects."""
    objects = {}
    for name, (params, results) in host.FUNCTIONS.items():
        functype = wasmtime.FuncType([_VALTYPES[t]() for t in params],
                                     [_VALTYPES[t]() for t in results])
        objects[name] = wasmtime.Func(store, functype, host.behaviour(name, log))
    objects["memory"] = wasmtime.Memory(
        store, wasmtime.MemoryType(wasmtime.Limits(*host.MEMORY_LIMITS)))
    objects["table"] = wasmtime.Table(store, wasmtime.TableType(
        wasmtime.ValType.funcref(), wasmtime.Limits(*host.TABLE_LIMITS)), None)
    for name, (valtype, mutable, value) in host.GLOBALS.items():
        objects[name] = wasmtime.Global(
            store, wasmtime.GlobalType(_VALTYPES[valtype](), mutable), value)
    return objects


def _record_state(outcome: Outcome, store, externs) -> None:
    for name, extern in externs:
        if isinstance(extern, wasmtime.Global):
            outcome.globals[name] = value_key(_type_name(extern.type(store).content),
                                              _plain(wasmtime_v128.global_value(store, extern)))
        elif isinstance(extern, wasmtime.Memory):
            outcome.add_memory(name, bytes(extern.read(store, 0, extern.data_len(store))))
        elif isinstance(extern, wasmtime.Table):
            outcome.tables[name] = table_digest(
                [_plain(extern.get(store, i)) is None for i in range(extern.size(store))])


def _call_exports(outcome: Outcome, store, module, exports) -> None:
    functions = [exports[e.name] for e in module.exports
                 if isinstance(exports[e.name], wasmtime.Func)]
    funcref = functions[0] if functions else None
    for export in module.exports:
        extern = exports[export.name]
        if not isinstance(extern, wasmtime.Func):
            continue
        functype = extern.type(store)
        params = [_type_name(t) for t in functype.params]
        results = [_type_name(t) for t in functype.results]
        vector = "v128" in params or "v128" in results
        for which in range(ARGUMENT_SETS):
            args = arguments(params, which, funcref, HOST_OBJECT)
            try:
                if vector:
                    values = wasmtime_v128.call(store, extern, args)
                else:
                    out = extern(store, *args)
                    values = [] if not results else [out] if len(results) == 1 else list(out)
            except (wasmtime.Trap, wasmtime.WasmtimeError) as exc:
                outcome.calls.append([export.name, which, _failure(exc)])
                continue
            outcome.calls.append([export.name, which,
                                  ["ok", *(value_key(t, _plain(v))
                                          for t, v in zip(results, values))]])


def run_wasmtime(data: bytes) -> Outcome:
    outcome = Outcome()
    store = wasmtime.Store(_shared_engine())
    module = wasmtime.Module(store.engine, data)
    provided = _host_objects(store, outcome.host_log) if module.imports else {}
    try:
        instance = wasmtime.Instance(store, module, [provided[i.name] for i in module.imports])
    except (wasmtime.Trap, wasmtime.WasmtimeError) as exc:
        outcome.instantiation = _failure(exc)
    else:
        exports = instance.exports(store)
        _call_exports(outcome, store, module, exports)
        _record_state(outcome, store, [(e.name, exports[e.name]) for e in module.exports])
    _record_state(outcome, store, [(f"host:{name}", extern) for name, extern in provided.items()])
    return outcome
