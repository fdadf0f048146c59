"""Drive a converted `.wast` script against the embedding API and judge every command.

The strict rules (messages, later-proposal excuses) are described in the package docstring;
the facts they rest on are in `expect.py`, the harness values in `harness.py`.
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from ..engine import Engine, Linker, Module
from ..engine.api import Instance
from ..errors import DecodeError, LinkError, NotSupported, Trap, ValidationError, WasmError
from ..runtime.objects import Function, Global
from ..runtime.trapping import call_guarded
from .expect import (import_namespaces, later_proposal_modules, link_error_agrees, module_index,
                     trap_agrees)
from .harness import WastError, convert, matches, parse_value, spectest_externs


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

    `unsupported` commands are those excused by a later proposal (see the package docstring);
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



# ---- the script runner ------------------------------------------------------------------
class ScriptRunner:
    """Drives one converted script; `later` is `later_proposal_modules` of the script.

    Subclasses (other kinds of modules, e.g. components) extend it through `load(filename)`,
    `instantiate(module)`, `perform(action)` and `command(cmd)`, which returns an outcome
    (`("pass" | "fail" | "skip" | "ignore", reason)`) or raises."""

    def __init__(self, engine: Engine, json_path: Path, result: FileResult,
                 later: dict[int, tuple[str, ...]] | None = None):
        self.engine = engine
        self.dir = json_path.parent
        self.json_path = json_path
        self.result = result
        self.later = later or {}
        self.registered: dict[str, dict | _Absent] = {"spectest": spectest_externs()}
        self.instances: dict[str, Instance | _Absent] = {}
        self.definitions: dict[str, tuple[str, Module] | _Absent] = {}
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
        try:
            return self.command(cmd)
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

    def command(self, cmd: dict) -> tuple[str, str]:
        handler = self.handlers.get(cmd["type"])
        if handler is None:
            raise NotSupported(f"command {cmd['type']}")
        return handler(cmd)

    # -- modules -----------------------------------------------------------------------
    def load(self, filename: str) -> Module:
        """Decode and validate a module of the script. A listed later-proposal module that is
        refused raises `_Unsupported`."""
        try:
            return Module(self.engine, (self.dir / filename).read_bytes())
        except (NotSupported, DecodeError, ValidationError) as exc:
            raise self.excuse(filename, None, exc) or exc

    def excuse(self, filename: str, module, exc: WasmError) -> Exception | None:
        """The `_Unsupported`/`_SkipCommand` that excuses `exc`, a failure of the module in
        `filename`, or None: the module is listed as a later proposal and was refused, or it
        imports from a namespace whose module pywamr does not have."""
        features = self.later.get(module_index(filename))
        if features and isinstance(exc, (NotSupported, DecodeError, ValidationError)):
            why = f"a {'+'.join(features)} module, refused: {exc}"
            self.mark_imported_instances(filename, why)
            return _Unsupported(why)
        for imp in module.syntax.imports if isinstance(module, Module) else ():
            absent = self.registered.get(imp.module)
            if isinstance(absent, _Absent):
                return absent.error(f"imports from {imp.module!r}, registered from")
        return None

    def mark_imported_instances(self, filename: str, why: str) -> None:
        """A refused module would have changed the state (table elements, memory data) of the
        instances it imports from: failures on them depend on it. When its imports cannot be
        read, every registered instance is marked."""
        namespaces = import_namespaces((self.dir / filename).read_bytes())
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

    def instantiate(self, module: Module) -> Instance:
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

    def instantiate_expected(self, filename: str, module: Module) -> Instance:
        """Instantiate a module the script expects to instantiate."""
        try:
            return self.instantiate(module)
        except WasmError as exc:
            raise self.excuse(filename, module, exc) or exc

    def attempt(self, cmd: dict) -> tuple[Module, WasmError | None]:
        """Instantiate a module the script expects to fail; returns the error, if any."""
        module = self.load(cmd["filename"])
        try:
            self.instantiate(module)
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
            instance = self.instantiate_expected(cmd["filename"], self.load(cmd["filename"]))
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
            self.definitions[name] = (cmd["filename"], self.load(cmd["filename"]))
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
        instance = self.instantiate_expected(*definition)
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
        if isinstance(exc, Trap) and self.trap_agrees(expected, exc):
            return ("pass", "")
        if exc is not None and (excused := self.excuse(cmd["filename"], module, exc)):
            raise excused
        if isinstance(exc, Trap):
            return self.judge_trap(expected, exc)
        return ("fail", f"expected trap {expected!r} at instantiation, got "
                        + (f"{type(exc).__name__}: {exc}" if exc else "an instance"))

    @staticmethod
    def trap_agrees(expected: str, trap: Trap) -> bool:
        return trap_agrees(expected, trap)

    @staticmethod
    def link_error_agrees(expected: str, error: LinkError) -> bool:
        return link_error_agrees(expected, error)

    @staticmethod
    def refusal_agrees(expected: str, error: NotSupported) -> bool:
        """Whether refusing a module as not supported is the rejection the script expects
        (never, for the core spec: a refusal is not a judgement)."""
        return False

    def judge_trap(self, expected: str, trap: Trap):
        if self.trap_agrees(expected, trap):
            return ("pass", "")
        return ("fail", f"expected trap {expected!r}, got trap {trap.message!r}")

    def assert_unlinkable(self, cmd: dict):
        expected = cmd.get("text", "")
        module, exc = self.attempt(cmd)
        if isinstance(exc, LinkError) and self.link_error_agrees(expected, exc):
            return ("pass", "")
        if exc is not None and (excused := self.excuse(cmd["filename"], module, exc)):
            raise excused
        return ("fail", f"expected link error {expected!r}, got "
                        + (f"{type(exc).__name__}: {exc}" if exc else "an instance"))

    def assert_rejected(self, cmd: dict):
        """assert_invalid and assert_malformed: the module must be refused as such."""
        t = cmd["type"]
        if cmd.get("module_type") == "text":
            return ("skip", _TEXT_REASON)
        try:
            self.load(cmd["filename"])
        except NotSupported as exc:
            if self.refusal_agrees(cmd.get("text") or "", exc):
                return ("pass", "")
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
            self.load(cmd["filename"])
        except (DecodeError, ValidationError):
            return ("fail", "custom sections must not make a module malformed or invalid")
        return ("pass", "")

    def assert_exception(self, cmd: dict):
        self.target(cmd["action"])
        raise NotSupported(f"{cmd['type']} (exception handling / stack switching)")


def run_file(path: str | os.PathLike, engine: Engine,
             later: dict[int, tuple[str, ...]] | None = None, runner=None) -> FileResult:
    """Run one `.wast` (or converted `.json`) script. `later` defaults to the script's
    `later_proposal_modules`; `runner` is a `ScriptRunner` subclass to drive it."""
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
    (runner or ScriptRunner)(engine, json_path, result, later).run()
    return result
