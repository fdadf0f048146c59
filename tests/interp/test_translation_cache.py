"""The interpreter's translation cache (interp/codecache.py): a second run loads the code
objects the first one translated; a changed body, a corrupted entry or a forged one is
translated again; results are the same either way; the CLI uses it on interp and auto."""
import os
import subprocess
import sys
from pathlib import Path

import pytest

from pywamr import Engine, Linker, Module
from pywamr.interp import codecache
from pywamr_testlib import ROOT, wat

SOURCE = """
(module
  (type $binop (func (param i32 i32) (result i32)))
  (table 2 funcref)
  (elem (i32.const 0) $add $sub)
  (func $add (type $binop) (i32.add (local.get 0) (local.get 1)))
  (func $sub (type $binop) (i32.sub (local.get 0) (local.get 1)))
  (func (export "apply") (param i32 i32 i32) (result i32)
    (call_indirect (type $binop) (local.get 1) (local.get 2) (local.get 0)))
  (func $fib (export "fib") (param i32) (result i32)
    (if (result i32) (i32.lt_u (local.get 0) (i32.const 2))
      (then (local.get 0))
      (else (i32.add (call $fib (i32.sub (local.get 0) (i32.const 1)))
                     (call $fib (i32.sub (local.get 0) (i32.const 2)))))))
  (func (export "nan_or") (param f64) (result f64)
    (select (f64.const nan) (local.get 0) (f64.ne (local.get 0) (local.get 0))))
  (func (export "scaled") (param i32) (result i32)
    (i32.mul (local.get 0) (i32.const 7))))
"""
EXPORTS = ("apply", "fib", "nan_or", "scaled")


@pytest.fixture(autouse=True)
def cache_small_modules(monkeypatch):
    monkeypatch.setattr(codecache, "MIN_CODE_BYTES", 0)     # the test module is tiny


def run(data: bytes, cache_dir: Path):
    """Results of calling every export, and the module's translation cache."""
    engine = Engine("interp", cache_dir=cache_dir)
    module = Module(engine, data)
    exports = Linker(engine).instantiate(None, module).exports
    results = (exports["apply"](0, 40, 2), exports["apply"](1, 40, 2), exports["fib"](12),
               exports["nan_or"](float("nan")), exports["nan_or"](1.5), exports["scaled"](6))
    module.compiled.save_translations()
    return results, module.compiled.cache


def same(a, b) -> bool:
    """Equal results, NaN equal to NaN."""
    return all(x == y or (x != x and y != y) for x, y in zip(a, b)) and len(a) == len(b)


def cache_file(cache_dir: Path) -> Path:
    files = list((cache_dir / "interp").glob("*.pytc"))
    assert len(files) == 1, files
    return files[0]


def test_second_run_loads_every_translation(tmp_path):
    data = wat(SOURCE)
    first, cache = run(data, tmp_path)
    assert (cache.loaded, cache.stored, cache.rejected) == (0, 6, 0)
    second, cache = run(data, tmp_path)
    assert (cache.loaded, cache.stored, cache.rejected) == (6, 0, 0)
    assert same(first, second)
    assert first[:3] == (42, 38, 144) and first[5] == 42


def test_no_cache_directory_means_no_cache(tmp_path):
    engine = Engine("interp", cache=False)
    assert Module(engine, wat(SOURCE)).compiled.cache is None


def test_changed_body_misses_and_the_others_still_hit(tmp_path):
    run(wat(SOURCE), tmp_path)
    changed = wat(SOURCE.replace("(i32.const 7)", "(i32.const 9)"))
    results, cache = run(changed, tmp_path)
    assert results[5] == 54
    assert (cache.loaded, cache.stored) == (5, 1)       # same layout: the same file
    results, cache = run(changed, tmp_path)
    assert (cache.loaded, cache.stored) == (6, 0)


def test_changed_layout_uses_another_file(tmp_path):
    run(wat(SOURCE), tmp_path)
    other = wat(SOURCE.replace('(func (export "scaled")', '(func $extra)\n(func (export "scaled")'))
    _, cache = run(other, tmp_path)
    assert (cache.loaded, cache.stored) == (0, 6)
    assert len(list((tmp_path / "interp").glob("*.pytc"))) == 2


def test_corrupted_entry_is_translated_again(tmp_path):
    data = wat(SOURCE)
    first, _ = run(data, tmp_path)
    path = cache_file(tmp_path)
    raw = bytearray(path.read_bytes())
    raw[-3] ^= 0xFF                     # inside the last entry's payload
    path.write_bytes(bytes(raw))
    second, cache = run(data, tmp_path)
    assert (cache.loaded, cache.stored, cache.rejected) == (5, 1, 1)
    assert same(first, second)
    _, cache = run(data, tmp_path)      # the rewritten file is whole again
    assert (cache.loaded, cache.rejected) == (6, 0)


def test_corrupted_index_ignores_the_file(tmp_path):
    data = wat(SOURCE)
    first, _ = run(data, tmp_path)
    path = cache_file(tmp_path)
    raw = bytearray(path.read_bytes())
    raw[codecache._HEADER.size + 40] ^= 0x01        # an entry's offset in the index
    path.write_bytes(bytes(raw))
    second, cache = run(data, tmp_path)
    assert (cache.loaded, cache.stored, cache.rejected) == (0, 6, 1)
    assert same(first, second)


