"""The WebAssembly core spec suite (../shared/conformance/core), on every engine.

Every file must run to its end with no internal error. On the Wasm 2.0 non-SIMD files every
command must pass except the known failures below, each with its reason (they all use
constructs of later proposals that pywamr refuses as "not supported").
"""
import json

import pytest

from pywamr_testlib import ENGINES, conformance_dir

CORE = conformance_dir() / "core" if conformance_dir() else None

KNOWN_FAILURES = {
    ("binary", 661): "limits flag 0x08 is the custom-page-sizes proposal: refused as not supported",
    ("binary-gc", 2): "GC type section entries: refused as not supported",
    ("br_if", 668): "uses a typed function reference type (function-references)",
    ("exports", 71): "declares an exception tag (exception handling)",
    ("func", 660): "uses a typed function reference type (function-references)",
    ("local_tee", 613): "uses a typed function reference type (function-references)",
    ("select", 384): "uses a typed function reference type (function-references)",
    ("unreached-invalid", 698): "uses ref.as_non_null (function-references)",
    ("unreached-invalid", 764): "uses call_ref (function-references)",
    ("unreached-invalid", 774): "uses call_ref (function-references)",
}


def _files():
    """Every .wast file of the core corpus (later proposals included); strict on the Wasm 2.0
    non-SIMD group of features.json."""
    if CORE is None:
        return []
    features = json.loads((CORE / "features.json").read_text())
    out = []
    for path in sorted(CORE.rglob("*.wast")):
        rel = path.relative_to(CORE).with_suffix("").as_posix()
        key = rel.replace("custom/", "custom-", 1) if rel.startswith("custom/") else rel
        info = features.get(key, {})
        strict = info.get("group") == "wasm2.0" and not key.startswith("simd")
        out.append(pytest.param(key, path, strict, id=rel))
    return out


needs_corpus = pytest.mark.skipif(
    CORE is None, reason="conformance corpus not found at ../shared/conformance "
                         "(set PYWAMR_CONFORMANCE)")


@needs_corpus
@pytest.mark.parametrize("engine_kind", ENGINES)
@pytest.mark.parametrize("key,path,strict", _files())
def test_core_file(engine_kind, key, path, strict):
    from pywamr.engine import Engine
    from pywamr.wast import run_file
    result = run_file(path, Engine(engine_kind))
    internal = [f for f in result.failures if "internal error" in f[2]]
    assert not internal, f"internal errors: {internal[:5]}"
    if strict:
        unexpected = [f for f in result.failures if (key, f[0]) not in KNOWN_FAILURES]
        assert not unexpected, f"{len(unexpected)} failures: {unexpected[:5]}"


@needs_corpus
def test_known_failures_are_current():
    """Every known failure still fails on interp (so the list cannot go stale)."""
    from pywamr.engine import Engine
    from pywamr.wast import run_file
    engine = Engine("interp")
    for key in sorted({k for k, _ in KNOWN_FAILURES}):
        result = run_file(CORE / f"{key}.wast", engine)
        failing = {line for line, _, _ in result.failures}
        for (k, line) in KNOWN_FAILURES:
            if k == key:
                assert line in failing, f"{key}:{line} passes now: remove it from KNOWN_FAILURES"
