"""Turn a validated module into native objects: translate to IR text, compile the chunks in
worker processes, in parallel, with an optional progress line.

Sits between `translate` (IR text, made here in the parent) and `codegen` (run in the
workers). Workers are persistent subprocesses (`worker_argv`, see `worker.py`) shared by
every compile of the process, so small modules pay no start-up and the embedding script needs
no `__main__` guard; a worker killed by an LLVM abort fails only that
compile (`CompileError`) and is replaced next time. `stats` counts chunks sent to LLVM (tests
use it to check that a cache hit did no LLVM work).
"""
from __future__ import annotations

import atexit
import os
import queue
import struct
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import WasmError
from .marks import FAST_CODEGEN_MARK, opt_mark

if TYPE_CHECKING:       # the translator is imported when a chunk is made, not to start a worker
    from .translate import ModuleInfo

CHUNK_INSTRUCTIONS = 20000      # target size of one chunk, in wasm instructions
# A function larger than this is compiled alone, with fast (-O0) machine-code generation after
# the usual IR passes. LLVM's optimising instruction selection and register allocation are
# superlinear in a function's size: CPython's __wasm_apply_data_relocs (166,865 instructions,
# 25,000 bounds-checked stores, in componentize-py output) takes 50-60 s of codegen at -O2 and
# 1 s at -O0, while ordinary chunks of 20,000 instructions take 2-3 s in all. Functions this
# large are generated initialisation code that runs once.
HUGE_FUNCTION_INSTRUCTIONS = 100_000


class CompileError(WasmError):
    """LLVM failed on a module (a worker crashed or rejected the IR)."""


class Stats:
    def __init__(self):
        self.chunks_compiled = 0
        self.modules_compiled = 0


stats = Stats()


# The worker's start (see worker.py): a bare package over this directory, so that only
# `worker`, `codegen` and `marks` are imported (argv: this directory, then the worker's own).
_WORKER_BOOT = ("import sys, types; package = types.ModuleType('pywamr_llvm_worker'); "
                "package.__path__ = [sys.argv[1]]; sys.modules[package.__name__] = package; "
                "from pywamr_llvm_worker.worker import main; sys.exit(main(sys.argv[2:]))")


def worker_argv() -> tuple[list[str], dict]:
    """(argv, environment) of an LLVM worker process: Python without `site`, the parent's
    module path (llvmlite's directory included) in $PYTHONPATH."""
    env = dict(os.environ)
    path = [p for p in sys.path if p]
    if env.get("PYTHONPATH"):
        path.append(env["PYTHONPATH"])
    env["PYTHONPATH"] = os.pathsep.join(path)
    argv = [sys.executable, "-S", "-c", _WORKER_BOOT, str(Path(__file__).resolve().parent),
            "--serve"]
    return argv, env


class Worker:
    """One LLVM worker subprocess (worker.py)."""

    def __init__(self):
        argv, env = worker_argv()
        self.process = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                        env=env)
        self.warmed = False

    def warm(self) -> None:
        """Have the worker load LLVM now (no reply; see worker.py), once."""
        if not self.warmed:
            self.warmed = True
            try:
                self.process.stdin.write(struct.pack("<I", 0))
                self.process.stdin.flush()
            except OSError:
                pass        # a dead worker fails its first compile and is replaced

    def alive(self) -> bool:
        return self.process.poll() is None

    def compile(self, ir: str) -> bytes:
        data = ir.encode()
        try:
            self.process.stdin.write(struct.pack("<I", len(data)) + data)
            self.process.stdin.flush()
            head = self.process.stdout.read(5)
            if len(head) < 5:
                raise EOFError
            status, n = struct.unpack("<BI", head)
            payload = self.process.stdout.read(n)
            if len(payload) < n:
                raise EOFError
        except (OSError, EOFError):
            self.close()
            raise CompileError("the LLVM worker process died while compiling this module "
                               f"(exit status {self.process.poll()})") from None
        if status:
            raise CompileError(f"LLVM rejected the generated code: {payload.decode()}")
        return payload

    def close(self, kill: bool = False) -> None:
        """End the worker: closing its stdin ends an idle one; `kill` does not wait (an
        idle worker holds nothing, and one still starting would delay the caller)."""
        try:
            self.process.stdin.close()
        except OSError:
            pass
        if kill:
            self.process.kill()
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.kill()


class WorkerPool:
    def __init__(self):
        self.idle: list[Worker] = []
        self.lock = threading.Lock()

    def take(self) -> Worker:
        with self.lock:
            while self.idle:
                w = self.idle.pop()
                if w.alive():
                    return w
        return Worker()

    def prestart(self, warm: bool = False) -> None:
        """Start one worker now if none is idle, so that a compile soon finds one; `warm`:
        and have it load LLVM (`Worker.warm`)."""
        with self.lock:
            live = [w for w in self.idle if w.alive()]
            if live:
                if warm:
                    live[-1].warm()     # the one `take` hands out next
                return
        worker = Worker()
        if warm:
            worker.warm()
        self.give_back(worker)

    def give_back(self, w: Worker) -> None:
        if w.alive():
            with self.lock:
                self.idle.append(w)

    def close(self) -> None:
        with self.lock:
            workers, self.idle = self.idle, []
        for w in workers:
            w.close(kill=True)


