"""In-process API measurements, one runtime per process.

Usage: python api_bench.py MODE RUNTIME MODULE.wasm
  MODE     hostcall     MODULE exports run(n) calling the import env.f(i32)->i32 n times;
                        prints `ns_per_call: X` and `calls: N` (N grows until >= 0.3 s, max 1M)
           instantiate  MODULE is a WASI command; compiles once, then instantiates it repeatedly
                        (without running _start); prints `instantiate_us: X` (median)
           compile      compile MODULE in-process; prints `compile_ms: X`
  RUNTIME  wasmtime | pywasm | pywamr-interp | pywamr-aot
Any failure exits non-zero with one line on stderr; the runner reports the cell as n/a.
"""
import statistics
import sys
import time

MAX_CALLS = 1_000_000
MIN_SECONDS = 0.3


def _grow(call_run):
    """Call run(n) with n = 1000, 10000, ... until it takes MIN_SECONDS or n hits MAX_CALLS."""
    n = 1000
    while True:
        t0 = time.perf_counter_ns()
        result = call_run(n)
        dt = time.perf_counter_ns() - t0
        if dt >= MIN_SECONDS * 1e9 or n >= MAX_CALLS:
            return n, dt, result
        n = min(MAX_CALLS, n * 10)


def _repeat(fn, budget_s=1.0, max_n=200):
    times = []
    deadline = time.perf_counter() + budget_s
    while len(times) < max_n and (len(times) < 5 or time.perf_counter() < deadline):
        t0 = time.perf_counter_ns()
        fn()
        times.append(time.perf_counter_ns() - t0)
    return statistics.median(times)


def host_f(x):
    return (x * 3 + 1) & 0x7FFFFFFF


# -- wasmtime -------------------------------------------------------------------------------------
def wasmtime_hostcall(path):
    import wasmtime
    engine = wasmtime.Engine()
    store = wasmtime.Store(engine)
    module = wasmtime.Module.from_file(engine, path)
    linker = wasmtime.Linker(engine)
    i32 = wasmtime.ValType.i32()
    linker.define_func("env", "f", wasmtime.FuncType([i32], [i32]), host_f)
    inst = linker.instantiate(store, module)
    run = inst.exports(store)["run"]
    return _grow(lambda n: run(store, n))


def wasmtime_instantiate(path):
    import wasmtime
    engine = wasmtime.Engine()
    module = wasmtime.Module.from_file(engine, path)
    linker = wasmtime.Linker(engine)
    linker.define_wasi()

    def once():
        store = wasmtime.Store(engine)
        store.set_wasi(wasmtime.WasiConfig())
        linker.instantiate(store, module)
    return _repeat(once)


def wasmtime_compile(path):
    import wasmtime
    engine = wasmtime.Engine()
    data = open(path, "rb").read()
    t0 = time.perf_counter_ns()
    wasmtime.Module(engine, data).serialize()
    return time.perf_counter_ns() - t0


# -- pywasm ---------------------------------------------------------------------------------------
def pywasm_hostcall(path):
    import pywasm
    runtime = pywasm.core.Runtime()
    i32 = pywasm.core.ValType.i32()
    ftype = pywasm.core.FuncType([i32], [i32])
    runtime.imports["env"] = {"f": runtime.allocate_func_host(ftype, lambda m, args: [host_f(args[0])])}
    inst = runtime.instance_from_file(path)
    return _grow(lambda n: runtime.invocate(inst, "run", [n]))


def pywasm_instantiate(path):
    import pywasm
    import pywasm.wasi

    def once():
        runtime = pywasm.core.Runtime()
        pywasm.wasi.Preview1([path], {}, {}).bind(runtime)
        runtime.instance_from_file(path)     # pywasm has no separate compile step
    return _repeat(once)


# -- pywamr ---------------------------------------------------------------------------------------
def _pywamr_engine(kind, **options):
    from pywamr import Engine
    engine = Engine(kind, **options)
    if engine.kind != kind:
        raise RuntimeError(f"pywamr Engine({kind!r}) fell back to {engine.kind!r}")
    return engine


def pywamr_hostcall(path, kind):
    from pywamr import Linker, Module, Store
    engine = _pywamr_engine(kind)
    module = Module.from_file(engine, path)
    linker = Linker(engine)
    linker.define_func("env", "f", (["i32"], ["i32"]), host_f)
    inst = linker.instantiate(Store(engine), module)
    run = inst.exports["run"]
    return _grow(lambda n: run(n))


def pywamr_instantiate(path, kind):
    from pywamr import Linker, Module, Store
    from pywamr.wasi import WasiConfig, add_to_linker
    engine = _pywamr_engine(kind)
    module = Module.from_file(engine, path)
    linker = Linker(engine)
    add_to_linker(linker, WasiConfig(argv=[path]))
    return _repeat(lambda: linker.instantiate(Store(engine), module))


def pywamr_compile(path, kind):
    from pywamr import Module
    engine = _pywamr_engine(kind, cache=False)      # measure the compiler, not a cache hit
    data = open(path, "rb").read()
    t0 = time.perf_counter_ns()
    Module(engine, data)
    return time.perf_counter_ns() - t0


def main(argv):
    mode, runtime = argv[0], argv[1]
    path = argv[2] if len(argv) > 2 else None
    if runtime.startswith("pywamr-"):
        kind = runtime.split("-", 1)[1]
        table = {"hostcall": lambda: pywamr_hostcall(path, kind),
                 "instantiate": lambda: pywamr_instantiate(path, kind),
                 "compile": lambda: pywamr_compile(path, kind)}
    elif runtime == "wasmtime":
        table = {"hostcall": lambda: wasmtime_hostcall(path),
                 "instantiate": lambda: wasmtime_instantiate(path),
                 "compile": lambda: wasmtime_compile(path)}
    elif runtime == "pywasm":
        table = {"hostcall": lambda: pywasm_hostcall(path),
                 "instantiate": lambda: pywasm_instantiate(path)}
    else:
        print(f"unknown runtime {runtime}", file=sys.stderr)
        return 2
    if mode not in table:
        print(f"{mode} is not measured for {runtime}", file=sys.stderr)
        return 3
    try:
        out = table[mode]()
    except Exception as exc:
        print(f"{type(exc).__name__}: {exc}".splitlines()[0][:300], file=sys.stderr)
        return 1
    if mode == "hostcall":
        n, dt, _ = out
        print(f"ns_per_call: {dt / n:.1f}")
        print(f"calls: {n}")
    elif mode == "instantiate":
        print(f"instantiate_us: {out / 1000:.1f}")
    elif mode == "compile":
        print(f"compile_ms: {out / 1e6:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
