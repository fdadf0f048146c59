"""The runtimes compared (the table's columns) and how each runs a WASI command module.

Every runtime is measured the same way: one fresh OS process per run, started by the runner;
the Python-hosted ones (pywamr, wasmtime's Python package, pywasm) all pay CPython start-up.
"""
from __future__ import annotations

import importlib.metadata
import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path

from . import proc
from .config import DRIVER_DIR, HELLO, PEERS_DIR, REPO_ROOT

PY = sys.executable
AOT_FALLBACK_MARK = "aot engine is unavailable"


def _pkg_version(name: str) -> str | None:
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return None


def _is_native(path: str) -> bool:
    try:
        with open(path, "rb") as f:
            return f.read(4) == b"\x7fELF"
    except OSError:
        return False


def find_wamr_tool(name: str) -> str | None:
    """The native `wamr` / `wamrc` of the wamr-bin / wamrc-bin wheels.

    Those wheels put their binaries in the scripts directory, where they overwrite pywamr's own
    `wamr` / `wamrc` console scripts (pywamr declares those aliases), so the runner installs them
    with `pip install --target` into a private directory instead.  Looked up in order:
    $PYWAMR_BENCH_WAMR / $PYWAMR_BENCH_WAMRC, that private directory, then PATH (native only)."""
    env = os.environ.get(f"PYWAMR_BENCH_{name.upper()}")
    if env and os.path.isfile(env):
        return env
    cand = PEERS_DIR / "bin" / name
    if cand.is_file():
        return str(cand)
    found = shutil.which(name)
    if found and _is_native(found):
        return found
    return None


class Runtime:
    key = ""
    label = ""
    scale = "full"          # which kernel size it runs: full | interp | tiny
    warmup = False          # one untimed run per kernel first (fills pywamr's code cache)
    install_hint = ""

    def __init__(self, workdir: Path, timeout: float):
        self.workdir = workdir
        self.timeout = timeout
        self._status: tuple[bool, str] | None = None

    # -- availability -------------------------------------------------------------------------
    def probe(self) -> tuple[bool, str]:
        """(True, "") when usable; else (False, reason).  Runs hello-world once."""
        return True, ""

    def status(self) -> tuple[bool, str]:
        if self._status is None:
            try:
                self._status = self.probe()
            except Exception as exc:  # a broken probe is a missing runtime, not a crash
                self._status = (False, f"{type(exc).__name__}: {exc}")
        return self._status

    def version(self) -> str:
        return "?"

    # -- running ------------------------------------------------------------------------------
    def prepare(self, wasm: Path) -> None:
        """Work done once per module before timed runs (wamrc compile)."""

    def command(self, wasm: Path, args: list[str]) -> list[str]:
        raise NotImplementedError

    def env(self) -> dict:
        return {}

    def run(self, wasm: Path, args: list[str], timeout: float | None = None,
            rss: bool = False) -> proc.ProcResult:
        return proc.run(self.command(wasm, args), env=self.env(), cwd=REPO_ROOT,
                        timeout=timeout or self.timeout, rss=rss)

    def run_error(self, r: proc.ProcResult) -> str | None:
        return r.error()


class PywamrBase(Runtime):
    engine = ""
    install_hint = "pip install -e '.[aot]'"

    def env(self):
        pp = os.environ.get("PYTHONPATH")
        return {"PYTHONPATH": str(REPO_ROOT) + (os.pathsep + pp if pp else "")}

    def version(self):
        v = _pkg_version("pywamr") or "not installed"
        try:
            rev = subprocess.run(["git", "-C", str(REPO_ROOT), "rev-parse", "--short", "HEAD"],
                                 capture_output=True, text=True, timeout=10).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            rev = ""
        return f"{v} (git {rev})" if rev else v

    def probe(self):
        r = self.run(HELLO, [], timeout=120)
        err = self.run_error(r)
        if err:
            return False, err
        if "hello, world" not in r.stdout:
            return False, f"hello.wasm printed {r.stdout[:60]!r}"
        return True, ""


class PywamrAot(PywamrBase):
    key, label, engine = "pywamr-aot", "pywamr aot", "aot"
    warmup = True

    def cache_dir(self) -> Path:
        return self.workdir / "pywamr-cache"

    def command(self, wasm, args, *, cache: bool = True):
        c = [PY, "-m", "pywamr", "run", "--engine", "aot"]
        c += ["--cache-dir", str(self.cache_dir())] if cache else ["--no-cache"]
        return c + [str(wasm)] + list(args)

    def run_error(self, r):
        if AOT_FALLBACK_MARK in r.stderr:   # pywamr ran the module on interp instead
            return "aot engine unavailable: " + proc.last_line(r.stderr)
        return r.error()


class PywamrInterp(PywamrBase):
    key, label, engine = "pywamr-interp", "pywamr interp", "interp"
    scale = "interp"

    def command(self, wasm, args):
        return [PY, "-m", "pywamr", "run", "--engine", "interp", str(wasm)] + list(args)


