"""Run a WASI command module on the `wasmtime` PyPI package (in-process Python API).

Usage: python wasmtime_run.py MODULE.wasm [ARGS...]
The guest's stdout/stderr are inherited; the process exits with the guest's exit status.
"""
import os
import sys

import wasmtime


def main(argv):
    path, args = argv[0], argv[1:]
    config = wasmtime.Config()
    if os.environ.get("PYWAMR_BENCH_WASMTIME_CACHE") == "1":
        config.cache = True      # wasmtime's default on-disk code cache
    engine = wasmtime.Engine(config)
    module = wasmtime.Module.from_file(engine, path)
    linker = wasmtime.Linker(engine)
    linker.define_wasi()
    store = wasmtime.Store(engine)
    wasi = wasmtime.WasiConfig()
    wasi.argv = [path] + args
    wasi.inherit_stdout()
    wasi.inherit_stderr()
    wasi.inherit_stdin()
    store.set_wasi(wasi)
    instance = linker.instantiate(store, module)
    start = instance.exports(store)["_start"]
    try:
        start(store)
    except wasmtime.ExitTrap as e:
        return e.code
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
