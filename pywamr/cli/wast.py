"""`pywamr wast`: run spec test scripts and report pass/fail/skip counts."""
from __future__ import annotations

import sys

from .common import add_engine_options, make_engine


def add_parser(sub) -> None:
    p = sub.add_parser("wast", help="run WebAssembly spec test scripts (.wast)")
    add_engine_options(p)
    p.add_argument("-v", "--verbose", action="store_true", help="list every failure and skip")
    p.add_argument("files", nargs="+", metavar="FILE")
    p.set_defaults(func=wast_command)


def wast_command(args) -> int:
    from ..wast_component import run_file
    engine = make_engine(args, progress=False)
    totals = [0, 0, 0]
    for path in args.files:
        result = run_file(path, engine)
        print(result.line())
        if args.verbose:
            for line, kind, why in result.failures:
                print(f"  FAIL line {line} {kind}: {why}")
            for line, kind, why in result.skips:
                print(f"  skip line {line} {kind}: {why}")
        totals[0] += result.passed
        totals[1] += result.failed
        totals[2] += result.skipped
        sys.stdout.flush()
    print(f"{totals[0]} passed, {totals[1]} failed, {totals[2]} skipped")
    return 1 if totals[1] else 0