class Wasmtime(Runtime):
    key, label = "wasmtime", "wasmtime (py)"
    install_hint = "pip install wasmtime"

    def __init__(self, workdir, timeout, cache: bool = False):
        super().__init__(workdir, timeout)
        self.cache = cache

    def probe(self):
        if importlib.util.find_spec("wasmtime") is None:
            return False, "not installed (pip install wasmtime)"
        r = self.run(HELLO, [], timeout=120)
        return (False, r.error()) if r.error() else (True, "")

    def version(self):
        return _pkg_version("wasmtime") or "not installed"

    def command(self, wasm, args):
        return [PY, str(DRIVER_DIR / "wasmtime_run.py"), str(wasm)] + list(args)

    def env(self):
        return {"PYWAMR_BENCH_WASMTIME_CACHE": "1" if self.cache else "0"}


class Pywasm(Runtime):
    key, label = "pywasm", "pywasm"
    scale = "tiny"
    install_hint = "pip install pywasm"

    def probe(self):
        if importlib.util.find_spec("pywasm") is None:
            return False, "not installed (pip install pywasm)"
        r = self.run(HELLO, [], timeout=120)
        return (False, r.error()) if r.error() else (True, "")

    def version(self):
        return _pkg_version("pywasm") or "not installed"

    def command(self, wasm, args):
        return [PY, str(DRIVER_DIR / "pywasm_run.py"), str(wasm)] + list(args)


class Wamr(Runtime):
    """The native wamr of the wamr-bin wheel (an AOT-only `wamr run X.cwasm`) with its compiler
    `wamrc compile X.wasm -o X.cwasm` from wamrc-bin.  Modules are compiled once, untimed, into
    the work directory (compile time is its own section)."""
    key, label = "wamr", "wamr (native)"
    install_hint = f"pip install --target {PEERS_DIR} wamr-bin wamrc-bin"

    def tools(self):
        return find_wamr_tool("wamr"), find_wamr_tool("wamrc")

    def probe(self):
        wamr, wamrc = self.tools()
        if not wamr or not wamrc:
            return False, f"not installed ({self.install_hint})"
        self.prepare(HELLO)
        r = self.run(HELLO, [], timeout=60)
        return (False, r.error()) if r.error() else (True, "")

    def version(self):
        wamr, wamrc = self.tools()
        if not wamr:
            return "not installed"
        try:
            out = subprocess.run([wamr, "version"], capture_output=True, text=True, timeout=10)
            v = out.stdout.strip() or out.stderr.strip()
        except (OSError, subprocess.SubprocessError) as exc:
            v = f"? ({exc})"
        pkg = _pkg_version("wamr-bin")
        return v + (f" (wamr-bin {pkg})" if pkg else " (wamr-bin, private install)")

    def artifact(self, wasm: Path) -> Path:
        return self.workdir / "wamr" / (wasm.stem + ".cwasm")

    def compile_cmd(self, wasm: Path, out: Path) -> list[str]:
        return [self.tools()[1], "compile", str(wasm), "-o", str(out)]

    def prepare(self, wasm):
        out = self.artifact(wasm)
        if out.exists():
            return
        out.parent.mkdir(parents=True, exist_ok=True)
        r = proc.run(self.compile_cmd(wasm, out), timeout=600)
        if r.returncode != 0 or not out.exists():
            raise RuntimeError(f"wamrc compile failed: {r.error() or proc.last_line(r.stderr)}")

    def command(self, wasm, args):
        return [self.tools()[0], "run", str(self.artifact(wasm))] + list(args)


ALL_RUNTIMES = [PywamrAot, PywamrInterp, Wasmtime, Pywasm, Wamr]
RUNTIME_KEYS = [r.key for r in ALL_RUNTIMES]

# the pairs whose ratios the report prints: (numerator, denominator)
RATIO_PAIRS = [("pywamr-aot", "wasmtime"), ("pywamr-interp", "pywasm"), ("pywamr-aot", "wamr")]


def install_missing(runtimes: list[Runtime], log) -> None:
    """pip-install the peers that are missing (only with --install)."""
    for rt in runtimes:
        ok, why = rt.status()
        if ok:
            continue
        if isinstance(rt, Wamr):
            cmd = [PY, "-m", "pip", "install", "-q", "--upgrade", "--target", str(PEERS_DIR),
                   "wamr-bin", "wamrc-bin"]
        elif isinstance(rt, Wasmtime):
            cmd = [PY, "-m", "pip", "install", "-q", "wasmtime"]
        elif isinstance(rt, Pywasm):
            cmd = [PY, "-m", "pip", "install", "-q", "pywasm"]
        else:
            continue      # pywamr itself is never installed by the benchmark runner
        log(f"installing {rt.key}: {' '.join(cmd)}")
        subprocess.run(cmd, check=False)
        importlib.invalidate_caches()
        rt._status = None
