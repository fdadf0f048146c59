"""Comparing a pywamr `Outcome` with wasmtime's: pass, mismatch, inconclusive or escaped.

Rules (from the fuzzing brief):
- a Python exception escaping pywamr is always a failure ("escaped"), whatever wasmtime did;
- pywamr refusing the module or a call as not supported (`NotSupported`: a feature it lacks, such
  as SIMD before the engines have it) is "not supported", its own count: neither a pass nor a
  mismatch, unless a real mismatch came before it;
- where exactly one side exhausts its call stack, the engines' stack limits differ and nothing
  after that point can be compared (state diverges): the case is "inconclusive", never a pass;
- otherwise instantiation, every call's result (values, or trap versus no trap and the trap
  kind), the log of host function calls, then the final exported globals, memory bytes and
  tables (size, null elements) and the host objects' final states must be equal; values compare
  with `values.values_equal` (exact, but a v128 NaN lane equals any NaN in that lane).
"""
from __future__ import annotations

from dataclasses import dataclass, field

from .outcome import STACK, Outcome
from .values import values_equal

PASS, MISMATCH, INCONCLUSIVE, ESCAPED = "pass", "mismatch", "inconclusive", "escaped"
UNSUPPORTED = "not supported"
MAX_DETAILS = 6


@dataclass
class Verdict:
    status: str
    calls: int = 0                   # calls compared
    details: list[str] = field(default_factory=list)

    @property
    def failed(self) -> bool:
        return self.status in (MISMATCH, ESCAPED)


def _is_stack(result: list) -> bool:
    return result[:2] == ["trap", STACK]


def _is_unsupported(result: list) -> bool:
    return result[0] == "unsupported"


def _results_equal(want: list, got: list) -> bool:
    """Two call results: equal status and, for ["ok", keys...], pairwise equal values."""
    if want == got:
        return True
    return (want[0] == got[0] == "ok" and len(want) == len(got)
            and all(map(values_equal, want[1:], got[1:])))


def _first_difference(a: bytes, b: bytes) -> str:
    for offset, (x, y) in enumerate(zip(a, b)):
        if x != y:
            return f"first difference at byte {offset:#x}: expected {x:#04x}, got {y:#04x}"
    return f"lengths {len(a)} and {len(b)}"


def _compare_state(expected: Outcome, actual: Outcome, details: list[str]) -> None:
    for label, want, got in (("global", expected.globals, actual.globals),
                             ("memory", expected.memories, actual.memories),
                             ("table", expected.tables, actual.tables)):
        for name in sorted(set(want) | set(got)):
            a, b = want.get(name), got.get(name)
            if a != b and not (label == "global" and a and b and values_equal(a, b)):
                text = f"{label} {name!r}: expected {want.get(name)}, got {got.get(name)}"
                if label == "memory" and name in expected.memory_bytes \
                        and name in actual.memory_bytes:
                    text += " (" + _first_difference(expected.memory_bytes[name],
                                                     actual.memory_bytes[name]) + ")"
                details.append(text)


def compare(expected: Outcome, actual: Outcome) -> Verdict:
    """`expected` comes from wasmtime, `actual` from a pywamr engine."""
    if actual.escaped:
        return Verdict(ESCAPED, details=[f"escaped: {text}"
                                         for text in dict.fromkeys(actual.escaped)])
    if _is_unsupported(actual.instantiation):
        return Verdict(UNSUPPORTED, details=[f"instantiation: {actual.instantiation[1]}"])
    if expected.instantiation != actual.instantiation:
        if _is_stack(expected.instantiation) != _is_stack(actual.instantiation):
            return Verdict(INCONCLUSIVE, details=["stack exhausted on one side (instantiation)"])
        return Verdict(MISMATCH, details=[f"instantiation: expected {expected.instantiation}, "
                                          f"got {actual.instantiation}"])
    details: list[str] = []
    compared = 0
    for want, got in zip(expected.calls, actual.calls):
        if want[:2] != got[:2]:
            details.append(f"call order differs: expected {want[:2]}, got {got[:2]}")
            break
        if _is_unsupported(got[2]):
            note = f"call {want[0]!r} argument set {want[1]}: {got[2][1]}"
            if details:
                return Verdict(MISMATCH, compared, (details + [note])[:MAX_DETAILS])
            return Verdict(UNSUPPORTED, compared, [note])
        if want[2] != got[2] and _is_stack(want[2]) != _is_stack(got[2]):
            return Verdict(INCONCLUSIVE, compared, details + [
                f"stack exhausted on one side: {want[0]!r} argument set {want[1]}: "
                f"expected {want[2]}, got {got[2]}"])
        compared += 1
        if not _results_equal(want[2], got[2]):
            details.append(f"call {want[0]!r} argument set {want[1]}: expected {want[2]}, "
                           f"got {got[2]}")
    if len(expected.calls) != len(actual.calls):
        details.append(f"{len(expected.calls)} calls expected, {len(actual.calls)} made")
    if expected.host_log != actual.host_log:
        pairs = zip(expected.host_log, actual.host_log)
        at = next((i for i, (a, b) in enumerate(pairs) if a != b),
                  min(len(expected.host_log), len(actual.host_log)))
        details.append(f"host calls differ from call {at}: expected "
                       f"{expected.host_log[at:at + 1]}, got {actual.host_log[at:at + 1]} "
                       f"({len(expected.host_log)} and {len(actual.host_log)} calls)")
    _compare_state(expected, actual, details)
    if details:
        return Verdict(MISMATCH, compared, details[:MAX_DETAILS])
    return Verdict(PASS, compared)
