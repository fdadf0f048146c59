"""Multi-memory on both engines: every memory instruction on memories other than 0, data
segments into the right memory, memories imported (across engines, and the same memory under
two indices) and exported, compared against wasmtime (the oracle, with multi-memory enabled)
call by call: same results, same traps."""
from __future__ import annotations

import struct

import pytest

from pywamr_testlib import needs_aot, require_wasmtime, wat

# Memory 0 is imported (so each test also links a memory); 1 and 2 are defined, 2 bounded.
MODULE = """
(module
  (import "host" "m0" (memory $m0 1 2))
  (memory $m1 1 4)
  (memory $m2 2 3)
  (export "m1" (memory $m1))
  (data (memory $m1) (i32.const 16) "\\01\\02\\03\\04\\05\\06\\07\\08\\f0\\f1\\f2\\f3")
  (data (memory $m2) (i32.const 65530) "ABCDEF")
  (data $passive "passive-bytes")
  (data (i32.const 4) "zero")
  (func (export "load8_s") (param i32) (result i32) (i32.load8_s $m1 (local.get 0)))
  (func (export "load16_u") (param i32) (result i32) (i32.load16_u $m1 offset=1 (local.get 0)))
  (func (export "load32") (param i32) (result i32) (i32.load $m1 (local.get 0)))
  (func (export "load64") (param i32) (result i64) (i64.load $m1 offset=8 (local.get 0)))
  (func (export "load64_32s") (param i32) (result i64) (i64.load32_s $m1 (local.get 0)))
  (func (export "loadf32") (param i32) (result f32) (f32.load $m1 (local.get 0)))
  (func (export "loadf64") (param i32) (result f64) (f64.load $m2 (local.get 0)))
  (func (export "load_m2") (param i32) (result i32) (i32.load $m2 offset=65528 (local.get 0)))
  (func (export "load_m0") (param i32) (result i32) (i32.load $m0 (local.get 0)))
  (func (export "store8") (param i32 i32) (i32.store8 $m1 (local.get 0) (local.get 1)))
  (func (export "store16") (param i32 i32) (i32.store16 $m2 offset=3 (local.get 0) (local.get 1)))
  (func (export "store64") (param i32 i64) (i64.store $m2 (local.get 0) (local.get 1)))
  (func (export "storef32") (param i32 f32) (f32.store $m1 (local.get 0) (local.get 1)))
  (func (export "store_m0") (param i32 i32) (i32.store $m0 (local.get 0) (local.get 1)))
  (func (export "sizes") (result i32)
    (i32.add (i32.add (memory.size $m0) (i32.mul (memory.size $m1) (i32.const 10)))
             (i32.mul (memory.size $m2) (i32.const 100))))
  (func (export "grow1") (param i32) (result i32) (memory.grow $m1 (local.get 0)))
  (func (export "grow2") (param i32) (result i32) (memory.grow $m2 (local.get 0)))
  (func (export "grow0") (param i32) (result i32) (memory.grow $m0 (local.get 0)))
  (func (export "fill2") (param i32 i32 i32)
    (memory.fill $m2 (local.get 0) (local.get 1) (local.get 2)))
  (func (export "copy12") (param i32 i32 i32)
    (memory.copy $m1 $m2 (local.get 0) (local.get 1) (local.get 2)))
  (func (export "copy20") (param i32 i32 i32)
    (memory.copy $m2 $m0 (local.get 0) (local.get 1) (local.get 2)))
  (func (export "copy11") (param i32 i32 i32)
    (memory.copy $m1 $m1 (local.get 0) (local.get 1) (local.get 2)))
  (func (export "init2") (param i32 i32 i32)
    (memory.init $m2 $passive (local.get 0) (local.get 1) (local.get 2)))
  (func (export "drop") (data.drop $passive))
  ;; the last byte of each memory in one i64 (memory 0 in the low byte)
  (func (export "last_bytes") (result i64)
    (i64.or (i64.or
      (i64.extend_i32_u (i32.load8_u $m0
        (i32.sub (i32.shl (memory.size $m0) (i32.const 16)) (i32.const 1))))
      (i64.shl (i64.extend_i32_u (i32.load8_u $m1
        (i32.sub (i32.shl (memory.size $m1) (i32.const 16)) (i32.const 1)))) (i64.const 8)))
      (i64.shl (i64.extend_i32_u (i32.load8_u $m2
        (i32.sub (i32.shl (memory.size $m2) (i32.const 16)) (i32.const 1)))) (i64.const 16))))
)
"""

