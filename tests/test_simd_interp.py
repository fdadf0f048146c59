"""SIMD on the interpreter beyond single instructions (those are in test_simd_differential.py):
every SIMD memory access at the bounds of two memories, a few SIMD kernels, against the
`wasmtime` package; v128 values through the engine API, host functions and `--invoke`."""
from __future__ import annotations

import random
import subprocess
import sys

import pytest

from pywamr_testlib import wat

PAGE = 65536
ACCESS = {    # instruction -> (kind, width in bytes)
    "v128.load": ("load", 16), "v128.load8x8_s": ("load", 8), "v128.load8x8_u": ("load", 8),
    "v128.load16x4_s": ("load", 8), "v128.load16x4_u": ("load", 8),
    "v128.load32x2_s": ("load", 8), "v128.load32x2_u": ("load", 8),
    "v128.load8_splat": ("load", 1), "v128.load16_splat": ("load", 2),
    "v128.load32_splat": ("load", 4), "v128.load64_splat": ("load", 8),
    "v128.load32_zero": ("load", 4), "v128.load64_zero": ("load", 8),
    "v128.load8_lane": ("load_lane", 1), "v128.load16_lane": ("load_lane", 2),
    "v128.load32_lane": ("load_lane", 4), "v128.load64_lane": ("load_lane", 8),
    "v128.store": ("store", 16), "v128.store8_lane": ("store_lane", 1),
    "v128.store16_lane": ("store_lane", 2), "v128.store32_lane": ("store_lane", 4),
    "v128.store64_lane": ("store_lane", 8),
}
PATTERN = "v128.const i8x16 0x81 0x92 0xA3 0xB4 0xC5 0xD6 0xE7 0xF8 0x09 0x1A 0x2B 0x3C 0x4D 0x5E 0x6F 0x70"
OFFSETS = (0, 3, 4096)


