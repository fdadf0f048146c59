"""The native-object loader (pywamr/aot/loader.py): cached and precompiled runs link their
objects without LLVM, give the same results as LLVM's linker, refuse what they do not
understand (and the engine then falls back to LLVM), keep W^X, and never map a tampered
cache entry."""
from __future__ import annotations

import ctypes
import mmap
import os
import struct
import subprocess
import sys
from pathlib import Path

import pytest

from aot_testlib import compile_wat
from pywamr.aot import AotCache, load_cached, loader
from pywamr.runtime.instantiate import instantiate_module

ROOT = Path(__file__).resolve().parents[2]
HELLO = ROOT / "examples" / "hello.wasm"
COMPOSED = ROOT / "tests" / "fixtures" / "components" / "composed.wasm"

# Calls across chunks, a jump table (br_table), float constants (read-only data), a trap,
# a host call and memory: the relocation kinds LLVM emits for our code.
SOURCE = """
(module
  (import "env" "twice" (func $twice (param i32) (result i32)))
  (memory (export "mem") 1)
  (func $pick (export "pick") (param i32) (result i32)
    (block (block (block (block (br_table 0 1 2 3 (local.get 0))) (return (i32.const 10)))
      (return (i32.const 20))) (return (i32.const 30))) (i32.const 40))
  (func (export "scale") (param f64) (result f64) (f64.mul (local.get 0) (f64.const 1.5)))
  (func (export "host") (param i32) (result i32) (call $twice (call $pick (local.get 0))))
  (func (export "div") (param i32 i32) (result i32) (i32.div_s (local.get 0) (local.get 1)))
  (func (export "store") (param i32 i32) (i32.store (local.get 0) (local.get 1)))
)
"""


def _run(aot_module):
    from pywamr.binary.types import I32, FuncType
    from pywamr.runtime.objects import Function
    twice = Function(FuncType((I32,), (I32,)), lambda x: 2 * x, "twice")
    exports = instantiate_module(aot_module, [twice]).exports
    out = [exports["pick"].call(k) for k in range(5)]
    out += [exports["scale"].call(3.0), exports["host"].call(1)]
    try:
        exports["div"].call(1, 0)
    except Exception as exc:            # a Trap: its message and backtrace must match
        out.append((type(exc).__name__, str(exc)))
    exports["store"].call(8, 1234)
    out.append(bytes(exports["mem"].data[8:12]))
    return out


def test_loader_and_llvm_linker_agree(monkeypatch):
    ours, _ = compile_wat(SOURCE)
    assert ours.linker == "pywamr" and ours.fallback_reason is None
    monkeypatch.setenv("PYWAMR_AOT_LOADER", "llvm")
    theirs, _ = compile_wat(SOURCE)
    assert theirs.linker == "llvm"
    expected = [10, 20, 30, 40, 40, 4.5, 40]
    assert _run(ours)[:7] == expected
    assert _run(ours) == _run(theirs)


def test_unsupported_object_falls_back_to_llvm(monkeypatch):
    def refuse(objects, imports):
        raise loader.LoaderError("relocation type 99 is not supported by the loader")
    monkeypatch.setattr(loader, "load_objects", refuse)
    module, _ = compile_wat(SOURCE)
    assert module.linker == "llvm"
    assert "relocation type 99" in module.fallback_reason
    assert _run(module)[:7] == [10, 20, 30, 40, 40, 4.5, 40]
    monkeypatch.setenv("PYWAMR_AOT_LOADER", "strict")
    with pytest.raises(loader.LoaderError):
        compile_wat(SOURCE)


def _objects(module) -> list[bytes]:
    from pywamr.aot.artifact import read_artifact
    from pywamr.aot import _host
    return read_artifact(module.artifact_bytes(), _host()).objects


