"""Precompiled component bundles: one `.cwasm` artifact per distinct core module plus a manifest.

Sits beside `artifact.py` in the aot engine: a bundle is to a component what a `.cwasm` file is
to a core module. The component layer hands over the component's bytes and its core modules
(validated); this module compiles them (through `compile_module`, so the code cache is used
and filled), writes the directory atomically, and later verifies a bundle before any of its
code is loaded. It knows nothing of components beyond "some bytes that contain these cores".

Layout of a bundle directory (the CLI finds `X.wasm`'s bundle at `X.pywamr-bundle/`):

    manifest.json
    cores/<sha256 of the core's wasm>.cwasm       one per distinct core module

Manifest (JSON object, keys sorted):

    format            "pywamr-component-bundle"
    version           BUNDLE_VERSION
    component_sha256  sha256 of the component's bytes (a different component: "stale")
    component_length  its length in bytes
    compiler          artifact.compiler_identity() (another compiler: "foreign")
    host              codegen.host_identity(): triple, CPU, features, LLVM (another host: "foreign")
    cores             list of {sha256, file, artifact_sha256, size, name}: the core's wasm
                      hash, its artifact's path relative to the bundle, the artifact file's own
                      hash and size, and a name for people (the core module's place in the plan)
    adapters          list of {id, file, sha256, size, ...}: generated code that is not a core
                      module, keyed by a stable `id` chosen by its generator (e.g. the fused
                      component-to-component adapters), in `adapters/<sha256>.bin` where
                      `sha256` is the file's own hash; other keys are the generator's. Written
                      from `write_bundle(..., adapters=)`, verified like cores; what the bytes
                      mean belongs to whoever wrote them (`Bundle.adapter(id)`).

`open_bundle` refuses (with `BundleError`, loading nothing) a manifest that is unreadable or of
another format, a bundle of another component, compiler or host, and any file whose bytes do
not match the manifest (truncated, replaced, garbage), or whose path leaves the bundle.
Deliberately not here: deciding to fall back to a normal compile (the caller's choice) and
knowing which cores a component has (the component layer's).
"""
from __future__ import annotations

import json
import os
import re
import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path

from .artifact import ArtifactError, compiler_identity, read_artifact, sha256

MANIFEST_NAME = "manifest.json"
BUNDLE_FORMAT = "pywamr-component-bundle"
BUNDLE_VERSION = 1
HOST_KEYS = ("triple", "cpu", "features", "llvm", "llvmlite")
_CORE_FILE = re.compile(r"cores/[0-9a-f]{64}\.cwasm")
_ADAPTER_FILE = re.compile(r"adapters/[0-9a-f]{64}\.bin")


class BundleError(ArtifactError):
    """A precompiled bundle that cannot be used here (stale, foreign or tampered)."""


def _host() -> dict:
    from . import _host as host
    return host()


# ---- writing ---------------------------------------------------------------------------------

def _size_text(n: int) -> str:
    return f"{n} B" if n < 1024 else f"{n / 1024:.1f} KiB" if n < 1 << 20 else \
        f"{n / (1 << 20):.1f} MiB"


class _Progress:
    """One updating line on stderr (only when asked, i.e. stderr is a terminal)."""

    def __init__(self, enabled: bool):
        self.enabled = enabled
        self.width = 0

    def show(self, text: str) -> None:
        if self.enabled:
            pad = max(0, self.width - len(text))
            self.width = len(text)
            print("\r" + text + " " * pad, end="", file=sys.stderr, flush=True)

    def end(self) -> None:
        if self.enabled and self.width:
            print(file=sys.stderr, flush=True)


def distinct_cores(cores) -> list[tuple[str, str, object]]:
    """(sha256, name, validated) per distinct core module, in first-seen order."""
    seen: dict[str, tuple[str, str, object]] = {}
    for name, validated in cores:
        source = getattr(validated, "source", None)
        if source is None:
            raise BundleError(f"core module {name} has no wasm bytes to identify it")
        digest = sha256(bytes(source))
        seen.setdefault(digest, (digest, name, validated))
    return list(seen.values())


