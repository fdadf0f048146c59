"""Plugging WASI preview 1 into an embedding `Linker`: `add_to_linker(linker, config)`.

Sits at the top of the WASI layer, above the engine layer it plugs into: it defines every
`wasi_snapshot_preview1` import in a linker as a host function that takes the importing
instance's host context (`runtime.host.Caller`). Guest memory is `caller.memory`, the
instance's memory 0 (defined or imported, whether or not it is exported as "memory"); a module
without memory can still call the functions that need none (`sched_yield`, `proc_exit`,
`fd_close`, ...), and one that needs memory gets errno `fault` (WASI's "bad address") rather
than a Python exception. (wasmtime instead traps with "missing required memory export" for
every call when the module exports no "memory".) The engine layer never imports this package.
"""
from __future__ import annotations

from .config import WasiConfig
from .context import WasiContext
from .p1 import host_functions
from .p1_abi import MODULE_NAME


def add_to_linker(linker, config: WasiConfig | None = None) -> WasiContext:
    """Define every wasi_snapshot_preview1 import in `linker` over a new `WasiContext` built
    from `config` (a default `WasiConfig` if None); return the context (exit status,
    descriptors). Instances made by the linker from then on share that context."""
    context = WasiContext(config if config is not None else WasiConfig())
    for name, (functype, fn) in host_functions(context).items():
        linker.define_func(MODULE_NAME, name, functype, fn, access_caller=True, raw=True)
    return context
