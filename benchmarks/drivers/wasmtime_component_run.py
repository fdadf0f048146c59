"""Run a WASI 0.2 command component (`wasi:cli/run`) on the `wasmtime` PyPI package.

Usage: python wasmtime_component_run.py COMPONENT.wasm [ARGS...]
The guest's stdout/stderr are inherited; exits 0 when `run` returns ok, 1 for err, or the
guest's exit code. No code cache: this is wasmtime's first run (Cranelift compiles it all).
"""
import sys

import wasmtime
import wasmtime.component as component


def run_export(store, instance):
    for minor in range(20, -1, -1):
        iface = instance.get_export_index(store, f"wasi:cli/run@0.2.{minor}")
        if iface is not None:
            return instance.get_func(store, instance.get_export_index(store, "run", iface))
    raise LookupError("the component exports no wasi:cli/run@0.2.x")


def main(argv):
    path, args = argv[0], argv[1:]
    engine = wasmtime.Engine()
    store = wasmtime.Store(engine)
    linker = component.Linker(engine)
    linker.add_wasip2()
    comp = component.Component.from_file(engine, path)
    wasi = wasmtime.WasiConfig()
    wasi.argv = [path] + args
    wasi.inherit_stdout()
    wasi.inherit_stderr()
    store.set_wasi(wasi)
    instance = linker.instantiate(store, comp)
    try:
        result = run_export(store, instance)(store)
    except wasmtime.ExitTrap as exc:
        return exc.code
    return 0 if getattr(result, "tag", None) == "ok" else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
