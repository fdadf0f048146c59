"""The `interp` engine: wasm functions translated to Python source that CPython runs."""
from .instance import InterpModule, compile_module, load_cached  # noqa: F401
