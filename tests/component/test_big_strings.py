"""Strings past the Canonical ABI's 2**28-1 bytes between two components (abi/strings.py):
every encoding pair at wasmtime's limit and one past it, on both engines; the aot native
adapter's refusal of such strings and its hand-over to the Python adapter; the host's limit,
which stays the spec's.

The components are built so that no big string is ever transcoded: the callee's `realloc`
traps ("unreachable") unless allowed once, so a string within the limit reaches a `realloc`
and one past it traps "string content out-of-bounds" before. Memory growth is lazy
(runtime/zeroed.py), so a caller memory of nearly 4 GiB costs nothing until touched.

The cases with such memories run in a child process (`test_big_memory_cases_in_child_process`),
where every component is compiled before any memory grows: once memories of 4 GiB have come
and gone, a later LLVM JIT link in the same process can abort in RuntimeDyld (a relocation
overflow, `isInt<32>(RealOffset)`), which would take a pytest worker and its other tests down.
"""
from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pywamr import Engine  # noqa: E402
from pywamr.component import Component, Linker  # noqa: E402
from pywamr.errors import Trap, TrapCode  # noqa: E402
from pywamr_testlib import ENGINES, wat  # noqa: E402

CALLEE = """
  (component $A
    (core module $m
      (memory (export "m") 1)
      (global $allow (mut i32) (i32.const 0))
      (func (export "f") (param i32 i32) unreachable)
      (func (export "realloc") (param i32 i32 i32 i32) (result i32)
        (local $pages i32)
        (if (i32.eqz (global.get $allow)) (then unreachable))
        (global.set $allow (i32.const 0))
        (local.set $pages (i32.shr_u (i32.add (local.get 3) (i32.const 65535)) (i32.const 16)))
        (if (i32.lt_u (memory.size) (local.get $pages))
          (then (if (i32.eq (memory.grow (i32.sub (local.get $pages) (memory.size)))
                            (i32.const -1)) (then unreachable))))
        (i32.const 0))
      (func (export "allow") (global.set $allow (i32.const 1))))
    (core instance $i (instantiate $m))
    (func (export "take") (param "x" string)
      (canon lift (core func $i "f") (memory (core memory $i "m"))
        (realloc (core func $i "realloc")) string-encoding=DST))
    (func (export "allow") (canon lift (core func $i "allow"))))
  (instance $a (instantiate $A))
"""

CALLER = """
  (component $B
  (import "a" (instance $a (export "take" (func (param "x" string)))))
  (core module $libc (memory (export "mem") 1))
  (core instance $libc (instantiate $libc))
  (core func $take (canon lower (func $a "take") string-encoding=SRC
    (memory (core memory $libc "mem"))))
  (core module $m
    (import "" "take" (func $take (param i32 i32)))
    (import "" "mem" (memory 1))
    (func (export "send") (param i32) (call $take (i32.const 0) (local.get 0)))
    (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0)))
    (func (export "store8") (param i32 i32) (i32.store8 (local.get 0) (local.get 1))))
  (core instance $i (instantiate $m (with "" (instance
    (export "take" (func $take)) (export "mem" (memory $libc "mem"))))))
  (func (export "send") (param "len" u32) (canon lift (core func $i "send")))
  (func (export "grow") (param "pages" u32) (result s32) (canon lift (core func $i "grow")))
  (func (export "store8") (param "addr" u32) (param "val" u8)
    (canon lift (core func $i "store8"))))
  (instance $b (instantiate $B (with "a" (instance $a))))
  (export "send" (func $b "send"))
  (export "grow" (func $b "grow"))
  (export "store8" (func $b "store8"))
  (export "allow" (func $a "allow"))
"""


def component_text(src: str, dst: str) -> str:
    return "(component" + CALLEE.replace("DST", dst) + CALLER.replace("SRC", src) + ")"


L1U = "latin1+utf16"
TAG = 1 << 31
# (caller encoding, callee encoding, bytes stored at 0 first (then one realloc is allowed),
#  the largest length passed, the first refused). Lengths are the caller's (tagged) code units.
LIMITS = [
    ("utf8", "utf8", b"", 0x7fff_ffff, 0x8000_0000),
    ("utf8", "utf16", b"", 0x3fff_ffff, 0x4000_0000),           # worst case up front
    ("utf8", L1U, b"", 0x7fff_ffff, 0x8000_0000),
    ("utf8", L1U, b"\xc4\x80", 0x3fff_ffff, 0x4000_0000),       # inflation to UTF-16
    ("utf16", "utf8", b"", 0x3fff_ffff, 0x4000_0000),
    ("utf16", "utf8", b"\xff\x00", 715827882, 715827883),       # worst case 3 bytes a unit
    ("utf16", "utf16", b"", 0x3fff_ffff, 0x4000_0000),
    ("utf16", L1U, b"", 0x3fff_ffff, 0x4000_0000),
    ("utf16", L1U, b"\x00\x01", 0x3fff_ffff, 0x4000_0000),
    (L1U, "utf8", b"", 0x3fff_ffff, None),                       # Latin-1: no limit but memory
    (L1U, "utf8", b"\xff", 0x3fff_ffff, 0x4000_0000),           # growth to 2 bytes a unit
    (L1U, "utf8", b"", TAG | 0x3fff_ffff, TAG | 0x4000_0000),   # tagged UTF-16
    (L1U, "utf8", b"\xff", TAG | 715827882, TAG | 715827883),
    (L1U, "utf16", b"", 0x3fff_ffff, 0x4000_0000),
    (L1U, "utf16", b"", TAG | 0x3fff_ffff, TAG | 0x4000_0000),
    (L1U, L1U, b"", 0x7fff_ffff, None),
    (L1U, L1U, b"", TAG | 0x3fff_ffff, TAG | 0x4000_0000),
]


