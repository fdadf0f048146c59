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
from contextlib import contextmanager
from pathlib import Path

from ..errors import WasmError

_running: set = set()
_running_lock = threading.Lock()
load_lock = threading.Lock()    # one LLVM object load at a time in this process

# The GIL switch interval while a tier-up thread prepares code (see `prompt_gil`).
PROMPT_SWITCH_INTERVAL = 0.0005
_prompt_lock = threading.Lock()
_prompt_depth = 0
_saved_interval = 0.0


@contextmanager
def prompt_gil():
    """Lower the interpreter's GIL switch interval (default 5 ms) while a tier-up thread
    works beside a busy guest thread. The tier-up's imports, pipe I/O with the LLVM worker and
    ctypes calls each release the GIL, and getting it back from a guest thread that never
    blocks takes up to a full switch interval each time. The guest loses no CPU to this (a
    switch happens only when the other thread asks for the GIL); the old interval is
    restored when the last tier-up thread is done."""
    global _prompt_depth, _saved_interval
    with _prompt_lock:
        if _prompt_depth == 0:
            _saved_interval = sys.getswitchinterval()
            sys.setswitchinterval(min(PROMPT_SWITCH_INTERVAL, _saved_interval))
        _prompt_depth += 1
    try:
        yield
    finally:
        with _prompt_lock:
            _prompt_depth -= 1
            if _prompt_depth == 0:
                sys.setswitchinterval(_saved_interval)


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


def compile_partial(validated, funcs, opt_level: int, direct_calls: bool, cache=None,
                    osr=()):
    """A partial aot module of `funcs` (per-function tiering, tier_functions.py; with OSR
    entries for the functions in `osr`, tier_osr.py), compiled in the aot engine's worker
    processes; blocks the calling thread, never the guest's GIL. With the aot `cache` (and
    no OSR entries), taken from its per-function entries when they have it, and stored there
    otherwise."""
    from .. import aot
    return aot.compile_functions(validated, funcs, opt_level=opt_level,
                                 direct_calls=direct_calls, cache=cache, osr=osr)


def cached_partials(validated, cache) -> list:
    """(partial aot module, opt level, direct calls) of every group of `validated`'s functions
    whose code the aot `cache` holds (compiled by `compile_partial` in an earlier run)."""
    from .. import aot
    return aot.load_cached_functions(validated, cache)


def prestart_llvm_worker(warm: bool = False) -> None:
    """Have one of the aot engine's LLVM worker processes started for `compile_partial`
    (cheap: LLVM is not loaded yet), with `warm` also LLVM loaded in it."""
    from ..aot.compiler import prestart_worker
    prestart_worker(warm)


def prepare_partial_compiles() -> None:
    """Get ready for `compile_partial` and the switch, once wasm code runs: an LLVM worker
    with LLVM loaded (the one started at link, or another if that one was taken meanwhile),
    and in this process the aot engine's translator, loader and instance modules (15-20 ms
    of CPU from .pyc files), which would otherwise lie between finding the first hot function
    and its native code. A program whose wasm code is never seen running (hello) pays none."""
    prestart_llvm_worker(warm=True)
    with prompt_gil():
        from ..aot import compiler, emit, instance, loader, translate  # noqa: F401


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
