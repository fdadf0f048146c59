"""SIMD on the aot engine: v128 values crossing every boundary (API calls, host calls,
locals, blocks, select, globals, multiple results, indirect calls), exact memory traps, and
the machine code LLVM selects for a few kernels.

The instruction semantics themselves are checked against wasmtime in
test_simd_wasmtime.py and by the SIMD conformance files (tests/test_conformance.py).
"""
from __future__ import annotations

import re

import pytest

from aot_testlib import instance
from pywamr_testlib import wat

M64 = (1 << 64) - 1


def v128(*lanes, bits=32) -> int:
    out = 0
    for i, lane in enumerate(lanes):
        out |= (lane & ((1 << bits) - 1)) << (bits * i)
    return out


def test_emitter_for_every_simd_instruction():
    from pywamr.aot.emit import EMITTERS
    from pywamr.binary.opcodes import OPS
    missing = [i.name for i in OPS.values() if i.family == "simd" and i.code not in EMITTERS]
    assert missing == []


def test_v128_arguments_and_results():
    inst = instance("""(module
      (func (export "add") (param v128 v128) (result v128)
        (i32x4.add (local.get 0) (local.get 1)))
      (func (export "swap") (param v128 i32 v128) (result v128 i32 v128)
        (local.get 2) (local.get 1) (local.get 0))
      (func (export "zero") (result v128) (local v128) (local.get 0))
      (func (export "lanes") (param v128) (result i32 i64 f32 f64)
        (i32x4.extract_lane 3 (local.get 0)) (i64x2.extract_lane 0 (local.get 0))
        (f32x4.extract_lane 1 (local.get 0)) (f64x2.extract_lane 1 (local.get 0))))""")
    ex = inst.exports
    a = v128(1, 2, 3, 0xFFFFFFFF)
    b = v128(10, 20, 30, 1)
    assert ex["add"](a, b) == v128(11, 22, 33, 0)
    top = (1 << 128) - 1
    assert ex["swap"](top, 7, 5) == (5, 7, top)
    assert ex["zero"]() == 0
    i32, i64, f32, f64 = ex["lanes"](v128(0, 0x3FC00000, 0, 0x40090000))
    assert (i32, i64, f32, f64) == (0x40090000, 0x3FC0000000000000, 1.5, 3.125)


def test_v128_blocks_select_and_branches():
    inst = instance("""(module
      (func (export "pick") (param v128 v128 i32) (result v128)
        (select (local.get 0) (local.get 1) (local.get 2)))
      (func (export "typed") (param v128 v128 i32) (result v128)
        (select (result v128) (local.get 0) (local.get 1) (local.get 2)))
      (func (export "loop") (param v128 i32) (result v128)
        (local.get 0)
        (loop (param v128) (result v128)
          (i32x4.add (v128.const i32x4 1 1 1 1))
          (local.tee 1 (i32.sub (local.get 1) (i32.const 1)))
          (br_if 0)))
      (func (export "early") (param v128 i32) (result v128)
        (block (result v128)
          (local.get 0)
          (br_if 0 (local.get 1))
          (drop)
          (v128.const i64x2 -1 -1))))""")
    ex = inst.exports
    a, b = v128(1, 2, 3, 4), v128(5, 6, 7, 8)
    assert ex["pick"](a, b, 1) == a and ex["pick"](a, b, 0) == b
    assert ex["typed"](a, b, 1) == a and ex["typed"](a, b, 0) == b
    assert ex["loop"](a, 5) == v128(6, 7, 8, 9)
    assert ex["early"](a, 1) == a and ex["early"](a, 0) == (1 << 128) - 1


def test_v128_through_host_and_indirect_calls():
    from pywamr.binary.types import I32, V128, FuncType
    seen = []

    def host(v, n):
        seen.append((v, n))
        return (v ^ (1 << 127)) + n, n + 1

    inst = instance("""(module
      (import "env" "f" (func $f (param v128 i32) (result v128 i32)))
      (type $t (func (param v128) (result v128)))
      (table 2 funcref)
      (elem (i32.const 0) $double $viahost)
      (func $double (type $t) (i64x2.add (local.get 0) (local.get 0)))
      (func $viahost (type $t) (call $f (local.get 0) (i32.const 3)) (drop))
      (func (export "ind") (param v128 i32) (result v128)
        (call_indirect (type $t) (local.get 0) (local.get 1))))""",
                    {("env", "f"): (FuncType((V128, I32), (V128, I32)), host)})
    ex = inst.exports
    a = v128(3, 1 << 62, bits=64)
    assert ex["ind"](a, 0) == v128(6, 1 << 63, bits=64)
    assert ex["ind"](a, 1) == (a ^ (1 << 127)) + 3
    assert seen == [(a, 3)]


