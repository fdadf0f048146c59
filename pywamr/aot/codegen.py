"""The only user of `llvmlite.binding`: initialise LLVM, compile IR text to an object, load
objects into an LLJIT library (the fallback of `loader.py`, which loads them without LLVM).

Compilation (`compile_ir`) runs in worker processes (see `worker.py`), so an LLVM abort cannot
take the parent down; loading (`load_objects`) runs in the parent. The target is always the
host CPU (name and features), which is why both go into the cache key (`host_identity`).
The pass pipeline is LLVM's default per-module pipeline at `OPT_LEVEL` (default 2; set
`PYWAMR_AOT_OPT=1` for faster compiles); machine code generation runs at the same level,
except for a chunk whose IR starts with `FAST_CODEGEN_MARK` (one huge function, see
`compiler.HUGE_FUNCTION_INSTRUCTIONS`), which gets LLVM's fast (-O0) instruction selection
and register allocation after the same passes.
"""
from __future__ import annotations

import time

import itertools
import os
import threading

import llvmlite
import llvmlite.binding as llvm

OPT_LEVEL = int(os.environ.get("PYWAMR_AOT_OPT", "2"))

_lock = threading.Lock()
_initialized = False
_target_machines: dict = {}

FAST_CODEGEN_MARK = "; pywamr: fast machine-code generation\n"
_lljit = None
_library_counter = itertools.count()


def _initialize() -> None:
    global _initialized
    if not _initialized:
        llvm.initialize_native_target()
        llvm.initialize_native_asmprinter()
        _initialized = True


def target_machine(fast: bool = False):
    """The host's target machine; `fast` generates machine code at -O0 whatever OPT_LEVEL."""
    with _lock:
        machine = _target_machines.get(fast)
        if machine is None:
            _initialize()
            target = llvm.Target.from_triple(llvm.get_process_triple())
            machine = _target_machines[fast] = target.create_target_machine(
                cpu=llvm.get_host_cpu_name(), features=llvm.get_host_cpu_features().flatten(),
                opt=0 if fast else min(OPT_LEVEL, 3), reloc="pic", codemodel="small")
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
    tm = target_machine(fast=ir_text.startswith(FAST_CODEGEN_MARK))
    module = llvm.parse_assembly(ir_text)
    module.verify()
    module.triple = tm.triple
    module.data_layout = str(tm.target_data)
    t1 = clock()
    _run_passes(module, tm)
    t2 = clock()
    obj = tm.emit_object(module)
    if timings is not None:
        for name, seconds in (("parse+verify", t1 - t0), ("passes", t2 - t1),
                              ("codegen", clock() - t2)):
            timings[name] = timings.get(name, 0.0) + seconds
    return obj


def _run_passes(module, tm) -> None:
    if OPT_LEVEL > 0:
        pto = llvm.create_pipeline_tuning_options(speed_level=OPT_LEVEL)
        pb = llvm.create_pass_builder(tm, pto)
        pm = pb.getModulePassManager()
        pm.run(module, pb)


def assembly(ir_text: str) -> str:
    """The host assembly `compile_ir` would emit for one chunk, as text (for tests and
    tools that check which instructions LLVM selected; runs in the calling process)."""
    tm = target_machine(fast=ir_text.startswith(FAST_CODEGEN_MARK))
    module = llvm.parse_assembly(ir_text)
    module.verify()
    module.triple = tm.triple
    module.data_layout = str(tm.target_data)
    _run_passes(module, tm)
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
