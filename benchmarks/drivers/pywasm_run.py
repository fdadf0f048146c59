"""Run a WASI command module on `pywasm` (pure-Python interpreter, PyPI).

Usage: python pywasm_run.py MODULE.wasm [ARGS...]
pywasm 2.x provides WASI preview 1 as pywasm.wasi.Preview1(args, dirs, envs): bind() it to a
Runtime, instantiate, then Preview1.main() calls _start and returns the exit code.
"""
import sys

import pywasm
import pywasm.wasi


def main(argv):
    path, args = argv[0], argv[1:]
    runtime = pywasm.core.Runtime()
    wasi = pywasm.wasi.Preview1([path] + args, {}, {})
    wasi.bind(runtime)
    instance = runtime.instance_from_file(path)
    code = wasi.main(runtime, instance)
    sys.stdout.flush()
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
