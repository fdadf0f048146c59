"""What the toolchain fixture tests share: running a fixture through `python -m pywamr run`
(the whole CLI path, in a subprocess), the readable diff of two outputs, and the marks of the
aot cases, which compile big modules for minutes and so run only with PYWAMR_SLOW_TESTS=1."""
from __future__ import annotations

import difflib
import os
from pathlib import Path

import pytest

from pywamr_testlib import needs_aot
from wasi_p2.p2_testlib import run_cli

SLOW = os.environ.get("PYWAMR_SLOW_TESTS", "") == "1"


def slow_aot(reason: str) -> list:
    """Marks of an aot case: needs llvmlite, and runs only when PYWAMR_SLOW_TESTS=1."""
    return [needs_aot, pytest.mark.skipif(not SLOW, reason=f"{reason}; set PYWAMR_SLOW_TESTS=1")]


def diff_text(label: str, expected: bytes, actual: bytes, limit: int = 60) -> str:
    lines = difflib.unified_diff(expected.decode("utf-8", "replace").splitlines(True),
                                 actual.decode("utf-8", "replace").splitlines(True),
                                 f"{label} (wasmtime)", f"{label} (pywamr)")
    return "".join(list(lines)[:limit])


def run_pywamr(engine: str, wasm: Path, args: list, env: dict, tmp_path: Path,
               cache_dir: Path | None = None):
    """`pywamr run --engine ENGINE` on the fixture (aot with its own code cache) -> the
    completed process, and a context line (status and stderr tail) for assertion messages."""
    cli = ["run", "--engine", engine]
    if engine == "aot":
        cli += ["--cache-dir", cache_dir or tmp_path / "cache"]
    for name, value in env.items():
        cli += ["--env", f"{name}={value}"]
    proc = run_cli(*cli, wasm, *args, cwd=tmp_path, timeout=1800)
    context = (f"pywamr exit status {proc.returncode}; stderr:\n"
               f"{proc.stderr.decode('utf-8', 'replace')[-3000:]}")
    return proc, context