_pool = WorkerPool()
atexit.register(_pool.close)


def prestart_worker(warm: bool = False) -> None:
    """Have an LLVM worker process started (about 20 ms of CPU), and with `warm` also LLVM
    loaded in it (another ~50 ms): the tiered engine asks for one when it links a module."""
    _pool.prestart(warm)


def compile_ir_text(ir: str) -> bytes:
    """Compile one self-contained IR module (a native adapter) in a worker process."""
    worker = _pool.take()
    try:
        obj = worker.compile(ir)
    finally:
        _pool.give_back(worker)
    stats.chunks_compiled += 1
    return obj


def split_chunks(info: ModuleInfo, jobs: int) -> list[list[int]]:
    """Split defined functions into chunks of about equal instruction counts; enough chunks to
    keep `jobs` workers busy, none much larger than CHUNK_INSTRUCTIONS. A function over
    HUGE_FUNCTION_INSTRUCTIONS is a chunk of its own (see `is_huge_chunk`)."""
    first = info.num_imported_funcs
    sizes = [(i, len(info.module.codes[i - first].body)) for i in info.defined_indices()]
    ordinary = [(f, size) for f, size in sizes if size <= HUGE_FUNCTION_INSTRUCTIONS]
    huge = [[f] for f, size in sizes if size > HUGE_FUNCTION_INSTRUCTIONS]
    total = sum(size for _, size in ordinary)
    n_chunks = max(1, min(len(ordinary), max(-(-total // CHUNK_INSTRUCTIONS),
                                             jobs if total > 2000 else 1)))
    target = total / n_chunks
    chunks: list[list[int]] = [[]]
    acc = 0
    for f, size in ordinary:
        if acc >= target and len(chunks) < n_chunks:
            chunks.append([])
            acc = 0
        chunks[-1].append(f)
        acc += size
    if huge and not chunks[0]:
        return huge
    return chunks + huge


def is_huge_chunk(info: ModuleInfo, funcs: list[int]) -> bool:
    """Whether a chunk is one function over HUGE_FUNCTION_INSTRUCTIONS."""
    return len(funcs) == 1 and len(
        info.module.codes[funcs[0] - info.num_imported_funcs].body) > HUGE_FUNCTION_INSTRUCTIONS


def chunk_text(info: ModuleInfo, funcs: list[int], with_entries: bool,
               opt_level: int | None = None) -> str:
    """The IR of one chunk, marked with its opt level (None: the compiling process's
    `codegen.OPT_LEVEL`) and for fast machine-code generation when it is huge."""
    from .translate import chunk_ir
    ir = chunk_ir(info, funcs, with_entries=with_entries)
    if is_huge_chunk(info, funcs):
        ir = FAST_CODEGEN_MARK + ir
    return ir if opt_level is None else opt_mark(opt_level) + ir


def compile_objects(info: ModuleInfo, *, jobs: int | None = None, progress: bool = False,
                    in_process: bool = False, opt_level: int | None = None) -> list[bytes]:
    """Compile all defined functions of `info` (all of `info.compiled`, for a partial module)
    and the entry trampolines to relocatable objects, at `opt_level` (0-3; None: the
    default, `codegen.OPT_LEVEL`). `in_process`: one chunk after another in this process (no
    worker processes), for a caller that is already an isolated worker."""
    jobs = max(1, jobs or os.cpu_count() or 1)
    chunks = split_chunks(info, jobs)
    if in_process:
        from .codegen import compile_ir
        objects = [compile_ir(chunk_text(info, funcs, n == 0, opt_level))
                   for n, funcs in enumerate(chunks)]
        stats.chunks_compiled += len(objects)
        stats.modules_compiled += 1
        return objects
    total = len(chunks)
    start = time.monotonic()
    tasks: queue.Queue = queue.Queue()
    results: queue.Queue = queue.Queue()
    n_threads = min(jobs, total)

    def run() -> None:
        worker = None
        try:
            while True:
                item = tasks.get()
                if item is None:
                    return
                n, ir = item
                if worker is None:
                    worker = _pool.take()
                try:
                    results.put((n, worker.compile(ir), None))
                except CompileError as exc:
                    if not worker.alive():
                        worker = None
                    results.put((n, None, exc))
        finally:
            if worker is not None:
                _pool.give_back(worker)

    threads = [threading.Thread(target=run, daemon=True) for _ in range(n_threads)]
    for th in threads:
        th.start()
    objects: list = [None] * total
    error = None
    shown = False
    try:
        try:
            for n, funcs in enumerate(chunks):
                tasks.put((n, chunk_text(info, funcs, n == 0, opt_level)))
        finally:
            for _ in threads:
                tasks.put(None)
        for done in range(1, total + 1):
            n, obj, exc = results.get()
            if exc is not None:
                error = error or exc
                continue
            objects[n] = obj
            stats.chunks_compiled += 1
            if progress and time.monotonic() - start > 1.0:
                shown = True
                print(f"\rpywamr: compiling {len(info.module.codes)} functions: "
                      f"{done}/{total} chunks", end="", file=sys.stderr, flush=True)
    finally:
        for th in threads:
            th.join()
    if shown:
        print(f" ({time.monotonic() - start:.1f}s)", file=sys.stderr, flush=True)
    if error is not None:
        raise error
    stats.modules_compiled += 1
    return objects
