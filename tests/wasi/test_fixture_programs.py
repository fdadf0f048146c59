"""End to end: the C programs of tests/fixtures/wasi run on pywamr's interpreter with this
WASI host, and must print and exit exactly as they do on wasmtime (the oracle)."""
from __future__ import annotations

import io
import json
import os
import sys
from pathlib import Path

import pytest

from pywamr_testlib import require_wasmtime

TESTS = Path(__file__).resolve().parent.parent
FIXTURES = TESTS / "fixtures" / "wasi"
MANIFEST = FIXTURES / "manifest.json"

ENTRIES = json.loads(MANIFEST.read_text())["programs"] if MANIFEST.exists() else []


def run_pywamr(entry: dict, workdir: str):
    """(stdout, stderr, exit code, trapped) of one manifest entry on pywamr's interpreter."""
    from oracle import prepare_sandbox

    from pywamr.engine import Engine, Linker, Module
    from pywamr.errors import Trap, WasiExit
    from pywamr.wasi import WasiConfig, add_to_linker

    wasm = str(FIXTURES / entry["wasm"])
    stdout, stderr = io.BytesIO(), io.BytesIO()
    config = WasiConfig(argv=[wasm, *entry.get("args", [])], env=entry.get("env") or {},
                        preopens=prepare_sandbox(entry, workdir, str(FIXTURES)),
                        stdin=entry.get("stdin", "").encode(), stdout=stdout, stderr=stderr)
    engine = Engine("interp")
    linker = Linker(engine)
    add_to_linker(linker, config)
    module = Module(engine, Path(wasm).read_bytes())
    exit_code, trapped = 0, False
    try:
        linker.instantiate(None, module).exports["_start"]()
    except WasiExit as exit:
        exit_code = exit.status
    except Trap:
        exit_code, trapped = -1, True
    return stdout.getvalue(), stderr.getvalue(), exit_code, trapped


@pytest.mark.parametrize("entry", ENTRIES, ids=[entry["name"] for entry in ENTRIES])
def test_program_matches_wasmtime(entry, tmp_path):
    require_wasmtime()
    sys.path.insert(0, str(TESTS))
    try:
        from oracle import run_manifest_entry
    finally:
        sys.path.remove(str(TESTS))
    os.mkdir(tmp_path / "wasmtime")
    os.mkdir(tmp_path / "pywamr")
    expected = run_manifest_entry(entry, str(tmp_path / "wasmtime"), str(FIXTURES))
    sys.path.insert(0, str(TESTS))
    try:
        stdout, stderr, exit_code, trapped = run_pywamr(entry, str(tmp_path / "pywamr"))
    finally:
        sys.path.remove(str(TESTS))
    assert (exit_code, trapped) == (expected.exit_code, expected.trapped)
    assert stdout.decode(errors="replace") == expected.stdout.decode(errors="replace")
    if entry.get("compare_stderr"):
        assert stderr == expected.stderr