P = 65536
CALLS = [
    ("load8_s", 16), ("load8_s", 24), ("load16_u", 16), ("load32", 16), ("load32", 20),
    ("load64", 12), ("load64_32s", 24), ("loadf32", 16), ("loadf64", 2 * P - 8),
    ("load_m2", 2), ("load_m2", 4), ("load_m2", 2 * P), ("load_m0", 4), ("load32", P - 3),
    ("load32", P - 4), ("load64", P - 16), ("load64", P - 15), ("loadf64", 2 * P - 7),
    ("store8", P - 1, 0x1FF), ("store8", P, 1), ("store16", 2 * P - 5, 0xBEEF),
    ("store16", 2 * P - 4, 1), ("store64", 100, -2), ("loadf64", 100),
    ("storef32", 40, 2.5), ("load32", 40), ("store_m0", 0, 0x11223344), ("load_m0", 0),
    ("last_bytes",), ("sizes",),
    ("fill2", 10, 0xAB, 20), ("loadf64", 10), ("fill2", 2 * P - 1, 1, 2), ("fill2", 2 * P, 1, 0),
    ("fill2", 2 * P + 1, 1, 0),
    ("copy12", 200, 65530, 6), ("load32", 200), ("load16_u", 203),
    ("copy12", P - 2, 0, 3), ("copy12", 0, 2 * P - 2, 3), ("copy12", P, 2 * P, 0),
    ("copy20", 300, 0, 8), ("load64", 292), ("loadf64", 300),
    ("copy11", 17, 16, 8), ("load64", 9), ("copy11", 16, 17, 8), ("load64", 8),
    ("copy11", P - 4, 0, 5),
    ("init2", 1000, 0, 13), ("loadf64", 1000), ("init2", 1000, 5, 9), ("init2", 2 * P - 2, 0, 3),
    ("drop",), ("init2", 1000, 0, 0), ("init2", 1000, 0, 1),
    ("grow1", 1), ("sizes",), ("load32", P), ("store8", 2 * P - 1, 7), ("last_bytes",),
    ("grow2", 2), ("grow2", 1), ("sizes",), ("store16", 3 * P - 5, 0x4241), ("last_bytes",),
    ("loadf64", 3 * P - 8), ("load_m2", P), ("grow1", 3), ("grow1", 2), ("grow0", 1),
    ("store_m0", 2 * P - 4, -1), ("last_bytes",), ("sizes",), ("grow0", 1),
]


def _outcome(fn, args):
    """("ok", value) with floats as their bits (NaNs compare), or ("trap", message)."""
    try:
        value = fn(*args)
        return ("ok", struct.pack("<d", value) if isinstance(value, float) else value)
    except Exception as exc:  # noqa: BLE001 - a trap on either side is compared as text
        return ("trap", _trap_text(exc))


def _trap_text(exc) -> str:
    text = str(getattr(exc, "message", None) or exc)
    for known in ("out of bounds memory access", "unreachable"):
        if known in text:
            return known
    return text


def _wasmtime_outcomes(binary: bytes) -> list:
    wasmtime = require_wasmtime()
    config = wasmtime.Config()
    config.wasm_multi_memory = True
    engine = wasmtime.Engine(config)
    store = wasmtime.Store(engine)
    m0 = wasmtime.Memory(store, wasmtime.MemoryType(wasmtime.Limits(1, 2)))
    instance = wasmtime.Instance(store, wasmtime.Module(engine, binary), [m0])
    exports = instance.exports(store)
    return [_outcome(lambda *a, name=name: exports[name](store, *a), args)
            for name, *args in CALLS]


def _pywamr_instance(kind: str, binary: bytes, memory0=None):
    from pywamr.binary.types import Limits, MemoryType
    from pywamr.engine import Engine, Linker, Module
    from pywamr.runtime.objects import Memory
    engine = Engine(kind, cache=False)
    linker = Linker(engine)
    memory0 = memory0 or Memory(MemoryType(Limits(1, 2)))
    linker.define("host", "m0", memory0)
    return linker.instantiate(None, Module(engine, binary)), memory0


def test_every_memory_instruction_matches_wasmtime(engine_kind):
    binary = wat(MODULE)
    expected = _wasmtime_outcomes(binary)
    instance, _ = _pywamr_instance(engine_kind, binary)
    got = [_outcome(instance.exports[name], args) for name, *args in CALLS]
    for call, want, have in zip(CALLS, expected, got):
        assert have == want, f"{call}: pywamr {have}, wasmtime {want}"
    assert sum(1 for kind, _ in expected if kind == "trap") >= 12     # the script reaches the traps


def test_data_segments_land_in_their_memory(engine_kind):
    instance, memory0 = _pywamr_instance(engine_kind, wat(MODULE))
    assert bytes(memory0.data[4:8]) == b"zero"
    m1 = instance.exports["m1"]
    assert bytes(m1.data[16:20]) == b"\x01\x02\x03\x04"
    assert bytes(m1.data[4:8]) == bytes(4)
    assert instance.state.memories[2].data[65530:65536] == b"ABCDEF"


