"""pywamr: a WebAssembly runtime in Python with a pure-Python interpreter and an LLVM AOT engine.

The public embedding API lives in :mod:`pywamr.engine`; it is re-exported here.
"""
__version__ = "0.1.0"

from .errors import (  # noqa: F401
    WasmError, DecodeError, ValidationError, LinkError, Trap, TrapCode, WasiExit, NotSupported,
)


def __getattr__(name):
    # Lazy re-export so that importing the error types does not pull in the engines.
    import importlib
    if name.startswith("__"):
        raise AttributeError(name)
    engine = importlib.import_module(".engine", __name__)
    try:
        return getattr(engine, name)
    except AttributeError:
        raise AttributeError(f"module 'pywamr' has no attribute {name!r}") from None