def _memory_module() -> tuple[str, list]:
    """One export per (instruction, memory, offset): `(param addr)`; loads store their result
    at address 32 of memory 0, stores write PATTERN."""
    funcs, names = [], []
    for op, (kind, width) in ACCESS.items():
        lane = (16 // width) - 1 if "lane" in kind else None
        for memory in (0, 1):
            for offset in OFFSETS:
                name = f"{op}/{memory}/{offset}"
                memarg = f"{memory} offset={offset}" + (f" {lane}" if lane is not None else "")
                if kind == "load":
                    body = f"(v128.store (i32.const 32) ({op} {memarg} (local.get 0)))"
                elif kind == "load_lane":
                    body = f"(v128.store (i32.const 32) ({op} {memarg} (local.get 0) ({PATTERN})))"
                else:
                    body = f"({op} {memarg} (local.get 0) ({PATTERN}))"
                funcs.append(f'(func (export "{name}") (param i32) {body})')
                names.append((name, width, offset))
    text = ('(module (memory (export "m0") 1) (memory (export "m1") 1)\n'
            '(data (memory 0) (i32.const 0) "\\01\\02\\03\\04\\05\\06\\07\\08\\09\\0a\\0b\\0c\\0d\\0e\\0f\\10\\11")\n'
            '(data (memory 1) (i32.const 65520) "\\ff\\fe\\fd\\fc\\fb\\fa\\f9\\f8\\f7\\f6\\f5\\f4\\f3\\f2\\f1\\f0")\n'
            + "\n".join(funcs) + ")")
    return text, names


def _addresses(width: int, offset: int) -> list:
    end = PAGE - offset - width
    return sorted({0, 1, 7, end - 1, end, end + 1, end + width - 1, end + width,
                   PAGE - 1, PAGE, 0xFFFFFFFF, 0xFFFFFFFF - offset, 0x80000000} - {-1})


class _Wasmtime:
    def __init__(self, wasm):
        import wasmtime
        config = wasmtime.Config()
        config.wasm_simd = True
        config.wasm_multi_memory = True
        engine = wasmtime.Engine(config)
        self.wasmtime = wasmtime
        self.store = wasmtime.Store(engine)
        self.instance = wasmtime.Instance(self.store, wasmtime.Module(engine, wasm), [])
        self.exports = self.instance.exports(self.store)

    def call(self, name, address):
        try:
            self.exports[name](self.store, address)
            return "ok"
        except self.wasmtime.Trap as trap:
            return "trap: " + ("out of bounds memory access"
                               if "out of bounds" in str(trap) else str(trap))

    def memories(self):
        return [bytes(self.exports[m].read(self.store, 0, PAGE)) for m in ("m0", "m1")]


class _Pywamr:
    def __init__(self, wasm):
        from pywamr.engine import Engine, Linker, Module
        from pywamr.errors import Trap
        engine = Engine("interp", cache=False)
        self.trap_type = Trap
        self.instance = Linker(engine).instantiate(None, Module(engine, wasm))

    def call(self, name, address):
        try:
            self.instance.exports[name](address)
            return "ok"
        except self.trap_type as trap:
            from pywamr.wast.expect import SPEC_TRAP_TEXT
            return "trap: " + SPEC_TRAP_TEXT.get(trap.code, trap.message)

    def memories(self):
        return [bytes(self.instance.exports[m].read(0, PAGE)) for m in ("m0", "m1")]


def test_memory_accesses_and_their_bounds_match_wasmtime():
    """Every SIMD load and store, on memory 0 and memory 1, at and around the last valid
    address (and far past it): the same traps, and the same bytes in both memories after
    every access (a trapping store writes nothing)."""
    pytest.importorskip("wasmtime", reason="the wasmtime oracle is not installed")
    text, names = _memory_module()
    wasm = wat(text)
    ours, theirs = _Pywamr(wasm), _Wasmtime(wasm)
    outcomes = {"ok": 0, "trap": 0}
    for name, width, offset in names:
        for address in _addresses(width, offset):
            a, b = ours.call(name, address), theirs.call(name, address)
            assert a == b, (name, address, a, b)
            outcomes["ok" if a == "ok" else "trap"] += 1
        assert ours.memories() == theirs.memories(), name
    assert outcomes["ok"] > 300 and outcomes["trap"] > 300, outcomes


KERNELS = r"""
(module
  (memory (export "mem") 1)
  ;; sum of a[i] * b[i] over n f32 (n a multiple of 4), 4 lanes at a time
  (func (export "dot") (param $a i32) (param $b i32) (param $n i32) (result f32)
    (local $acc v128) (local $i i32)
    (block $done (loop $next
      (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
      (local.set $acc (f32x4.add (local.get $acc)
        (f32x4.mul (v128.load (i32.add (local.get $a) (i32.shl (local.get $i) (i32.const 2))))
                   (v128.load (i32.add (local.get $b) (i32.shl (local.get $i) (i32.const 2)))))))
      (local.set $i (i32.add (local.get $i) (i32.const 4)))
      (br $next)))
    (f32.add (f32.add (f32x4.extract_lane 0 (local.get $acc)) (f32x4.extract_lane 1 (local.get $acc)))
             (f32.add (f32x4.extract_lane 2 (local.get $acc)) (f32x4.extract_lane 3 (local.get $acc)))))
  ;; saturating blend of two byte images into a third, then a checksum of it
  (func (export "blend") (param $a i32) (param $b i32) (param $out i32) (param $n i32) (result i64)
    (local $i i32) (local $sum v128)
    (block $done (loop $next
      (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
      (v128.store (i32.add (local.get $out) (local.get $i))
        (i8x16.add_sat_u
          (i8x16.avgr_u (v128.load (i32.add (local.get $a) (local.get $i)))
                        (v128.load (i32.add (local.get $b) (local.get $i))))
          (i8x16.sub_sat_s (v128.load (i32.add (local.get $b) (local.get $i)))
                           (i8x16.splat (i32.const 3)))))
      (local.set $sum (i64x2.add (local.get $sum)
        (i64x2.extend_low_i32x4_u (i32x4.extadd_pairwise_i16x8_u
          (i16x8.extadd_pairwise_i8x16_u (v128.load (i32.add (local.get $out) (local.get $i))))))))
      (local.set $i (i32.add (local.get $i) (i32.const 16)))
      (br $next)))
    (i64.add (i64x2.extract_lane 0 (local.get $sum)) (i64x2.extract_lane 1 (local.get $sum))))
  ;; reverse n bytes in place, 16 at a time from both ends (n a multiple of 32)
  (func (export "reverse") (param $p i32) (param $n i32)
    (local $lo i32) (local $hi i32) (local $x v128)
    (local.set $lo (local.get $p))
    (local.set $hi (i32.sub (i32.add (local.get $p) (local.get $n)) (i32.const 16)))
    (block $done (loop $next
      (br_if $done (i32.ge_u (local.get $lo) (local.get $hi)))
      (local.set $x (v128.load (local.get $lo)))
      (v128.store (local.get $lo) (i8x16.shuffle 15 14 13 12 11 10 9 8 7 6 5 4 3 2 1 0
                                     (v128.load (local.get $hi)) (v128.load (local.get $hi))))
      (v128.store (local.get $hi) (i8x16.swizzle (local.get $x)
                                     (v128.const i8x16 15 14 13 12 11 10 9 8 7 6 5 4 3 2 1 0)))
      (local.set $lo (i32.add (local.get $lo) (i32.const 16)))
      (local.set $hi (i32.sub (local.get $hi) (i32.const 16)))
      (br $next))))
  ;; mix of integer lanes: a hash of n bytes
  (func (export "hash") (param $p i32) (param $n i32) (result i32)
    (local $h v128) (local $i i32) (local $x v128)
    (local.set $h (v128.const i32x4 0x6a09e667 0xbb67ae85 0x3c6ef372 0xa54ff53a))
    (block $done (loop $next
      (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
      (local.set $x (v128.load (i32.add (local.get $p) (local.get $i))))
      (local.set $h (v128.xor (i32x4.mul (local.get $h) (i32x4.splat (i32.const 0x01000193)))
                              (local.get $x)))
      (local.set $h (i32x4.add (local.get $h) (v128.or (i32x4.shl (local.get $h) (i32.const 7))
                                                       (i32x4.shr_u (local.get $h) (i32.const 25)))))
      (local.set $h (i64x2.mul (local.get $h) (i64x2.splat (i64.const 0x9E3779B97F4A7C15))))
      (local.set $h (i16x8.narrow_i32x4_s (local.get $h) (i32x4.shr_s (local.get $h) (i32.const 3))))
      (local.set $i (i32.add (local.get $i) (i32.const 16)))
      (br $next)))
    (i32.xor (i32.xor (i32x4.extract_lane 0 (local.get $h)) (i32x4.extract_lane 1 (local.get $h)))
             (i32.xor (i8x16.bitmask (local.get $h)) (i32x4.all_true (local.get $h)))))
)
"""


def test_kernels_match_wasmtime():
    wasmtime = pytest.importorskip("wasmtime", reason="the wasmtime oracle is not installed")
    import struct
    from pywamr.engine import Engine, Linker, Module
    wasm = wat(KERNELS)
    config = wasmtime.Config()
    config.wasm_simd = True
    engine = wasmtime.Engine(config)
    store = wasmtime.Store(engine)
    theirs = wasmtime.Instance(store, wasmtime.Module(engine, wasm), []).exports(store)
    ours_engine = Engine("interp", cache=False)
    ours = Linker(ours_engine).instantiate(None, Module(ours_engine, wasm)).exports
    rng = random.Random(13)
    data = bytes(rng.getrandbits(8) for _ in range(8192))
    floats = struct.pack("<512f", *[rng.uniform(-100, 100) for _ in range(512)])
    for blob in (data, floats):
        ours["mem"].write(0, blob)
        theirs["mem"].write(store, blob, 0)
        for name, args in (("dot", (0, 1024, 256)), ("blend", (0, 2048, 4096, 2048)),
                           ("hash", (0, 4096)), ("reverse", (1000, 4096)), ("hash", (0, 8192))):
            if name == "dot" and blob is data:
                continue        # random bytes hold NaNs, whose scalar bits may differ
            a = ours[name](*args)
            b = theirs[name](store, *args)
            if isinstance(a, float):
                assert struct.pack("<f", a) == struct.pack("<f", b), name
            else:
                assert a == b, (name, a, b)
        assert bytes(ours["mem"].read(0, PAGE)) == bytes(theirs["mem"].read(store, 0, PAGE))


# ---- v128 at the API --------------------------------------------------------------------------
API_MODULE = r"""
(module
  (import "host" "twist" (func $twist (param v128 i32) (result v128)))
  (global $g (export "g") (mut v128) (v128.const i64x2 1 2))
  (func (export "swap") (param v128) (result v128 v128)
    (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get 0) (local.get 0))
    (local.get 0))
  (func (export "via_host") (param v128) (result v128)
    (call $twist (local.get 0) (i32.const 3)))
  (func (export "bump") (global.set $g (i64x2.add (global.get $g) (i64x2.splat (i64.const 1))))))
"""


def test_v128_through_the_engine_api_and_host_functions():
    from pywamr.binary.types import I32, V128, FuncType
    from pywamr.engine import Engine, Linker, Module
    engine = Engine("interp", cache=False)
    linker = Linker(engine)
    seen = []

    def twist(v, n):
        seen.append((v, n))
        return (v << n) & ((1 << 128) - 1)

    linker.define_func("host", "twist", FuncType((V128, I32), (V128,)), twist)
    exports = linker.instantiate(None, Module(engine, wat(API_MODULE))).exports
    value = int.from_bytes(bytes(range(1, 17)), "little")
    low, high = value & ((1 << 64) - 1), value >> 64
    assert exports["swap"](value) == (high | low << 64, value)
    assert exports["swap"](bytes(range(1, 17)))[1] == value        # 16 bytes are a v128 too
    assert exports["swap"](-1) == ((1 << 128) - 1, (1 << 128) - 1)
    assert exports["via_host"](1 << 127 | 1) == 8
    assert seen == [(1 << 127 | 1, 3)]
    assert exports["g"].value == 1 | 2 << 64
    exports["bump"]()
    assert exports["g"].value == 2 | 3 << 64
    with pytest.raises((TypeError, ValueError)):
        exports["swap"](1 << 128)


def test_cli_invoke_passes_and_prints_v128(tmp_path):
    path = tmp_path / "swap.wasm"
    path.write_bytes(wat(API_MODULE.replace('(import "host" "twist" (func $twist (param v128 i32) (result v128)))', "")
                         .replace("(call $twist (local.get 0) (i32.const 3))", "(local.get 0)")))
    proc = subprocess.run([sys.executable, "-m", "pywamr", "run", "--engine", "interp", "--invoke",
                           "swap", str(path), "0x0102030405060708090a0b0c0d0e0f10"],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["0x090a0b0c0d0e0f100102030405060708",
                                   "0x0102030405060708090a0b0c0d0e0f10"]
