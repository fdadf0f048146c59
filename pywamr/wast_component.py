"""Component commands of `.wast` scripts: the Component Model's and wasmtime's component tests.

Extends the core script runner of `wast.py`: a `module` command whose binary is a component is
decoded, validated and planned as one, `invoke` actions call component exports with the typed
values of wasm-tools' JSON (`{"type": "record", "value": [[label, value], ...]}` and so on), and
results are compared as canonical ABI values. Component instances are linked against the
`host` definitions that wasmtime's test harness provides (see `host_definitions`).

Deliberately does not run async or threading scripts: those features are not supported, and
the conformance test skips those files with that reason.
"""
from __future__ import annotations

import math
import re
import struct

from .binary.decoder import is_component
from .errors import DecodeError, NotSupported, TrapCode, ValidationError
from .runtime.trapping import call_guarded
from .wast import ScriptRunner, WastError


# ---- values ---------------------------------------------------------------------------------

def component_value(v: dict, t):
    """The canonical ABI value of a wasm-tools JSON component value of type `t`."""
    from .component.types import (EnumType, FlagsType, ListType, MapType, OptionType,
                                  PrimValType, RecordType, ResultType, TupleType, VariantType,
                                  despecialize)
    kind, value = v["type"], v.get("value")
    if isinstance(t, PrimValType):
        if kind != t.name:
            raise WastError(f"value of type {kind} given for {t.name}")
        if t.name == "bool":
            return bool(value)
        if t.name in ("f32", "f64"):
            return _float(value, t.name)
        if t.name in ("char", "string"):
            return value
        return int(value)
    if isinstance(t, ListType):
        items = [component_value(x, t.elem) for x in value]
        return bytes(items) if t.elem == PrimValType("u8") else items
    if isinstance(t, MapType):
        # the text format has no map constant: a script writes the list of (key, value)
        # tuples that the map despecializes to
        return component_value(v, despecialize(t))
    if isinstance(t, TupleType):
        return tuple(component_value(x, e) for x, e in zip(value, t.elems))
    if isinstance(t, RecordType):
        given = dict(value)
        return {f.label: component_value(given[f.label], f.t) for f in t.fields}
    if isinstance(t, EnumType):
        return value
    if isinstance(t, FlagsType):
        return frozenset(value)
    if isinstance(t, OptionType):
        return ("none", None) if value is None else ("some", component_value(value, t.t))
    if isinstance(t, ResultType):
        (label, payload), = value.items()
        label = "ok" if label.lower() == "ok" else "error"
        payload_type = t.ok if label == "ok" else t.error
        return (label, None if payload is None or payload_type is None
                else component_value(payload, payload_type))
    if isinstance(t, VariantType):
        case = value["case"]
        payload_type = next((c.t for c in t.cases if c.label == case), None)
        payload = value.get("payload")
        return (case, None if payload is None or payload_type is None
                else component_value(payload, payload_type))
    raise NotSupported(f"script values of type {t} are not supported")


def _float(value, name: str) -> float:
    if isinstance(value, str):
        if value.startswith("nan"):
            return math.nan
        bits = int(value)
        return struct.unpack("<f" if name == "f32" else "<d",
                             struct.pack("<I" if name == "f32" else "<Q", bits))[0]
    return float(value)


def same_value(a, b) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return (math.isnan(a) and math.isnan(b)) or (a == b and math.copysign(1, a) ==
                                                      math.copysign(1, b))
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(same_value(x, y) for x, y in zip(a, b))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same_value(a[k], b[k]) for k in a)
    return a == b


# ---- the host of wasmtime's component tests ---------------------------------------------------

class Resource1:
    """`host.resource1` of wasmtime's test harness: a rep, and drop bookkeeping."""
    drops = 0
    last_drop = 0

    def __init__(self, rep: int):
        self.rep = rep

    def drop(self) -> None:
        Resource1.drops += 1
        Resource1.last_drop = self.rep


def _check_rep(obj, rep: int) -> None:
    if obj.rep != rep:
        raise AssertionError(f"resource1 rep {obj.rep} != {rep}")


# (module (global (export "g") i32 (i32.const 100)) (func (export "f") (result i32) i32.const 101))
SIMPLE_MODULE = bytes.fromhex(
    "0061736d01000000"          # magic, version
    "0105016000017f"            # types: () -> i32
    "03020100"                  # funcs: one of type 0
    "0607017f0041e4000b"        # globals: i32 immutable, i32.const 100
    "0709020167030001660000"    # exports: "g" global 0, "f" func 0
    "0a0701050041e5000b"        # code: i32.const 101
)


def host_definitions(linker) -> None:
    """Define what wasmtime's component test harness provides (see the conformance README)."""
    Resource1.drops = 0
    Resource1.last_drop = 0
    linker.define_func(None, "host-return-two", lambda: 2)
    resource1 = linker.define_resource("host", "resource1", Resource1)
    linker.define_resource("host", "resource2")
    linker.resources[("host", "resource1-again")] = resource1
    from .engine.api import Module
    simple = Module(linker.engine, SIMPLE_MODULE)
    linker.define_instance("host", {
        "return-three": lambda: 3,
        "return-hi": lambda: "hi",
        "nested": {"return-four": lambda: 4},
        "simple-module": simple,
        "[constructor]resource1": Resource1,
        "[static]resource1.assert": lambda r, rep: _check_rep(r, rep),
        "[static]resource1.last-drop": lambda: Resource1.last_drop,
        "[static]resource1.drops": lambda: Resource1.drops,
        "[method]resource1.simple": lambda self, rep: _check_rep(self, rep),
        "[method]resource1.take-borrow": lambda self, other: None,
        "[method]resource1.take-own": lambda self, other: other.drop(),
    })


