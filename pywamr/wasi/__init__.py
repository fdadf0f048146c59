"""WASI hosts: the shared context and sandboxed filesystem, and wasi_snapshot_preview1.

`WasiConfig` describes what a guest may see (and, through its capability broker, what a
Python callback approves, request by request: broker.py); `WasiContext` is the live state
built from it;
`host_functions(ctx)` (p1.py) gives the preview-1 imports; `add_to_linker(linker, config)`
(linker.py) defines them in an embedding `Linker`. The WASI 0.2 host (component imports over
the same context) is the `p2` package, imported on demand:
`from pywamr.wasi import p2; p2.add_to_linker(component_linker, config)`.
"""
from .broker import FileRequest, SocketRequest
from .config import WasiConfig
from .context import WasiContext
from .errors import ErrorCode, WasiError
from .linker import add_to_linker
from .p1 import host_functions
from .p1_abi import MODULE_NAME

__all__ = ["WasiConfig", "WasiContext", "ErrorCode", "WasiError", "host_functions", "MODULE_NAME",
           "add_to_linker", "FileRequest", "SocketRequest"]