def write_bundle(out_dir: str | os.PathLike, component: bytes, cores, *, cache=None,
                 progress: bool = False, adapters=()) -> dict:
    """Compile every distinct core of `cores` ((name, validated) pairs) and write the bundle
    of `component` to `out_dir`, replacing an older bundle there. `adapters` are
    (id, bytes, extra manifest keys) of generated code to store beside the cores. The
    directory appears whole or not at all: it is built under a temporary name and renamed
    into place, and the temporary is removed on any failure, ^C included. Returns the
    manifest."""
    from . import compile_module
    out = Path(out_dir)
    _check_replaceable(out)
    unique = distinct_cores(cores)
    tmp = out.with_name(f".{out.name}.tmp-{os.getpid()}")
    shown = _Progress(progress)
    try:
        shutil.rmtree(tmp, ignore_errors=True)
        (tmp / "cores").mkdir(parents=True)
        entries = []
        for n, (digest, name, validated) in enumerate(unique, 1):
            shown.show(f"pywamr: compiling core {n}/{len(unique)} ({name}, "
                       f"{_size_text(len(validated.source))})")
            data = compile_module(validated, cache=cache).artifact_bytes()
            file = f"cores/{digest}.cwasm"
            (tmp / file).write_bytes(data)
            entries.append({"sha256": digest, "file": file, "artifact_sha256": sha256(data),
                            "size": len(data), "name": name})
        adapter_entries = _write_adapters(tmp, adapters)
        manifest = {"format": BUNDLE_FORMAT, "version": BUNDLE_VERSION,
                    "component_sha256": sha256(component), "component_length": len(component),
                    "compiler": compiler_identity(), "host": _host(), "cores": entries,
                    "adapters": adapter_entries}
        (tmp / MANIFEST_NAME).write_text(json.dumps(manifest, indent=1, sort_keys=True) + "\n")
        _move_into_place(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    finally:
        shown.end()
    return manifest


def _write_adapters(tmp: Path, adapters) -> list:
    entries, ids = [], set()
    for adapter_id, data, extra in adapters:
        if not isinstance(adapter_id, str) or adapter_id in ids:
            raise BundleError(f"adapter id {adapter_id!r} is not a unique string")
        ids.add(adapter_id)
        digest = sha256(bytes(data))
        file = f"adapters/{digest}.bin"
        (tmp / "adapters").mkdir(exist_ok=True)
        (tmp / file).write_bytes(bytes(data))
        entries.append({**dict(extra), "id": adapter_id, "file": file, "sha256": digest,
                        "size": len(data)})
    return entries


def _check_replaceable(out: Path) -> None:
    """Refuse to replace anything but an older bundle (or an empty directory)."""
    if out.is_symlink() or (out.exists() and not out.is_dir()):
        raise BundleError(f"{out} exists and is not a bundle directory; not replacing it")
    if out.is_dir() and any(out.iterdir()) and not (out / MANIFEST_NAME).is_file():
        raise BundleError(f"{out} is a directory that holds no bundle manifest; not "
                          f"replacing it")


def _move_into_place(tmp: Path, out: Path) -> None:
    old = None
    if out.exists():
        old = out.with_name(f".{out.name}.old-{os.getpid()}")
        shutil.rmtree(old, ignore_errors=True)
        out.rename(old)
    try:
        tmp.rename(out)
    except BaseException:
        if old is not None and not out.exists():
            old.rename(out)
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


# ---- reading ---------------------------------------------------------------------------------

@dataclass
class Bundle:
    """A verified bundle: every file it names has the bytes the manifest records."""
    directory: Path
    manifest: dict = field(repr=False)
    artifacts: dict = field(default_factory=dict, repr=False)  # core sha256 -> artifact bytes
    adapters: dict = field(default_factory=dict, repr=False)   # adapter id -> (entry, bytes)

    def check_covers(self, validateds) -> None:
        """Refuse (BundleError) unless every one of these core modules has its artifact."""
        for validated in validateds:
            source = getattr(validated, "source", None)
            if source is None or sha256(bytes(source)) not in self.artifacts:
                raise BundleError("tampered bundle: it lacks one of the component's core "
                                  "modules")

    def compiled(self, validated):
        """The loaded `AotModule` of one core module (no LLVM compilation)."""
        from . import AotModule
        source = getattr(validated, "source", None)
        data = self.artifacts.get(sha256(bytes(source))) if source is not None else None
        if data is None:
            raise BundleError("tampered bundle: it has no artifact for one of the component's "
                              "core modules")
        art = read_artifact(data, self.manifest["host"], bytes(source))
        return AotModule(validated.module, validated.func_types, data, art.objects, validated)

    def adapter(self, adapter_id: str):
        """(manifest entry, verified bytes) of a generated adapter, or None."""
        return self.adapters.get(adapter_id)


def manifest_path_of(path: str | os.PathLike) -> Path:
    """A bundle given as its directory or as its manifest file -> the manifest file."""
    p = Path(path)
    return p / MANIFEST_NAME if p.is_dir() else p


def open_bundle(path: str | os.PathLike, component: bytes) -> Bundle:
    """Read and verify the bundle at `path` (its directory or its manifest) for `component`."""
    manifest_file = manifest_path_of(path)
    manifest = _read_manifest(manifest_file)
    _check_identity(manifest, component)
    directory = manifest_file.parent
    bundle = Bundle(directory, manifest)
    cores = manifest.get("cores")
    adapters = manifest.get("adapters")
    if not isinstance(cores, list) or not isinstance(adapters, list):
        raise BundleError("tampered bundle: manifest lacks its `cores` or `adapters` list")
    for entry in cores:
        data = _verified_file(directory, entry, _CORE_FILE, "core")
        digest = entry.get("sha256")
        try:
            art = read_artifact(data, manifest["host"])
        except ArtifactError as exc:
            raise BundleError(f"tampered bundle: {entry['file']}: {exc}") from None
        if art.header.get("source_sha256") != digest:
            raise BundleError(f"tampered bundle: {entry['file']} holds another core module")
        bundle.artifacts[digest] = data
    for entry in adapters:
        data = _verified_file(directory, entry, _ADAPTER_FILE, "adapter")
        if not isinstance(entry.get("id"), str) or entry["id"] in bundle.adapters:
            raise BundleError("tampered bundle: an adapter entry has no unique `id`")
        bundle.adapters[entry["id"]] = (entry, data)
    return bundle


def _read_manifest(manifest_file: Path) -> dict:
    try:
        text = manifest_file.read_bytes()
    except OSError as exc:
        raise BundleError(f"cannot read bundle manifest {manifest_file}: "
                          f"{exc.strerror or exc}") from None
    try:
        manifest = json.loads(text.decode())
    except (UnicodeDecodeError, ValueError):
        raise BundleError(f"tampered bundle: {manifest_file} is not JSON") from None
    if not isinstance(manifest, dict) or manifest.get("format") != BUNDLE_FORMAT:
        raise BundleError(f"{manifest_file} is not a pywamr component bundle manifest")
    if manifest.get("version") != BUNDLE_VERSION:
        raise BundleError(f"bundle format version {manifest.get('version')!r} is not supported "
                          f"(expected {BUNDLE_VERSION}); recompile it")
    return manifest


def _check_identity(manifest: dict, component: bytes) -> None:
    ours = compiler_identity()
    if manifest.get("compiler") != ours:
        raise BundleError(f"foreign bundle: compiled by {manifest.get('compiler')}, this is "
                          f"{ours}")
    theirs = manifest.get("host")
    here = _host()
    if not isinstance(theirs, dict):
        raise BundleError("tampered bundle: manifest lacks its host")
    for key in HOST_KEYS:
        if theirs.get(key) != here.get(key):
            what = "its CPU features differ from this host's" if key == "features" else \
                f"{key}: {str(theirs.get(key))[:60]!r}, here {here.get(key)!r}"
            raise BundleError(f"foreign bundle: compiled for another host ({what})")
    if manifest.get("component_sha256") != sha256(component) or \
            manifest.get("component_length") != len(component):
        raise BundleError("stale bundle: it was compiled from a different component (the "
                          "component changed since)")


def _verified_file(directory: Path, entry, pattern, what: str) -> bytes:
    if not isinstance(entry, dict) or not isinstance(entry.get("file"), str) \
            or not pattern.fullmatch(entry["file"]):
        raise BundleError(f"tampered bundle: a {what} entry names no valid file")
    path = directory / entry["file"]
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise BundleError(f"tampered bundle: cannot read {entry['file']}: "
                          f"{exc.strerror or exc}") from None
    if len(data) != entry.get("size") or sha256(data) != entry.get("artifact_sha256",
                                                                    entry.get("sha256")):
        raise BundleError(f"tampered bundle: {entry['file']} does not match its manifest "
                          f"entry (size or sha256)")
    return data