def _rela_entries(obj: bytes):
    """(file offset, r_offset, type) of every RELA entry of an ELF64 object."""
    shoff, = struct.unpack_from("<Q", obj, 0x28)
    _, shnum = struct.unpack_from("<HH", obj, 0x3A)
    for i in range(shnum):
        fields = struct.unpack_from("<IIQQQQIIQQ", obj, shoff + 64 * i)
        if fields[1] == 4:
            for at in range(fields[4], fields[4] + fields[5], 24):
                r_offset, info = struct.unpack_from("<QQ", obj, at)
                yield at, r_offset, info & 0xFFFFFFFF


def _patched(obj: bytes, at: int, r_offset: int | None = None, kind: int | None = None):
    data = bytearray(obj)
    old_offset, info = struct.unpack_from("<QQ", data, at)
    struct.pack_into("<QQ", data, at, old_offset if r_offset is None else r_offset,
                     info if kind is None else (info >> 32) << 32 | kind)
    return bytes(data)


def _imports():
    from pywamr.aot import bridge
    return bridge.symbol_imports()


def test_relocation_kinds_are_refused_clearly():
    module, _ = compile_wat(SOURCE)
    objects = _objects(module)
    at, _, _ = next(_rela_entries(objects[0]))
    with pytest.raises(loader.LoaderError, match="relocation type 99"):
        loader.load_objects([_patched(objects[0], at, kind=99)] + objects[1:], _imports())
    with pytest.raises(loader.LoaderError, match="outside section"):
        loader.load_objects([_patched(objects[0], at, r_offset=1 << 40)] + objects[1:],
                            _imports())
    # an absolute 32-bit relocation cannot reach a mapping above 4 GiB
    with pytest.raises(loader.LoaderError, match="does not fit"):
        loader.load_objects([_patched(objects[0], at, kind=loader.R_X86_64_32)]
                            + objects[1:], _imports())
    with pytest.raises(loader.LoaderError, match="not an ELF"):
        loader.load_objects([b"\0" * 100], _imports())
    with pytest.raises(loader.LoaderError):
        loader.load_objects([objects[0][:200]], _imports())


def test_every_relocation_of_a_real_module_is_one_the_loader_knows():
    module, _ = compile_wat(SOURCE)
    kinds = {kind for obj in _objects(module) for _, _, kind in _rela_entries(obj)}
    assert kinds and kinds <= set(loader._RELOCATION_NAMES), kinds


def _mapping_of(address: int) -> list[str]:
    """/proc/self/maps lines of the mapping parts that contain or follow `address`."""
    lines = []
    for line in Path("/proc/self/maps").read_text().splitlines():
        start, end = (int(x, 16) for x in line.split()[0].split("-"))
        if start <= address < end or lines and start == lines[-1][1]:
            lines.append((start, end, line.split()[1]))
    return [perms for _, _, perms in lines]


def test_image_is_never_writable_and_executable():
    module, _ = compile_wat(SOURCE)
    image = module._tracker
    assert isinstance(image, loader.LoadedImage)
    perms = [p for p in _mapping_of(image.address)][:3]
    assert perms[0] == "r-xp", perms
    assert not any("w" in p and "x" in p for p in perms), perms


def test_image_is_unmapped_when_released():
    module, _ = compile_wat(SOURCE)
    image = loader.load_objects(_objects(module), _imports())
    address, finalizer = image.address, image._finalizer
    assert _mapping_of(address)[0] == "r-xp"
    del image
    import gc
    gc.collect()
    assert not finalizer.alive
    assert not _mapping_of(address) or _mapping_of(address)[0] != "r-xp"


