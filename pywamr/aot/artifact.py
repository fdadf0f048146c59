"""The precompiled-module file format and the on-disk code cache built on it.

Format (all integers little-endian):
  MAGIC (12 bytes) | u32 format version | u32 header length | header (JSON, UTF-8) | payload
The header names the compiler (pywamr version, aot compiler version, vmctx layout version),
the host it was compiled for (triple, CPU name, features, LLVM and llvmlite versions, opt
level), the sha256 of the source wasm, the lengths of the payload parts and the sha256 of the
payload. The payload is the wasm bytes followed by one native object per chunk.

`read_artifact` refuses (with `ArtifactError`, never executing anything) a file that is not an
artifact, a different format or compiler version, another host, a corrupt payload, or, when
the caller has the source, one compiled from different bytes. Does not load code: see
`__init__.AotModule`.
"""
from __future__ import annotations

import json
import os
import struct
import sys
from ..record import record
from pathlib import Path

from ..errors import WasmError
from . import vmctx

MAGIC = b"\x00pywamr-aot\n"
FORMAT_VERSION = 1
COMPILER_VERSION = "2"


class ArtifactError(WasmError):
    """A precompiled artifact that cannot be used here (stale, foreign or corrupt)."""


_source_digest: str | None = None
_SOURCE_PACKAGES = ("aot", "binary", "validate")


def _compiler_source_digest() -> str:
    """Hash of the sources the generated code depends on: the compiler's own, the instruction
    table (`binary/`) and the validator whose side tables it reads (`validate/`), so a code
    change can never reuse stale objects. The hash is of the files' contents (artifacts and
    bundles made by identical sources match anywhere), which takes reading and hashing them
    all (~0.4 MB, milliseconds); a cached run finds it instead in a small record of the code
    cache named after the files' paths, sizes and modification times (`os.stat`, as Python's
    own bytecode cache checks its sources), written by the first process that hashed them."""
    global _source_digest
    if _source_digest is None:
        package = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
        sources = _compiler_sources(package)
        memo = None
        if not os.environ.get("PYWAMR_NO_CACHE"):
            stamp = sha256(repr([(rel, size, mtime) for rel, _, size, mtime in sources])
                           .encode())[:32]
            memo = default_cache_dir() / "host" / f"sources-{stamp}.txt"
            try:
                known = memo.read_text()
                if len(known) == 16 and all(c in "0123456789abcdef" for c in known):
                    _source_digest = known
                    return known
            except OSError:
                pass
        h = _new_sha256(0)
        for rel, path, _, _ in sources:
            h.update(rel.encode())
            with open(path, "rb") as f:
                h.update(f.read())
        _source_digest = h.hexdigest()[:16]
        if memo is not None:
            _write_atomically(memo, _source_digest.encode())
    return _source_digest


def _compiler_sources(package: str) -> list:
    """(path relative to the package in POSIX form, path, size, mtime in ns) of every `.py`
    file beneath the compiler's source packages, sorted by relative path."""
    found = []
    pending = [os.path.join(package, sub) for sub in _SOURCE_PACKAGES]
    while pending:
        directory = pending.pop()
        with os.scandir(directory) as entries:
            for entry in entries:
                if entry.is_dir(follow_symlinks=False):
                    if entry.name != "__pycache__":
                        pending.append(entry.path)
                elif entry.name.endswith(".py"):
                    st = entry.stat()
                    rel = entry.path[len(package) + 1:].replace(os.sep, "/")
                    found.append((rel, entry.path, st.st_size, st.st_mtime_ns))
    found.sort()
    return found


def _write_atomically(path: Path, data: bytes) -> None:
    """Write a cache file whole or not at all (a cache that cannot be written is only
    slower)."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
        tmp.write_bytes(data)
        tmp.replace(path)
    except OSError:
        pass


def compiler_identity() -> dict:
    from .. import __version__
    return {"pywamr": __version__, "aot": f"{COMPILER_VERSION}+{_compiler_source_digest()}",
            "layout": vmctx.LAYOUT_VERSION}


@record
class Artifact:
    header: dict
    wasm: bytes
    objects: list


def sha256(data: bytes) -> str:
    h = _new_sha256(len(data))
    h.update(data)
    return h.hexdigest()


_BIG = 1 << 20


def _new_sha256(size: int):
    """A SHA-256 object for `size` bytes: CPython's built-in `_sha256` for small inputs while
    `hashlib` is not loaded (the same digest, without loading OpenSSL, which costs a cached
    run of a small module ~6 ms of CPU and 2 MiB), else hashlib's (OpenSSL: ~5x faster)."""
    if size < _BIG and "hashlib" not in sys.modules:
        try:
            from _sha256 import sha256 as builtin       # CPython 3.11
        except ImportError:
            try:
                from _sha2 import sha256 as builtin     # CPython 3.12+
            except ImportError:
                builtin = None
        if builtin is not None:
            return builtin()
    import hashlib
    return hashlib.sha256()


def write_artifact(wasm: bytes, objects: list[bytes], host: dict, extra: dict) -> bytes:
    payload = wasm + b"".join(objects)
    header = {
        "compiler": compiler_identity(),
        "host": host,
        "source_sha256": sha256(wasm),
        "wasm_length": len(wasm),
        "object_lengths": [len(o) for o in objects],
        "payload_sha256": sha256(payload),
        **extra,
    }
    head = json.dumps(header, sort_keys=True).encode()
    return MAGIC + struct.pack("<II", FORMAT_VERSION, len(head)) + head + payload


