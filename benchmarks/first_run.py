"""Where a first run's time goes on the interpreter: decode, validate, translate, compile, bind.

    python -m benchmarks.first_run [--engine interp] [--cache-dir DIR] MODULE [ARGS...]

Runs `pywamr run` in this process (so the run's own output appears first) with timers
(`time.perf_counter` and `time.process_time`) wrapped around the phases a first run pays per
function: decoding (the module decoder, every call), body validation (`validate_function`),
translation to Python source (`interp.translate.translate_function`), CPython's `compile()` of
that source, loading translations from the translation cache, and binding the code object to the
instance (`InterpModule.translated` less the above). Prints one table on stderr: seconds per
phase, calls, and the remainder (guest execution, WASI, start-up). The wrappers cost about a
microsecond a call; measured, never asserted. Works for core modules and components (every
core module of a component goes through the same phases).
"""
from __future__ import annotations

import argparse
import sys
import time


class Phase:
    __slots__ = ("name", "wall", "cpu", "calls", "depth")

    def __init__(self, name: str):
        self.name = name
        self.wall = self.cpu = 0.0
        self.calls = 0
        self.depth = 0


def _timed(phase: Phase, fn):
    def wrapper(*args, **kwargs):
        phase.calls += 1
        if phase.depth:                 # nested call (retries, recursion): counted once
            return fn(*args, **kwargs)
        phase.depth += 1
        wall, cpu = time.perf_counter(), time.process_time()
        try:
            return fn(*args, **kwargs)
        finally:
            phase.wall += time.perf_counter() - wall
            phase.cpu += time.process_time() - cpu
            phase.depth -= 1
    return wrapper


def install() -> list[Phase]:
    """Wrap the phases' functions where the pipeline looks them up; the phases, in order."""
    from pywamr.binary import decoder
    from pywamr.interp import instance, translate
    from pywamr.validate import module as validate_module

    decode = Phase("decode")
    validate = Phase("validate bodies")
    source = Phase("translate to source")
    compile_ = Phase("CPython compile()")
    bind = Phase("bind (+ cache load)")
    decoder._ModuleDecoder.decode = _timed(decode, decoder._ModuleDecoder.decode)
    validate_module.validate_function = _timed(validate, validate_module.validate_function)
    translate.translate_function = _timed(source, translate.translate_function)
    translate.compile = _timed(compile_, compile)
    instance.InterpModule.translated = _timed(bind, instance.InterpModule.translated)
    return [decode, validate, source, compile_, bind]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--engine", default="interp")
    ap.add_argument("--cache-dir")
    ap.add_argument("module")
    ap.add_argument("args", nargs=argparse.REMAINDER)
    opts = ap.parse_args(argv)
    phases = install()
    from pywamr.cli.main import main as pywamr_main
    run_argv = ["run", "--engine", opts.engine]
    if opts.cache_dir:
        run_argv += ["--cache-dir", opts.cache_dir]
    run_argv += [opts.module, *opts.args]
    wall, cpu = time.perf_counter(), time.process_time()
    try:
        status = pywamr_main(run_argv)
    except SystemExit as exc:
        status = exc.code
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    bind = phases[-1]
    inner = phases[2].wall + phases[3].wall     # translation happens inside bind's calls
    inner_cpu = phases[2].cpu + phases[3].cpu
    bind.wall -= inner
    bind.cpu -= inner_cpu
    out = sys.stderr
    print(f"{'phase':24} {'wall s':>8} {'cpu s':>8} {'calls':>8}", file=out)
    for p in phases:
        print(f"{p.name:24} {p.wall:8.3f} {p.cpu:8.3f} {p.calls:8d}", file=out)
    rest_wall = wall - sum(p.wall for p in phases)
    rest_cpu = cpu - sum(p.cpu for p in phases)
    print(f"{'rest (guest, wasi, ...)':24} {rest_wall:8.3f} {rest_cpu:8.3f}", file=out)
    print(f"{'total (in process)':24} {wall:8.3f} {cpu:8.3f}   exit {status}", file=out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
