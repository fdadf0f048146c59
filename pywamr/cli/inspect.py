"""`pywamr inspect FILE.wasm`: print the imports and exports of a component (as WIT) or of a
core module (with their core types).

Thin over the public pieces: decoding and validation of `pywamr.binary` / `pywamr.validate`
for core modules, `pywamr.component.validate` and `pywamr.component.wit` for components.
Instantiates nothing. Bad input surfaces as a WasmError, which `cli/main.py` turns into one
line and exit status 1.
"""
from __future__ import annotations

from pathlib import Path

from ..errors import DecodeError


def add_parser(sub) -> None:
    p = sub.add_parser("inspect", help="print the imports and exports of a module or component")
    p.add_argument("file", help="a .wasm core module or component")
    p.set_defaults(func=inspect_command)


def inspect_command(args) -> int:
    path = Path(args.file)
    print(describe(path.read_bytes(), path.stem), end="")
    return 0


def describe(data: bytes, name: str = "root") -> str:
    """The text `pywamr inspect` prints for the bytes of a module or component."""
    # imported here, not at the top: every `pywamr` command builds this module's parser, and
    # a `pywamr run` of a core module should not pay for importing the component layers
    from ..binary.decoder import decode_module, is_component
    from ..component.validate import decode_and_validate, module_type_of
    from ..component.wit import core_module_lines, world
    from ..validate.module import validate_module
    if len(data) < 8 or data[:4] != b"\0asm":
        raise DecodeError("not a WebAssembly file: magic header not detected", 0)
    if is_component(data):
        validated = decode_and_validate(data)
        return world(validated.type, _world_name(name))
    validated = validate_module(decode_module(data), data)
    mt = module_type_of(validated)
    lines = ["(module"] + core_module_lines(mt, 1) + [")"]
    return "\n".join(lines) + "\n"


def _world_name(stem: str) -> str:
    cleaned = "".join(c if c.isalnum() else "-" for c in stem.lower()).strip("-")
    while "--" in cleaned:
        cleaned = cleaned.replace("--", "-")
    return cleaned if cleaned[:1].isalpha() else "root"
