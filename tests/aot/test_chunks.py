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


def test_huge_function_is_a_chunk_with_fast_codegen(monkeypatch):
    """A function over HUGE_FUNCTION_INSTRUCTIONS (here lowered to 400) is compiled alone with
    -O0 machine-code generation: its chunk's IR carries the mark, LLVM honours it (another
    object than at the default level), and the code still runs right. The shape is that of
    wasm-ld's __wasm_apply_data_relocs: a long run of bounds-checked stores."""
    from pywamr.aot import codegen, compiler
    monkeypatch.setattr(compiler, "HUGE_FUNCTION_INSTRUCTIONS", 400)
    stores = " ".join(f"(i32.store (i32.const {4 * k}) (i32.add (global.get $g) "
                      f"(i32.const {k})))" for k in range(100))     # 500 instructions
    small = [f"(func $s{i} (result i32) (i32.add (i32.load (i32.const {4 * i})) "
             f"(i32.const {i})))" for i in range(3)]
    text = (f"(module (memory 1) (global $g i32 (i32.const 1000)) {' '.join(small)} "
            f"(func $relocs {stores}) (export \"relocs\" (func $relocs)) "
            f"(export \"s2\" (func $s2)) (export \"memory\" (memory 0)))")
    module, data = compile_wat(text, jobs=JOBS)
    from pywamr.binary.decoder import decode_module
    from pywamr.validate import validate_module
    validated = validate_module(decode_module(data), data)
    info = ModuleInfo(validated.module, validated.func_types, validated.funcs)
    chunks = split_chunks(info, JOBS)
    assert chunks[-1] == [3] and all(3 not in chunk for chunk in chunks[:-1])
    assert compiler.is_huge_chunk(info, [3]) and not compiler.is_huge_chunk(info, chunks[0])
    marked = compiler.chunk_text(info, [3], with_entries=False)
    assert marked.startswith(codegen.FAST_CODEGEN_MARK)
    plain = compiler.chunk_text(info, [0, 1, 2], with_entries=False)
    assert not plain.startswith(codegen.FAST_CODEGEN_MARK)
    assert codegen.compile_ir(marked) != codegen.compile_ir(
        marked[len(codegen.FAST_CODEGEN_MARK):])
    state = instantiate_module(module, [])
    state.exports["relocs"].call()
    assert state.exports["s2"].call() == 1000 + 2 + 2


def test_only_huge_functions(monkeypatch):
    """A module whose every function is huge has one chunk per function and no empty chunk."""
    from pywamr.aot import compiler
    monkeypatch.setattr(compiler, "HUGE_FUNCTION_INSTRUCTIONS", 1)
    text = "(module " + " ".join(f"(func (result i32) (i32.add (i32.const {i}) (i32.const 1)))"
                                 for i in range(3)) + ")"
    module, _ = compile_wat(text, jobs=JOBS)
    assert split_chunks(ModuleInfo(module.module, module.func_types), JOBS) == [[0], [1], [2]]
