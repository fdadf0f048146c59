"""Whole-process start-up of cached runs: pywamr beside the `wasmtime` package (issues 11, 12).

    python benchmarks/startup.py [--reps N] [--no-bytecode] [--baseline ROOT]

Times, as whole processes, with the best and the median of `--reps` runs (wall and CPU time,
and the peak resident memory of each process, read with `os.wait4`):
- the composed calculator component (tests/fixtures/components/composed.wasm): `pywamr run`
  with a warm code cache, `pywamr run --precompiled-dir` from a bundle, and the wasmtime
  package running it;
- examples/hello.wasm (WASI p1): `pywamr run` with a warm cache (the default engine, auto,
  and `--engine aot`), and the wasmtime package.
The code cache is filled first by a run with `--engine aot` (a run of the default engine,
auto, that ends before its module tiers up stores nothing), so the timed `pywamr run`s
(default engine) load cached native code.
`--baseline ROOT` adds the warm-cache `pywamr run` rows of another checkout of pywamr (e.g. a
`git worktree` of an older commit), run from ROOT with its own code cache entries, alternating
with the rest: a before/after comparison in one run on a shared machine. The load average is
printed before and after.
The variants alternate run by run, so a burst of load on the shared machine hits them alike.
By default Python may write and use bytecode caches (`.pyc`), as an installed package has;
`--no-bytecode` sets PYTHONDONTWRITEBYTECODE=1 for pywamr (its sources are then compiled on
every start). A measuring tool: wasmtime is the comparison, never a part of pywamr.
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
COMPOSED = ROOT / "tests" / "fixtures" / "components" / "composed.wasm"
HELLO = ROOT / "examples" / "hello.wasm"

sys.path.insert(0, str(Path(__file__).resolve().parent))
from component_bundle import WASMTIME_RUN  # noqa: E402  (the wasmtime side of a component run)

WASMTIME_CORE = """
import sys, wasmtime
engine = wasmtime.Engine()
store = wasmtime.Store(engine)
linker = wasmtime.Linker(engine)
linker.define_wasi()
config = wasmtime.WasiConfig()
config.inherit_stdout()
store.set_wasi(config)
module = wasmtime.Module(engine, open(sys.argv[1], "rb").read())
linker.instantiate(store, module).exports(store)["_start"](store)
"""


def timed(argv, env, cwd=ROOT) -> tuple[float, float, float]:
    """(wall seconds, CPU seconds, peak RSS in MiB) of one whole process run in `cwd` (which
    `python -m` puts first on the module path: it picks the pywamr checkout); exits on
    failure."""
    start = time.perf_counter()
    with tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=err, env=env, cwd=cwd)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.returncode != 0:
            err.seek(0)
            raise SystemExit(f"failed: {' '.join(map(str, argv))}\n{err.read().decode()}")
    cpu = usage.ru_utime + usage.ru_stime
    return wall, cpu, usage.ru_maxrss / 1024


def summary(values: list[float]) -> str:
    return (f"best {min(values) * 1000:6.0f} ms, median {statistics.median(values) * 1000:6.0f}"
            f" ms")


def ratio(mine: list[float], theirs: list[float]) -> float:
    return statistics.median(mine) / statistics.median(theirs)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=7)
    parser.add_argument("--no-bytecode", action="store_true")
    parser.add_argument("--baseline", metavar="ROOT", type=Path,
                        help="also time the pywamr checkout at ROOT (before/after)")
    args = parser.parse_args()
    py = sys.executable
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    env.pop("PYWAMR_ENGINE", None)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    if args.no_bytecode:
        env["PYTHONDONTWRITEBYTECODE"] = "1"
    oracle_env = dict(env)
    oracle_env.pop("PYTHONDONTWRITEBYTECODE", None)
    with tempfile.TemporaryDirectory(prefix="pywamr-startup-bench-") as td:
        work = Path(td)
        env["PYWAMR_CACHE_DIR"] = str(work / "cache")
        bundle = work / "bundle"
        subprocess.run([py, "-m", "pywamr", "compile-component", str(COMPOSED), "-o",
                        str(bundle)], env=env, cwd=ROOT, check=True, capture_output=True)
        rows = [
            ("composed: pywamr run, warm cache", [py, "-m", "pywamr", "run", COMPOSED], env, ROOT),
            ("composed: pywamr run, from bundle", [py, "-m", "pywamr", "run",
                                                   "--precompiled-dir", bundle, COMPOSED], env,
             ROOT),
            ("composed: wasmtime package", [py, "-c", WASMTIME_RUN, COMPOSED, "wasm"], oracle_env,
             ROOT),
            ("hello: pywamr run, warm cache", [py, "-m", "pywamr", "run", HELLO], env, ROOT),
            ("hello: pywamr run --engine aot, warm", [py, "-m", "pywamr", "run", "--engine", "aot",
                                                      HELLO], env, ROOT),
            ("hello: wasmtime package", [py, "-c", WASMTIME_CORE, HELLO], oracle_env, ROOT),
        ]
        checkouts = [(env, ROOT)]
        if args.baseline is not None:
            base, base_env = args.baseline.resolve(), dict(env)
            base_env["PYTHONPATH"] = str(base) + os.pathsep + os.environ.get("PYTHONPATH", "")
            checkouts.append((base_env, base))
            rows += [
                ("composed: BASELINE run, warm cache", [py, "-m", "pywamr", "run", COMPOSED],
                 base_env, base),
                ("hello: BASELINE run, warm cache", [py, "-m", "pywamr", "run", HELLO], base_env,
                 base),
                ("hello: BASELINE --engine aot, warm", [py, "-m", "pywamr", "run", "--engine",
                                                        "aot", HELLO], base_env, base),
            ]
        for e, cwd in checkouts:            # fill the code cache (a default run, --engine
            for path in (COMPOSED, HELLO):  # auto, may not)
                timed([py, "-m", "pywamr", "run", "--engine", "aot", path], e, cwd)
        load_before = os.getloadavg()
        for _label, argv, e, cwd in rows:                  # warm caches (code and bytecode)
            timed(argv, e, cwd)
        walls = {label: [] for label, *_ in rows}
        cpus = {label: [] for label, *_ in rows}
        rss = {label: [] for label, *_ in rows}
        for _ in range(args.reps):
            for label, argv, e, cwd in rows:
                wall, cpu, peak = timed(argv, e, cwd)
                walls[label].append(wall)
                cpus[label].append(cpu)
                rss[label].append(peak)
        load_after = os.getloadavg()
    print(f"{args.reps} runs each, alternating; bytecode caches "
          f"{'off' if args.no_bytecode else 'on'} for pywamr; load average "
          f"{' '.join(f'{x:.2f}' for x in load_before)} before, "
          f"{' '.join(f'{x:.2f}' for x in load_after)} after")
    for label, *_ in rows:
        print(f"{label + ':':38s} wall {summary(walls[label])}; cpu {summary(cpus[label])}; "
              f"peak RSS median {statistics.median(rss[label]):5.1f} MiB")
    for label, *_ in rows:
        name = label.split(":")[0]
        theirs = f"{name}: wasmtime package"
        if "warm" not in label:
            continue
        print(f"{label} / wasmtime: median wall "
              f"{ratio(walls[label], walls[theirs]):.2f}x, "
              f"median cpu {ratio(cpus[label], cpus[theirs]):.2f}x, "
              f"median peak RSS {ratio(rss[label], rss[theirs]):.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
