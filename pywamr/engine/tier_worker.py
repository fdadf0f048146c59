"""Compiling a tiered module's native code out of the guest's process: the parent side
(`compile_in_worker`) and the worker (`python -m pywamr.engine.tier_worker`).

Sits in the engine layer beside `tiered.py`, over the aot engine's public functions. The worker
reads the module's wasm bytes on stdin, compiles them with the aot engine (at the priority
$PYWAMR_TIER_NICE sets, default 0: on an oversubscribed machine a niced worker hardly ever
finished, and a long guest stayed on the interpreter; on an idle one it makes no difference),
one chunk after another on one core in its own process (so memory stays
bounded by one chunk's IR, and an LLVM abort kills only the worker), stores the artifact in the
code cache when one is given, and writes the artifact bytes on stdout. The parent thread waits without holding the
GIL, then loads the artifact (no LLVM compilation) and hands the aot module to the tiered
module. A worker still running when the guest's process exits is killed (`atexit`).

`compile_partial` and `prestart_llvm_worker` are the per-function tiers' way to the aot
engine's own worker processes (this module is the engine layer's one user of the aot
compiler besides backends.py).

Deliberately not here: when to compile (`tier_scheduler.py`) and the switch (`tiered.py`).
"""
from __future__ import annotations

import atexit
import os
import subprocess
import sys
import threading
from pathlib import Path

from ..errors import WasmError

_running: set = set()
_running_lock = threading.Lock()
load_lock = threading.Lock()    # one LLVM object load at a time in this process


class TierCompileError(WasmError):
    """The background compile failed (the module stays on the interpreter)."""


exiting = False     # set at process exit: a killed worker is then no failure to report


def _kill_running() -> None:
    global exiting
    exiting = True
    with _running_lock:
        processes = list(_running)
    for process in processes:
        try:
            process.kill()
            process.wait(timeout=5)
        except (OSError, subprocess.TimeoutExpired):
            pass


atexit.register(_kill_running)


def compile_in_worker(validated, *, cache_dir=None, cache: bool = True):
    """The aot engine's module for `validated` (which must carry its wasm bytes), compiled in
    a worker process; blocks the calling thread (never the caller's GIL) until it is done."""
    from .. import aot
    env = dict(os.environ)
    package_root = str(Path(__file__).resolve().parents[2])
    env["PYTHONPATH"] = package_root + os.pathsep + env.get("PYTHONPATH", "")
    argv = [sys.executable, "-m", "pywamr.engine.tier_worker"]
    if not cache:
        argv.append("--no-cache")
    elif cache_dir is not None:
        argv += ["--cache-dir", os.fspath(cache_dir)]
    process = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, env=env)
    with _running_lock:
        _running.add(process)
    try:
        out, err = process.communicate(bytes(validated.source))
    finally:
        with _running_lock:
            _running.discard(process)
    if process.returncode != 0:
        message = err.decode(errors="replace").strip().splitlines()
        raise TierCompileError(f"the tier-up worker failed (exit status {process.returncode})"
                               f": {message[-1] if message else 'no message'}")
    with load_lock:
        return aot.from_artifact(validated, out)


def compile_partial(validated, funcs, opt_level: int, direct_calls: bool, osr=()):
    """A partial aot module of `funcs` (per-function tiering, tier_functions.py; with OSR
    entries for the functions in `osr`, tier_osr.py), compiled in the aot engine's worker
    processes; blocks the calling thread, never the guest's GIL."""
    from .. import aot
    return aot.compile_functions(validated, funcs, opt_level=opt_level,
                                 direct_calls=direct_calls, osr=osr)


def prestart_llvm_worker() -> None:
    """Have one of the aot engine's LLVM worker processes ready for `compile_partial`."""
    from ..aot.compiler import prestart_worker
    prestart_worker()


def main(argv: list[str]) -> int:
    from .. import aot
    from ..binary.decoder import decode_module
    from ..validate import validate_module
    try:
        niceness = int(os.environ.get("PYWAMR_TIER_NICE", "0"))
        if niceness:
            os.nice(niceness)
    except (OSError, ValueError):
        pass
    cache = None
    if "--no-cache" not in argv:
        cache_dir = argv[argv.index("--cache-dir") + 1] if "--cache-dir" in argv else None
        cache = aot.AotCache(cache_dir) if cache_dir is not None else aot.AotCache()
    data = sys.stdin.buffer.read()
    try:
        validated = validate_module(decode_module(data), data)
        module = aot.compile_module(validated, cache=cache, jobs=1, in_process=True)
    except Exception as exc:
        print(f"{type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    sys.stdout.buffer.write(module.artifact_bytes())
    sys.stdout.buffer.flush()
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