# ---- the runner ---------------------------------------------------------------------------------

# the proposals whose refusal excuses a component (see ComponentScriptRunner.excuse)
LATER_PROPOSAL = re.compile(r"exception|memory64|GC|function-references|"
                            r"shared memories")

# where wasmtime's trap text differs from the core spec's
WASMTIME_TRAP_TEXT = {TrapCode.UNREACHABLE: "wasm `unreachable` instruction executed"}


class ComponentScriptRunner(ScriptRunner):
    """A script runner that also handles components (see the module docstring)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.components_registered: dict = {}

    def load(self, filename: str):
        data = (self.dir / filename).read_bytes()
        if is_component(data):
            from .component import Component
            try:
                return Component(self.engine, data)
            except (NotSupported, DecodeError, ValidationError) as exc:
                raise self.excuse(filename, None, exc) or exc
        return super().load(filename)

    def instantiate(self, module):
        from .component import Component, Linker
        if not isinstance(module, Component):
            return super().instantiate(module)
        linker = Linker(self.engine)
        host_definitions(linker)
        for name, inst in self.components_registered.items():
            linker.define_instance(name, dict(inst.exports.items()))
        return linker.instantiate(module)

    def perform(self, action: dict):
        from .component.instance import ComponentInstanceHandle
        inst = self.target(action)
        if not isinstance(inst, ComponentInstanceHandle):
            return super().perform(action)
        if action["type"] != "invoke":
            raise NotSupported(f"component action {action['type']}")
        from .component import TypedFunc
        fn = inst.exports._items.get(action["field"])
        if not isinstance(fn, TypedFunc):
            raise WastError(f"no component function export {action['field']!r}")
        args = [component_value(a, t) for a, t in zip(action.get("args", []), fn.ft.param_types)]
        out = call_guarded(fn.call_abi, args)
        return [] if fn.ft.result is None else [_ComponentResult(out, fn.ft.result)]

    # wasmtime's harness, whose scripts these are, accepts a message that contains the text
    @staticmethod
    def trap_agrees(expected: str, trap) -> bool:
        expected = expected.removeprefix("wasm trap: ")
        return (ScriptRunner.trap_agrees(expected, trap) or expected in trap.message
                or expected in WASMTIME_TRAP_TEXT.get(trap.code, ""))

    @staticmethod
    def link_error_agrees(expected: str, error) -> bool:
        return ScriptRunner.link_error_agrees(expected, error) or expected in str(error)

    def excuse(self, filename: str, module, exc):
        """As the core rule, and: a component whose core modules use a later core proposal,
        refused as not supported, is counted as not supported (with the commands that depend
        on it), not as failed."""
        excused = super().excuse(filename, module, exc)
        if excused is None and isinstance(exc, NotSupported) and LATER_PROPOSAL.search(str(exc)):
            from .wast.runner import _Unsupported
            return _Unsupported(f"a component needing a later proposal, refused: {exc}")
        return excused

    @staticmethod
    def refusal_agrees(expected: str, error) -> bool:
        """A component refused as not supported with the very reason the script expects
        (wasmtime's embedder restrictions) is rejected as expected."""
        return bool(expected) and expected in str(error)

    def _is_component_target(self, action: dict) -> bool:
        from .component.instance import ComponentInstanceHandle
        name = action.get("module")
        inst = self.instances.get(name) if name else self.current
        return isinstance(inst, ComponentInstanceHandle)

    def command(self, cmd: dict):
        t = cmd["type"]
        if t == "assert_return" and self._is_component_target(cmd["action"]):
            got = self.perform(cmd["action"])
            expected = cmd["expected"]
            if len(got) != len(expected):
                return ("fail", f"expected {len(expected)} results, got {len(got)}")
            if got:
                want = component_value(expected[0], got[0].t)
                if not same_value(want, got[0].value):
                    return ("fail", f"expected {want!r}, got {got[0].value!r}")
            return ("pass", "")
        if t == "register":
            inst = self.instances.get(cmd["name"]) if cmd.get("name") else self.current
            from .component.instance import ComponentInstanceHandle
            if isinstance(inst, ComponentInstanceHandle):
                self.components_registered[cmd["as"]] = inst
                return ("ignore", "")
        outcome = super().command(cmd)
        if t in ("module", "module_instance") and outcome == ("ignore", ""):
            from .component.instance import ComponentInstanceHandle
            if isinstance(self.current, ComponentInstanceHandle):
                name = cmd.get("name") or cmd.get("instance")
                if name:
                    # wasmtime's harness: a named component instance can be imported by name
                    self.components_registered[name.lstrip("$")] = self.current
                return ("pass", "")
        return outcome


class _ComponentResult:
    __slots__ = ("value", "t")

    def __init__(self, value, t):
        self.value = value
        self.t = t


def run_file(path, engine):
    """Run one script (core or component commands); see `wast.run_file`."""
    from . import wast
    return wast.run_file(path, engine, runner=ComponentScriptRunner)
