"""What a host observes when it runs one fuzz module: the engine-neutral record both runners fill.

An `Outcome` holds the instantiation result, every export call's result in call order, the
log of host function calls, and the final exported globals, memories (length and SHA-256; the
bytes are kept in memory only, to locate a difference) and tables (size and which elements are
null). Traps are named by pywamr's `TrapCode` names, with the two codes wasmtime does not
distinguish (an out-of-range `call_indirect` index is UNDEFINED_ELEMENT in the spec tests,
TABLE_OUT_OF_BOUNDS in wasmtime) merged into one.
It serialises to the JSON stored beside each regression fixture.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field

STACK = "STACK_EXHAUSTED"

_MERGED_TRAPS = {"UNDEFINED_ELEMENT": "TABLE_OUT_OF_BOUNDS"}


def trap_result(code_name: str) -> list[str]:
    return ["trap", _MERGED_TRAPS.get(code_name, code_name)]


def table_digest(nulls: list[bool]) -> str:
    """A table as its size and which elements are null (identities do not compare)."""
    return f"{len(nulls)}:" + hashlib.sha256(bytes(nulls)).hexdigest()[:16]


def memory_digest(data: bytes) -> str:
    return f"{len(data)}:{hashlib.sha256(data).hexdigest()}"


@dataclass
class Outcome:
    """`instantiation` is ["ok"], ["trap", KIND] or ["error", text]; each call is
    [export name, argument set, result] with result ["ok", value keys...], ["trap", KIND],
    ["error", text] (a non-trap failure) or ["escaped", text] (a Python exception that is not
    one of pywamr's own errors)."""
    instantiation: list = field(default_factory=lambda: ["ok"])
    calls: list = field(default_factory=list)
    globals: dict = field(default_factory=dict)
    memories: dict = field(default_factory=dict)
    tables: dict = field(default_factory=dict)
    host_log: list = field(default_factory=list)     # [host function, argument keys...]
    memory_bytes: dict = field(default_factory=dict, repr=False, compare=False)

    @property
    def escaped(self) -> list[str]:
        found = [self.instantiation[1]] if self.instantiation[0] == "escaped" else []
        return found + [c[2][1] for c in self.calls if c[2][0] == "escaped"]

    def add_memory(self, name: str, data: bytes) -> None:
        self.memories[name] = memory_digest(data)
        self.memory_bytes[name] = data

    def to_json(self) -> str:
        """JSON with one call per line (diffs of fixture expectations stay readable)."""
        calls = ",\n  ".join(json.dumps(call) for call in self.calls)
        parts = [f'"instantiation": {json.dumps(self.instantiation)}',
                 f'"calls": [\n  {calls}\n ]' if self.calls else '"calls": []']
        parts += [f'"{key}": {json.dumps(getattr(self, key), sort_keys=True)}'
                  for key in ("globals", "memories", "tables")]
        parts.append(f'"host_log": {json.dumps(self.host_log)}')
        return "{\n " + ",\n ".join(parts) + "\n}"

    @classmethod
    def from_json(cls, text: str) -> "Outcome":
        raw = json.loads(text)
        return cls(raw["instantiation"], raw["calls"], raw["globals"], raw["memories"],
                   raw["tables"], raw.get("host_log", []))
