"""`pywamr wast`: run spec test scripts and report pass/fail/skip/not-supported counts.

Thin over `pywamr.wast`. Commands on modules that the corpus's `features.json` lists as needing
a later proposal, refused as not supported, are counted apart and do not fail the run; every
other command that does not pass does (exit status 1).
"""
from __future__ import annotations

import sys

from .common import add_engine_options, make_engine


def add_parser(sub) -> None:
    p = sub.add_parser("wast", help="run WebAssembly spec test scripts (.wast)")
    add_engine_options(p)
    p.add_argument("-v", "--verbose", action="store_true",
                   help="list every failure, skip and not-supported command")
    p.add_argument("files", nargs="+", metavar="FILE")
    p.set_defaults(func=wast_command)


def wast_command(args) -> int:
    from ..wast import summary
    from ..wast_component import run_file
    engine = make_engine(args, progress=False)
    totals = [0, 0, 0, 0]
    for path in args.files:
        result = run_file(path, engine)
        print(result.line())
        if args.verbose:
            for label, entries in (("FAIL", result.failures), ("skip", result.skips),
                                   ("not supported", result.unsupported_commands)):
                for line, kind, why in entries:
                    print(f"  {label} line {line} {kind}: {why}")
        totals[0] += result.passed
        totals[1] += result.failed
        totals[2] += result.skipped
        totals[3] += result.unsupported
        sys.stdout.flush()
    print(summary(*totals))
    return 1 if totals[1] else 0
