"""Shared by the SIMD differential tests: one module with one wrapper function per SIMD
instruction, run on pywamr and on the `wasmtime` package with the same operands.

Each wrapper `(func (export "N"))` loads its operands from memory (offsets 0, 16, 32; v128 or
scalar by the instruction's typing), runs the instruction (with a chosen lane immediate or
shuffle), and stores the result at offset 64; so the very same binary runs on both sides and
only bytes cross the boundary. wasmtime runs with `cranelift_nan_canonicalization`, which makes
NaN results the positive canonical NaN, pywamr's documented choice (runtime/v128.py).
"""
from __future__ import annotations

import random

from pywamr.binary.opcodes import OPS
from pywamr.binary.types import F32, F64, I32, I64, V128

_LOAD = {V128: "v128.load", I32: "i32.load", I64: "i64.load", F32: "f32.load", F64: "f64.load"}
_STORE = {V128: "v128.store", I32: "i32.store", I64: "i64.store", F32: "f32.store",
          F64: "f64.store"}
_SIZE = {V128: 16, I32: 4, I64: 8, F32: 4, F64: 8}

F32_EDGES = [0x00000000, 0x80000000, 0x3F800000, 0xBF800000, 0x7F800000, 0xFF800000,
             0x7FC00000, 0xFFC00000, 0x7FA00001, 0x7F7FFFFF, 0xFF7FFFFF, 0x00000001, 0x80000001,
             0x007FFFFF, 0x4F000000, 0xCF000000, 0x4F800000, 0x4F7FFFFF, 0xCF000001, 0x3F000000,
             0x3FC00000, 0x40200000, 0xBF000000, 0x4B000001, 0x4EFFFFFF, 0x5F000000]
F64_EDGES = [0, 1 << 63, 0x3FF0000000000000, 0xBFF0000000000000, 0x7FF0000000000000,
             0xFFF0000000000000, 0x7FF8000000000000, 0x7FF4000000000001, 0xFFF8000000000001,
             0x7FEFFFFFFFFFFFFF, 1, 0x000FFFFFFFFFFFFF, 0x41E0000000000000, 0xC1E0000000000000,
             0x41EFFFFFFFE00000, 0x41F0000000000000, 0xC1E0000000200000, 0x3FE0000000000000,
             0x3FF8000000000000, 0x4004000000000000, 0x41DFFFFFFFC00000, 0x47EFFFFFE0000000,
             0x36A0000000000000, 0x3810000000000000]


def edge_lane(bits: int, rng: random.Random, floats: bool) -> int:
    if floats and bits == 32 and rng.random() < 0.6:
        return rng.choice(F32_EDGES)
    if floats and bits == 64 and rng.random() < 0.6:
        return rng.choice(F64_EDGES)
    top = 1 << (bits - 1)
    return rng.choice([0, 1, top, top - 1, top + 1, (1 << bits) - 1, rng.getrandbits(bits),
                       rng.getrandbits(bits), rng.getrandbits(bits) & 0xFF])


def random_v128(rng: random.Random, name: str = "") -> int:
    """A v128 whose lanes are edge values or random, shaped by the instruction's name."""
    floats = "f32" in name or "f64" in name
    bits = rng.choice([8, 16, 32, 64]) if not floats else (32 if "f32" in name else 64)
    if floats and "f32" in name and "f64" in name:
        bits = rng.choice([32, 64])
    if rng.random() < 0.15:
        return rng.getrandbits(128)
    return sum(edge_lane(bits, rng, floats) << i for i in range(0, 128, bits))


def random_scalar(valtype: int, rng: random.Random, name: str) -> bytes:
    if valtype == I32:
        value = rng.choice([0, 1, 7, 8, 15, 16, 31, 32, 33, 63, 64, 65, 127, 128, 255, 0x8000,
                            0x7FFFFFFF, 0x80000000, 0xFFFFFFFF, rng.getrandbits(32)])
        return value.to_bytes(4, "little")
    if valtype == I64:
        return edge_lane(64, rng, False).to_bytes(8, "little")
    if valtype == F32:
        return edge_lane(32, rng, True).to_bytes(4, "little")
    return edge_lane(64, rng, True).to_bytes(8, "little")