PAIRS = [
    pytest.param("interp", "aot", marks=needs_aot, id="interp-exports-to-aot"),
    pytest.param("aot", "interp", marks=needs_aot, id="aot-exports-to-interp"),
    pytest.param("interp", "interp", id="interp-exports-to-interp"),
    pytest.param("aot", "aot", marks=needs_aot, id="aot-exports-to-aot"),
]

EXPORTER = """
(module
  (memory $a (export "a") 1 5)
  (memory $b (export "b") 1 5)
  (func (export "read_b") (param i32) (result i32) (i32.load8_u $b (local.get 0)))
  (func (export "write_a") (param i32 i32) (i32.store8 $a (local.get 0) (local.get 1)))
  (func (export "size_b") (result i32) (memory.size $b)))
"""

# Imports the exporter's memory "b" twice (as memories 1 and 2) beside its own memory 0.
IMPORTER = """
(module
  (import "e" "a" (memory $ea 1 5))
  (import "e" "b" (memory $x 1 5))
  (import "e" "b" (memory $y 1 5))
  (memory $own 1)
  (func (export "grow_x") (param i32) (result i32) (memory.grow $x (local.get 0)))
  (func (export "size_y") (result i32) (memory.size $y))
  (func (export "write_y") (param i32 i32) (i32.store8 $y (local.get 0) (local.get 1)))
  (func (export "read_x") (param i32) (result i32) (i32.load8_u $x (local.get 0)))
  (func (export "read_a") (param i32) (result i32) (i32.load8_u $ea (local.get 0)))
  (func (export "copy_own_to_y") (param i32 i32 i32)
    (memory.copy $y $own (local.get 0) (local.get 1) (local.get 2)))
  (func (export "write_own") (param i32 i32) (i32.store8 $own (local.get 0) (local.get 1))))
"""


@pytest.mark.parametrize("exporter_kind,importer_kind", PAIRS)
def test_imported_memories_across_engines(exporter_kind, importer_kind):
    """A memory imported under two indices: a grow through one is seen through the other and
    by the exporting instance, on every pair of engines."""
    from pywamr.engine import Engine, Linker, Module
    from pywamr.errors import Trap
    exporting = Linker(Engine(exporter_kind, cache=False)).instantiate(
        None, Module(Engine(exporter_kind, cache=False), wat(EXPORTER)))
    engine = Engine(importer_kind, cache=False)
    linker = Linker(engine)
    linker.define_instance("e", exporting)
    e, i = exporting.exports, linker.instantiate(None, Module(engine, wat(IMPORTER))).exports
    with pytest.raises(Trap, match="out of bounds memory access"):
        i["write_y"](70000, 1)
    assert i["grow_x"](2) == 1
    assert (i["size_y"](), e["size_b"]()) == (3, 3)
    i["write_y"](3 * 65536 - 1, 9)
    assert (e["read_b"](3 * 65536 - 1), i["read_x"](3 * 65536 - 1)) == (9, 9)
    e["write_a"](5, 77)
    assert i["read_a"](5) == 77
    i["write_own"](10, 42)
    i["copy_own_to_y"](65536 * 2 + 1, 10, 1)
    assert e["read_b"](65536 * 2 + 1) == 42
    with pytest.raises(Trap, match="out of bounds memory access"):
        i["copy_own_to_y"](0, 65535, 2)


def test_host_caller_memory_is_memory_zero(engine_kind):
    """A host function's `Caller.memory` is the importing instance's memory 0 (what WASI
    uses), whatever other memories it has."""
    from pywamr.engine import Engine, Linker, Module
    seen = []
    engine = Engine(engine_kind, cache=False)
    linker = Linker(engine)
    linker.define_func("host", "peek", (("i32",), ("i32",)),
                       lambda caller, addr: seen.append(caller.memory) or caller.memory.data[addr],
                       access_caller=True)
    instance = linker.instantiate(None, Module(engine, wat("""
(module
  (import "host" "peek" (func $peek (param i32) (result i32)))
  (memory $zero (export "zero") 1)
  (memory $one 1)
  (data (memory $zero) (i32.const 3) "\\05")
  (data (memory $one) (i32.const 3) "\\06")
  (func (export "peek") (param i32) (result i32) (call $peek (local.get 0))))""")))
    assert instance.exports["peek"](3) == 5
    assert seen[0] is instance.exports["zero"]


