"""`pywamr run`: run a WASI command module, or call one export with `--invoke`.

The default engine here is "auto" (engine/tiered.py): start on the interpreter at once, run on
native code once it is compiled in the background, or at once from the code cache.

`--invoke NAME ARGS...` takes i32/i64 as Python int literals (decimal, `0x`, negative), f32/f64
as floats, and v128 as one int literal for the whole vector (`0x` and up to 32 hex digits;
lane 0 is the least-significant end, i.e. the 16 bytes read little-endian). Results print one
per line: ints in signed decimal, floats as Python floats, v128 as `0x` and exactly 32 hex
digits (`numerics.format_v128`)."""
from __future__ import annotations

import os
import sys
from pathlib import Path
from types import SimpleNamespace

from ..binary.decoder import MAGIC, VERSION, decode_module, is_component
from ..binary.types import F32, F64, I32, I64, V128, valtype_name
from ..engine import Linker, Module, engine_names
from ..errors import NotSupported, WasmError
from ..runtime.numerics import format_v128, v128_from_python
from .common import add_engine_options, make_engine

ARTIFACT_SUFFIX = ".cwasm"


DEFAULT_ENGINE = "auto"


def add_parser(sub) -> None:
    p = sub.add_parser("run", help="run a WebAssembly module")
    add_engine_options(p, default=DEFAULT_ENGINE)
    p.add_argument("--dir", action="append", default=[], metavar="HOST[::GUEST]",
                   help="grant access to a host directory (as GUEST inside the sandbox)")
    p.add_argument("--env", action="append", default=[], metavar="NAME=VALUE",
                   help="set an environment variable for the guest")
    p.add_argument("--allow-net", action="append", default=[], metavar="CIDR",
                   help="let a WASI 0.2 guest's sockets use this network (repeatable; "
                        "default: no network)")
    p.add_argument("--allow-dns", action="store_true",
                   help="let a WASI 0.2 guest resolve host names")
    p.add_argument("--invoke", metavar="CALL",
                   help="call this export instead of _start (a component export as a WAVE call: 'name(args)')")
    bundle = p.add_mutually_exclusive_group()
    bundle.add_argument("--precompiled-dir", metavar="DIR",
                        help="run a component with the code of this bundle (made by "
                             "`pywamr compile-component`; default: COMPONENT.pywamr-bundle/ "
                             "beside the component, when there is one)")
    bundle.add_argument("--precompiled-manifest", metavar="FILE",
                        help="as --precompiled-dir, naming the bundle's manifest.json")
    p.add_argument("module", help="a .wasm module or component, or a .cwasm precompiled module")
    p.add_argument("args", nargs=argparse_remainder(), help="arguments for the guest")
    p.set_defaults(func=run_command)


def argparse_remainder():
    import argparse
    return argparse.REMAINDER


# The options of `run` that take a value, that may repeat (a list), and that are flags.
_SIMPLE_VALUES = {"--engine": "engine", "--cache-dir": "cache_dir", "--invoke": "invoke"}
_SIMPLE_LISTS = {"--dir": "dir", "--env": "env", "--allow-net": "allow_net"}
_SIMPLE_FLAGS = {"--no-cache": "no_cache", "--allow-dns": "allow_dns"}


def parse_simple(argv: list[str]):
    """The arguments after `run` parsed as `add_parser`'s argparse parser parses them, for
    the plain command lines (most runs): options spelt out in full (`--engine aot`,
    `--engine=aot`, `--no-cache`, `--cache-dir D`, `--dir D`, `--env E`, `--allow-net N`,
    `--allow-dns`, `--invoke F`) with values that do not start with `-`, then the module,
    then the guest's arguments. Anything else (an abbreviation, `--help`, `--`, another
    option, a bad or missing value, no module) gives None: argparse then parses it, and
    reports what is wrong. Importing argparse and building its parser costs a cached run a
    few ms (5% of a small module's run); `tests/test_cli_fast_parse.py` checks this against
    argparse on many command lines."""
    if "--" in argv:
        return None
    values = {"command": "run", "engine": None, "cache_dir": None, "no_cache": False,
              "dir": [], "env": [], "allow_net": [], "allow_dns": False, "invoke": None,
              "precompiled_dir": None, "precompiled_manifest": None,
              "default_engine": DEFAULT_ENGINE, "func": run_command}
    i = 0
    while i < len(argv):
        token = argv[i]
        if not token.startswith("-"):
            values.update(module=token, args=argv[i + 1:])
            return SimpleNamespace(**values)
        name, has_value, value = token.partition("=")
        if name in _SIMPLE_FLAGS and not has_value:
            values[_SIMPLE_FLAGS[name]] = True
            i += 1
            continue
        if name not in _SIMPLE_VALUES and name not in _SIMPLE_LISTS:
            return None
        if not has_value:
            if i + 1 == len(argv):
                return None
            value = argv[i + 1]
        i += 1 if has_value else 2
        if not value or value.startswith("-") or (name == "--engine"
                                                  and value not in engine_names()):
            return None
        if name in _SIMPLE_LISTS:
            values[_SIMPLE_LISTS[name]].append(value)
        else:
            values[_SIMPLE_VALUES[name]] = value
    return None


