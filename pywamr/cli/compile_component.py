"""`pywamr compile-component`: precompile every core module of a component into a bundle.

Thin over `pywamr.component.write_bundle` (which plans the component as running it would) and
the aot engine's bundle format (`aot/bundle.py`). The bundle goes to `-o DIR`, else beside the
component by the convention `pywamr run` looks for: `X.wasm` -> `X.pywamr-bundle/`. Progress is
one updating line on stderr when stderr is a terminal; otherwise only the closing summary line
is printed, on stdout, as `pywamr compile` does.
"""
from __future__ import annotations

import sys
from pathlib import Path

from ..binary.decoder import MAGIC, VERSION, decode_module, is_component
from ..engine import Engine
from ..errors import WasmError


def add_parser(sub) -> None:
    p = sub.add_parser("compile-component",
                       help="compile every core module of a component into a precompiled bundle")
    p.add_argument("component", help="a .wasm component")
    p.add_argument("-o", "--output", metavar="DIR",
                   help="bundle directory (default: COMPONENT with suffix .pywamr-bundle)")
    p.add_argument("--cache-dir", default=None, help="directory of the AOT code cache")
    p.add_argument("--no-cache", action="store_true", help="do not read or write the AOT cache")
    p.set_defaults(func=compile_component_command)


def compile_component_command(args) -> int:
    from ..component import write_bundle
    from .run_component import bundle_dir_for
    engine = Engine("aot", cache_dir=args.cache_dir, cache=not args.no_cache,
                    progress=sys.stderr.isatty())
    if not engine.supports_bundles:
        raise WasmError("pywamr compile-component needs the aot engine (pip install llvmlite)")
    path = Path(args.component)
    data = path.read_bytes()
    if not is_component(data):
        if data[:8] != MAGIC + VERSION:
            decode_module(data)     # not wasm at all: the header's error, as `pywamr run` says
        raise WasmError(f"{path} is not a component; use `pywamr compile` for a core module")
    out = Path(args.output) if args.output else bundle_dir_for(path)
    manifest = write_bundle(engine, data, out)
    size = sum(core["size"] for core in manifest["cores"])
    print(f"wrote {out} ({len(manifest['cores'])} core modules, {size} bytes)")
    return 0
