"""Tiered execution (`--engine auto`) beside aot, interp and the wasmtime package.

    python -m benchmarks.tiering [--reps 3] [--kernels fib,sha256] [--kernel-seconds 3]
                                 [--skip-big] [--components] [--engines auto,aot,interp]
                                 [--json PATH]

Start-up: whole-process wall time and peak RSS of `pywamr run` on `examples/hello.wasm` and on
`benchmarks/big/big.wasm` (1 MB of code), first run (a code cache holding only the host's
identity, as on any machine that ran pywamr before) and cached run (a cache
filled beforehand by an aot run: the auto engine then starts on native code), for the engines
auto, aot and interp, and for the wasmtime package (no code cache: its first run). Kernels:
in-guest time (`time_ns`) under auto (empty cache, so it starts on the interpreter) and aot
(cached), their ratio, and auto's time to native ($PYWAMR_TIER_LOG's first tier-up line: the
first function, hot or whole module, running natively). At full size the kernels do 0.05-0.2 s
of native work, less than any time to native; `--kernel-seconds S` (default 3) runs each at
the size (argv[1], linear in the work) where aot's in-guest time is about S seconds, found by
one aot run at the full size; `--kernel-seconds 0` keeps the full size. `--components` adds the
first run of the big toolchain components (js-app: 12 MB, jco componentize; py-app: 18.6 MB,
componentize-py) under the chosen engines and the wasmtime package (its component API, no
cache). Every cell has wall time, CPU time (user + system, the process and its workers) and
peak RSS; each is the median of --reps runs. Measured, never asserted. Prints Markdown.
"""
from __future__ import annotations

import argparse
import json
import re
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

from .config import kernel_by_name
from .proc import run

ROOT = Path(__file__).resolve().parent.parent
KERNELS = ROOT / "benchmarks" / "kernels"
DRIVER = ROOT / "benchmarks" / "drivers" / "wasmtime_run.py"
COMPONENT_DRIVER = ROOT / "benchmarks" / "drivers" / "wasmtime_component_run.py"
TOOLCHAINS = ROOT / "tests" / "fixtures" / "toolchains"
COMPONENTS = [(TOOLCHAINS / "js" / "js-app.wasm", ()),
              (TOOLCHAINS / "python" / "py-app.wasm", ("hello", "a=b"))]
NATIVE_RE = re.compile(r"tier-up: [^\n]*?native[^\n]*? after ([0-9.]+)s")


def pywamr(engine: str, module: Path, *args: str) -> list[str]:
    return [sys.executable, "-m", "pywamr", "run", "--engine", engine, str(module), *args]


def measure(argv, env, reps: int, fresh_cache: bool, prefill=None,
            timeout: float = 900) -> dict:
    walls, rss, guest, native, cpu, tree = [], [], [], [], [], []
    for _ in range(reps):
        cache = tempfile.mkdtemp(prefix="tier-bench-")
        try:
            full_env = {**env, "PYWAMR_CACHE_DIR": cache, "PYWAMR_TIER_LOG": "1"}
            # a machine that ran pywamr before knows its host identity (aot/artifact.py):
            # a first run of a module is measured with it, the very first run on a machine not
            remember = run([sys.executable, "-c", "from pywamr import aot; "
                            "aot.AotCache().host_identity(aot._host)"], env=full_env)
            assert remember.error() is None, remember.error()
            if prefill is not None and not fresh_cache:
                pre = run(prefill, env=full_env, timeout=900)
                assert pre.error() is None, pre.error()
            r = run(argv, env=full_env, timeout=timeout, rss=True, tree=True)
            if r.error():
                return {"error": r.error()}
            walls.append(r.wall_s)
            rss.append(r.maxrss_kb)
            if "tree_rss_kb" in r.extra:
                tree.append(r.extra["tree_rss_kb"])
            cpu.append(r.extra.get("cpu_s", 0.0))
            if r.guest_ns is not None:
                guest.append(r.guest_ns / 1e9)
            m = NATIVE_RE.search(r.stderr)
            native.append(float(m.group(1)) if m else None)
        finally:
            shutil.rmtree(cache, ignore_errors=True)
    out = {"wall_s": statistics.median(walls), "rss_mib": statistics.median(rss) / 1024,
           "cpu_s": statistics.median(cpu)}
    if tree:    # peak of the summed RSS over the process tree (workers included)
        out["tree_rss_mib"] = statistics.median(tree) / 1024
    if guest:
        out["guest_s"] = statistics.median(guest)
    reached = [n for n in native if n is not None]
    out["native_after_s"] = statistics.median(reached) if reached else None
    out["runs_reaching_native"] = f"{len(reached)}/{len(native)}"
    return out


def startup(modules, reps: int, engines=("auto", "aot", "interp"), cached: bool = True,
            driver=DRIVER) -> dict:
    results = {}
    for module, args in modules:
        name = module.name
        for engine in engines:
            argv = pywamr(engine, module, *args)
            prefill = pywamr("aot", module, *args)
            results[(name, engine, "first")] = measure(argv, {}, reps, True)
            if engine != "interp" and cached:
                results[(name, engine, "cached")] = measure(argv, {}, reps, False, prefill)
        results[(name, "wasmtime", "first")] = measure(
            [sys.executable, str(driver), str(module), *args], {}, reps, True)
    return results


