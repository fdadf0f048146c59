"""Precompiled component bundles (`pywamr compile-component`, `pywamr run` with a bundle, the
`precompiled=` option of the component API) and the default engine of components.

A fresh bundle runs with no LLVM work; a stale, foreign or tampered one is refused with one
line on stderr and the component is compiled instead, with the same results. Writing a bundle
is atomic, also when interrupted. `pywamr run component.wasm` runs on aot by default and falls
back to interp, with one note, when llvmlite cannot be imported.
"""
from __future__ import annotations

import json
import os
import pty
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

from pywamr_testlib import ENGINES, needs_aot  # noqa: E402

FIXTURES = HERE.parent / "fixtures" / "components"
CALCULATOR_OUTPUT = "40 + 2 = 42\n100 + 200 = 300\n"
REFUSED = "pywamr: ignoring precompiled bundle "

pytestmark = needs_aot


def pywamr(*args, env: dict | None = None, stderr=subprocess.PIPE):
    full = dict(os.environ)
    full["PYTHONPATH"] = str(ROOT) + os.pathsep + full.get("PYTHONPATH", "")
    full.pop("PYWAMR_ENGINE", None)
    full.update(env or {})
    return subprocess.run([sys.executable, "-m", "pywamr", *map(str, args)],
                          stdout=subprocess.PIPE, stderr=stderr, text=True, env=full,
                          timeout=600)


@pytest.fixture(scope="module")
def bundled(tmp_path_factory):
    """A copy of the composed calculator with its bundle beside it (the run convention)."""
    where = tmp_path_factory.mktemp("bundled")
    wasm = where / "calculator.wasm"
    shutil.copyfile(FIXTURES / "composed.wasm", wasm)
    r = pywamr("compile-component", wasm)
    assert r.returncode == 0, r.stderr
    assert r.stderr == "", "no progress output when stderr is not a terminal"
    assert r.stdout.startswith(f"wrote {where / 'calculator.pywamr-bundle'} (")
    return wasm


def copy_of(wasm: Path, where: Path) -> Path:
    """A copy of the component and of its bundle, to spoil one of them."""
    target = where / wasm.name
    shutil.copyfile(wasm, target)
    shutil.copytree(wasm.with_name("calculator.pywamr-bundle"),
                    where / "calculator.pywamr-bundle")
    return target


def manifest_of(wasm: Path) -> dict:
    return json.loads((wasm.with_name("calculator.pywamr-bundle") / "manifest.json").read_text())


def test_manifest_records_component_cores_compiler_and_host(bundled):
    from pywamr.aot.artifact import compiler_identity, sha256
    from pywamr.aot.codegen import host_identity
    m = manifest_of(bundled)
    assert m["format"] == "pywamr-component-bundle" and m["version"] == 1
    assert m["component_sha256"] == sha256(bundled.read_bytes())
    assert m["compiler"] == compiler_identity()
    assert m["host"]["cpu"] == host_identity()["cpu"]
    assert [a["kind"] for a in m["adapters"]] == ["native-adapter"]
    directory = bundled.with_name("calculator.pywamr-bundle")
    files = sorted(p.relative_to(directory).as_posix() for p in directory.rglob("*.cwasm"))
    assert files == sorted(core["file"] for core in m["cores"])
    assert len({core["sha256"] for core in m["cores"]}) == len(m["cores"]) == 6
    for core in m["cores"]:
        data = (directory / core["file"]).read_bytes()
        assert sha256(data) == core["artifact_sha256"] and len(data) == core["size"]
    assert not [p for p in bundled.parent.iterdir() if p.name.startswith(".")], "temporaries"


def test_fresh_bundle_beside_the_component_is_used(bundled):
    r = pywamr("run", bundled)
    assert (r.returncode, r.stdout, r.stderr) == (0, CALCULATOR_OUTPUT, "")


