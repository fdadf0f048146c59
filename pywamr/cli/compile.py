"""`pywamr compile`: write a precompiled (AOT) module that later runs with no LLVM work."""
from __future__ import annotations

import sys
from pathlib import Path

from ..engine import Engine, Module
from ..errors import WasmError


def add_parser(sub) -> None:
    p = sub.add_parser("compile", help="compile a module ahead of time to a .cwasm artifact")
    p.add_argument("module")
    p.add_argument("-o", "--output", help="output path (default: MODULE with .cwasm suffix)")
    p.add_argument("--cache-dir", default=None)
    p.add_argument("--no-cache", action="store_true")
    p.set_defaults(func=compile_command)


def compile_command(args) -> int:
    engine = Engine("aot", cache_dir=args.cache_dir, cache=not args.no_cache,
                    progress=sys.stderr.isatty())
    if not engine.supports_artifacts:
        raise WasmError("pywamr compile needs the aot engine (pip install llvmlite)")
    path = Path(args.module)
    module = Module(engine, path.read_bytes())
    out = Path(args.output) if args.output else path.with_suffix(".cwasm")
    tmp = out.with_name(out.name + ".tmp")
    module.compiled.save(tmp)
    tmp.replace(out)
    print(f"wrote {out}")
    return 0