def test_loads_after_huge_reservations():
    """Code loaded while many GiB of address space are mapped still links (32-bit PC-relative
    relocations stay inside one mapping; LLVM's RuntimeDyld could abort here)."""
    libc = ctypes.CDLL(None)
    libc.mmap.restype = ctypes.c_void_p
    libc.mmap.argtypes = (ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int,
                          ctypes.c_int, ctypes.c_long)
    libc.munmap.argtypes = (ctypes.c_void_p, ctypes.c_size_t)
    size = 8 << 30
    reserved = [libc.mmap(None, size, 0, mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS
                          | getattr(mmap, "MAP_NORESERVE", 0x4000), -1, 0) for _ in range(3)]
    try:
        module, _ = compile_wat(SOURCE)
        assert module.linker == "pywamr"
        assert _run(module)[:7] == [10, 20, 30, 40, 40, 4.5, 40]
    finally:
        for address in reserved:
            if address not in (None, ctypes.c_void_p(-1).value):
                libc.munmap(address, size)


def test_tampered_cache_entry_is_never_mapped(tmp_path, monkeypatch):
    cache = AotCache(tmp_path)
    module, data = compile_wat(SOURCE, cache)
    entry = next((tmp_path / "aot").glob("*.cwasm"))
    raw = bytearray(entry.read_bytes())
    raw[-100] ^= 0xFF                       # inside the last object's bytes
    entry.write_bytes(bytes(raw))
    mapped = []
    monkeypatch.setattr(loader, "load_objects", lambda *a: mapped.append(a))
    from pywamr.binary.decoder import decode_module
    from pywamr.validate import validate_module
    assert load_cached(validate_module(decode_module(data), data), cache) is None
    assert not mapped and not entry.exists()


_CHECK = """
import runpy, sys
sys.argv = ["pywamr"] + sys.argv[1:]
try:
    runpy.run_module("pywamr", run_name="__main__")
except SystemExit as exc:
    code = exc.code or 0
else:
    code = 0
sys.stdout.flush()
bad = sorted(m for m in sys.modules if m.startswith(("llvmlite.binding", "pywamr.aot.codegen",
                                                    "pywamr.aot.compiler")))
print("LOADED:", bad, file=sys.stderr)
sys.exit(code)
"""


def _run_pywamr(args, env):
    proc = subprocess.run([sys.executable, "-c", _CHECK, *map(str, args)], env=env,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    loaded = [line for line in proc.stderr.splitlines() if line.startswith("LOADED:")]
    return proc.stdout, loaded[-1]


@pytest.fixture
def env(tmp_path):
    out = dict(os.environ)
    out["PYTHONPATH"] = str(ROOT) + os.pathsep + out.get("PYTHONPATH", "")
    out["PYWAMR_CACHE_DIR"] = str(tmp_path / "cache")
    out.pop("PYWAMR_NO_CACHE", None)
    out.pop("PYWAMR_ENGINE", None)
    out.pop("PYWAMR_AOT_LOADER", None)
    return out


def test_cached_and_precompiled_runs_load_no_llvm(tmp_path, env):
    first, loaded = _run_pywamr(["run", "--engine", "aot", HELLO], env)
    assert "llvmlite.binding" in loaded        # the first run compiled (the check can fail)
    for args in (["run", HELLO], ["run", "--engine", "aot", HELLO]):
        out, loaded = _run_pywamr(args, env)
        assert out == first and loaded == "LOADED: []", (args, loaded)
    cwasm = tmp_path / "hello.cwasm"
    _run_pywamr(["compile", HELLO, "-o", cwasm], env)
    out, loaded = _run_pywamr(["run", cwasm], env)
    assert out == first and loaded == "LOADED: []"


def test_component_bundle_and_cached_component_runs_load_no_llvm(tmp_path, env):
    bundle = tmp_path / "bundle"
    _run_pywamr(["compile-component", COMPOSED, "-o", bundle], env)
    first, _ = _run_pywamr(["run", "--engine", "aot", COMPOSED], env)
    assert first.strip()
    for args in (["run", "--precompiled-dir", bundle, COMPOSED], ["run", COMPOSED],
                 ["run", "--engine", "aot", COMPOSED]):
        out, loaded = _run_pywamr(args, env)
        assert out == first and loaded == "LOADED: []", (args, loaded)
