"""Native adapters transcoding strings between two encodings (aot/adapter_strings.py): every
pair of utf8, utf16 and latin1+utf16, against interp and wasmtime, with the `realloc` calls of
both sides logged and compared to interp's (the spec's sequence: optimistic size, growth,
shrink); the native path proved by counters (only the texts the native checks refuse go to
Python: UTF-16 with surrogate pairs, Latin-1 tagged UTF-16); a bad `realloc` result at each
step of each pair traps exactly as on interp.
"""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from pywamr import Engine  # noqa: E402
from pywamr.component import Component, Linker  # noqa: E402
from pywamr.errors import Trap  # noqa: E402
from pywamr_testlib import wat  # noqa: E402
from adapter_components import memory_component_text  # noqa: E402
from test_native_adapters import (_count_python_calls, _wasmtime_caller,  # noqa: E402
                                  require_aot_engine)

ENCODINGS = ["utf8", "utf16", "latin1+utf16"]
PAIRS = [(a, b) for a in ENCODINGS for b in ENCODINGS if a != b]
TEXTS = ["", "hello", "h\u00e9llo w\u00f6rld", "x" * 300, "\u00ff", "\u00e9" * 50,
         "\u0100", "a\u07ff\u0800\uffff", "ascii then \u00e9 then \u2603",
         "\u00e9" * 3 + "\u20ac" + "z" * 20, "snow \u2603 clef \U0001d11e"]


def _needs_python(text: str, encoding: str) -> bool:
    """Whether the native checks refuse a string of `text` in `encoding` (the source)."""
    if encoding == "utf16":
        return any(ord(c) > 0xFFFF for c in text)
    if encoding == "latin1+utf16":
        return any(ord(c) > 0xFF for c in text)     # stored tagged UTF-16
    return False


def _instantiate(kind: str, data: bytes):
    engine = Engine(kind)
    return Linker(engine).instantiate(Component(engine, data))


@pytest.mark.parametrize("caller,callee", PAIRS)
def test_transcoding_matches_interp_and_wasmtime(caller, callee):
    require_aot_engine()
    from pywamr.component.abi import native
    data = wat(memory_component_text(callee, caller))
    reference = _wasmtime_caller(data)
    interp = _instantiate("interp", data)
    before = native.stats.attached
    aot = _instantiate("aot", data)
    assert native.stats.attached - before == 7
    python_calls = _count_python_calls(aot)
    slow, results = native.stats.slow_calls, native.stats.result_calls
    for text in TEXTS:
        assert reference("call-echo-string", text) == text
        assert interp.exports["call-echo-string"](text) == text
        assert aot.exports["call-echo-string"](text) == text
    assert python_calls[0] == 0
    assert native.stats.slow_calls - slow == sum(_needs_python(t, caller) for t in TEXTS)
    # the result comes back from the callee's encoding unless the call went to Python
    assert native.stats.result_calls - results == sum(
        _needs_python(t, callee) and not _needs_python(t, caller) for t in TEXTS)
    for log in ("rlog-a", "rlog-b"):
        assert aot.exports[log]() == interp.exports[log](), log


@pytest.mark.parametrize("caller,callee", PAIRS)
@pytest.mark.parametrize("bad", [1, 0xFFFFFF00])
def test_transcoding_realloc_traps_match_interp(caller, callee, bad):
    """A's `realloc` returns `bad` (misaligned, or past the end of memory) at its first,
    second or third call of an argument's transcoding: the same trap (code and message) on
    both engines, or the same result when that call is not made or `bad` is acceptable."""
    require_aot_engine()
    data = wat(memory_component_text(callee, caller))
    for skip in range(3):
        for text in ("\u00e9t\u00e9 \u2603", "plain ascii text", "caf\u00e9"):
            got = []
            for kind in ("interp", "aot"):
                handle = _instantiate(kind, data)
                handle.exports["set-skip"](skip)
                handle.exports["set-bad"](bad)
                try:
                    got.append(handle.exports["call-echo-string"](text))
                except Trap as trap:
                    got.append((trap.code, str(trap).split("\n")[0]))
            assert got[0] == got[1], (skip, text)
