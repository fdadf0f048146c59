"""The embedding API: Engine, Store, Module, Linker, Instance and typed exports.

Sits above the engines: decodes and validates once, hands the validated module to the engine
chosen by name from the registry (`register_engine`; built in: `interp`, `aot`), links imports
by name and runs the runtime layer's instantiation driver. Values cross this API in Python form
(signed ints, floats, Func/None, any object for externref). WASI is not part of this layer: it
plugs into a Linker with `pywamr.wasi.add_to_linker(linker, config)`.
"""
from .api import (Engine, Store, Module, Linker, Instance, Func, Caller,  # noqa: F401
                  HostFunction, default_engine_kind)
from .registry import register_engine, engine_names, engine_available  # noqa: F401
from ..binary.types import FuncType, GlobalType, MemoryType, TableType, Limits  # noqa: F401
from ..runtime.interface import CompiledModule  # noqa: F401
from ..runtime.objects import Function, Memory, Table, Global  # noqa: F401
