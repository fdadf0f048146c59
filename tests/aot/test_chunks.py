"""A module big enough to be split into several objects: calls across chunks link at load.

The number of chunks follows the number of compile jobs, which defaults to the host's CPU
count; the test sets it, so the count it checks is the same on every machine."""
from __future__ import annotations

from aot_testlib import compile_wat
from pywamr.aot import stats
from pywamr.aot.compiler import split_chunks
from pywamr.aot.translate import ModuleInfo
from pywamr.runtime.instantiate import instantiate_module

JOBS = 3


def test_calls_across_chunks():
    n = 300
    funcs = ["(func $f0 (param i32) (result i32) local.get 0)"]
    for i in range(1, n):
        body = " ".join(["local.get 0 i32.const 1 i32.add local.set 0"] * 3)
        funcs.append(f"(func $f{i} (param i32) (result i32) {body} local.get 0 call $f{i - 1})")
    text = "(module " + "\n".join(funcs) + f' (export "top" (func $f{n - 1})))'
    before = stats.chunks_compiled
    module, _ = compile_wat(text, jobs=JOBS)
    chunks = split_chunks(ModuleInfo(module.module, module.func_types), JOBS)
    assert len(chunks) == JOBS     # small module (< CHUNK_INSTRUCTIONS): one chunk per job
    assert stats.chunks_compiled - before == len(chunks)
    assert sorted(i for chunk in chunks for i in chunk) == list(range(n))
    state = instantiate_module(module, [])
    assert state.exports["top"].call(0) == 3 * (n - 1)
