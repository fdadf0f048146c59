"""What the toolchain fixture tests share: running a fixture through `python -m pywamr run`
(the whole CLI path, in a subprocess), the readable diff of two outputs, and the precompiled
code of the aot cases.

The aot cases run in the normal suite. A cold compile of these fixtures is minutes of CPU
(py-app's 14 CPython cores, js-app's 12 MB SpiderMonkey core), so each family of fixtures is
compiled ONCE per test session, by `pywamr compile-component` into a bundle per fixture, all
through one code cache of the family (`precompile`). Every aot case then runs twice:

- "bundle": `--precompiled-dir BUNDLE` with an empty code cache of its own, which must stay
  empty (nothing compiled: every core and adapter came from the bundle);
- "cache": `--engine aot` with no bundle (none is given and none lies beside the fixture)
  through the code cache `compile-component` filled, which must be left untouched (nothing
  compiled: a compile would write a fresh entry).

Under pytest-xdist the workers share the compiled code: the first worker to need a family
compiles it under a file lock in the session's shared temporary root; the others wait for it.

The optimisation level of these compiles is $PYWAMR_TOOLCHAIN_AOT_OPT (default
`DEFAULT_AOT_OPT`, 0 = LLVM's fast pipeline: no IR passes, -O0 machine code). The generated
IR is the same at every level; the level changes only what LLVM does with it. Run with
PYWAMR_TOOLCHAIN_AOT_OPT=2 (the engine's default level) for the full-optimisation check.
"""
from __future__ import annotations

import difflib
import fcntl
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

from pywamr_testlib import needs_aot
from wasi_p2.p2_testlib import ROOT

DEFAULT_AOT_OPT = "0"
AOT_OPT = os.environ.get("PYWAMR_TOOLCHAIN_AOT_OPT", DEFAULT_AOT_OPT)
AOT_SOURCES = ["bundle", "cache"]
COMPILE_TIMEOUT = 3600


def aot_marks() -> list:
    """Marks of an aot case: it needs llvmlite (skipped locally, failed under CI=true)."""
    return [needs_aot]


def diff_text(label: str, expected: bytes, actual: bytes, limit: int = 60) -> str:
    lines = difflib.unified_diff(expected.decode("utf-8", "replace").splitlines(True),
                                 actual.decode("utf-8", "replace").splitlines(True),
                                 f"{label} (wasmtime)", f"{label} (pywamr)")
    return "".join(list(lines)[:limit])


def _pywamr(*args, cwd=None, timeout: float = 1800) -> subprocess.CompletedProcess:
    """`python -m pywamr ARGS` with this worktree first on PYTHONPATH and the aot level of
    these tests."""
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + (os.pathsep + env["PYTHONPATH"]
                                     if env.get("PYTHONPATH") else "")
    env["PYWAMR_AOT_OPT"] = AOT_OPT
    return subprocess.run([sys.executable, "-m", "pywamr", *map(str, args)],
                          capture_output=True, cwd=cwd, env=env, timeout=timeout)


class Precompiled:
    """The session's compiled code of one fixture family: `bundle(wasm)` is the fixture's
    bundle directory, `cache` the family's code cache."""

    def __init__(self, directory: Path, fixtures: list[Path]):
        self.directory = directory
        self.cache = directory / "cache"
        self.bundles = {wasm: directory / "bundles" / (wasm.stem + ".pywamr-bundle")
                        for wasm in fixtures}

    def bundle(self, wasm: Path) -> Path:
        return self.bundles[wasm]


def _shared_root(tmp_path_factory) -> Path:
    """The temporary root every xdist worker of this session shares (their own base temps
    are its children); the session's own base temp without xdist."""
    base = tmp_path_factory.getbasetemp()
    return base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base


def precompile(family: str, fixtures: list[Path], tmp_path_factory) -> Precompiled:
    """Compile `fixtures` with `pywamr compile-component`, once per session for all xdist
    workers (see the module docstring). A failed compile fails every case that needs it,
    with the compiler's stderr, without being retried."""
    import pytest
    root = _shared_root(tmp_path_factory)
    done = Precompiled(root / f"toolchain-aot-{family}", fixtures)
    with open(root / f"toolchain-aot-{family}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        failed = done.directory / "failed.txt"
        if failed.exists():
            pytest.fail(failed.read_text())
        if (done.directory / "timings.json").exists():
            return done
        done.directory.mkdir(exist_ok=True)
        timings = {"opt": AOT_OPT}
        for wasm in fixtures:
            before, start = resource.getrusage(resource.RUSAGE_CHILDREN), time.monotonic()
            proc = _pywamr("compile-component", wasm, "-o", done.bundle(wasm),
                           "--cache-dir", done.cache, timeout=COMPILE_TIMEOUT)
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            if proc.returncode != 0:
                text = (f"pywamr compile-component {wasm.name} failed (status "
                        f"{proc.returncode}):\n{proc.stderr.decode('utf-8', 'replace')[-3000:]}")
                failed.write_text(text)
                pytest.fail(text)
            timings[wasm.name] = {
                "cpu_s": round(after.ru_utime + after.ru_stime - before.ru_utime
                               - before.ru_stime, 1),
                "wall_s": round(time.monotonic() - start, 1)}
        (done.directory / "timings.json").write_text(json.dumps(timings, indent=1) + "\n")
    return done


def _files(directory: Path) -> dict:
    """{relative path: (size, mtime in ns)} of every file under `directory`."""
    if not directory.exists():
        return {}
    return {str(p.relative_to(directory)): (p.stat().st_size, p.stat().st_mtime_ns)
            for p in directory.rglob("*") if p.is_file()}


def run_pywamr(engine: str, wasm: Path, args: list, env: dict, tmp_path: Path,
               precompiled: Precompiled | None = None, source: str | None = None):
    """`pywamr run --engine ENGINE` on the fixture -> the completed process, and a context
    line (status and stderr tail) for assertion messages. On aot, `source` says where the
    code comes from: "bundle" (the fixture's bundle in `precompiled`) or "cache" (its code
    cache); each is checked to be the only source used (see the module docstring)."""
    cli = ["run", "--engine", engine]
    watched = None
    if engine == "aot":
        assert source in AOT_SOURCES and precompiled is not None
        beside = wasm.with_name(wasm.stem + ".pywamr-bundle")
        assert not beside.exists(), f"{beside} would be used instead of the code under test"
        if source == "bundle":
            watched = tmp_path / "empty-cache"
            cli += ["--cache-dir", watched, "--precompiled-dir", precompiled.bundle(wasm)]
        else:
            watched = precompiled.cache
            cli += ["--cache-dir", watched]
    # compiled code lands in the cache's aot/ directory (host/ remembers LLVM's host identity)
    before = _files(watched / "aot") if watched else None
    for name, value in env.items():
        cli += ["--env", f"{name}={value}"]
    proc = _pywamr(*cli, wasm, *args, cwd=tmp_path)
    stderr = proc.stderr.decode("utf-8", "replace")
    context = f"pywamr exit status {proc.returncode}; stderr:\n{stderr[-3000:]}"
    if watched is not None:
        assert "ignoring precompiled bundle" not in stderr, context
        after = _files(watched / "aot")
        assert after == before, (
            f"the {source} run compiled code (its code cache changed: "
            f"{sorted(set(after.items()) ^ set(before.items()))[:5]}); {context}")
    return proc, context