def test_v128_globals():
    from pywamr.binary.types import V128, GlobalType
    from pywamr.runtime.objects import Global
    imported = Global(GlobalType(V128, True), v128(9, 8, 7, 6))
    inst = instance("""(module
      (import "env" "g" (global $g (mut v128)))
      (global $h (export "h") (mut v128) (v128.const i64x2 -1 5))
      (func (export "get") (result v128 v128) (global.get $g) (global.get $h))
      (func (export "set") (param v128)
        (global.set $g (local.get 0))
        (global.set $h (i32x4.neg (local.get 0)))))""", {("env", "g"): imported})
    ex = inst.exports
    assert ex["get"]() == (v128(9, 8, 7, 6), v128(-1, 5, bits=64))
    ex["set"](v128(1, 2, 3, 4))
    assert imported.value == v128(1, 2, 3, 4)
    assert inst.state.exports["h"].value == v128(-1, -2, -3, -4)


@pytest.mark.parametrize("address, offset, traps", [
    (65536 - 16, 0, False), (65536 - 15, 0, True), (0, 65536 - 16, False), (1, 65535, True),
    (0xFFFFFFFF, 0, True), (16, 0xFFFFFFF0, True)])
def test_v128_access_traps_exactly(address, offset, traps):
    from pywamr.errors import Trap
    inst = instance(f"""(module (memory (export "m") 1)
      (func (export "store") (param i32 v128)
        (v128.store offset={offset} (local.get 0) (local.get 1)))
      (func (export "load") (param i32) (result v128)
        (v128.load offset={offset} (local.get 0))))""")
    memory = inst.state.memories[0]
    before = bytes(memory.data)
    value = (1 << 128) - 1
    if traps:
        with pytest.raises(Trap, match="out of bounds"):
            inst.exports["store"](address, value)
        assert bytes(memory.data) == before          # nothing written
        with pytest.raises(Trap, match="out of bounds"):
            inst.exports["load"](address)
    else:
        inst.exports["store"](address, value)
        assert inst.exports["load"](address) == value


# ---- the machine code of a few kernels -----------------------------------------------------

KERNELS = """(module (memory 1)
  (func (export "add_loop") (param $p i32) (param $n i32)
    (loop $l
      (v128.store (local.get $p)
        (i32x4.add (v128.load (local.get $p)) (v128.load offset=16 (local.get $p))))
      (local.set $p (i32.add (local.get $p) (i32.const 16)))
      (br_if $l (local.tee $n (i32.sub (local.get $n) (i32.const 1))))))
  (func (export "dot") (param v128 v128) (result v128)
    (i32x4.dot_i16x8_s (local.get 0) (local.get 1)))
  (func (export "swizzle") (param v128 v128) (result v128)
    (i8x16.swizzle (local.get 0) (local.get 1)))
  (func (export "fmadd") (param v128 v128 v128) (result v128)
    (f32x4.add (f32x4.mul (local.get 0) (local.get 1)) (local.get 2)))
  (func (export "trunc") (param v128) (result v128)
    (i32x4.trunc_sat_f32x4_s (local.get 0)))
  (func (export "pmin") (param v128 v128) (result v128)
    (f32x4.pmin (local.get 0) (local.get 1)))
  (func (export "bitmask") (param v128) (result i32)
    (i8x16.bitmask (local.get 0)))
  (func (export "avgr") (param v128 v128) (result v128)
    (i8x16.avgr_u (local.get 0) (local.get 1))))"""


def _function_asm(asm: str) -> dict[str, str]:
    """{symbol: its instructions} of the defined functions in an assembly listing."""
    bodies: dict[str, list] = {}
    current = None
    for line in asm.splitlines():
        m = re.match(r"^(w\d+):", line)
        if m:
            current = bodies.setdefault(m.group(1), [])
        elif current is not None and line.startswith("\t") and not line.startswith("\t."):
            current.append(line.split()[0])
    return {name: " ".join(ops) for name, ops in bodies.items()}