def test_fresh_bundle_through_the_api_does_no_llvm_work(bundled):
    from pywamr import Engine
    from pywamr.aot import stats
    from pywamr.component import Component, Linker
    from wasi_standins import define_standins
    engine = Engine("aot", cache=False)
    before = stats.chunks_compiled
    component = Component.from_file(engine, bundled,
                                    precompiled=bundled.with_name("calculator.pywamr-bundle"))
    assert component.bundle is not None
    assert stats.chunks_compiled == before, "a bundle must not run LLVM"
    assert {m.compiled.engine_name for m in component._modules.values()} == {"aot"}
    linker = Linker(engine)
    out, err = define_standins(linker)
    instance = linker.instantiate(component)
    assert instance.exports["wasi:cli/run@0.2.12"]["run"]() is None
    assert (out.decode(), err) == (CALCULATOR_OUTPUT, b"")
    assert stats.chunks_compiled == before


def _stale(wasm: Path, where: Path) -> tuple[Path, list]:
    # a custom section appended: same program, other bytes
    data = wasm.read_bytes()
    name, payload = b"note", b"changed after compile-component"
    body = bytes([len(name)]) + name + payload
    wasm.write_bytes(data + b"\x00" + bytes([len(body)]) + body)
    return wasm, []


def _edit_manifest(change):
    def spoil(wasm: Path, where: Path):
        path = wasm.with_name("calculator.pywamr-bundle") / "manifest.json"
        m = json.loads(path.read_text())
        change(m)
        path.write_text(json.dumps(m))
        return wasm, []
    return spoil


def _edit_core(change, which: int = 2):
    def spoil(wasm: Path, where: Path):
        m = manifest_of(wasm)
        path = wasm.with_name("calculator.pywamr-bundle") / m["cores"][which]["file"]
        path.write_bytes(change(path.read_bytes()))
        return wasm, []
    return spoil


def _swap_cores(m):
    a, b = m["cores"][2], m["cores"][3]
    for key in ("file", "artifact_sha256", "size"):
        a[key], b[key] = b[key], a[key]


def _explicit_manifest(text: bytes):
    def spoil(wasm: Path, where: Path):
        path = where / "elsewhere.json"
        path.write_bytes(text)
        return wasm, ["--precompiled-manifest", path]
    return spoil