def _instruction_text(info, variant: int) -> str:
    if info.imm == "lane":
        shape = info.name.split(".")[0]
        lanes = int(shape.split("x")[1])
        return f"{info.name} {(variant * 5 + 1) % lanes if variant else lanes - 1}"
    if info.imm == "shuffle":
        rng = random.Random(variant)
        return info.name + " " + " ".join(str(rng.randrange(32)) for _ in range(16))
    return info.name


def wrapper_module(infos_and_variants) -> tuple[str, list]:
    """WAT of the module and the list of (export name, OpInfo) it defines."""
    funcs = []
    exports = []
    for n, (info, variant) in enumerate(infos_and_variants):
        params, results = info.sig
        loads = " ".join(f"(i32.const {16 * i}) {_LOAD[t]}" for i, t in enumerate(params))
        store = _STORE[results[0]]
        funcs.append(f'(func (export "f{n}") (i32.const 64) {loads} '
                     f'{_instruction_text(info, variant)} {store})')
        exports.append((f"f{n}", info))
    return "(module (memory (export \"mem\") 1)\n" + "\n".join(funcs) + ")", exports


def fixed_simd_ops(features=("simd", "relaxed-simd")) -> list:
    """The SIMD instructions a wrapper can run: no memory access; lane and shuffle forms get
    two variants of their immediate."""
    out = []
    for code, info in sorted(OPS.items()):
        if info.family != "simd" or info.feature not in features or info.width is not None:
            continue
        if info.imm in ("none",):
            out.append((info, 0))
        elif info.imm in ("lane", "shuffle"):
            out.extend([(info, 0), (info, 1)])
    return out


def operands(info, rng: random.Random) -> bytes:
    """The 48 bytes of operands for one call."""
    data = bytearray(48)
    for i, t in enumerate(info.sig[0]):
        if t == V128:
            data[16 * i:16 * i + 16] = random_v128(rng, info.name).to_bytes(16, "little")
        else:
            data[16 * i:16 * i + _SIZE[t]] = random_scalar(t, rng, info.name)
    return bytes(data)


def result_bytes(info, memory: bytes) -> bytes:
    return bytes(memory[64:64 + _SIZE[info.sig[1][0]]])


class WasmtimeSide:
    def __init__(self, wasm: bytes):
        import wasmtime
        config = wasmtime.Config()
        config.wasm_simd = True
        config.wasm_relaxed_simd = True
        config.cranelift_nan_canonicalization = True
        engine = wasmtime.Engine(config)
        self.store = wasmtime.Store(engine)
        self.instance = wasmtime.Instance(self.store, wasmtime.Module(engine, wasm), [])
        exports = self.instance.exports(self.store)
        self.memory = exports["mem"]
        self.exports = exports

    def run(self, name: str, data: bytes, size: int) -> bytes:
        self.memory.write(self.store, data, 0)
        self.exports[name](self.store)
        return bytes(self.memory.read(self.store, 64, 64 + size))


class PywamrSide:
    def __init__(self, wasm: bytes, engine_kind: str = "interp"):
        from pywamr.engine import Engine, Linker, Module
        engine = Engine(engine_kind, cache=False)
        self.instance = Linker(engine).instantiate(None, Module(engine, wasm))
        self.memory = self.instance.exports["mem"]

    def run(self, name: str, data: bytes, size: int) -> bytes:
        self.memory.write(0, data)
        self.instance.exports[name]()
        return bytes(self.memory.read(64, size))


def describe(info, data: bytes, ours: bytes, theirs: bytes) -> str:
    ops = [data[16 * i:16 * i + 16][::-1].hex() for i in range(len(info.sig[0]))]
    return (f"{info.name} operands(big-endian hex)={ops} pywamr={ours[::-1].hex()} "
            f"wasmtime={theirs[::-1].hex()}")

