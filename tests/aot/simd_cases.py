"""Generated SIMD test modules and inputs, shared by the differential tests of the aot engine.

Every non-memory instruction of the instruction table's SIMD family (relaxed SIMD included)
becomes one exported function `op<N>` of one module. The function takes no arguments: it
loads its operands from linear memory (operand i at byte 16 * i, read with the load of its
type) and stores its result at `RESULT` (with the store of its type). The same bytes go into
wasmtime and pywamr, so the comparison is of memory bytes, bit for bit, and needs no v128 in
the embedding API (the `wasmtime` Python package cannot pass v128 values).

Inputs are seeded random vectors salted with each lane shape's edge values (NaNs with and
without the quiet bit, infinities, signed zeros, bounds of the integer conversions, the
integer extremes). Float results of arithmetic may differ in NaN payload between two correct
implementations (the spec allows any arithmetic NaN), so those ops compare NaN lanes as "an
arithmetic NaN"; everything else, relaxed SIMD included, compares exactly.
"""
from __future__ import annotations

import random
import struct

from pywamr.binary.opcodes import OPS

RESULT = 256
_LOAD = {"i32": "i32.load", "i64": "i64.load", "f32": "f32.load", "f64": "f64.load",
         "v128": "v128.load"}
_STORE = {"i32": "i32.store", "i64": "i64.store", "f32": "f32.store", "f64": "f64.store",
          "v128": "v128.store"}
_TYPE_NAME = {0x7F: "i32", 0x7E: "i64", 0x7D: "f32", 0x7C: "f64", 0x7B: "v128"}
_LANES = {"i8x16": 16, "i16x8": 8, "i32x4": 4, "i64x2": 2, "f32x4": 4, "f64x2": 2}

# float ops whose NaN results carry an unspecified payload (any arithmetic NaN is right)
_LOOSE_NAN = ("add", "sub", "mul", "div", "sqrt", "min", "max", "ceil", "floor", "trunc",
              "nearest", "demote_f64x2_zero", "promote_low_f32x4", "relaxed_madd",
              "relaxed_nmadd")


class Case:
    """One instruction instance: its WAT text, operand types, result type."""

    def __init__(self, name: str, text: str, params: tuple, result: str | None):
        self.name = name
        self.text = text
        self.params = params
        self.result = result

    @property
    def loose_nan_shape(self) -> str | None:
        """"f32"/"f64" when NaN lanes of the result compare loosely, else None."""
        shape, _, op = self.name.partition(".")
        if shape in ("f32x4", "f64x2") and op in _LOOSE_NAN:
            return "f32" if shape == "f32x4" else "f64"
        return None


def simd_cases(rng: random.Random) -> list[Case]:
    cases = []
    for info in sorted(OPS.values(), key=lambda i: i.code):
        if info.family != "simd" or info.imm in ("memarg", "memarg_lane", "v128"):
            continue
        params = tuple(_TYPE_NAME[t] for t in info.sig[0])
        result = _TYPE_NAME[info.sig[1][0]] if info.sig[1] else None
        if info.imm == "lane":
            count = _LANES[info.name.split(".")[0]]
            for lane in sorted({0, count - 1, rng.randrange(count)}):
                cases.append(Case(info.name, f"{info.name} {lane}", params, result))
        elif info.imm == "shuffle":
            for _ in range(3):
                lanes = " ".join(str(rng.randrange(32)) for _ in range(16))
                cases.append(Case(info.name, f"{info.name} {lanes}", params, result))
        else:
            cases.append(Case(info.name, info.name, params, result))
    return cases


def module_text(cases: list[Case]) -> str:
    funcs = []
    for i, case in enumerate(cases):
        loads = " ".join(f"({_LOAD[p]} (i32.const {16 * k}))" for k, p in enumerate(case.params))
        body = f"({case.text} {loads})"
        if case.result is not None:
            body = f"({_STORE[case.result]} (i32.const {RESULT}) {body})"
        funcs.append(f'  (func (export "op{i}") {body})')
    return "(module (memory (export \"memory\") 1)\n" + "\n".join(funcs) + ")\n"


# ---- inputs -----------------------------------------------------------------------------------

_F32_EDGES = [0.0, -0.0, 1.0, -1.0, 0.5, -0.5, 1.5, 2.5, -2.5, 3.5, 2147483520.0, 2147483648.0,
              -2147483648.0, -2147483904.0, 4294967040.0, 4294967296.0, 1e-45, -1e-45, 3.4e38,
              -3.4e38, float("inf"), float("-inf"), 1e10, -1e10, 0.49999997]
_F32_NAN_BITS = [0x7FC00000, 0xFFC00000, 0x7FA00000, 0x7F800001, 0xFF812345, 0x7FFFFFFF]
_F64_EDGES = [0.0, -0.0, 1.0, -1.0, 0.5, -0.5, 1.5, 2.5, -2.5, 2147483647.0, 2147483647.5,
              2147483648.0, -2147483648.0, -2147483648.5, -2147483649.0, 4294967295.0,
              4294967295.5, 4294967296.0, 5e-324, -5e-324, 1.7e308, float("inf"),
              float("-inf"), 1e300, 0.49999999999999994, 3.4028235677973366e38, 1e-40]
_F64_NAN_BITS = [0x7FF8000000000000, 0xFFF8000000000000, 0x7FF4000000000000,
                 0x7FF0000000000001, 0xFFF0000000000123]


def _int_edges(bits: int) -> list[int]:
    m = (1 << bits) - 1
    return [0, 1, m, 1 << (bits - 1), (1 << (bits - 1)) - 1, 2, m - 1, 0x7F & m, 0x80 & m,
            0x7FFF & m, 0x8000 & m]