CHILD = os.environ.get("PYWAMR_BIG_STRINGS_CHILD") == "1"
in_child = pytest.mark.skipif(not CHILD, reason="grows memories to 4 GiB: runs in a child "
                              "process (test_big_memory_cases_in_child_process)")
_COMPILED: dict = {}


def _compiled(engine_kind: str, src: str, dst: str):
    """(linker, component) per engine and pair: compiled (and JIT-linked) once."""
    key = (engine_kind, src, dst)
    if key not in _COMPILED:
        engine = Engine(engine_kind)
        _COMPILED[key] = (Linker(engine), Component(engine, wat(component_text(src, dst))))
        _COMPILED[key][0].instantiate(_COMPILED[key][1])       # links every core module
    return _COMPILED[key]


@pytest.fixture(scope="module", autouse=True)
def _compile_first():
    """In the child, compile every pair on every engine before any memory grows."""
    if CHILD:
        for engine_kind in [e if isinstance(e, str) else e.values[0] for e in ENGINES]:
            for src, dst in {(s, d) for s, d, *_ in LIMITS}:
                try:
                    _compiled(engine_kind, src, dst)
                except Exception:       # an unavailable engine: its tests say so
                    break
    yield


def _fresh(engine_kind: str, src: str, dst: str, prefix: bytes, grow: bool = True):
    linker, component = _compiled(engine_kind, src, dst)
    handle = linker.instantiate(component)
    ex = handle.exports
    if grow:
        assert ex["grow"](65530) == 1
    if prefix:
        ex["allow"]()
        for i, b in enumerate(prefix):
            ex["store8"](i, b)
    return handle


def _trap(call) -> Trap:
    with pytest.raises(Trap) as info:
        call()
    return info.value


@in_child
@pytest.mark.parametrize("engine_kind", ENGINES)
@pytest.mark.parametrize("src,dst,prefix,ok,over", LIMITS,
                         ids=[f"{s}-{d}-{p.hex() or 'plain'}-{ok:#x}" for s, d, p, ok, _ in LIMITS])
def test_pair_at_its_limit(engine_kind, src, dst, prefix, ok, over):
    # in bounds and at the limit: the callee's `realloc` is reached (and traps)
    trap = _trap(lambda: _fresh(engine_kind, src, dst, prefix).exports["send"](ok))
    assert trap.code is TrapCode.UNREACHABLE, trap
    # out of bounds of the caller's memory (not grown): refused before any `realloc`
    trap = _trap(lambda: _fresh(engine_kind, src, dst, b"", grow=False).exports["send"](ok))
    assert trap.code is TrapCode.MEMORY_OUT_OF_BOUNDS, trap
    assert "string content out-of-bounds" in str(trap.message)
    if over is not None:
        # one past the limit, in bounds: refused before the `realloc` it would need
        trap = _trap(lambda: _fresh(engine_kind, src, dst, prefix).exports["send"](over))
        assert trap.code is TrapCode.MEMORY_OUT_OF_BOUNDS, trap
        assert "string content out-of-bounds" in str(trap.message)


# (encoding, the largest length the native adapter copies itself, the first it hands over)
NATIVE_BOUNDARY = [
    ("utf8", (1 << 28) - 1, 1 << 28),
    ("utf16", (1 << 27) - 1, 1 << 27),
    (L1U, (1 << 28) - 1, 1 << 28),
]


