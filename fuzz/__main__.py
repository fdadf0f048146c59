"""`python -m fuzz`: run a differential fuzzing campaign and print its counts.

    python -m fuzz --n 3000 --seed 1 [--engines interp,aot] [--start 0] [--jobs 1]
                   [--out fuzz-failures] [--timeout 120]
                   [--mode core|multi-memory|tail-call|simd|relaxed-simd]

Exit status 0 when no module failed (inconclusive and "not supported" cases are counted, not
failures), 1 otherwise. Shrinking a saved failure: `python -m fuzz.shrink CASE.wasm --engine aot`.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from .campaign import run_campaign
from .generate import MODES
from .tools import missing_tools


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m fuzz", description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100, help="number of modules")
    parser.add_argument("--seed", type=int, default=1, help="campaign seed")
    parser.add_argument("--start", type=int, default=0, help="index of the first module")
    parser.add_argument("--engines", default="interp,aot", help="comma-separated engines")
    parser.add_argument("--jobs", type=int, default=1, help="worker processes")
    parser.add_argument("--out", default="fuzz-failures", help="directory for failing cases")
    parser.add_argument("--timeout", type=float, default=120.0,
                        help="seconds one module may take before it counts as hung")
    parser.add_argument("--mode", default="core", choices=sorted(MODES),
                        help="what smith generates (fuzz/generate.py MODES)")
    args = parser.parse_args(argv)
    why = missing_tools()
    if why:
        print(f"fuzz: cannot run: {why}", file=sys.stderr)
        return 2
    kinds = tuple(k for k in args.engines.split(",") if k)
    began = time.monotonic()
    print(f"fuzz: seed {args.seed}, modules {args.start}..{args.start + args.n - 1}, "
          f"engines {','.join(kinds)}, jobs {args.jobs}, mode {args.mode}", flush=True)
    counts = run_campaign(args.seed, args.n, kinds, Path(args.out), start=args.start,
                          jobs=args.jobs, timeout=args.timeout, mode=args.mode,
                          log=lambda text: print(text, flush=True))
    print(counts.summary())
    print(f"time: {time.monotonic() - began:.0f} s")
    return 1 if counts.failures() else 0


if __name__ == "__main__":
    sys.exit(main())