def load_module(engine, path: Path) -> Module:
    if path.suffix == ARTIFACT_SUFFIX:
        if not engine.supports_artifacts:
            raise NotSupported(f"{path} is a precompiled artifact, which the {engine.kind} engine "
                               f"cannot run; use --engine aot")
        return Module.from_compiled(engine, engine.load_artifact(path))
    data = path.read_bytes()
    beside = path.with_suffix(ARTIFACT_SUFFIX)
    if engine.supports_artifacts and beside.exists():
        try:
            return Module.from_compiled(engine, engine.load_artifact(beside, source_bytes=data))
        except WasmError as exc:    # stale, foreign or corrupt: say so and compile
            print(f"pywamr: ignoring {beside}: {exc}; compiling {path.name}", file=sys.stderr)
    return Module(engine, data)


def parse_arg(valtype: int, text: str):
    try:
        if valtype in (I32, I64):
            return int(text, 0)
        if valtype in (F32, F64):
            return float(text)
        if valtype == V128:
            return v128_from_python(int(text, 0))
    except ValueError:
        raise WasmError(f"argument {text!r} is not a valid {valtype_name(valtype)}") from None
    raise NotSupported(f"cannot pass a {valtype_name(valtype)} from the command line")


def run_command(args) -> int:
    from ..wasi import WasiConfig, add_to_linker
    engine = make_engine(args)
    path = Path(args.module)
    if path.suffix != ARTIFACT_SUFFIX:
        data = path.read_bytes()
        if is_component(data):
            from .run_component import run_component
            return run_component(args, engine, path, data)
        if data[:8] != MAGIC + VERSION:
            decode_module(data)     # neither a component nor a module: say what is wrong
    if args.precompiled_dir or args.precompiled_manifest:
        raise WasmError("--precompiled-dir/--precompiled-manifest apply to components; run a "
                        "core module's .cwasm artifact instead")
    module = load_module(engine, path)
    config = WasiConfig()
    config.argv = [path.name] + list(args.args)
    env = {}
    for item in args.env:
        name, sep, value = item.partition("=")
        if not sep:
            value = os.environ.get(name, "")
        env[name] = value
    config.env = env
    for spec in args.dir:
        host, sep, guest = spec.partition("::")
        if not os.path.isdir(host):
            raise WasmError(f"--dir {spec}: {host} is not a directory")
        config.preopen_dir(host, guest if sep else host)
    linker = Linker(engine)
    add_to_linker(linker, config)
    instance = linker.instantiate(None, module)
    if args.invoke:
        func = instance.exports.get(args.invoke)
        if func is None or not hasattr(func, "type"):
            raise WasmError(f"module has no exported function {args.invoke!r}")
        params = func.type.params
        if len(args.args) != len(params):
            raise WasmError(f"{args.invoke} expects {len(params)} arguments, got {len(args.args)}")
        result = func(*[parse_arg(t, a) for t, a in zip(params, args.args)])
        results = () if result is None else (result if isinstance(result, tuple) else (result,))
        sys.stdout.flush()
        for valtype, value in zip(func.type.results, results):
            print(format_v128(value) if valtype == V128 else value)
        return 0
    start = instance.exports.get("_start")
    if start is None:
        raise WasmError("module exports no _start function; use --invoke NAME to call an export")
    start()
    return 0
