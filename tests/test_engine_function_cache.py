"""The code cache's per-function entries (aot/cache_functions.py): code compiled by per-function
tiering is stored, a later run of the same module starts those functions on native code at
link, a changed body misses, a corrupt, truncated or forged entry or index is ignored (and
the code compiled again), the cache stays bounded, and results are those of both engines."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from pywamr import Engine, Linker, Module
from pywamr_testlib import require_aot, wat

require_aot()

from pywamr import aot  # noqa: E402
from pywamr.aot import cache_functions  # noqa: E402
from pywamr.binary.decoder import decode_module  # noqa: E402
from pywamr.validate import validate_module  # noqa: E402

SOURCE = """(module
 (memory (export "mem") 1)
 (global $count (mut i32) (i32.const 0))
 (func $sum (export "sum") (param i32) (result i32) (local $k i32) (local $acc i32)
   (global.set $count (i32.add (global.get $count) (i32.const 1)))
   (loop $l (local.set $acc (i32.add (local.get $acc) (i32.mul (local.get $k) (local.get 0))))
     (br_if $l (i32.lt_u (local.tee $k (i32.add (local.get $k) (i32.const 1)))
                         (i32.const 2000))))
   (local.get $acc))
 (func $twice (export "twice") (param i32) (result i32)
   (i32.add (call $sum (local.get 0)) (call $sum (local.get 0))))
 (func $div (export "div") (param i32 i32) (result i32) (i32.div_u (local.get 0) (local.get 1)))
 (func (export "count") (result i32) (global.get $count)))"""
SUM, TWICE, DIV = 0, 1, 2


def validated(text: str = SOURCE):
    data = wat(text)
    return validate_module(decode_module(data), data)


def entries(tmp_path) -> list[Path]:
    return sorted((tmp_path / "functions").glob("*.cwfn"))


def reference(engine_kind="aot"):
    """Results of the module's exports on a fresh instance of another engine."""
    engine = Engine(engine_kind, cache=False)
    inst = Linker(engine).instantiate(None, Module(engine, wat(SOURCE)))
    return [inst.exports["twice"](3), inst.exports["count"](), inst.exports["div"](7, 2)]


def test_second_compile_of_a_group_comes_from_the_cache(tmp_path):
    cache = aot.AotCache(tmp_path)
    v = validated()
    first = aot.compile_functions(v, [SUM, TWICE], cache=cache)
    assert not first.from_cache and len(entries(tmp_path)) == 1
    compiled = aot.stats.chunks_compiled
    second = aot.compile_functions(validated(), [SUM, TWICE], cache=cache)
    assert second.from_cache and aot.stats.chunks_compiled == compiled, "a hit runs no LLVM"
    other_level = aot.compile_functions(v, [SUM, TWICE], cache=cache, opt_level=0)
    indirect = aot.compile_functions(v, [SUM, TWICE], cache=cache, direct_calls=False)
    assert not other_level.from_cache and not indirect.from_cache
    assert len(entries(tmp_path)) == 3
    found = aot.load_cached_functions(validated(), cache)
    assert [(sorted(p.defined), level, direct) for p, level, direct in found] == [
        ([SUM, TWICE], 2, True), ([SUM, TWICE], 0, True), ([SUM, TWICE], 2, False)]


def test_a_changed_body_misses_and_the_rest_still_hits(tmp_path):
    cache = aot.AotCache(tmp_path)
    aot.compile_functions(validated(), [SUM], cache=cache)
    aot.compile_functions(validated(), [DIV], cache=cache)
    changed = validated(SOURCE.replace("(i32.const 2000)", "(i32.const 2001)"))
    found = aot.load_cached_functions(changed, cache)
    assert [sorted(p.defined) for p, _, _ in found] == [[DIV]]
    compiled = aot.stats.chunks_compiled
    assert not aot.compile_functions(changed, [SUM], cache=cache).from_cache
    assert aot.stats.chunks_compiled > compiled
    # another module context (one more type) misses everything, even unchanged bodies
    retyped = validated(SOURCE.replace("(memory", "(type (func (param f64))) (memory"))
    assert aot.load_cached_functions(retyped, cache) == []


