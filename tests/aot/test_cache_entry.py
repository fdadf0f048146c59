"""The code cache's own records (`aot/artifact.py`): the entry prefix that spares a cached run
the JSON header, the marshalled host record, canonical keys, and the stat-stamped memo of the
compiler's source digest."""
from __future__ import annotations

import os
import time

import pytest

from aot_testlib import wat
from pywamr.aot import _host, load_cached
from pywamr.aot.artifact import (AotCache, ArtifactError, cache_entry, cache_key, canonical,
                                 read_artifact, read_cache_entry, sha256, sources_digest)
from pywamr.binary.decoder import decode_module
from pywamr.engine import Engine, Module
from pywamr.validate import validate_module

ADD = """(module (func (export "add") (param i32 i32) (result i32)
  (i32.add (local.get 0) (local.get 1))))"""


def _entry(tmp_path):
    data = wat(ADD)
    Module(Engine("aot", cache_dir=tmp_path), data)
    (path,) = (tmp_path / "aot").glob("*.cwasm")
    return data, path, path.stem


def test_entry_holds_a_plain_artifact_and_round_trips(tmp_path):
    data, path, key = _entry(tmp_path)
    entry = path.read_bytes()
    artifact, objects = read_cache_entry(entry, key, data)
    art = read_artifact(artifact, _host(), data)    # the artifact behind the prefix
    assert art.objects == objects and art.wasm == data
    assert cache_entry(key, artifact) == entry
    structure = validate_module(decode_module(data, bodies=False), data, bodies=False)
    cached = load_cached(structure, AotCache(tmp_path))
    assert cached is not None and cached.artifact_bytes() == artifact


@pytest.mark.parametrize("damage", ["other key", "truncated", "payload bit", "prefix length",
                                    "other source"])
def test_damaged_or_misplaced_entries_are_refused(tmp_path, damage):
    data, path, key = _entry(tmp_path)
    entry = bytearray(path.read_bytes())
    source = data
    if damage == "other key":
        key = "0" * 64
    elif damage == "truncated":
        entry = entry[:len(entry) // 2]
    elif damage == "payload bit":
        entry[-20] ^= 1
    elif damage == "prefix length":
        entry[len(b"\x00pywamr-cache\n") + 64] = 0xFF      # object count
    else:
        source = data[:-1] + bytes([data[-1] ^ 1])
    with pytest.raises(ArtifactError):
        read_cache_entry(bytes(entry), key, source)


def test_a_damaged_entry_is_dropped_and_recompiled(tmp_path):
    from pywamr.aot import stats
    data, path, _ = _entry(tmp_path)
    before = stats.modules_compiled
    Module(Engine("aot", cache_dir=tmp_path), data)
    assert stats.modules_compiled == before, "an intact entry is a hit"
    raw = bytearray(path.read_bytes())
    raw[-20] ^= 0xFF
    path.write_bytes(bytes(raw))
    module = Module(Engine("aot", cache_dir=tmp_path), data)
    assert stats.modules_compiled == before + 1, "a damaged entry is compiled again"
    assert read_cache_entry(path.read_bytes(), path.stem, data)[0] == \
        module.compiled.artifact_bytes()


def test_canonical_text_is_order_free_and_typed():
    assert canonical({"b": [1, "x"], "a": None}) == canonical({"a": None, "b": [1, "x"]})
    assert canonical({"a": 1}) != canonical({"a": "1"})
    assert cache_key("ab", {"cpu": "x", "opt": 2}) == cache_key("ab", {"opt": 2, "cpu": "x"})
    with pytest.raises(TypeError):
        canonical({"a": object()})


def test_host_record_is_marshalled_and_a_bad_one_recomputed(tmp_path):
    cache = AotCache(tmp_path)
    calls = []

    def compute():
        calls.append(1)
        return {"cpu": "test", "opt": 2}

    assert cache.host_identity(compute) == {"cpu": "test", "opt": 2} and len(calls) == 1
    assert cache.host_identity(compute) == {"cpu": "test", "opt": 2} and len(calls) == 1
    (record,) = (tmp_path / "host").glob("*.marshal")
    record.write_bytes(b"\x00garbage")
    assert cache.host_identity(compute) == {"cpu": "test", "opt": 2} and len(calls) == 2


def _package(root, text):
    (root / "aot").mkdir(parents=True, exist_ok=True)
    (root / "aot" / "a.py").write_text(text)
    (root / "aot" / "__pycache__").mkdir(exist_ok=True)
    (root / "aot" / "__pycache__" / "ignored.py").write_text("not a source")
    return str(root)


def test_source_digest_memo_follows_the_files(tmp_path):
    memo = tmp_path / "memo"
    package = _package(tmp_path / "p", "x = 1\n")
    first = sources_digest(package, ("aot",), memo)
    assert first == sources_digest(package, ("aot",), None), "memo and contents agree"
    (record,) = memo.glob("sources-*.txt")
    record.write_text("0123456789abcdef")
    assert sources_digest(package, ("aot",), memo) == "0123456789abcdef", "the memo is used"
    time.sleep(0.01)
    (tmp_path / "p" / "aot" / "a.py").write_text("x = 2\n")   # same size, new mtime
    changed = sources_digest(package, ("aot",), memo)
    assert changed == sources_digest(package, ("aot",), None) != first
    other = _package(tmp_path / "q", "x = 1\n")                # same contents elsewhere
    os.utime(tmp_path / "q" / "aot" / "a.py", ns=(1, 1))
    assert sources_digest(other, ("aot",), memo) == first
