"""The component conformance scripts run end to end (`pywamr wast`), on both engines.

Every non-async, non-threading `.wast` file of the Component Model corpus and of wasmtime's
component tests runs through `pywamr.wast_component.run_file`: components are decoded,
validated, planned, instantiated against wasmtime's test host, called, and their results,
traps and link errors compared with the script. Every failure must be listed below with its
reason; a command counts as "not supported" only when its component needs a later core
proposal (exceptions, GC, memory64, shared memories), which pywamr refuses.
"""
from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

from corpus import wast_files  # noqa: E402
from pywamr_testlib import ENGINES, conformance_dir  # noqa: E402

# Files left out of the run, with the reason.
LEFT_OUT = {
    "wasmtime-component/component-model/big-strings":
        "runs in a process of its own (`test_big_strings_own_process`): its memories of nearly "
        "4 GiB, once freed, leave the address space so that a later LLVM JIT link in the same "
        "process can abort in RuntimeDyld (`isInt<32>(RealOffset)`, a relocation overflow; seen "
        "when the interp run of it precedes the aot run)",
}

# (file key, line) -> why pywamr fails the command (identical on both engines).
KNOWN_FAILURES = {
    ("wasmtime-component/component-model/implements-disabled", 4):
        "tests wasmtime's `cm-implements` switch turned off (`;;! component_model_implements "
        "= false`; off by default in wasmtime 50). The Explainer lists 🏷️ `implements` among "
        "the features already shipped in a WASI release (\"Gated Features\"), so pywamr "
        "accepts it, like 🗺️ maps, and has no per-feature switches to turn it off",
}


def files():
    if conformance_dir() is None:
        return []
    return [(key, path) for key, path, reason in wast_files()
            if reason is None and key not in LEFT_OUT]


@pytest.mark.parametrize("engine_kind", ENGINES)
def test_component_scripts(engine_kind):
    if conformance_dir() is None:
        pytest.skip("conformance corpus not found at ../shared/conformance "
                    "(set PYWAMR_CONFORMANCE)")
    from pywamr import Engine
    from pywamr.wast_component import run_file
    engine = Engine(engine_kind)
    passed = failed = unsupported = 0
    unexpected, internal = [], []
    seen = set()
    for key, path in files():
        result = run_file(path, engine)
        passed += result.passed
        failed += result.failed
        unsupported += result.unsupported
        if result.internal_errors:
            internal.append(result.line())
        for line, kind, why in result.failures:
            seen.add((key, line))
            if (key, line) not in KNOWN_FAILURES:
                unexpected.append(f"{key}:{line} {kind}: {why[:200]}")
        for line, kind, why in result.unsupported_commands:
            assert "later proposal" in why or "refused" in why, (key, line, why)
    assert not internal, internal
    assert not unexpected, "\n".join(unexpected)
    fixed = [k for k in KNOWN_FAILURES if k not in seen]
    assert not fixed, f"these pass now, remove them from KNOWN_FAILURES: {fixed}"
    # the counts the closing note reports
    print(f"\n{engine_kind}: {passed} passed, {failed} failed, {unsupported} not supported")
    assert passed >= 0.99 * (passed + failed)


def test_left_out_files_exist():
    if conformance_dir() is None:
        pytest.skip("conformance corpus not found at ../shared/conformance "
                    "(set PYWAMR_CONFORMANCE)")
    keys = {key for key, _, _ in wast_files()}
    assert set(LEFT_OUT) <= keys


@pytest.mark.parametrize("engine_kind", ENGINES)
def test_big_strings_own_process(engine_kind):
    """wasmtime's big-strings.wast (strings up to 2**31-1 bytes between components, every
    encoding pair at its limit) passes whole, in a fresh process (see LEFT_OUT)."""
    if conformance_dir() is None:
        pytest.skip("conformance corpus not found at ../shared/conformance "
                    "(set PYWAMR_CONFORMANCE)")
    path = Path(conformance_dir()) / "wasmtime-component/component-model/big-strings.wast"
    env = dict(os.environ, PYTHONPATH=str(HERE.parent.parent))
    run = subprocess.run([sys.executable, "-m", "pywamr", "wast", "--engine", engine_kind,
                          str(path)], capture_output=True, text=True, env=env, timeout=300)
    counts = re.search(r"^(\d+) passed, (\d+) failed, (\d+) skipped$", run.stdout, re.M)
    assert counts is not None, run.stdout[-2000:] + run.stderr[-2000:]
    passed, failed, skipped = map(int, counts.groups())
    print(f"\n{engine_kind} big-strings: {passed} passed, {failed} failed, {skipped} skipped")
    assert (failed, skipped) == (0, 0) and passed >= 157, run.stdout[-3000:]