@in_child
@pytest.mark.parametrize("enc,native_max,handed_over", NATIVE_BOUNDARY)
def test_native_adapter_hands_big_strings_to_python(enc, native_max, handed_over):
    """Between two sides of one encoding on aot, the native adapter copies strings up to the
    spec's 2**28-1 bytes itself and hands longer ones (and tagged UTF-16) to the Python
    adapter, which applies wasmtime's limits: both reach the callee's `realloc` alike."""
    from pywamr_testlib import require_aot
    require_aot()
    from pywamr.component.abi import native
    attached = native.stats.attached
    handle = _fresh("aot", enc, enc, b"")
    assert native.stats.attached > attached, "no native adapter: this test proves nothing"
    assert native.enabled()
    send = handle.exports["send"]
    cases = [(native_max, 0), (handed_over, 1), (0x3fff_ffff, 1)]
    if enc == L1U:
        cases.append((TAG | 0x3fff_ffff, 1))
    for length, slow_calls in cases:
        slow = native.stats.slow_calls
        trap = _trap(lambda: _fresh("aot", enc, enc, b"").exports["send"](length))
        assert trap.code is TrapCode.UNREACHABLE, (length, trap)
        assert native.stats.slow_calls - slow == slow_calls, length
    slow = native.stats.slow_calls
    trap = _trap(lambda: send(0x7fff_ffff if enc != "utf16" else 0x4000_0000))
    assert trap.code is (TrapCode.UNREACHABLE if enc != "utf16"
                         else TrapCode.MEMORY_OUT_OF_BOUNDS), trap
    assert native.stats.slow_calls - slow == 1


def _cx(peer: bool, encoding: str = "utf8", size: int = 1 << 16):
    from pywamr.component.abi.options import CanonicalOptions, LiftLowerContext

    class Memory:
        data = bytearray(size)

    class Instance:
        may_leave = True
    return LiftLowerContext(CanonicalOptions(Memory(), encoding), Instance(), peer=peer)


def test_host_keeps_the_spec_limit_components_get_wasmtimes():
    """Lifting for the host: past 2**28-1 bytes is the spec's LENGTH_TOO_LARGE, even in
    bounds. Lifting for a component: a `GuestString` (not decoded), up to 2**31-1 bytes."""
    from pywamr.component.abi.strings import GuestString, load_string_from_range
    host, peer = _cx(False, size=1 << 28 | 16), _cx(True, size=1 << 28 | 16)
    assert load_string_from_range(host, 0, 5) == "\x00" * 5
    assert load_string_from_range(peer, 0, 5) == "\x00" * 5
    trap = _trap(lambda: load_string_from_range(host, 0, 1 << 28))
    assert trap.code is TrapCode.LENGTH_TOO_LARGE
    lazy = load_string_from_range(peer, 0, 1 << 28)
    assert type(lazy) is GuestString and lazy.units == 1 << 28 and lazy.simple == "utf8"
    assert lazy.first_above(0x80) is None
    peer.data[5:7] = "é".encode()
    assert lazy.first_above(0x80) == 5 and lazy.prefix(5) == "\x00" * 5
    trap = _trap(lambda: load_string_from_range(peer, 32, 1 << 28))
    assert trap.code is TrapCode.MEMORY_OUT_OF_BOUNDS
    trap = _trap(lambda: load_string_from_range(peer, 0, 1 << 31))
    assert trap.code is TrapCode.MEMORY_OUT_OF_BOUNDS
    assert "string content out-of-bounds" in str(trap.message)
    peer.data[9] = 0xff
    trap = _trap(lambda: load_string_from_range(peer, 0, 1 << 28).first_above(0x80))
    assert trap.code is TrapCode.INVALID_STRING


def test_host_value_past_the_spec_limit_is_refused_before_realloc():
    """A host `str` whose allocation would pass 2**28-1 bytes is a ValueError (a malformed
    host value; no `realloc` is called, the guest is not poisoned)."""
    from pywamr.component.abi.strings import store_string_into_range
    cx = _cx(False, "utf16")
    calls = []
    cx._realloc = lambda *args: calls.append(args) or 0
    with pytest.raises(ValueError, match="exceeds the canonical ABI limit"):
        store_string_into_range(cx, "a" * (1 << 27))      # 2**28 bytes of UTF-16
    assert calls == []
    assert store_string_into_range(cx, "ab") == (0, 2) and len(calls) == 1


def test_big_memory_cases_in_child_process():
    """The cases above that grow memories to 4 GiB, run in a fresh process (see the module
    docstring); all of them must pass there."""
    if CHILD:
        pytest.skip("this is the child process")
    here = Path(__file__).resolve()
    env = dict(os.environ, PYWAMR_BIG_STRINGS_CHILD="1",
               PYTHONPATH=str(here.parent.parent.parent))
    run = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:xdist", "-p",
                          "no:cacheprovider", str(here), "-k",
                          "pair_at_its_limit or native_adapter_hands"],
                         capture_output=True, text=True, env=env, timeout=600)
    summary = run.stdout.strip().splitlines()[-1] if run.stdout.strip() else run.stderr[-2000:]
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
    assert "failed" not in summary and "error" not in summary, summary
    passed = int(re.search(r"(\d+) passed", summary).group(1))
    assert passed >= len(LIMITS), summary
    print(f"\nbig-memory cases in a child process: {summary}")
