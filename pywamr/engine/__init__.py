"""The embedding API: Engine, Store, Module, Linker, Instance and typed exports.

Sits above the engines: decodes and validates once, hands the validated module to the chosen
engine (`interp` or `aot`), links imports by name and runs the spec's instantiation. Values
cross this API in Python form (signed ints, floats, Func/None, any object for externref).
"""
from .api import (Engine, Store, Module, Linker, Instance, Func, Caller,  # noqa: F401
                  default_engine_kind)
from ..binary.types import FuncType, GlobalType, MemoryType, TableType, Limits  # noqa: F401
from ..runtime.objects import Memory, Table, Global  # noqa: F401
