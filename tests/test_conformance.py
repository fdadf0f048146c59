"""The WebAssembly core spec suite (../shared/conformance/core), on every engine.

Every file must run to its end with no internal error. On the SIMD files (`simd_*`, relaxed
SIMD) every `assert_invalid` / `assert_malformed` must pass on every engine (the decoder and
validator accept SIMD), and on the engines that run SIMD (`SIMD_ENGINES`: all of them now)
every other command must pass too, the text-format assert_malformed commands apart, which the
runner skips, saying why. Every other top-level file is held to Wasm 2.0 module by module:
`pywamr.wast` counts as `unsupported` only the commands on modules that `features.json` lists
as needing a later proposal (`modules_beyond_wasm2`) and that pywamr refuses, and the commands that depend on
them; every other command must pass, with two exceptions:

- on the Wasm 2.0 group's files, the `KNOWN_FAILURES` below, each with its reason;
- on the files of later proposals, `assert_invalid` / `assert_malformed` modules that pywamr
  refuses as "not supported": they are invalid by that proposal's rules, which pywamr never
  reaches because it refuses the proposal first (features.json lists valid modules only).

The multi-memory and tail-call groups are supported, so their files are held to the same
standard as Wasm 2.0: no command may be excused by a refused module, except where the module
also uses SIMD (`simd_memory-multi`) and the engine refuses SIMD.

Trap, link and instantiation failures must carry the spec's message (see `pywamr.wast`).
"""
import functools
import json

import pytest

from pywamr_testlib import ENGINES, conformance_dir, require_wasm_tools

CORE = conformance_dir() / "core" if conformance_dir() else None

KNOWN_FAILURES = {
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

WASM2 = "wasm2.0"
MULTI_MEMORY = "multi-memory"
TAIL_CALL = "tail-call"
SUPPORTED_PROPOSALS = (MULTI_MEMORY, TAIL_CALL)    # groups held to the Wasm 2.0 standard
SIMD_REFUSAL = "SIMD is not supported on"     # an engine refusing SIMD (none does now)
# Engines that run SIMD: on them every command of the SIMD and relaxed-SIMD files must pass
# (the text-format assert_malformed commands apart, which the runner skips, saying why).
SIMD_ENGINES = frozenset({"interp", "aot", "auto"})


@functools.lru_cache(maxsize=1)
def _features() -> dict:
    return json.loads((CORE / "features.json").read_text()) if CORE else {}


def _key(path) -> str:
    """The file's key in features.json (`custom/x.wast` is `custom-x`)."""
    return path.relative_to(CORE).with_suffix("").as_posix().replace("/", "-")


def _files():
    """Every .wast file of the core corpus, with its features.json group; strict unless it is
    a SIMD file or has no entry (the proposals/ folder)."""
    if CORE is None:
        return []
    features = _features()
    out = []
    for path in sorted(CORE.rglob("*.wast")):
        key = _key(path)
        group = features.get(key, {}).get("group")
        strict = group is not None and not key.startswith("simd")
        out.append(pytest.param(key, path, group, strict,
                                id=path.relative_to(CORE).with_suffix("").as_posix()))
    return out


def _is_simd(key: str, group) -> bool:
    """A SIMD file of the Wasm 2.0 group (`simd_*`) or a relaxed-SIMD file."""
    return key.startswith("simd") or group == "relaxed-simd"


def _allowed(key: str, group: str, failure) -> bool:
    line, kind, why = failure
    if group == WASM2:
        return (key, line) in KNOWN_FAILURES
    return kind in ("assert_invalid", "assert_malformed") and why.startswith("not supported:")


needs_corpus = pytest.mark.skipif(
    CORE is None, reason="conformance corpus not found at ../shared/conformance "
                         "(set PYWAMR_CONFORMANCE)")


@needs_corpus
@pytest.mark.parametrize("engine_kind", ENGINES)
@pytest.mark.parametrize("key,path,group,strict", _files())
def test_core_file(engine_kind, key, path, group, strict):
    require_wasm_tools()
    from pywamr.engine import Engine
    from pywamr.wast import run_file
    result = run_file(path, Engine(engine_kind))
    internal = [f for f in result.failures if "internal error" in f[2]]
    assert not internal, f"internal errors: {internal[:5]}"
    if _is_simd(key, group):
        # the front end (decoder, validator) is shared by the engines: every invalid and
        # malformed SIMD module is rejected as the script expects, on every engine
        rejected = [f for f in result.failures if f[1] in ("assert_invalid", "assert_malformed")]
        assert not rejected, f"{len(rejected)} failures: {rejected[:5]}"
        if engine_kind in SIMD_ENGINES:
            # an engine that runs SIMD passes every command of every SIMD file
            assert not result.failures, f"{result.failed} failures: {result.failures[:5]}"
            assert result.unsupported == 0, result.unsupported_commands[:5]
            assert all("no text parser" in why for _, _, why in result.skips), result.skips[:5]
    if strict:
        unexpected = [f for f in result.failures if not _allowed(key, group, f)]
        assert not unexpected, f"{len(unexpected)} failures: {unexpected[:5]}"
        if not _features()[key]["modules_beyond_wasm2"]:
            assert result.unsupported == 0, result.unsupported_commands[:5]
    refused = [u for u in result.unsupported_commands
               if f"a {MULTI_MEMORY} module, refused" in u[2] and SIMD_REFUSAL not in u[2]]
    assert not refused, f"multi-memory modules refused: {refused[:5]}"
    if group in SUPPORTED_PROPOSALS:
        excused = [u for u in result.unsupported_commands if SIMD_REFUSAL not in u[2]]
        assert not excused, excused[:5]


@needs_corpus
@pytest.mark.parametrize("engine_kind", ENGINES)
def test_known_failures_are_current(engine_kind):
    """Every known failure still fails, as "not supported" (so the list cannot go stale)."""
    require_wasm_tools()
    from pywamr.engine import Engine
    from pywamr.wast import run_file
    engine = Engine(engine_kind)
    for key in sorted({k for k, _ in KNOWN_FAILURES}):
        assert _features()[key]["group"] == WASM2, key
        result = run_file(CORE / f"{key}.wast", engine)
        failing = {line: why for line, _, why in result.failures}
        for (k, line) in KNOWN_FAILURES:
            if k == key:
                assert line in failing, f"{key}:{line} passes now: remove it from KNOWN_FAILURES"
                assert failing[line].startswith("not supported:"), failing[line]


@needs_corpus
def test_listed_modules_are_the_converted_modules():
    """features.json names modules `KEY.N.wasm`; the runner matches them to the converter's
    `STEM.N.wasm` by N. Every listed module must be a module-bearing command of our
    conversion, so a renumbering cannot silently excuse the wrong module."""
    require_wasm_tools()
    from pywamr.wast import convert, later_proposal_modules, module_index
    checked = 0
    for param in _files():
        key, path, group, strict = param.values
        listed = later_proposal_modules(path)
        if not strict or not listed:
            continue
        names = _features()[key]["modules_beyond_wasm2"]
        assert sorted(listed) == sorted(module_index(name) for name in names)
        commands = json.loads(convert(path).read_text())["commands"]
        converted = {module_index(c["filename"]) for c in commands
                     if c.get("filename") and c.get("module_type") != "text"}
        assert set(listed) <= converted, (key, sorted(set(listed) - converted))
        checked += 1
    assert checked > 100
