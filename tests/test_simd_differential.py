"""Every SIMD and relaxed-SIMD instruction that does not touch memory, on pywamr against the
`wasmtime` package: the same module (tests/simd_oracle.py), the same operands (edge-case and
random lanes, a fixed seed per instruction), bit-identical results expected. Relaxed SIMD is
held to wasmtime's x86-64 choices (runtime/relaxed.py documents them)."""
from __future__ import annotations

import random
import struct

import pytest

from pywamr_testlib import wat
from simd_oracle import (PywamrSide, WasmtimeSide, describe, fixed_simd_ops, operands,
                         result_bytes, wrapper_module)

CALLS_PER_OP = {"simd": 100, "relaxed-simd": 400}


@pytest.fixture(scope="module")
def sides():
    pytest.importorskip("wasmtime", reason="the wasmtime oracle is not installed")
    text, exports = wrapper_module(fixed_simd_ops())
    wasm = wat(text)
    return exports, PywamrSide(wasm), WasmtimeSide(wasm)


def _compare(sides, feature):
    exports, ours, theirs = sides
    mismatches = []
    checked = 0
    for name, info in exports:
        if info.feature != feature:
            continue
        rng = random.Random(f"{info.name}/{name}")
        size = len(result_bytes(info, bytes(80)))
        for _ in range(CALLS_PER_OP[feature]):
            data = operands(info, rng)
            a, b = ours.run(name, data, size), theirs.run(name, data, size)
            checked += 1
            if a != b:
                mismatches.append(describe(info, data, a, b))
    return checked, mismatches


def test_simd_instructions_match_wasmtime(sides):
    checked, mismatches = _compare(sides, "simd")
    assert checked > 200 * CALLS_PER_OP["simd"]
    assert not mismatches, f"{len(mismatches)} mismatches, e.g. " + "\n".join(mismatches[:10])


def test_relaxed_simd_instructions_match_wasmtime(sides):
    checked, mismatches = _compare(sides, "relaxed-simd")
    assert checked == 20 * CALLS_PER_OP["relaxed-simd"]
    assert not mismatches, f"{len(mismatches)} mismatches, e.g. " + "\n".join(mismatches[:10])


def _f32(bits: int) -> float:
    return struct.unpack("<f", struct.pack("<I", bits))[0]


def _f32_bits(x: float) -> int:
    return struct.unpack("<I", struct.pack("<f", x))[0]


def _fma_cases(rng: random.Random) -> list:
    """(width, a, b, c) lane bit patterns that tell a fused multiply-add from an unfused one,
    and a correctly rounded one from one rounded twice (to f64, then to f32)."""
    cases = []
    for _ in range(40):
        # c = -(a * b rounded): the fused result is the rounding error of the product
        a, b = rng.getrandbits(23) | 0x3F800000, rng.getrandbits(23) | 0x3F800000
        cases.append((32, a, b, _f32_bits(-_f32(a) * _f32(b)) ^ 0))
        x, y = rng.getrandbits(52) | 0x3FF << 52, rng.getrandbits(52) | 0x3FF << 52
        fx, fy = struct.unpack("<2d", struct.pack("<2Q", x, y))
        cases.append((64, x, y, struct.unpack("<Q", struct.pack("<d", -(fx * fy)))[0]))
        # just below an f32 midpoint: X + ulp/2 * (1 - 2**-46) lands on the midpoint in f64
        exponent = rng.randrange(30, 200)
        big = exponent << 23 | rng.getrandbits(22) << 1 | 1          # odd significand
        half_ulp = (exponent - 24) << 23 | 1                       # ulp/2 * (1 + 2**-23)
        cases.append((32, half_ulp, 0x3F7FFFFE, big))               # * (1 - 2**-23)
        cases.append((32, half_ulp ^ 0x80000000, 0x3F7FFFFE, big ^ 0x80000000))
    return cases


def test_fused_multiply_add_matches_wasmtime(sides):
    exports, ours, theirs = sides
    names = {info.name: name for name, info in exports}
    mismatches = []
    for width, a, b, c in _fma_cases(random.Random(7)):
        shape = "f32x4" if width == 32 else "f64x2"
        for op in ("relaxed_madd", "relaxed_nmadd"):
            info = next(i for _, i in exports if i.name == f"{shape}.{op}")
            lanes = 128 // width
            data = b"".join(sum(v << (width * i) for i in range(lanes)).to_bytes(16, "little")
                            for v in (a, b, c))
            x = ours.run(names[info.name], data, 16)
            y = theirs.run(names[info.name], data, 16)
            if x != y:
                mismatches.append(describe(info, data, x, y))
    assert not mismatches, f"{len(mismatches)} mismatches, e.g. " + "\n".join(mismatches[:10])
