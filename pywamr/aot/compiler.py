"""Turn a validated module into native objects: translate to IR text, compile the chunks in
worker processes, in parallel, with an optional progress line.

Sits between `translate` (IR text, made here in the parent) and `codegen` (run in the
workers). Workers live in a persistent `spawn` pool shared by every compile of the process, so
small modules pay no process start-up; a worker killed by an LLVM abort breaks only that
compile (`CompileError`) and the pool is rebuilt. `stats` counts chunks sent to LLVM (tests use
it to check that a cache hit did no LLVM work).
"""
from __future__ import annotations

import atexit
import concurrent.futures as futures
import multiprocessing
import os
import sys
import threading
import time

from ..errors import WasmError
from .translate import ModuleInfo, chunk_ir

CHUNK_INSTRUCTIONS = 20000      # target size of one chunk, in wasm instructions


class CompileError(WasmError):
    """LLVM failed on a module (a worker crashed or rejected the IR)."""


class Stats:
    def __init__(self):
        self.chunks_compiled = 0
        self.modules_compiled = 0


stats = Stats()
_pool = None
_pool_lock = threading.Lock()


def _get_pool(jobs: int):
    global _pool
    with _pool_lock:
        if _pool is None or _pool._max_workers < jobs:
            if _pool is not None:
                _pool.shutdown(wait=False)
            context = multiprocessing.get_context("spawn")
            _pool = futures.ProcessPoolExecutor(max_workers=jobs, mp_context=context)
        return _pool


def _reset_pool() -> None:
    global _pool
    with _pool_lock:
        if _pool is not None:
            _pool.shutdown(wait=False, cancel_futures=True)
        _pool = None


@atexit.register
def _shutdown() -> None:
    if _pool is not None:
        _pool.shutdown(wait=False, cancel_futures=True)


def split_chunks(info: ModuleInfo, jobs: int) -> list[list[int]]:
    """Split defined functions into chunks of about equal instruction counts; enough chunks to
    keep `jobs` workers busy, none much larger than CHUNK_INSTRUCTIONS."""
    first = info.num_imported_funcs
    sizes = [len(code.body) for code in info.module.codes]
    total = sum(sizes)
    n_chunks = max(1, min(len(sizes), max(-(-total // CHUNK_INSTRUCTIONS),
                                         jobs if total > 2000 else 1)))
    target = total / n_chunks
    chunks: list[list[int]] = [[]]
    acc = 0
    for i, size in enumerate(sizes):
        if acc >= target and len(chunks) < n_chunks:
            chunks.append([])
            acc = 0
        chunks[-1].append(first + i)
        acc += size
    return chunks


def compile_objects(info: ModuleInfo, *, jobs: int | None = None,
                    progress: bool = False) -> list[bytes]:
    """Compile all defined functions (and the entry trampolines) to relocatable objects."""
    jobs = max(1, jobs or os.cpu_count() or 1)
    chunks = split_chunks(info, jobs)
    start = time.monotonic()
    pool = _get_pool(jobs)
    pending = {}
    total = len(chunks)
    shown = False
    try:
        for n, funcs in enumerate(chunks):
            ir = chunk_ir(info, funcs, with_entries=(n == 0))
            pending[pool.submit(_compile_chunk, ir)] = n
        objects: list = [None] * total
        done = 0
        for future in futures.as_completed(pending):
            objects[pending[future]] = future.result()
            stats.chunks_compiled += 1
            done += 1
            if progress and time.monotonic() - start > 1.0:
                shown = True
                print(f"\rpywamr: compiling {len(info.module.codes)} functions: "
                      f"{done}/{total} chunks", end="", file=sys.stderr, flush=True)
    except futures.process.BrokenProcessPool:
        _reset_pool()
        raise CompileError("the LLVM worker process died while compiling this module") from None
    except RuntimeError as exc:
        raise CompileError(f"LLVM rejected the generated code: {exc}") from None
    if shown:
        print(f" ({time.monotonic() - start:.1f}s)", file=sys.stderr, flush=True)
    stats.modules_compiled += 1
    return objects


def _compile_chunk(ir: str) -> bytes:
    from .worker import compile_chunk
    return compile_chunk(ir)