@pytest.mark.parametrize("damage", ["corrupt", "truncated", "empty", "foreign"])
def test_a_damaged_entry_is_ignored_and_compiled_again(tmp_path, damage):
    cache = aot.AotCache(tmp_path)
    aot.compile_functions(validated(), [SUM, TWICE], cache=cache)
    (entry,) = entries(tmp_path)
    blob = entry.read_bytes()
    if damage == "corrupt":         # flip bytes inside the objects: the checksum fails
        blob = blob[:-40] + bytes(b ^ 0xFF for b in blob[-40:-20]) + blob[-20:]
    elif damage == "truncated":
        blob = blob[:len(blob) // 2]
    elif damage == "empty":
        blob = b""
    else:                           # a whole-module artifact put in its place
        blob = aot.compile_module(validated(), cache=None).artifact_bytes()
    entry.write_bytes(blob)
    assert aot.load_cached_functions(validated(), cache) == []
    assert not entry.exists(), "a refused entry is deleted"
    again = aot.compile_functions(validated(), [SUM, TWICE], cache=cache)
    assert not again.from_cache and len(entries(tmp_path)) == 1
    engine = Engine("auto", cache_dir=tmp_path, tiering="background:1000")
    module = Module(engine, wat(SOURCE))
    inst = Linker(engine).instantiate(None, module)
    assert module.compiled.functions.cached == {SUM, TWICE}
    assert [inst.exports["twice"](3), inst.exports["count"](), inst.exports["div"](7, 2)] \
        == reference()


@pytest.mark.parametrize("index", ["{", '{"groups": 3}', '{"groups": [{"functions": [-1], '
                                   '"opt": 2, "direct_calls": true}]}',
                                   '{"groups": [{"functions": [99], "opt": 2, '
                                   '"direct_calls": true}]}',
                                   '{"groups": [{"functions": [0], "opt": 9, '
                                   '"direct_calls": true}]}'])
def test_a_bad_index_is_ignored(tmp_path, index):
    """A malformed index, or one naming functions the module does not have (never looked up:
    a negative index would name another body), finds nothing and breaks nothing."""
    cache = aot.AotCache(tmp_path)
    aot.compile_functions(validated(), [SUM], cache=cache)
    (path,) = (tmp_path / "functions" / "index").glob("*.json")
    path.write_text(index)
    assert aot.load_cached_functions(validated(), cache) == []
    engine = Engine("auto", cache_dir=tmp_path, tiering="background:1000")
    inst = Linker(engine).instantiate(None, Module(engine, wat(SOURCE)))
    assert inst.exports["twice"](3) == reference()[0]


def test_the_cache_stays_bounded(tmp_path, monkeypatch):
    cache = aot.AotCache(tmp_path)
    aot.compile_functions(validated(), [SUM], cache=cache)
    size = entries(tmp_path)[0].stat().st_size
    monkeypatch.setattr(cache_functions, "MAX_BYTES", 2 * size + size // 2)
    monkeypatch.setattr(cache_functions, "MAX_GROUPS", 2)
    for funcs in ([TWICE], [DIV], [SUM, DIV], [TWICE, DIV]):
        aot.compile_functions(validated(), funcs, cache=cache)
    sizes = [p.stat().st_size for p in entries(tmp_path)]
    assert sum(sizes) <= cache_functions.MAX_BYTES and len(sizes) == 2
    (path,) = (tmp_path / "functions" / "index").glob("*.json")
    groups = [g["functions"] for g in json.loads(path.read_text())["groups"]]
    assert groups == [[SUM, DIV], [TWICE, DIV]]     # the most recent ones


def test_second_run_starts_hot_functions_native_at_link(tmp_path):
    """Run 1 compiles `sum` alone (hot:N, deterministic) and stores it; run 2 (background
    policy, a new engine and module) has it native at link, before any call or sample, and
    compiles nothing; results, traps and the private global equal both engines'."""
    engine = Engine("auto", cache_dir=tmp_path, tiering="hot:2")
    inst = Linker(engine).instantiate(None, Module(engine, wat(SOURCE)))
    first = [inst.exports["twice"](3) for _ in range(3)]
    assert list(inst.state.engine_data["__tier__"].levels) != []
    assert entries(tmp_path)
    compiled = aot.stats.chunks_compiled
    engine = Engine("auto", cache_dir=tmp_path, tiering="background:1000")
    module = Module(engine, wat(SOURCE))
    inst = Linker(engine).instantiate(None, module)
    tiers = module.compiled.functions
    assert SUM in tiers.cached and tiers.levels[SUM] == 2
    assert inst.exports["twice"](3) == first[0]
    assert inst.state.engine_data["__tier__"].levels.get(SUM) == 2     # switched at once
    from pywamr.errors import Trap
    with pytest.raises(Trap):
        inst.exports["div"](1, 0)
    assert [inst.exports["twice"](3), inst.exports["count"](), inst.exports["div"](7, 2)] \
        == [first[0], 4, 3]     # two calls of twice: four of sum
    assert aot.stats.chunks_compiled == compiled
    assert reference() == reference("interp")


def test_cli_second_run_logs_functions_native_from_the_cache(tmp_path):
    """Whole process: the first run of a module with a hot loop compiles it (background
    policy, the sampler), the second says at link that its code came from the cache, with
    the same output."""
    data = wat("""(module
      (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
      (func $spin (param i32) (result i32) (local $k i32) (local $acc i32)
        (loop $l (local.set $acc (i32.add (local.get $acc) (i32.xor (local.get $k) (local.get 0))))
          (br_if $l (i32.lt_u (local.tee $k (i32.add (local.get $k) (i32.const 1)))
                              (i32.const 20000))))
        (local.get $acc))
      (func (export "_start") (local $n i32) (local $acc i32)
        (loop $l (local.set $acc (i32.add (local.get $acc) (call $spin (local.get $n))))
          (br_if $l (i32.lt_u (local.tee $n (i32.add (local.get $n) (i32.const 1)))
                              (i32.const 300))))
        (call $exit (i32.and (local.get $acc) (i32.const 127)))))""")
    module = tmp_path / "spin.wasm"
    module.write_bytes(data)
    env = dict(os.environ, PYWAMR_CACHE_DIR=str(tmp_path / "cache"), PYWAMR_TIER_LOG="1",
               PYWAMR_TIER="background:1000")
    env["PYTHONPATH"] = str(Path(__file__).resolve().parents[1]) + os.pathsep + \
        env.get("PYTHONPATH", "")
    env.pop("PYWAMR_ENGINE", None)
    command = [sys.executable, "-m", "pywamr", "run", str(module)]
    runs = [subprocess.run(command, capture_output=True, text=True, env=env, timeout=600)
            for _ in range(2)]
    assert runs[0].returncode == runs[1].returncode and runs[0].stdout == runs[1].stdout
    assert "hot functions" in runs[0].stderr, runs[0].stderr
    tier_ups = [line for line in runs[1].stderr.splitlines() if "tier-up" in line]
    assert "native from the code cache" in tier_ups[0], runs[1].stderr