@pytest.mark.parametrize("forged", [
    12345,                                                  # not a translation at all
    (compile("0", "elsewhere.py", "eval"), {}, (), False),  # code from another file
    "code",                                                 # replaced below by real code
])
def test_forged_entries_with_good_checksums_are_refused(tmp_path, forged):
    data = wat(SOURCE)
    first, cache = run(data, tmp_path)
    index = cache._read_index()
    victim = min(index)
    if forged == "code":    # real code, but it would bind a helper's name in the namespace
        code = compile("def f(): pass", codecache.WASM_FILENAME, "exec").co_consts[0]
        forged = (code, {"f0": 1}, (), False)
    payloads = {i: (e[0], cache._payload(e)) for i, e in index.items()}
    payloads[victim] = (index[victim][0], codecache.marshal.dumps(forged))
    cache._write(payloads)
    second, cache = run(data, tmp_path)
    assert (cache.loaded, cache.stored, cache.rejected) == (5, 1, 1)
    assert same(first, second)


def test_foreign_environment_is_ignored(tmp_path, monkeypatch):
    data = wat(SOURCE)
    run(data, tmp_path)
    monkeypatch.setattr(codecache, "environment_digest", lambda: b"\x01" * 32)
    _, cache = run(data, tmp_path)      # another translator or Python: another file
    assert (cache.loaded, cache.stored) == (0, 6)


def test_file_size_is_bounded(tmp_path, monkeypatch):
    data = wat(SOURCE)
    run(data, tmp_path / "whole")
    bound = cache_file(tmp_path / "whole").stat().st_size // 2
    monkeypatch.setattr(codecache, "MAX_FILE_BYTES", bound)
    run(data, tmp_path)
    assert cache_file(tmp_path).stat().st_size <= bound
    _, cache = run(data, tmp_path)
    assert 0 < cache.loaded < 6 and cache.loaded + cache.stored == 6


def _pywamr(engine: str, cache_dir: Path, module: Path, env=None):
    full = dict(os.environ, PYTHONPATH=str(ROOT), PYWAMR_CACHE_DIR=str(cache_dir),
                PYWAMR_TRANSLATE_LOG="1", **(env or {}))
    proc = subprocess.run([sys.executable, "-m", "pywamr", "run", "--engine", engine,
                           str(module)], capture_output=True, env=full, timeout=300)
    assert proc.returncode == 0, proc.stderr.decode()[-2000:]
    log = [line for line in proc.stderr.decode().splitlines() if "translation cache" in line]
    assert len(log) == 1, proc.stderr.decode()
    loaded, translated = (int(log[0].split(": ")[2].split(", ")[i].split()[0]) for i in (0, 1))
    return proc.stdout, loaded, translated


@pytest.mark.parametrize("engine, env", [
    ("interp", {}),
    # auto with a tier-up far in the future: the whole run stays on the interpreter, and no
    # native code is cached, so the second run is on the interpreter again
    pytest.param("auto", {"PYWAMR_TIER": "background:1000"}, marks=pytest.mark.needs_aot),
])
def test_cli_second_run_uses_the_cache(tmp_path, engine, env):
    hello = ROOT / "examples" / "hello.wasm"
    out1, loaded, translated = _pywamr(engine, tmp_path, hello, env)
    assert loaded == 0 and translated > 0
    out2, loaded2, translated2 = _pywamr(engine, tmp_path, hello, env)
    assert (loaded2, translated2) == (translated, 0)
    assert out1 == out2 and out1


def test_cli_no_cache_writes_nothing(tmp_path):
    hello = ROOT / "examples" / "hello.wasm"
    env = dict(os.environ, PYTHONPATH=str(ROOT), PYWAMR_CACHE_DIR=str(tmp_path))
    proc = subprocess.run([sys.executable, "-m", "pywamr", "run", "--engine", "interp",
                           "--no-cache", str(hello)], capture_output=True, env=env, timeout=300)
    assert proc.returncode == 0
    assert not (tmp_path / "interp").exists()


# ---- bodies of a module known to be valid: decoded and validated only when translated -----
def test_known_valid_module_skips_body_validation(tmp_path):
    data = wat(SOURCE)
    engine = Engine("interp", cache_dir=tmp_path)
    first = Module(engine, data)
    assert first.compiled.validated.bodies_checked           # first sight: validated whole
    exports = Linker(engine).instantiate(None, first).exports
    assert exports["fib"](10) == 55                          # only fib is translated
    first.compiled.save_translations()
    second = Module(Engine("interp", cache_dir=tmp_path), data)
    assert not second.compiled.validated.bodies_checked      # the marker says: valid
    assert second.compiled.module.codes[0].body is None       # and nothing was decoded
    results, cache = run(data, tmp_path)                      # everything else decoded lazily
    assert (cache.loaded, cache.stored) == (1, 5)
    assert results[:3] == (42, 38, 144)


def test_invalid_module_is_never_marked(tmp_path):
    from pywamr.errors import ValidationError
    bad = wat(SOURCE).replace(bytes([0x41, 0x07]), bytes([0x42, 0x07]))   # i64.const 7 in i32
    assert bad != wat(SOURCE)
    for _ in range(2):
        with pytest.raises(ValidationError):
            Module(Engine("interp", cache_dir=tmp_path), bad)
    assert not (tmp_path / "interp" / "valid").exists()


def test_tampered_marker_means_full_validation(tmp_path):
    data = wat(SOURCE)
    run(data, tmp_path)
    (marker,) = (tmp_path / "interp" / "valid").iterdir()
    marker.write_bytes(b"maybe\n")
    module = Module(Engine("interp", cache_dir=tmp_path), data)
    assert module.compiled.validated.bodies_checked
