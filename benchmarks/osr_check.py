"""What the on-stack-replacement checks cost interpreted code: the C kernels on the interpreter
with loop-header checks (as `--engine auto` translates them) and without (as `--engine interp`).

    python -m benchmarks.osr_check [--reps 5] [--kernels sieve,matmul,nbody,sha256,fib]

Each run is a subprocess running the kernel's `_start` at its interpreter size
(`config.Kernel.interp`) on an `InterpModule` made with `osr=True` (every checked loop header
runs `if o<F>: ...` against None: no OSR ever happens) or `osr=False`; the two kinds alternate
run by run. Reports the medians of the kernel's own in-guest time and of the child's CPU time,
and the ratio. Measured, never asserted. Prints Markdown.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time

from .config import REPO_ROOT, kernel_by_name
from .proc import run


def child(path: str, size: str, osr: bool) -> int:
    from pywamr.binary.decoder import decode_module
    from pywamr.engine import Engine, Linker, Module
    from pywamr.interp.instance import InterpModule
    from pywamr.validate import validate_module
    from pywamr.wasi import WasiConfig, add_to_linker
    from pywamr.errors import WasiExit
    data = open(path, "rb").read()
    validated = validate_module(decode_module(data), data)
    engine = Engine("interp")
    module = Module.from_compiled(engine, InterpModule(validated, osr=osr))
    config = WasiConfig()
    config.argv = [path, size]
    linker = Linker(engine)
    add_to_linker(linker, config)
    instance = linker.instantiate(None, module)
    started = time.process_time()
    try:
        instance.exports["_start"]()
    except WasiExit as exc:
        if exc.status:
            raise
    print(f"cpu_s: {time.process_time() - started:.6f}", file=sys.stderr)
    return 0


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.osr_check")
    p.add_argument("--reps", type=int, default=5)
    p.add_argument("--kernels", default="sieve,matmul,nbody,sha256,fib")
    p.add_argument("--child", nargs=3, metavar=("PATH", "SIZE", "OSR"), help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.child:
        path, size, osr = args.child
        return child(path, size, osr == "osr")
    print("| kernel | size | in-guest plain (s) | in-guest checks (s) | ratio | "
          "CPU plain (s) | CPU checks (s) | ratio |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for name in args.kernels.split(","):
        kernel = kernel_by_name(name)
        cells = {"plain": ([], []), "osr": ([], [])}
        for _ in range(args.reps):
            for kind in ("plain", "osr"):
                r = run([sys.executable, "-m", "benchmarks.osr_check", "--child",
                         str(kernel.path), str(kernel.interp), kind], cwd=REPO_ROOT,
                        timeout=900)
                if r.error():
                    print(f"| {name} | error: {r.error()} |")
                    return 1
                cells[kind][0].append(r.guest_ns / 1e9)
                cells[kind][1].append(float(r.stderr.split("cpu_s:")[1].split()[0]))
        guest = [statistics.median(cells[k][0]) for k in ("plain", "osr")]
        cpu = [statistics.median(cells[k][1]) for k in ("plain", "osr")]
        print(f"| {name} | {kernel.interp} | {guest[0]:.3f} | {guest[1]:.3f} | "
              f"{guest[1] / guest[0]:.3f} | {cpu[0]:.3f} | {cpu[1]:.3f} | "
              f"{cpu[1] / cpu[0]:.3f} |", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