def read_artifact(data: bytes, host: dict, source_bytes: bytes | None = None) -> Artifact:
    if not data.startswith(MAGIC):
        raise ArtifactError("not a pywamr AOT artifact (bad magic)")
    if len(data) < len(MAGIC) + 8:
        raise ArtifactError("corrupt artifact: truncated header")
    version, head_len = struct.unpack_from("<II", data, len(MAGIC))
    if version != FORMAT_VERSION:
        raise ArtifactError(f"artifact format version {version} is not supported "
                            f"(expected {FORMAT_VERSION}); recompile the module")
    start = len(MAGIC) + 8
    try:
        header = json.loads(data[start:start + head_len].decode())
    except (UnicodeDecodeError, ValueError):
        raise ArtifactError("corrupt artifact: unreadable header") from None
    if not isinstance(header, dict):
        raise ArtifactError("corrupt artifact: unreadable header")
    ours = compiler_identity()
    if header.get("compiler") != ours:
        raise ArtifactError(f"artifact was compiled by {header.get('compiler')}, this is {ours}; "
                            f"recompile the module")
    theirs = header.get("host")
    theirs = theirs if isinstance(theirs, dict) else {}
    for key in ("triple", "cpu", "features", "llvm", "llvmlite"):
        if theirs.get(key) != host.get(key):
            what = "its CPU features differ from this host's" if key == "features" else \
                f"{key}: {str(theirs.get(key))[:60]!r}, here {host.get(key)!r}"
            raise ArtifactError(f"artifact was compiled for another host ({what}); "
                                f"recompile it")
    payload = data[start + head_len:]
    if sha256(payload) != header.get("payload_sha256"):
        raise ArtifactError("corrupt artifact: payload checksum mismatch")
    wasm_length = header.get("wasm_length")
    lengths = header.get("object_lengths")
    if not _is_length(wasm_length) or not isinstance(lengths, list) \
            or not all(_is_length(n) for n in lengths):
        raise ArtifactError("corrupt artifact: bad lengths in the header")
    wasm = payload[:wasm_length]
    if sha256(wasm) != header.get("source_sha256"):
        raise ArtifactError("corrupt artifact: source checksum mismatch")
    if source_bytes is not None and sha256(bytes(source_bytes)) != header.get("source_sha256"):
        raise ArtifactError("stale artifact: it was compiled from a different module")
    objects = []
    offset = wasm_length
    for n in lengths:
        objects.append(payload[offset:offset + n])
        offset += n
    if offset != len(payload):
        raise ArtifactError("corrupt artifact: payload length mismatch")
    return Artifact(header, wasm, objects)


def _is_length(n) -> bool:
    return isinstance(n, int) and not isinstance(n, bool) and n >= 0


def default_cache_dir() -> Path:
    env = os.environ.get("PYWAMR_CACHE_DIR")
    if env:
        return Path(env)
    xdg = os.environ.get("XDG_CACHE_HOME")
    if xdg:
        return Path(xdg) / "pywamr"
    return Path.home() / ".cache" / "pywamr"


class AotCache:
    """Compiled modules on disk, one artifact file per cache key."""

    def __init__(self, directory: str | os.PathLike | None = None):
        self.directory = Path(directory) if directory is not None else default_cache_dir()

    def path(self, key: str) -> Path:
        return self.directory / "aot" / f"{key}.cwasm"

    def get(self, key: str) -> bytes | None:
        try:
            return self.path(key).read_bytes()
        except OSError:
            return None

    def put(self, key: str, data: bytes) -> None:
        _write_atomically(self.path(key), data)

    def host_identity(self, compute) -> dict:
        """`compute()` (the host identity, which needs LLVM), remembered in the cache under a
        key made without LLVM (the CPU as the kernel reports it, the llvmlite distribution,
        the Python build), so that a cache lookup that misses never loads LLVM."""
        path = self.directory / "host" / f"{_cheap_host_key()}.json"
        try:
            known = json.loads(path.read_text())
            if isinstance(known, dict):
                return known
        except (OSError, ValueError):
            pass
        host = compute()
        _write_atomically(path, json.dumps(host, sort_keys=True).encode())
        return host

    def discard(self, key: str) -> None:
        try:
            self.path(key).unlink()
        except OSError:
            pass


def _cheap_host_key() -> str:
    """A key for the host record, made without LLVM and cheaply (a cached run pays it): the
    CPU as the kernel reports it, the machine, the llvmlite release (its package's version
    string: `llvmlite.binding`, i.e. LLVM itself, is not loaded), the Python build, this
    compiler and the default optimisation level (`$PYWAMR_AOT_OPT`, part of the identity: two
    processes at different levels must not share a record, or their code would share keys)."""
    import sys
    try:
        import llvmlite
        llvmlite_version = llvmlite.__version__
    except Exception:       # ImportError or a broken install: no record will be used
        llvmlite_version = "?"
    cpu = ""
    try:
        with open("/proc/cpuinfo") as f:
            cpu = "".join(sorted({line for line in f if line.startswith(("model name", "flags"))}))
    except OSError:
        pass
    return sha256(json.dumps([cpu, os.uname().machine, llvmlite_version, sys.version,
                              compiler_identity(), os.environ.get("PYWAMR_AOT_OPT", "2")]
                             ).encode())[:32]


def cache_key(source_sha256: str, host: dict) -> str:
    material = json.dumps({"source": source_sha256, "host": host,
                           "compiler": compiler_identity(), "format": FORMAT_VERSION},
                          sort_keys=True)
    return sha256(material.encode())
