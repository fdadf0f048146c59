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

Code cache entries (`AotCache`, one file per cache key) hold an artifact behind a small
binary prefix (`cache_entry`): the key, the payload's part lengths and its SHA-256. The key
already names the source, the compiler and the host (`cache_key`), so `read_cache_entry`
needs no JSON: it checks the prefix's key against the one looked up, the payload's checksum and
the embedded wasm against the source bytes, and hands back the plain artifact (what `save`
writes). The host record of the cache is a `marshal`led dict: a cached run imports no `json`.
"""
from __future__ import annotations

import marshal
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
    change can never reuse stale objects (see `sources_digest`)."""
    global _source_digest
    if _source_digest is None:
        package = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
        memo_dir = None if os.environ.get("PYWAMR_NO_CACHE") else default_cache_dir() / "host"
        _source_digest = sources_digest(package, _SOURCE_PACKAGES, memo_dir)
    return _source_digest


def sources_digest(package: str, subpackages, memo_dir: Path | None) -> str:
    """16 hex digits of SHA-256 over the `.py` files beneath `package`'s `subpackages`
    (relative paths and contents): artifacts and bundles made by identical sources match
    anywhere. Hashing them all (~0.4 MB) costs milliseconds, so with a `memo_dir` the result
    is kept in a small record there named after the files' paths, sizes and modification
    times (`os.stat`, as Python's own bytecode cache checks its sources) and found there by
    the next process; a file that changes changes its stamp, and the contents are hashed
    again."""
    sources = _compiler_sources(package, subpackages)
    memo = None
    if memo_dir is not None:
        stamp = sha256(repr([(rel, size, mtime) for rel, _, size, mtime in sources])
                       .encode())[:32]
        memo = Path(memo_dir) / f"sources-{stamp}.txt"
        try:
            known = memo.read_text()
            if len(known) == 16 and all(c in "0123456789abcdef" for c in known):
                return known
        except (OSError, UnicodeDecodeError):
            pass
    h = _new_sha256(0)
    for rel, path, _, _ in sources:
        h.update(rel.encode())
        with open(path, "rb") as f:
            h.update(f.read())
    digest = h.hexdigest()[:16]
    if memo is not None:
        _write_atomically(memo, digest.encode())
    return digest


def _compiler_sources(package: str, subpackages) -> list:
    """(path relative to `package` in POSIX form, path, size, mtime in ns) of every `.py`
    file beneath its `subpackages`, sorted by relative path."""
    found = []
    pending = [os.path.join(package, sub) for sub in subpackages]
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
    import json
    head = json.dumps(header, sort_keys=True).encode()
    return MAGIC + struct.pack("<II", FORMAT_VERSION, len(head)) + head + payload


def read_artifact(data: bytes, host: dict | None, source_bytes: bytes | None = None, *,
                  check_host: bool = True) -> Artifact:
    if not data.startswith(MAGIC):
        raise ArtifactError("not a pywamr AOT artifact (bad magic)")
    if len(data) < len(MAGIC) + 8:
        raise ArtifactError("corrupt artifact: truncated header")
    version, head_len = struct.unpack_from("<II", data, len(MAGIC))
    if version != FORMAT_VERSION:
        raise ArtifactError(f"artifact format version {version} is not supported "
                            f"(expected {FORMAT_VERSION}); recompile the module")
    start = len(MAGIC) + 8
    import json
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
    for key in ("triple", "cpu", "features", "llvm", "llvmlite") if check_host else ():
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
        path = self.directory / "host" / f"{_cheap_host_key()}.marshal"
        try:
            known = marshal.loads(path.read_bytes())
            if isinstance(known, dict) and all(isinstance(k, str) for k in known):
                return known
        except (OSError, ValueError, EOFError, TypeError):
            pass
        host = compute()
        _write_atomically(path, marshal.dumps(host))
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
    return sha256(canonical([cpu, os.uname().machine, llvmlite_version, sys.version,
                             compiler_identity(), os.environ.get("PYWAMR_AOT_OPT", "2")]
                            ).encode())[:32]


def cache_key(source_sha256: str, host: dict) -> str:
    material = canonical({"source": source_sha256, "host": host,
                          "compiler": compiler_identity(), "format": FORMAT_VERSION})
    return sha256(material.encode())


def canonical(value) -> str:
    """One text for a value made of dicts (keys sorted), lists, tuples, strings, numbers,
    booleans and None: what cache keys are hashed from."""
    if isinstance(value, dict):
        return "{" + ",".join(f"{canonical(k)}:{canonical(v)}"
                              for k, v in sorted(value.items())) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ",".join(canonical(v) for v in value) + "]"
    if value is None or isinstance(value, (str, int, float)):
        return repr(value)
    raise TypeError(f"no canonical text for a {type(value).__name__}")


CACHE_MAGIC = b"\x00pywamr-cache\n"
_COUNT = struct.Struct("<I")
_LENGTH = struct.Struct("<Q")


def cache_entry(key: str, artifact: bytes) -> bytes:
    """The code cache's file for `artifact` under `key`:
    CACHE_MAGIC | key (64 ASCII hex digits) | u32 n | u64 wasm length | n x u64 object
    lengths | SHA-256 of the payload (32 bytes) | the artifact."""
    art = read_artifact(artifact, None, check_host=False)
    wasm_length = len(art.wasm)
    lengths = [len(o) for o in art.objects]
    payload_start = len(artifact) - wasm_length - sum(lengths)
    digest = _new_sha256(len(artifact) - payload_start)
    digest.update(memoryview(artifact)[payload_start:])
    return b"".join([CACHE_MAGIC, key.encode("ascii"), _COUNT.pack(len(lengths)),
                     _LENGTH.pack(wasm_length), *(_LENGTH.pack(n) for n in lengths),
                     digest.digest(), artifact])


def read_cache_entry(data: bytes, key: str, source: bytes) -> tuple[bytes, list]:
    """(artifact, native objects) of a code cache file read under `key` for the module
    `source`; ArtifactError if it is not one (corrupt, truncated, another key's entry, or
    made from other bytes). Parses no JSON (see the module docstring)."""
    at = len(CACHE_MAGIC)
    if not data.startswith(CACHE_MAGIC) or data[at:at + 64] != key.encode("ascii"):
        raise ArtifactError("not the cache entry of this key")
    at += 64
    try:
        count, = _COUNT.unpack_from(data, at)
        at += _COUNT.size
        if count > (len(data) - at) // _LENGTH.size:
            raise ArtifactError("corrupt cache entry: bad object count")
        lengths = [n for n, in _LENGTH.iter_unpack(data[at:at + (count + 1) * _LENGTH.size])]
    except struct.error:
        raise ArtifactError("corrupt cache entry: truncated") from None
    at += (count + 1) * _LENGTH.size
    digest, artifact = data[at:at + 32], data[at + 32:]
    payload_length = sum(lengths)
    if len(lengths) != count + 1 or len(artifact) < payload_length:
        raise ArtifactError("corrupt cache entry: truncated")
    payload = memoryview(artifact)[len(artifact) - payload_length:]
    check = _new_sha256(payload_length)
    check.update(payload)
    if check.digest() != digest:
        raise ArtifactError("corrupt cache entry: payload checksum mismatch")
    wasm_length = lengths[0]
    if payload[:wasm_length] != source:
        raise ArtifactError("stale cache entry: it was compiled from a different module")
    objects, offset = [], wasm_length
    for n in lengths[1:]:
        objects.append(bytes(payload[offset:offset + n]))
        offset += n
    return artifact, objects
