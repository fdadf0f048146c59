"""Entry point of `pywamr` (and its aliases `wamr`, `wamrc`): parses arguments, dispatches to a
subcommand, and turns pywamr's errors into one clear line and a non-zero exit status."""
from __future__ import annotations

import importlib
import os
import sys

from ..errors import WasiExit, WasmError, Trap

SUBCOMMANDS = ("run", "wast", "compile", "compile-component", "inspect", "-h", "--help")
COMMAND_MODULES = {"run": "run", "wast": "wast", "compile": "compile",
                   "compile-component": "compile_component", "inspect": "inspect"}
EXIT_TRAP = 134   # what wasmtime uses for a trap on Unix (128 + SIGABRT)


def build_parser(only: str | None = None):
    """The command line's parser (an `argparse.ArgumentParser`); with `only`, just that
    subcommand's (what a run parses: importing the others' modules and building their
    parsers costs start-up time)."""
    import argparse
    prog = os.path.basename(sys.argv[0]) if sys.argv and sys.argv[0] else "pywamr"
    if prog in ("__main__.py", "-c", "-m"):
        prog = "pywamr"
    parser = argparse.ArgumentParser(prog=prog, description="A WebAssembly runtime in Python.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, module in COMMAND_MODULES.items():
        if only is None or only == name:
            importlib.import_module(f".{module}", __package__).add_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    # `pywamr module.wasm ...` is short for `pywamr run module.wasm ...`
    if argv and argv[0] not in SUBCOMMANDS and not argv[0].startswith("-"):
        argv = ["run"] + argv
    args = None
    if argv and argv[0] == "run":       # a plain command line needs no argparse
        from .run import parse_simple
        args = parse_simple(argv[1:])
    if args is None:
        parser = build_parser(only=argv[0] if argv and not argv[0].startswith("-") else None)
        args = parser.parse_args(argv)
        if not args.command:
            parser.print_help()
            return 2
    try:
        return args.func(args)
    except WasiExit as exc:
        return exc.status
    except Trap as exc:
        sys.stdout.flush()
        print(f"Error: {exc}", file=sys.stderr)
        return EXIT_TRAP
    except WasmError as exc:
        print(f"pywamr: error: {exc}", file=sys.stderr)
        return 1
    except (FileNotFoundError, IsADirectoryError, PermissionError) as exc:
        print(f"pywamr: error: {exc.strerror}: {exc.filename}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