@pytest.mark.parametrize("text,message", [
    ("(module (memory 1) (func (drop (i32.load 1 (i32.const 0)))))", "unknown memory"),
    ("(module (memory 1) (memory 1) (func (drop (memory.size 2))))", "unknown memory"),
    ("(module (memory 1) (memory 1) (func (memory.copy 0 2 (i32.const 0) (i32.const 0) "
     "(i32.const 0))))", "unknown memory"),
    ("(module (memory 1) (data (memory 1) (i32.const 0) \"\"))", "unknown memory"),
])
def test_memory_index_is_validated(text, message):
    from pywamr.engine import Engine, Module
    from pywamr.errors import ValidationError
    with pytest.raises(ValidationError, match=message):
        Module(Engine("interp", cache=False), wat(text))


def test_shared_and_64_bit_memories_stay_refused():
    from pywamr.engine import Engine, Module
    from pywamr.errors import NotSupported
    for text in ("(module (memory 1) (memory i64 1))",
                 "(module (memory 1) (memory 1 2 shared))"):
        with pytest.raises(NotSupported, match="not supported"):
            Module(Engine("interp", cache=False), wat(text))


WASI_COMMAND = """
(module
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (memory $first (export "memory") 1)
  (memory $second 1)
  ;; the same addresses in both memories: an iovec at 8 and its bytes at 64
  (data (memory $first) (i32.const 8) "\\40\\00\\00\\00\\06\\00\\00\\00")
  (data (memory $first) (i32.const 64) "first\\n")
  (data (memory $second) (i32.const 8) "\\40\\00\\00\\00\\07\\00\\00\\00")
  (data (memory $second) (i32.const 64) "second\\n")
  (func (export "_start")
    (drop (call $fd_write (i32.const 1) (i32.const 8) (i32.const 1) (i32.const 100)))
    (drop (call $fd_write (i32.const 1) (i32.const 8) (i32.const 1) (i32.const 100)))))
"""


def test_wasi_p1_uses_memory_zero(engine_kind, tmp_path):
    """WASI preview 1 reads and writes the guest's first memory, as wasmtime does."""
    import io
    from pywamr.engine import Engine, Linker, Module
    from pywamr.wasi import WasiConfig
    from pywamr.wasi.linker import add_to_linker
    from oracle import run_wasmtime
    binary = wat(WASI_COMMAND)
    stdout = io.BytesIO()
    engine = Engine(engine_kind, cache=False)
    linker = Linker(engine)
    add_to_linker(linker, WasiConfig(stdout=stdout))
    instance = linker.instantiate(None, Module(engine, binary))
    instance.exports["_start"]()
    assert stdout.getvalue() == b"first\nfirst\n"
    path = tmp_path / "command.wasm"
    path.write_bytes(binary)
    assert run_wasmtime(str(path), ["command.wasm"]).stdout == stdout.getvalue()


def _generated_code(text: str) -> tuple[str, str]:
    """(interp source, aot IR) of function 0 of a module."""
    from pywamr.aot.translate import ModuleInfo, chunk_ir
    from pywamr.binary.decoder import decode_module
    from pywamr.interp.translate import translate_function
    from pywamr.validate import validate_module
    data = wat(text)
    module = decode_module(data)
    validated = validate_module(module, data)
    source, _ = translate_function(module.types, validated.func_types, validated.funcs[0],
                                   module.codes[0], "f0")
    ir = chunk_ir(ModuleInfo(module, validated.func_types, validated.funcs), [0])
    return source, ir


MEMORY_ZERO_BODY = """
  (func (param i32) (result i32)
    (i32.store (local.get 0) (i32.add (i32.load offset=4 (local.get 0)) (memory.size)))
    (memory.fill (local.get 0) (i32.const 1) (i32.const 8))
    (memory.copy (local.get 0) (i32.const 16) (i32.const 8))
    (memory.grow (i32.const 1)))"""


def test_memory_zero_code_does_not_change_with_more_memories():
    """Memory 0's access path is the single-memory one on both engines: the same Python
    source and the same LLVM IR whether or not the module has other memories (but for the
    vmctx size the function declares dereferenceable, which grows by 16 bytes a memory)."""
    one = _generated_code(f"(module (memory 1) {MEMORY_ZERO_BODY})")
    three = _generated_code(f"(module (memory 1) (memory 2) (memory 3) {MEMORY_ZERO_BODY})")
    assert "dereferenceable(64) %vmctx" in one[1] and "dereferenceable(96) %vmctx" in three[1]
    assert one[0] == three[0]
    assert one[1] == three[1].replace("dereferenceable(96)", "dereferenceable(64)")
    source, ir = three
    assert "mem1" not in source
    assert "ld_i32(mem, " in source and "memory_copy(mem, " in source
    assert "getelementptr inbounds i8, ptr %vmctx, i64 64" not in ir
