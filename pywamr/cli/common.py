"""Options shared by subcommands: engine choice and cache location."""
from __future__ import annotations

import sys

from ..engine import Engine, engine_names


def add_engine_options(p) -> None:
    p.add_argument("--engine", choices=engine_names(), default=None,
                   help="execution engine (default: aot, or interp when llvmlite is missing)")
    p.add_argument("--cache-dir", default=None, help="directory of the AOT code cache")
    p.add_argument("--no-cache", action="store_true", help="do not read or write the AOT cache")


def make_engine(args, progress: bool = True) -> Engine:
    """The engine the options ask for. Compile progress goes to stderr only when it is a
    terminal, so a guest's own stderr stays byte-for-byte what the guest wrote."""
    return Engine(args.engine, cache_dir=args.cache_dir, cache=not args.no_cache,
                  progress=progress and sys.stderr.isatty())
