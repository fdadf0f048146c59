"""Count the wasm operators one unit of a kernel's work executes, with wasmtime's fuel.

Usage: python wasmtime_fuel.py KERNEL.wasm SIZE
Runs the kernel at SIZE and 2*SIZE and 3*SIZE with fuel metering (about one unit of fuel per
wasm operator) and prints `fuel_per_unit: X` (from the difference, so start-up, setup outside the
timed region and output drop out) and `linearity: R` (second difference / first, 1.0 = linear).
"""
import os
import sys
import tempfile

import wasmtime

FUEL = 1 << 62


def fuel(path, size):
    config = wasmtime.Config()
    config.consume_fuel = True
    engine = wasmtime.Engine(config)
    module = wasmtime.Module.from_file(engine, path)
    linker = wasmtime.Linker(engine)
    linker.define_wasi()
    store = wasmtime.Store(engine)
    wasi = wasmtime.WasiConfig()
    wasi.argv = [path, str(size)]
    fd, out = tempfile.mkstemp()
    os.close(fd)
    try:
        wasi.stdout_file = out
        store.set_wasi(wasi)
        store.set_fuel(FUEL)
        inst = linker.instantiate(store, module)
        try:
            inst.exports(store)["_start"](store)
        except wasmtime.ExitTrap as e:
            if e.code != 0:
                raise
    finally:
        os.unlink(out)
    return FUEL - store.get_fuel()


def main(argv):
    path, size = argv[0], int(argv[1])
    f1, f2, f3 = fuel(path, size), fuel(path, 2 * size), fuel(path, 3 * size)
    print(f"fuel_per_unit: {(f2 - f1) / size:.1f}")
    print(f"linearity: {(f3 - f2) / (f2 - f1):.5f}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
