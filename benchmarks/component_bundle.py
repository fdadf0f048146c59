"""Measure `pywamr compile-component` and cached component runs beside the `wasmtime` package.

    python benchmarks/component_bundle.py [COMPONENT.wasm] [--reps N]

For one WASI 0.2 command component (default: the composed calculator of the tests) prints:
- `pywamr compile-component --no-cache` wall time (whole process) and the bundle's size;
- wasmtime's compile of the same component (`Component(engine, bytes).serialize()`), timed in
  process and as a whole process, and the serialized size;
- whole-process runs: `pywamr run` with a warm code cache, `pywamr run` from the bundle, and the
  wasmtime package running the component (compiling it, and from its serialized form).
Each run is repeated `--reps` times; the best and the median wall times are shown. A measuring
tool: wasmtime is the comparison, never a part of pywamr.
"""
from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT = ROOT / "tests" / "fixtures" / "components" / "composed.wasm"

WASMTIME_COMPILE = """
import sys, time, wasmtime, wasmtime.component as c
data = open(sys.argv[1], "rb").read()
t = time.perf_counter()
blob = c.Component(wasmtime.Engine(), data).serialize()
print(time.perf_counter() - t, len(blob))
open(sys.argv[2], "wb").write(blob)
"""

WASMTIME_RUN = """
import sys, wasmtime, wasmtime.component as c
engine = wasmtime.Engine()
if sys.argv[2] == "serialized":
    comp = c.Component.deserialize_file(engine, sys.argv[1])
else:
    comp = c.Component(engine, open(sys.argv[1], "rb").read())
store = wasmtime.Store(engine)
linker = c.Linker(engine)
linker.add_wasip2()
config = wasmtime.WasiConfig()
config.inherit_stdout()
store.set_wasi(config)
inst = linker.instantiate(store, comp)
run = None
for minor in range(20, -1, -1):
    iface = inst.get_export_index(store, f"wasi:cli/run@0.2.{minor}")
    if iface is not None:
        run = inst.get_func(store, inst.get_export_index(store, "run", iface))
        break
run(store)
"""


def timed(argv, env=None) -> tuple[float, subprocess.CompletedProcess]:
    start = time.perf_counter()
    proc = subprocess.run(argv, capture_output=True, env=env, timeout=600)
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"failed: {' '.join(map(str, argv))}\n{proc.stderr.decode()}")
    return wall, proc


def summary(walls: list[float]) -> str:
    return f"best {min(walls) * 1000:7.0f} ms, median {statistics.median(walls) * 1000:7.0f} ms"


def directory_size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("component", nargs="?", default=str(DEFAULT))
    parser.add_argument("--reps", type=int, default=5)
    args = parser.parse_args()
    component = Path(args.component).resolve()
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    env.pop("PYWAMR_ENGINE", None)
    py = sys.executable
    with tempfile.TemporaryDirectory(prefix="pywamr-bundle-bench-") as td:
        work = Path(td)
        env["PYWAMR_CACHE_DIR"] = str(work / "cache")
        bundle = work / "bundle"
        walls = []
        for _ in range(args.reps):
            shutil.rmtree(bundle, ignore_errors=True)
            wall, _proc = timed([py, "-m", "pywamr", "compile-component", "--no-cache",
                                 component, "-o", bundle], env)
            walls.append(wall)
        print(f"component: {component} ({component.stat().st_size} bytes)")
        print(f"pywamr compile-component --no-cache: {summary(walls)}; bundle "
              f"{directory_size(bundle)} bytes")
        inproc, whole = [], []
        serialized = work / "component.cwasm"
        for _ in range(args.reps):
            wall, proc = timed([py, "-c", WASMTIME_COMPILE, component, serialized])
            seconds, size = proc.stdout.decode().split()
            inproc.append(float(seconds))
            whole.append(wall)
        print(f"wasmtime compile (in process):      {summary(inproc)}; serialized {size} bytes")
        print(f"wasmtime compile (whole process):   {summary(whole)}")
        timed([py, "-m", "pywamr", "run", component], env)          # fill the cache
        rows = [("pywamr run, warm cache", [py, "-m", "pywamr", "run", component]),
                ("pywamr run, from the bundle", [py, "-m", "pywamr", "run",
                                                 "--precompiled-dir", bundle, component]),
                ("wasmtime package, compiling", [py, "-c", WASMTIME_RUN, component, "wasm"]),
                ("wasmtime package, serialized", [py, "-c", WASMTIME_RUN, serialized,
                                                  "serialized"])]
        for label, argv in rows:
            walls = [timed(argv, env)[0] for _ in range(args.reps)]
            print(f"{label + ':':36s}{summary(walls)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
