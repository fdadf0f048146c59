"""The code cache and precompiled artifacts: hits do no LLVM work; stale, foreign and corrupt
artifacts are refused with a clear ArtifactError."""
from __future__ import annotations

import json
import os
import struct
import subprocess
import sys
from pathlib import Path

import pytest

from aot_testlib import compile_wat
from pywamr.aot import AotCache, ArtifactError, load_artifact, stats
from pywamr.aot.artifact import MAGIC
from pywamr.runtime.instantiate import instantiate_module

SOURCE = """
(module (func (export "add") (param i32 i32) (result i32) local.get 0 local.get 1 i32.add))
"""


def _run(aot_module, *args):
    state = instantiate_module(aot_module, [])
    return state.exports["add"].call(*args)


def test_second_compile_hits_the_cache(tmp_path):
    cache = AotCache(tmp_path)
    first, _ = compile_wat(SOURCE, cache)
    compiled = stats.chunks_compiled
    second, _ = compile_wat(SOURCE, cache)
    assert stats.chunks_compiled == compiled, "a cache hit must not run LLVM"
    assert _run(second, 2, 3) == 5 and _run(first, 4, 5) == 9
    assert list((tmp_path / "aot").glob("*.cwasm"))


def test_no_cache_env(tmp_path, monkeypatch):
    from pywamr.aot import compile_module
    from pywamr.binary.decoder import decode_module
    from pywamr.validate import validate_module
    from pywamr_testlib import wat
    monkeypatch.setenv("PYWAMR_NO_CACHE", "1")
    monkeypatch.setenv("PYWAMR_CACHE_DIR", str(tmp_path))
    data = wat(SOURCE)
    compile_module(validate_module(decode_module(data), data))
    assert not (tmp_path / "aot").exists()


def test_saved_artifact_loads_without_compiling(tmp_path):
    module, data = compile_wat(SOURCE)
    path = tmp_path / "m.cwasm"
    module.save(path)
    compiled = stats.chunks_compiled
    loaded = load_artifact(path, source_bytes=data)
    assert stats.chunks_compiled == compiled
    assert _run(loaded, 40, 2) == 42
    assert _run(load_artifact(path.read_bytes()), 1, 1) == 2


def _rewrite_header(blob: bytes, change) -> bytes:
    start = len(MAGIC) + 8
    version, n = struct.unpack_from("<II", blob, len(MAGIC))
    header = json.loads(blob[start:start + n])
    change(header)
    head = json.dumps(header, sort_keys=True).encode()
    return MAGIC + struct.pack("<II", version, len(head)) + head + blob[start + n:]


def test_bad_artifacts_are_refused(tmp_path):
    module, data = compile_wat(SOURCE)
    blob = module.artifact_bytes()
    other = compile_wat(SOURCE.replace("i32.add", "i32.sub"))[1]
    cases = {
        "stale": (blob, other),
        "not an artifact": (b"\0asm\1\0\0\0", None),
        "format": (blob[:len(MAGIC)] + struct.pack("<I", 99) + blob[len(MAGIC) + 4:], None),
        "foreign cpu": (_rewrite_header(blob, lambda h: h["host"].update(cpu="z80")), None),
        "old compiler": (_rewrite_header(blob, lambda h: h["compiler"].update(aot="0")), None),
        "corrupt": (blob[:-10] + bytes(10 * [0x5A]), None),
        "truncated": (blob[:len(blob) // 2], None),
    }
    messages = {}
    for name, (bad, source) in cases.items():
        with pytest.raises(ArtifactError) as info:
            load_artifact(bad, source_bytes=source)
        messages[name] = str(info.value)
    assert "stale" in messages["stale"]
    assert "another host" in messages["foreign cpu"]
    assert "recompile" in messages["old compiler"]
    assert "corrupt" in messages["corrupt"]


def test_corrupt_cache_entry_is_recompiled(tmp_path):
    cache = AotCache(tmp_path)
    compile_wat(SOURCE, cache)
    (entry,) = (tmp_path / "aot").glob("*.cwasm")
    entry.write_bytes(entry.read_bytes()[:-5] + b"xxxxx")
    module, _ = compile_wat(SOURCE, cache)
    assert _run(module, 1, 2) == 3


COMPOSED = Path(__file__).resolve().parent.parent / "fixtures" / "components" / "composed.wasm"


def test_second_load_of_a_composed_component_hits_the_cache(tmp_path):
    """The cache covers components: each of the composed calculator's cores (from both
    sub-components) is cached, so a second load runs no LLVM."""
    from pywamr import Engine
    from pywamr.component import Component
    engine = Engine("aot", cache_dir=tmp_path)
    first = Component.from_file(engine, COMPOSED)
    entries = sorted((tmp_path / "aot").glob("*.cwasm"))
    assert len(entries) == 6
    compiled, modules = stats.chunks_compiled, stats.modules_compiled
    second = Component.from_file(Engine("aot", cache_dir=tmp_path), COMPOSED)
    assert (stats.chunks_compiled, stats.modules_compiled) == (compiled, modules), \
        "a cached component must not run LLVM"
    assert sorted((tmp_path / "aot").glob("*.cwasm")) == entries
    assert len(second._modules) == len(first._modules) == 6


def test_second_run_of_a_composed_component_does_no_llvm_work(tmp_path):
    """Whole process: `pywamr run` twice. A compile writes its artifact to the cache (a new
    file, atomically renamed), so unchanged cache entries (names, inodes, mtimes) prove that
    the second run compiled nothing."""
    env = dict(os.environ, PYWAMR_CACHE_DIR=str(tmp_path))
    env["PYTHONPATH"] = str(Path(__file__).resolve().parents[2]) + os.pathsep + \
        env.get("PYTHONPATH", "")
    env.pop("PYWAMR_ENGINE", None)
    command = [sys.executable, "-m", "pywamr", "run", "--engine", "aot", str(COMPOSED)]

    def snapshot():
        return {p.name: (p.stat().st_ino, p.stat().st_mtime_ns)
                for p in (tmp_path / "aot").glob("*")}

    for _ in range(2):
        r = subprocess.run(command, capture_output=True, text=True, env=env, timeout=600)
        assert (r.returncode, r.stdout, r.stderr) == (0, "40 + 2 = 42\n100 + 200 = 300\n", "")
        if _ == 0:
            first = snapshot()
            assert len(first) == 7, "six cores and the native adapter of `add`"
    assert snapshot() == first


def test_processes_at_different_opt_levels_do_not_share_code(tmp_path):
    """The remembered host record carries the default opt level, so it is keyed by it too: a
    process at $PYWAMR_AOT_OPT=0 and one at 2 sharing a cache directory store two entries
    (were the record shared, the second would reuse the first's code under the wrong label)."""
    root = Path(__file__).resolve().parents[2]
    cache = tmp_path / "cache"

    def entries():
        return sorted(p.name for p in cache.rglob("*") if p.is_file() and "host" not in p.parts)
    seen = []
    for level in ("0", "2", "0"):
        env = {**os.environ, "PYWAMR_AOT_OPT": level}
        proc = subprocess.run([sys.executable, "-m", "pywamr", "run", "--engine", "aot",
                               "--cache-dir", str(cache), "--invoke", "add",
                               str(root / "examples" / "add.wasm"), "2", "3"],
                              capture_output=True, text=True, env=env, cwd=root)
        assert proc.returncode == 0 and proc.stdout.strip() == "5", proc.stderr
        seen.append(entries())
    assert len(seen[0]) == 1 and len(seen[1]) == 2, seen
    assert seen[2] == seen[1], "the third run (level 0 again) must hit the first's entry"