def _lanes_to_int(values, bits: int) -> int:
    out = 0
    for i, v in enumerate(values):
        out |= (v & ((1 << bits) - 1)) << (bits * i)
    return out


def random_v128(rng: random.Random) -> int:
    kind = rng.randrange(7)
    if kind == 0:
        return rng.getrandbits(128)
    if kind == 1:
        return _lanes_to_int([rng.choice(_F32_NAN_BITS) if rng.random() < 0.25 else
                              struct.unpack("<I", struct.pack("<f", rng.choice(_F32_EDGES)))[0]
                              if rng.random() < 0.7 else
                              struct.unpack("<I", struct.pack("<f", rng.uniform(-1e4, 1e4)))[0]
                              for _ in range(4)], 32)
    if kind == 2:
        return _lanes_to_int([rng.choice(_F64_NAN_BITS) if rng.random() < 0.25 else
                              struct.unpack("<Q", struct.pack("<d", rng.choice(_F64_EDGES)))[0]
                              if rng.random() < 0.7 else
                              struct.unpack("<Q", struct.pack("<d", rng.uniform(-1e6, 1e6)))[0]
                              for _ in range(2)], 64)
    bits = (8, 16, 32, 64)[kind - 3]
    edges = _int_edges(bits)
    return _lanes_to_int([rng.choice(edges) if rng.random() < 0.6 else rng.getrandbits(bits)
                          for _ in range(128 // bits)], bits)


def random_scalar(rng: random.Random, t: str) -> int:
    """Bits of a scalar operand (i32 operands include shift counts past the lane width)."""
    if t == "i32":
        return rng.choice([0, 1, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 65, 0xFFFFFFFF,
                           rng.getrandbits(32)])
    if t == "i64":
        return rng.choice([0, 1, (1 << 64) - 1, 1 << 63, rng.getrandbits(64)])
    if t == "f32":
        if rng.random() < 0.2:
            return rng.choice(_F32_NAN_BITS)
        return struct.unpack("<I", struct.pack("<f", rng.choice(_F32_EDGES)))[0]
    if rng.random() < 0.2:
        return rng.choice(_F64_NAN_BITS)
    return struct.unpack("<Q", struct.pack("<d", rng.choice(_F64_EDGES)))[0]


def operand_bytes(rng: random.Random, params: tuple) -> bytes:
    """Operands laid out as the generated functions read them (16 bytes apart)."""
    out = bytearray()
    for p in params:
        value = random_v128(rng) if p == "v128" else random_scalar(rng, p)
        out += value.to_bytes(16, "little")
    return bytes(out)


_RESULT_SIZE = {"i32": 4, "i64": 8, "f32": 4, "f64": 8, "v128": 16}


def result_size(case: Case) -> int:
    return _RESULT_SIZE[case.result] if case.result else 0


def normalise(case: Case, data: bytes) -> bytes:
    """Result bytes with the NaN lanes of loose-NaN ops replaced by a marker (after checking
    the NaN is arithmetic: quiet bit set); other results unchanged."""
    shape = case.loose_nan_shape
    if shape is None:
        return data
    bits = 32 if shape == "f32" else 64
    exp_mask = (0xFF << 23) if bits == 32 else (0x7FF << 52)
    frac = (1 << (23 if bits == 32 else 52)) - 1
    quiet = 1 << (22 if bits == 32 else 51)
    out = bytearray()
    for i in range(0, len(data), bits // 8):
        lane = int.from_bytes(data[i:i + bits // 8], "little")
        if lane & exp_mask == exp_mask and lane & frac:
            lane = 0x5A5A5A5A if lane & quiet else 0xDEADBEEF     # arithmetic / signalling
        out += lane.to_bytes(bits // 8, "little")
    return bytes(out)


# ---- memory instructions ----------------------------------------------------------------------

PAGE = 65536
MEMORY_OPERAND = 16          # where the v128 operand of a lane load or a store is read


def memory_cases() -> list[tuple[str, str]]:
    """(name, function body) of every SIMD memory instruction, at a few static offsets and
    lanes; the address is parameter 0, a loaded value is stored at byte 0."""
    cases = []
    for info in sorted(OPS.values(), key=lambda i: i.code):
        if info.family != "simd" or info.imm not in ("memarg", "memarg_lane"):
            continue
        lanes = [None]
        if info.imm == "memarg_lane":
            count = 16 // info.width
            lanes = [0, count - 1]
        for offset in (0, 1, 15, PAGE - 8):
            for lane in lanes:
                imm = f"offset={offset}" + (f" {lane}" if lane is not None else "")
                operand = f"(v128.load (i32.const {MEMORY_OPERAND}))"
                if info.sig[1]:
                    args = "(local.get 0)" + (f" {operand}" if len(info.sig[0]) == 2 else "")
                    body = f"(v128.store (i32.const 0) ({info.name} {imm} {args}))"
                else:
                    body = f"({info.name} {imm} (local.get 0) {operand})"
                cases.append((f"{info.name} {imm}", body))
    return cases


def memory_module_text(cases) -> str:
    funcs = [f'  (func (export "m{i}") (param i32) {body})' for i, (_, body) in enumerate(cases)]
    return "(module (memory (export \"memory\") 1)\n" + "\n".join(funcs) + ")\n"


def memory_addresses(rng: random.Random) -> list[int]:
    return [0, 3, 100, rng.randrange(PAGE), PAGE - 16, PAGE - 15, PAGE - 9, PAGE - 8, PAGE - 7,
            PAGE - 4, PAGE - 2, PAGE - 1, PAGE, 0xFFFFFFF0, 0xFFFFFFFF]
