"""Differential tests of SIMD on the aot engine against the `wasmtime` package.

Every SIMD and relaxed-SIMD instruction of the instruction table (memory ones apart: see
test_simd.py and the conformance files) runs on seeded random and edge-value inputs in
wasmtime and in pywamr's aot engine; the result bytes must agree (NaN payloads of float
arithmetic loosely, see simd_cases.py). Relaxed SIMD must agree exactly: pywamr promises
wasmtime's x86-64 answers. The interpreter is held to the same comparison.
"""
from __future__ import annotations

import random

import pytest

import aot_testlib  # noqa: F401  (skips without the aot engine)
from pywamr_testlib import require_wasmtime, wat
from simd_cases import RESULT, module_text, normalise, operand_bytes, result_size, simd_cases

ROUNDS = 24          # input sets per instruction instance


class WasmtimeRunner:
    def __init__(self, data: bytes):
        wasmtime = require_wasmtime()
        config = wasmtime.Config()
        config.wasm_simd = True
        config.wasm_relaxed_simd = True
        engine = wasmtime.Engine(config)
        self.store = wasmtime.Store(engine)
        self.instance = wasmtime.Instance(self.store, wasmtime.Module(engine, data), [])
        self.exports = self.instance.exports(self.store)
        self.memory = self.exports["memory"]

    def run(self, index: int, operands: bytes, size: int) -> bytes:
        self.memory.write(self.store, operands, 0)
        self.exports[f"op{index}"](self.store)
        return bytes(self.memory.read(self.store, RESULT, RESULT + size))


class PywamrRunner:
    def __init__(self, data: bytes, kind: str):
        from pywamr.engine import Engine, Linker, Module
        engine = Engine(kind, cache=False)
        self.instance = Linker(engine).instantiate(None, Module(engine, data))
        self.exports = self.instance.exports
        self.memory = self.instance.state.memories[0]

    def run(self, index: int, operands: bytes, size: int) -> bytes:
        self.memory.data[0:len(operands)] = operands
        self.exports[f"op{index}"]()
        return bytes(self.memory.data[RESULT:RESULT + size])


@pytest.fixture(scope="module")
def setup():
    rng = random.Random(0x51AD)
    cases = simd_cases(rng)
    data = wat(module_text(cases))
    return cases, data, WasmtimeRunner(data), PywamrRunner(data, "aot")


def test_every_instruction_is_covered(setup):
    cases, *_ = setup
    from pywamr.binary.opcodes import OPS
    names = {c.name for c in cases}
    expected = {i.name for i in OPS.values() if i.family == "simd"
                and i.imm not in ("memarg", "memarg_lane", "v128")}
    assert names == expected
    assert len(expected) > 200


def _mismatches(cases, reference, subject, seed: int, rounds: int, name: str) -> list[str]:
    rng = random.Random(seed)
    out = []
    for index, case in enumerate(cases):
        size = result_size(case)
        for _ in range(rounds):
            operands = operand_bytes(rng, case.params)
            want = normalise(case, reference.run(index, operands, size))
            got = normalise(case, subject.run(index, operands, size))
            if want != got:
                out.append(f"{case.text}: operands {operands.hex()} "
                           f"wasmtime {want.hex()} {name} {got.hex()}")
                break
    return out


def test_aot_matches_wasmtime(setup):
    cases, _, reference, aot = setup
    mismatches = _mismatches(cases, reference, aot, 7, ROUNDS, "aot")
    assert not mismatches, "\n".join(mismatches[:20])


def test_interp_matches_wasmtime(setup):
    """The interpreter on the same inputs: with the aot test above, both engines give
    wasmtime's answers, relaxed SIMD included (runtime/relaxed.py is the interpreter's)."""
    cases, data, reference, _ = setup
    interp = PywamrRunner(data, "interp")
    mismatches = _mismatches(cases, reference, interp, 7, ROUNDS // 2, "interp")
    assert not mismatches, "\n".join(mismatches[:20])


def test_generic_lowering_matches_wasmtime(setup, monkeypatch):
    """The IR used where the host lacks an x86 instruction (pshufb, pmulhrsw, pmaddubsw,
    cvttps2dq) gives the same answers: compile the module again with no x86 features."""
    cases, data, reference, _ = setup
    from pywamr.aot.emit import vector
    monkeypatch.setattr(vector, "_host_features", lambda: frozenset())
    generic = PywamrRunner(data, "aot")
    mismatches = _mismatches(cases, reference, generic, 11, ROUNDS // 2, "aot-generic")
    assert not mismatches, "\n".join(mismatches[:20])


def test_memory_instructions_match_wasmtime():
    """Every SIMD load and store, at offsets and addresses around the end of memory: the
    same traps (an access that does not fit traps before touching memory) and the same bytes."""
    from simd_cases import memory_addresses, memory_cases, memory_module_text
    wasmtime = require_wasmtime()
    from pywamr.errors import Trap
    cases = memory_cases()
    data = wat(memory_module_text(cases))
    reference = WasmtimeRunner(data)
    aot = PywamrRunner(data, "aot")
    rng = random.Random(3)
    mismatches = []
    for index, (name, _) in enumerate(cases):
        for address in memory_addresses(rng):
            image = rng.randbytes(65536)
            reference.memory.write(reference.store, image, 0)
            aot.memory.data[:] = image
            try:
                reference.exports[f"m{index}"](reference.store, address)
                want = "ok"
            except wasmtime.Trap as trap:
                assert "out of bounds" in str(trap)
                want = "trap"
            try:
                aot.exports[f"m{index}"](address)
                got = "ok"
            except Trap as trap:
                assert "out of bounds" in str(trap)
                got = "trap"
            same = (want == got and bytes(reference.memory.read(reference.store, 0, 65536))
                    == bytes(aot.memory.data))
            if not same:
                mismatches.append(f"{name} at {address:#x}: wasmtime {want}, aot {got}")
    assert not mismatches, "\n".join(mismatches[:20])
