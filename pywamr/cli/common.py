"""Options shared by subcommands: engine choice and cache location."""
from __future__ import annotations

import os
import sys

from ..engine import Engine, engine_names


def add_engine_options(p, default: str | None = None) -> None:
    """`default`: the engine when neither --engine nor $PYWAMR_ENGINE names one (None: the
    API's default, aot)."""
    shown = default or "aot"
    p.add_argument("--engine", choices=engine_names(), default=None,
                   help=f"execution engine (default: $PYWAMR_ENGINE or {shown}; aot falls back "
                        f"to interp when llvmlite is missing; auto starts on interp and "
                        f"switches to aot's native code once it is compiled)")
    p.set_defaults(default_engine=default)
    p.add_argument("--cache-dir", default=None, help="directory of the AOT code cache")
    p.add_argument("--no-cache", action="store_true", help="do not read or write the AOT cache")


def make_engine(args, progress: bool = True) -> Engine:
    """The engine the options ask for. Compile progress goes to stderr only when it is a
    terminal, so a guest's own stderr stays byte-for-byte what the guest wrote."""
    kind = args.engine or os.environ.get("PYWAMR_ENGINE") or getattr(args, "default_engine",
                                                                      None)
    return Engine(kind, cache_dir=args.cache_dir, cache=not args.no_cache,
                  progress=progress and sys.stderr.isatty())