def kernel_size(name: str, seconds: float) -> int:
    """The size (argv[1], linear in the work) at which aot's in-guest time is about
    `seconds`, from one cached aot run at the full size; the full size for 0."""
    full = kernel_by_name(name).full
    if seconds <= 0:
        return full
    module = KERNELS / f"{name}.wasm"
    cell = measure(pywamr("aot", module, str(full)), {}, 1, False, pywamr("aot", module, "1"))
    if "error" in cell or not cell.get("guest_s"):
        raise RuntimeError(f"calibrating {name}: {cell.get('error', 'no time_ns')}")
    return max(1, round(full * seconds / cell["guest_s"]))


def kernels(names, reps: int, seconds: float = 0.0, timeout: float = 900) -> dict:
    """auto's first run (empty cache) and aot's cached run of each kernel at the size
    `kernel_size` picks; the size is kept in the cells."""
    results = {}
    for name in names:
        module = KERNELS / f"{name}.wasm"
        size = kernel_size(name, seconds)
        args = () if seconds <= 0 else (str(size),)
        auto = measure(pywamr("auto", module, *args), {}, reps, True, timeout=timeout)
        ahead = measure(pywamr("aot", module, *args), {}, reps, False,
                        pywamr("aot", module, "1"))
        for cell in (auto, ahead):
            cell["size"] = size
        results[(name, "auto", "first")] = auto
        results[(name, "aot", "cached")] = ahead
    return results


def print_kernels(krows: dict) -> None:
    """One row per kernel: size, both in-guest times, their ratio, auto's time to native."""
    print("\n| kernel | size | aot in-guest (s) | auto in-guest (s) | auto / aot | "
          "native after (s) | runs reaching native | CPU auto / aot (s) |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    names = dict.fromkeys(name for name, _, _ in krows)
    for name in names:
        auto, ahead = krows[(name, "auto", "first")], krows[(name, "aot", "cached")]
        ratio = "-"
        if auto.get("guest_s") and ahead.get("guest_s"):
            ratio = f"{auto['guest_s'] / ahead['guest_s']:.2f}x"
        print(f"| {name} | {ahead.get('size', '-')} | {fmt(ahead, 'guest_s', '.3f')} | "
              f"{fmt(auto, 'guest_s', '.3f')} | {ratio} | "
              f"{fmt(auto, 'native_after_s', '.3f')} | "
              f"{auto.get('runs_reaching_native', '-')} | {fmt(auto, 'cpu_s', '.2f')} / "
              f"{fmt(ahead, 'cpu_s', '.2f')} |", flush=True)


def fmt(cell: dict, key: str, spec: str) -> str:
    if "error" in cell:
        return f"error: {cell['error'][:60]}"
    value = cell.get(key)
    return "-" if value is None else format(value, spec)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.tiering")
    p.add_argument("--reps", type=int, default=3)
    p.add_argument("--kernels", default="fib,sha256,nbody,sieve,matmul")
    p.add_argument("--skip-big", action="store_true")
    p.add_argument("--skip-startup", action="store_true")
    p.add_argument("--components", action="store_true",
                   help="also the first run of js-app and py-app (minutes per run)")
    p.add_argument("--engines", default="auto,aot,interp",
                   help="pywamr engines of the start-up rows")
    p.add_argument("--no-cached", action="store_true",
                   help="first runs only (a cached run of big.wasm needs an aot compile first)")
    p.add_argument("--kernel-seconds", type=float, default=3.0, metavar="S",
                   help="run each kernel at the size where aot's in-guest time is about S "
                        "seconds (calibrated by one aot run at the full size); 0: full size")
    p.add_argument("--timeout", type=float, default=900, metavar="S",
                   help="give up on a kernel's auto run after S seconds (nbody's loop never "
                        "leaves the interpreter without on-stack replacement)")
    p.add_argument("--json", default=None)
    args = p.parse_args(argv)
    engines = tuple(e for e in args.engines.split(",") if e)
    modules = [(ROOT / "examples" / "hello.wasm", ())]
    if not args.skip_big:
        modules.append((ROOT / "benchmarks" / "big" / "big.wasm", ()))
    rows = {}
    if not args.skip_startup:
        rows.update(startup(modules, args.reps, engines, cached=not args.no_cached))
    if args.components:
        rows.update(startup(COMPONENTS, args.reps, [e for e in engines if e != "aot"],
                            cached=False, driver=COMPONENT_DRIVER))
    if rows:
        print("| module | runtime | run | wall (s) | CPU (s) | peak RSS (MiB) | "
              "tree RSS (MiB) | native after (s) |")
        print("|---|---|---|---:|---:|---:|---:|---:|")
        for (name, engine, kind), cell in rows.items():
            print(f"| {name} | {engine} | {kind} | {fmt(cell, 'wall_s', '.3f')} | "
                  f"{fmt(cell, 'cpu_s', '.2f')} | {fmt(cell, 'rss_mib', '.1f')} | "
                  f"{fmt(cell, 'tree_rss_mib', '.1f')} | "
                  f"{fmt(cell, 'native_after_s', '.2f')} |", flush=True)
    names = [k for k in args.kernels.split(",") if k]
    if names:
        krows = kernels(names, args.reps, args.kernel_seconds, args.timeout)
        rows.update(krows)
        print_kernels(krows)
    if args.json:
        Path(args.json).write_text(json.dumps({"|".join(k): v for k, v in rows.items()},
                                              indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
