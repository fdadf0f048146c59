"""Differential WASI tests: every program in tests/fixtures/wasi/manifest.json is
run by the ``pywamr`` CLI (both engines) and by wasmtime (tests/oracle.py), each
in its own fresh copy of the fixture tree, and the observable behaviour is
compared: stdout (always), stderr (when the entry sets ``compare_stderr``) and
the exit status.  For programs that trap, both runtimes must trap: pywamr exits
non-zero and reports "wasm trap" on stderr; wasmtime raises ``wasmtime.Trap``.

The CLI contract exercised here::

    python -m pywamr run --engine ENGINE [--dir HOST::GUEST] [--env K=V]... WASM ARGS...

Set PYWAMR_DIFF_TIMEOUT (seconds, default 900) to bound each pywamr run.
"""
from __future__ import annotations

import difflib
import os
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
FIXTURES = HERE / "fixtures" / "wasi"

if not FIXTURES.is_dir():  # pragma: no cover - the fixtures are committed
    pytest.skip("tests/fixtures/wasi is absent", allow_module_level=True)

sys.path.insert(0, str(HERE))
import oracle  # noqa: E402  (tests/oracle.py)
from pywamr_testlib import ENGINES, require_wasmtime  # noqa: E402

MANIFEST = oracle.load_manifest(str(FIXTURES))
PROGRAMS = MANIFEST["programs"]
TIMEOUT = float(os.environ.get("PYWAMR_DIFF_TIMEOUT", "900"))


def _run_pywamr(engine: str, entry: dict, workdir: Path) -> subprocess.CompletedProcess:
    dirs = oracle.prepare_sandbox(entry, str(workdir), str(FIXTURES))
    cmd = [sys.executable, "-m", "pywamr", "run", "--engine", engine]
    for host, guest in dirs:
        cmd += ["--dir", f"{host}::{guest}"]
    for k, v in (entry.get("env") or {}).items():
        cmd += ["--env", f"{k}={v}"]
    cmd += [str(FIXTURES / entry["wasm"]), *entry.get("args", [])]
    env = dict(os.environ)
    root = str(HERE.parent)
    env["PYTHONPATH"] = root + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    return subprocess.run(cmd, input=entry.get("stdin", "").encode("utf-8"), capture_output=True,
                          cwd=str(workdir), env=env, timeout=TIMEOUT)


def _diff(label: str, expected: bytes, actual: bytes, limit: int = 60) -> str:
    exp = expected.decode("utf-8", "replace").splitlines(keepends=True)
    act = actual.decode("utf-8", "replace").splitlines(keepends=True)
    lines = list(difflib.unified_diff(exp, act, f"{label} (wasmtime)", f"{label} (pywamr)"))
    if len(lines) > limit:
        lines = lines[:limit] + [f"... {len(lines) - limit} more diff lines\n"]
    return "".join(lines)


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("entry", PROGRAMS, ids=[p["name"] for p in PROGRAMS])
def test_wasi_program_matches_wasmtime(entry: dict, engine: str, tmp_path: Path) -> None:
    require_wasmtime()

    oracle_dir = tmp_path / "wasmtime"
    pywamr_dir = tmp_path / "pywamr"
    oracle_dir.mkdir()
    pywamr_dir.mkdir()

    expected = oracle.run_manifest_entry(entry, str(oracle_dir), str(FIXTURES))
    # The manifest itself must agree with the oracle.
    assert expected.trapped == entry["trap"], f"manifest/oracle disagree on trapping: {expected}"
    if not entry["trap"]:
        assert expected.exit_code == entry["exit_code"], "manifest/oracle disagree on exit status"

    proc = _run_pywamr(engine, entry, pywamr_dir)
    stderr_text = proc.stderr.decode("utf-8", "replace")
    context = f"pywamr exit status {proc.returncode}; stderr:\n{stderr_text[-3000:]}"

    if entry["trap"]:
        assert proc.returncode != 0, f"expected a trap; {context}"
        assert "wasm trap" in stderr_text, f"expected 'wasm trap' on stderr; {context}"
    else:
        assert proc.returncode == expected.exit_code, (
            f"exit status: wasmtime {expected.exit_code}, {context}")

    assert proc.stdout == expected.stdout, (
        f"stdout differs\n{_diff('stdout', expected.stdout, proc.stdout)}\n{context}")

    if entry.get("compare_stderr") and not entry["trap"]:
        assert proc.stderr == expected.stderr, (
            f"stderr differs\n{_diff('stderr', expected.stderr, proc.stderr)}")