BAD_BUNDLES = {
    "stale": (_stale, "stale bundle"),
    "foreign cpu": (_edit_manifest(lambda m: m["host"].update(cpu="z80")), "foreign bundle"),
    "foreign features": (_edit_manifest(lambda m: m["host"].update(features="+mmx")),
                         "CPU features differ"),
    "foreign compiler": (_edit_manifest(lambda m: m["compiler"].update(aot="0")),
                         "foreign bundle"),
    "truncated core": (_edit_core(lambda b: b[:len(b) // 2]), "tampered bundle"),
    "garbage core": (_edit_core(lambda b: bytes(len(b))), "tampered bundle"),
    "core rewritten with its hash": (None, "tampered bundle"),
    "cores swapped": (_edit_manifest(_swap_cores), "holds another core module"),
    "core missing": (_edit_manifest(lambda m: m["cores"].pop(0)), "lacks one of the component"),
    "path escapes": (_edit_manifest(lambda m: m["cores"][0].update(file="../../etc/passwd")),
                     "names no valid file"),
    "manifest not json": (_explicit_manifest(b"\x00garbage"), "is not JSON"),
    "not a manifest": (_explicit_manifest(b'{"format": "other"}'),
                       "is not a pywamr component bundle manifest"),
}


def _rewritten_core(wasm: Path, where: Path):
    """A core's object bytes changed and the manifest's file hash updated to match: the
    artifact's own payload checksum still catches it."""
    from pywamr.aot.artifact import sha256
    directory = wasm.with_name("calculator.pywamr-bundle")
    path = directory / "manifest.json"
    m = json.loads(path.read_text())
    core = m["cores"][2]
    data = bytearray((directory / core["file"]).read_bytes())
    data[-20:] = b"\xcc" * 20
    (directory / core["file"]).write_bytes(bytes(data))
    core["artifact_sha256"] = sha256(bytes(data))
    path.write_text(json.dumps(m))
    return wasm, []


@pytest.mark.parametrize("case", list(BAD_BUNDLES))
def test_bad_bundle_is_refused_with_one_line_then_compiled(case, bundled, tmp_path):
    spoil, words = BAD_BUNDLES[case]
    spoil = spoil or _rewritten_core
    wasm, options = spoil(copy_of(bundled, tmp_path), tmp_path)
    r = pywamr("run", *options, wasm)
    assert r.returncode == 0, r.stderr
    assert r.stdout == CALCULATOR_OUTPUT
    lines = r.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith(REFUSED), r.stderr
    assert words in lines[0] and lines[0].endswith(f"; compiling {wasm.name}"), lines[0]


@pytest.mark.parametrize("case", ["stale", "foreign cpu", "garbage core", "cores swapped"])
def test_bad_bundle_through_the_api(case, bundled, tmp_path):
    from pywamr import Engine
    from pywamr.aot import ArtifactError
    from pywamr.component import Component
    spoil, words = BAD_BUNDLES[case]
    wasm, _ = spoil(copy_of(bundled, tmp_path), tmp_path)
    engine = Engine("aot")
    bundle = wasm.with_name("calculator.pywamr-bundle")
    with pytest.raises(ArtifactError, match=words):
        Component.from_file(engine, wasm, precompiled=bundle)
    refusals = []
    component = Component.from_file(engine, wasm, precompiled=bundle,
                                    on_refused=refusals.append)
    assert component.bundle is None and len(refusals) == 1
    assert words in str(refusals[0])


def test_explicit_bundle_options(bundled, tmp_path):
    wasm = tmp_path / "elsewhere.wasm"           # no bundle beside this name
    shutil.copyfile(bundled, wasm)
    directory = bundled.with_name("calculator.pywamr-bundle")
    for options in (["--precompiled-dir", directory],
                    ["--precompiled-manifest", directory / "manifest.json"]):
        r = pywamr("run", *options, wasm)
        assert (r.returncode, r.stdout, r.stderr) == (0, CALCULATOR_OUTPUT, "")
    r = pywamr("run", "--precompiled-dir", tmp_path / "none", wasm)
    assert r.stdout == CALCULATOR_OUTPUT and "cannot read bundle manifest" in r.stderr
    r = pywamr("run", "--engine", "interp", "--precompiled-dir", directory, wasm)
    assert r.returncode == 1 and r.stderr.strip().endswith("use --engine aot")
    r = pywamr("run", "--engine", "interp", bundled)     # a bundle beside: just not used
    assert (r.returncode, r.stdout, r.stderr) == (0, CALCULATOR_OUTPUT, "")


def test_compile_component_refuses_what_is_not_a_bundle(tmp_path):
    out = tmp_path / "mine"
    out.mkdir()
    (out / "precious.txt").write_text("keep")
    r = pywamr("compile-component", FIXTURES / "adder.wasm", "-o", out)
    assert r.returncode == 1 and "holds no bundle manifest" in r.stderr
    assert (out / "precious.txt").read_text() == "keep"
    core = tmp_path / "core.wasm"
    core.write_bytes(b"\0asm\1\0\0\0")
    r = pywamr("compile-component", core)
    assert r.returncode == 1 and "not a component" in r.stderr


def test_interrupted_write_leaves_nothing_half_written(tmp_path, monkeypatch):
    from pywamr import Engine, aot
    from pywamr.aot.bundle import open_bundle
    from pywamr.component import write_bundle
    engine = Engine("aot", cache_dir=tmp_path / "cache")
    data = (FIXTURES / "composed.wasm").read_bytes()
    out = tmp_path / "out.pywamr-bundle"
    real = aot.compile_module
    calls = []

    def interrupted(validated, **options):
        calls.append(1)
        if len(calls) == 3:
            raise KeyboardInterrupt
        return real(validated, **options)

    monkeypatch.setattr(aot, "compile_module", interrupted)
    with pytest.raises(KeyboardInterrupt):
        write_bundle(engine, data, out)
    assert list(tmp_path.iterdir()) == [tmp_path / "cache"], "no bundle, no temporary"
    monkeypatch.setattr(aot, "compile_module", real)
    write_bundle(engine, data, out)
    before = (out / "manifest.json").read_bytes()
    calls.clear()
    monkeypatch.setattr(aot, "compile_module", interrupted)
    with pytest.raises(KeyboardInterrupt):
        write_bundle(engine, data, out)         # replacing a good bundle, interrupted
    assert (out / "manifest.json").read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cache", out.name]
    open_bundle(out, data)                      # the old bundle is intact and verifies


def test_progress_is_one_updating_line_on_a_terminal(tmp_path):
    wasm = tmp_path / "calculator.wasm"
    shutil.copyfile(FIXTURES / "composed.wasm", wasm)
    master, slave = pty.openpty()
    try:
        r = pywamr("compile-component", wasm, "-o", tmp_path / "b", stderr=slave)
        os.close(slave)
        slave = None
        shown = b""
        while True:
            try:
                chunk = os.read(master, 65536)
            except OSError:
                break
            if not chunk:
                break
            shown += chunk
    finally:
        if slave is not None:
            os.close(slave)
        os.close(master)
    assert r.returncode == 0
    text = shown.decode()
    assert text.count("\n") == 1 and text.endswith("\n"), repr(text)
    steps = [s for s in text.strip().split("\r") if s]
    assert [s.split()[3] for s in steps] == [f"{n}/6" for n in range(1, 7)], steps
    assert "KiB" in text or " B)" in text


def test_component_runs_natively_by_default(tmp_path):
    """`pywamr run` defaults to the tiered engine (auto): cores whose code is in the cache
    start native at once, the others start on the interpreter and compile in the background
    (`PYWAMR_TIER=calls:0` makes that compile happen before the first call)."""
    cache = tmp_path / "cache"
    env = {"PYWAMR_CACHE_DIR": str(cache), "PYWAMR_TIER": "calls:0"}
    r = pywamr("run", FIXTURES / "composed.wasm", env=env)
    assert (r.returncode, r.stdout, r.stderr) == (0, CALCULATOR_OUTPUT, "")
    entries = sorted((cache / "aot").glob("*.cwasm"))
    # the cores that run code (a core that is never called is never compiled)
    assert len(entries) >= 4, "the running cores were compiled to native code"
    stamps = []
    for _ in range(2):
        # the second run starts native, so it also compiles the native adapter of `add`; the
        # third compiles nothing
        r = pywamr("run", FIXTURES / "composed.wasm", env={"PYWAMR_CACHE_DIR": str(cache)})
        assert (r.returncode, r.stdout, r.stderr) == (0, CALCULATOR_OUTPUT, "")
        stamps.append([(p.name, p.stat().st_mtime_ns)
                       for p in sorted((cache / "aot").glob("*.cwasm"))])
    assert stamps[1] == stamps[0], "a third run uses the cached native code only"
    assert len(stamps[0]) == len(entries) + 1


def test_component_falls_back_to_interp_without_llvmlite(tmp_path):
    fake = tmp_path / "no-llvm" / "llvmlite"
    fake.mkdir(parents=True)
    (fake / "__init__.py").write_text("raise ImportError('llvmlite is hidden by this test')\n")
    cache = tmp_path / "cache"
    env = {"PYWAMR_CACHE_DIR": str(cache),
           "PYTHONPATH": f"{fake.parent}{os.pathsep}{ROOT}"}
    r = pywamr("run", "--engine", "aot", FIXTURES / "composed.wasm", env=env)
    assert (r.returncode, r.stdout) == (0, CALCULATOR_OUTPUT), r.stderr
    lines = r.stderr.splitlines()
    assert len(lines) == 1 and "the aot engine is unavailable" in lines[0], r.stderr
    assert lines[0].endswith("running on interp") and not cache.exists()
    # the default (auto) is the best engine available: the interpreter alone, without a note
    r = pywamr("run", FIXTURES / "composed.wasm", env=env)
    assert (r.returncode, r.stdout, r.stderr) == (0, CALCULATOR_OUTPUT, "")
    assert not cache.exists()


@pytest.mark.parametrize("kind", ENGINES)
def test_component_api_is_the_same_on_both_engines(kind):
    """The same Component, Linker, instance and TypedFunc classes serve both engines; only
    the compiled core modules differ."""
    from pywamr import Engine
    from pywamr.component import Component, Linker, TypedFunc
    engine = Engine(kind)
    component = Component.from_file(engine, FIXTURES / "relay-echo-utf8.wasm")
    assert {m.compiled.engine_name for m in component._modules.values()} == {kind}
    instance = Linker(engine).instantiate(component)
    iface = instance.exports.test.echo.types
    assert isinstance(iface.echo_string, TypedFunc)
    assert iface.echo_string("h\xe9 \U0001F600") == "h\xe9 \U0001F600"
    assert iface.echo_point(iface.point(x=1, y=2.5, label="p")) == \
        iface.point(x=1, y=2.5, label="p")


def test_adapters_have_room_in_the_manifest(tmp_path):
    """Generated adapters (another engineer's fused adapters) are stored and verified by id."""
    from pywamr.aot.bundle import BundleError, open_bundle, write_bundle
    from pywamr.binary.decoder import decode_module
    from pywamr.validate import validate_module
    from pywamr_testlib import wat
    core = wat('(module (func (export "f") (result i32) i32.const 1))')
    cores = [("m", validate_module(decode_module(core), core))]
    out = tmp_path / "b"
    adapters = [("fused:a->b#add", b"\x7fELF object bytes", {"kind": "object"}),
                ("fused:a->b#echo", b"other", {})]
    m = write_bundle(out, b"component", cores, adapters=adapters)
    assert [(a["id"], a["kind"] if "kind" in a else None) for a in m["adapters"]] == \
        [("fused:a->b#add", "object"), ("fused:a->b#echo", None)]
    bundle = open_bundle(out, b"component")
    entry, data = bundle.adapter("fused:a->b#add")
    assert data == b"\x7fELF object bytes" and entry["kind"] == "object"
    assert bundle.adapter("missing") is None
    (out / m["adapters"][1]["file"]).write_bytes(b"otheR")
    with pytest.raises(BundleError, match="does not match its manifest"):
        open_bundle(out, b"component")
    with pytest.raises(BundleError, match="unique"):
        write_bundle(tmp_path / "c", b"component", cores, adapters=adapters[:1] * 2)
    assert not (tmp_path / "c").exists()


def _mutations(value):
    """Replacement values of other types and shapes for a manifest or header field."""
    return [None, 0, -1, True, "x", [], {}, [1], {"a": 1}, 2**70, 1.5,
            value if not isinstance(value, str) else value[:-1] + "0"]


def test_mutated_manifests_and_headers_are_refused_cleanly(bundled, tmp_path):
    """Every field of the manifest, of one core entry and of one artifact header (with the
    file's hash updated so that the bundle check passes) replaced by values of other types:
    the bundle is refused (open_bundle or check_covers) with a BundleError/ArtifactError,
    never another exception; only fields that are there for people may change freely."""
    from pywamr.aot.artifact import MAGIC, ArtifactError, sha256
    from pywamr.aot.bundle import open_bundle
    import struct
    from pywamr.component.binary import decode_component
    from pywamr.component.plan import build_plan
    from pywamr.component.validate import validate_component
    source = bundled.read_bytes()
    validateds = [ref.validated for ref in
                  build_plan(validate_component(decode_component(source))).modules]
    directory = bundled.with_name("calculator.pywamr-bundle")
    good = json.loads((directory / "manifest.json").read_text())
    core = good["cores"][2]
    artifact = (directory / core["file"]).read_bytes()
    start = len(MAGIC) + 8
    version, n = struct.unpack_from("<II", artifact, len(MAGIC))
    header = json.loads(artifact[start:start + n])
    target = tmp_path / "b"
    checked = 0

    def attempt(manifest, core_bytes=None, may_pass=False):
        nonlocal checked
        shutil.rmtree(target, ignore_errors=True)
        shutil.copytree(directory, target)
        if core_bytes is not None:
            (target / core["file"]).write_bytes(core_bytes)
        (target / "manifest.json").write_text(json.dumps(manifest))
        try:
            open_bundle(target, source).check_covers(validateds)
        except ArtifactError:
            checked += 1
            return
        assert may_pass, f"accepted: {manifest}"

    for key in list(good):
        for value in _mutations(good[key]):
            if value != good[key]:
                # a bundle without adapters is whole: they are then compiled at run time
                attempt({**good, key: value}, may_pass=key == "adapters" and value == [])
    for key in list(core):
        for value in _mutations(core[key]):
            if value != core[key]:
                cores = [dict(c) for c in good["cores"]]
                cores[2][key] = value
                attempt({**good, "cores": cores}, may_pass=key == "name")   # for people
    for key in list(header):
        for value in _mutations(header[key]):
            if value == header[key]:
                continue
            head = json.dumps({**header, key: value}, sort_keys=True).encode()
            forged = MAGIC + struct.pack("<II", version, len(head)) + head + artifact[start + n:]
            cores = [dict(c) for c in good["cores"]]
            cores[2].update(artifact_sha256=sha256(forged), size=len(forged))
            # source_kind says whether the embedded module may stand alone (`pywamr run
            # X.cwasm`); a bundle's cores come with their component, so it is not read
            attempt({**good, "cores": cores}, forged, may_pass=key == "source_kind")
    assert checked > 200


def test_adapters_pass_through_the_component_api(tmp_path):
    from pywamr import Engine
    from pywamr.component import Component, write_bundle
    engine = Engine("aot")
    data = (FIXTURES / "adder.wasm").read_bytes()
    out = tmp_path / "adder.pywamr-bundle"
    write_bundle(engine, data, out, adapters=[("fused:x", b"adapter code", {"v": 1})])
    component = Component(engine, data, precompiled=out)
    entry, code = component.bundle.adapter("fused:x")
    assert code == b"adapter code" and entry["v"] == 1


def test_bundle_carries_the_native_adapters_of_the_plan(bundled):
    """`compile-component` stores the native adapter of the calculator's `add` call beside
    the cores; a fresh process running from the bundle with no cache loads it from there and
    compiles nothing."""
    adapters = manifest_of(bundled)["adapters"]
    assert [a["kind"] for a in adapters] == ["native-adapter"], adapters
    probe = (
        "import sys\n"
        "from pywamr import Engine\n"
        "from pywamr.aot import stats, adapter\n"
        "from pywamr.component import Component, Linker\n"
        "from wasi_standins import define_standins\n"
        "engine = Engine('aot', cache=False)\n"
        f"c = Component.from_file(engine, {str(bundled)!r}, precompiled={str(bundled.with_name('calculator.pywamr-bundle'))!r})\n"
        "linker = Linker(engine)\n"
        "out, err = define_standins(linker)\n"
        "linker.instantiate(c).exports['wasi:cli/run@0.2.12']['run']()\n"
        "print(out.decode(), end='')\n"
        "print(stats.chunks_compiled, adapter.stats.compiled, adapter.stats.from_disk)\n")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), str(HERE)]),
               PYWAMR_NO_CACHE="1")
    r = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=env,
                       timeout=600)
    assert r.returncode == 0, r.stderr
    *lines, counts = r.stdout.splitlines()
    assert "\n".join(lines) + "\n" == CALCULATOR_OUTPUT
    assert counts == "0 0 1", "the adapter must come from the bundle, with no LLVM work"