def test_kernels_compile_to_vector_instructions():
    """The host's vector instructions, VEX-encoded (the `v` forms) when the CPU has AVX."""
    from pywamr.aot import codegen
    from pywamr.aot.translate import ModuleInfo, chunk_ir
    from pywamr.binary.decoder import decode_module
    from pywamr.validate import validate_module
    data = wat(KERNELS)
    validated = validate_module(decode_module(data), data)
    info = ModuleInfo(validated.module, validated.func_types, validated.funcs)
    asm = _function_asm(codegen.assembly(chunk_ir(info, range(len(validated.func_types)))))
    v = "v" if "avx" in codegen.host_features() else ""
    expected = {"w0": [f"{v}paddd", f"{v}movdqu"], "w1": [f"{v}pmaddwd"],
                "w2": [f"{v}pshufb", f"{v}paddusb"], "w3": [f"{v}mulps", f"{v}addps"],
                "w4": [f"{v}cvttps2dq"], "w5": [f"{v}minps"], "w6": [f"{v}pmovmskb"],
                "w7": [f"{v}pavgb"]}
    for symbol, instructions in expected.items():
        words = asm[symbol].split()
        for instruction in instructions:
            assert instruction in words, f"{symbol}: no {instruction} in {asm[symbol]}"
    # f32x4.mul then f32x4.add must not become one fused multiply-add (wasm rounds twice)
    assert not re.search(r"fmadd", asm["w3"])


def test_constant_operands_do_not_let_signalling_nans_through():
    """x * 1.0, x + -0.0, x - 0.0, x / 1.0 must quieten a signalling NaN x (wasm wants an
    arithmetic NaN), though LLVM folds them to x when it sees the constant."""
    inst = instance("""(module
      (func (export "mul") (param v128) (result v128)
        (f32x4.mul (local.get 0) (v128.const f32x4 1 1 1 1)))
      (func (export "add") (param v128) (result v128)
        (f64x2.add (v128.const f64x2 -0 -0) (local.get 0)))
      (func (export "sub") (param v128) (result v128)
        (f32x4.sub (local.get 0) (v128.const f32x4 0 0 0 0)))
      (func (export "div") (param v128) (result v128)
        (f64x2.div (local.get 0) (v128.const f64x2 1 1))))""")
    snan32 = v128(*[0x7FA00000] * 4)
    snan64 = v128(0x7FF4000000000000, 0xFFF4000000000001, bits=64)
    for name, value, quiet, lanes, bits in (("mul", snan32, 1 << 22, 4, 32),
                                            ("sub", snan32, 1 << 22, 4, 32),
                                            ("add", snan64, 1 << 51, 2, 64),
                                            ("div", snan64, 1 << 51, 2, 64)):
        out = inst.exports[name](value)
        for i in range(lanes):
            lane = out >> (bits * i) & ((1 << bits) - 1)
            assert lane & quiet, f"{name}: lane {i} = {lane:#x} is not quiet"


def test_simd_module_round_trips_through_the_cache_and_an_artifact(tmp_path):
    from aot_testlib import compile_wat
    from pywamr.aot import AotCache, load_artifact, stats
    from pywamr.runtime.instantiate import instantiate_module
    source = """(module (func (export "f") (param v128 v128) (result v128)
      (i8x16.swizzle (local.get 0) (local.get 1))))"""
    a = int.from_bytes(bytes(range(100, 116)), "little")
    index = int.from_bytes(bytes([15, 0, 16, 255] * 4), "little")
    want = int.from_bytes(bytes([115, 100, 0, 0] * 4), "little")
    cache = AotCache(tmp_path)
    compile_wat(source, cache)
    compiled = stats.chunks_compiled
    cached, data = compile_wat(source, cache)
    assert stats.chunks_compiled == compiled, "a cache hit must not run LLVM"
    assert instantiate_module(cached, []).exports["f"].call(a, index) == want
    path = tmp_path / "f.cwasm"
    cached.save(path)
    loaded = load_artifact(path, source_bytes=data)
    assert instantiate_module(loaded, []).exports["f"].call(a, index) == want


def test_cli_invokes_with_v128_on_aot(tmp_path):
    import subprocess
    import sys
    path = tmp_path / "m.wasm"
    path.write_bytes(wat("""(module (func (export "f") (param v128 i32) (result v128 f32)
      (i32x4.add (local.get 0) (i32x4.splat (local.get 1)))
      (f32x4.extract_lane 3 (local.get 0))))"""))
    proc = subprocess.run([sys.executable, "-m", "pywamr", "run", "--engine", "aot",
                           "--cache-dir", str(tmp_path / "cache"), "--invoke", "f", str(path),
                           "0x3fc00000000000000000000000000001", "5"],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["0x3fc00005000000050000000500000006", "1.5"]
