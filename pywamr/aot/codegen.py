"""The only user of `llvmlite.binding`: initialise LLVM, compile IR text to an object, load
objects into an LLJIT library (the fallback of `loader.py`, which loads them without LLVM).

Compilation (`compile_ir`) runs in worker processes (see `worker.py`), so an LLVM abort cannot
take the parent down; loading (`load_objects`) runs in the parent. The target is always the
host CPU (name and features), which is why both go into the cache key (`host_identity`).
The pass pipeline is LLVM's default per-module pipeline at an opt level: the chunk's own
(`opt_mark(level)` as its first line: the compile API's `opt_level` parameter, which the
tiered engine uses for its cheap tier), else `OPT_LEVEL` (default 2; `PYWAMR_AOT_OPT=N`).
Machine code generation runs at the same level (level 0: no IR passes, LLVM's fast
instruction selection and register allocation), except for a chunk marked with
`FAST_CODEGEN_MARK` (one huge function, see `compiler.HUGE_FUNCTION_INSTRUCTIONS`), which gets
fast (-O0) machine-code generation after the usual passes.
"""
from __future__ import annotations

import time

import itertools
import os
import threading

import llvmlite
import llvmlite.binding as llvm

from .marks import FAST_CODEGEN_MARK, OPT_MARK, opt_mark  # noqa: F401 (this module's API)
from .marks import chunk_options as _chunk_options

OPT_LEVEL = int(os.environ.get("PYWAMR_AOT_OPT", "2"))

_lock = threading.Lock()
_initialized = False
_target_machines: dict = {}


def chunk_options(ir_text: str) -> tuple[int, bool]:
    """(opt level, fast machine-code generation) that the marks at the top of a chunk ask for."""
    return _chunk_options(ir_text, OPT_LEVEL)


_lljit = None
_library_counter = itertools.count()


def _initialize() -> None:
    global _initialized
    if not _initialized:
        llvm.initialize_native_target()
        llvm.initialize_native_asmprinter()
        _initialized = True


def target_machine(fast: bool = False, opt_level: int | None = None):
    """The host's target machine generating code at `opt_level` (default OPT_LEVEL); `fast`
    generates machine code at -O0 whatever the level."""
    level = 0 if fast else min(OPT_LEVEL if opt_level is None else opt_level, 3)
    with _lock:
        machine = _target_machines.get(level)
        if machine is None:
            _initialize()
            target = llvm.Target.from_triple(llvm.get_process_triple())
            machine = _target_machines[level] = target.create_target_machine(
                cpu=llvm.get_host_cpu_name(), features=llvm.get_host_cpu_features().flatten(),
                opt=level, reloc="pic", codemodel="small")
        return machine


def host_identity() -> dict:
    """What a compiled object depends on besides the wasm bytes."""
    _initialize()
    return {
        "triple": llvm.get_process_triple(),
        "cpu": llvm.get_host_cpu_name(),
        "features": llvm.get_host_cpu_features().flatten(),
        "llvm": ".".join(map(str, llvm.llvm_version_info)),
        "llvmlite": llvmlite.__version__,
        "opt": OPT_LEVEL,
    }


def host_features() -> frozenset:
    """The x86 features the host CPU has (names without the "+", e.g. "ssse3", "avx2");
    empty off x86. Objects are compiled for exactly these (`target_machine`), so an emitter
    may use an x86 intrinsic the set names."""
    _initialize()
    triple = llvm.get_process_triple()
    if not triple.startswith(("x86_64", "i686", "i386")):
        return frozenset()
    return frozenset(f[1:] for f in llvm.get_host_cpu_features().flatten().split(",")
                     if f.startswith("+"))


def compile_ir(ir_text: str, timings: dict | None = None) -> bytes:
    """Parse, verify, optimise and emit a relocatable object for one chunk.

    With `timings`, adds the seconds spent in each phase ("parse+verify", "passes",
    "codegen") to it (used by benchmarks/compile_breakdown.py)."""
    clock = time.perf_counter
    t0 = clock()
    level, tm, module = _parsed(ir_text)
    t1 = clock()
    _run_passes(module, tm, level)
    t2 = clock()
    obj = tm.emit_object(module)
    if timings is not None:
        for name, seconds in (("parse+verify", t1 - t0), ("passes", t2 - t1),
                              ("codegen", clock() - t2)):
            timings[name] = timings.get(name, 0.0) + seconds
    return obj


def _parsed(ir_text: str):
    """(opt level, target machine, verified LLVM module) of one chunk's IR text, at the
    level and code generation its marks ask for."""
    level, fast = chunk_options(ir_text)
    tm = target_machine(fast=fast, opt_level=level)
    module = llvm.parse_assembly(ir_text)
    module.verify()
    module.triple = tm.triple
    module.data_layout = str(tm.target_data)
    return level, tm, module


def _run_passes(module, tm, level: int) -> None:
    if level > 0:
        pto = llvm.create_pipeline_tuning_options(speed_level=level)
        pb = llvm.create_pass_builder(tm, pto)
        pm = pb.getModulePassManager()
        pm.run(module, pb)


def assembly(ir_text: str) -> str:
    """The host assembly `compile_ir` would emit for one chunk, as text (for tests and
    tools that check which instructions LLVM selected; runs in the calling process)."""
    level, tm, module = _parsed(ir_text)
    _run_passes(module, tm, level)
    return tm.emit_assembly(module)


def _lljit_instance():
    global _lljit
    with _lock:
        if _lljit is None:
            _initialize()
            _lljit = llvm.create_lljit_compiler(target_machine_for_jit())
        return _lljit


def target_machine_for_jit():
    target = llvm.Target.from_triple(llvm.get_process_triple())
    return target.create_target_machine(
        cpu=llvm.get_host_cpu_name(), features=llvm.get_host_cpu_features().flatten(),
        opt=min(OPT_LEVEL, 3), reloc="pic", codemodel="small", jit=True)


def load_objects(objects: list[bytes], imports: dict[str, int], exports: list[str]):
    """Link objects into a fresh LLJIT library; returns (tracker, {symbol: address}).

    The tracker keeps the code alive: hold it as long as any address may be called."""
    lljit = _lljit_instance()
    builder = llvm.JITLibraryBuilder()
    for obj in objects:
        builder.add_object_img(obj)
    builder.add_current_process()
    for name, address in imports.items():
        builder.import_symbol(name, address)
    for name in exports:
        builder.export_symbol(name)
    tracker = builder.link(lljit, f"pywamr_module_{next(_library_counter)}")
    addresses = {name: tracker[name] for name in exports}
    return tracker, addresses
