"""The translation cache: each translated function's code object, persisted with `marshal`, so
that a later run of the same module skips translating (and CPython-compiling) it.

Sits in the interpreter engine under `instance.InterpModule`, which asks it before translating
a function and hands it every translation it makes; the engine layer chooses the directory
(the code cache's, `<cache dir>/interp/`). Does not translate, validate or run anything, and is
never consulted for a module whose bytes it does not have.

One file per module *context* (see `context_digest`), with an index of entries, one per
function: `<hex>.pytc`. A file is read lazily: its header and index when the module's first
function is called, each entry's bytes (`os.pread`) when that function is first called. New
translations are written when the process exits (`atexit`) or on `save()`: the file is
rewritten whole (old entries kept unless superseded), one payload in memory at a time, to a
temporary name and renamed into place, so a reader never sees a partial file. A file stops
growing at `MAX_FILE_BYTES`.

Why the key is sufficient. A translation is a pure function of (1) the translator (the sources
of this package, and of the validator and decoder whose results it consumes), (2) the Python that compiles and marshals it (`sys.version`,
`marshal.version`: marshal and bytecode are version-specific), (3) the function's body bytes
and local declarations, (4) everything the body's validation and translation look up
outside the body: the type section, the type of every function (call arity), the types of
tables, memories and globals, element segment types, the data count, and (5) the function's
own index and display name (they name its constants and its code object), and (6) the
translate options (`variant`). (1) and (2) are the environment digest, (4) the context
digest; both are in the file's name and header; (3), (5) and (6) are hashed, with the two
digests, into each entry's key, compared on every load. An entry is only ever used for a
body of a module that passed validation in full, in this run or, for these exact bytes, in an
earlier one (the validity marker, `known_valid`: keyed by the module's bytes and the
environment digest, which covers the validator), so the cache only has to give back what
translation would have produced for a valid body.

What is trusted. Each entry carries a SHA-256 of its payload and the index one of the header
and index; a file with a foreign magic, environment or context, or an index that does not
check, is ignored whole; an entry that does not check, or whose unmarshalled value is not
the expected shape (a code object named as the wasm file, plain constants, type references
within the type section), is ignored and translated again. As with the aot engine's code
cache, the cache directory itself is trusted not to be written by an adversary (marshal, like
native code, is not safe against crafted input that also forges the checksums).
"""
from __future__ import annotations

import atexit
import hashlib
import marshal
import os
import re
import struct
import sys
import types as pytypes
from functools import lru_cache
from pathlib import Path

from ..runtime.trapping import WASM_FILENAME

MAGIC = b"PYWAMRTC"
FORMAT = 1
MAX_FILE_BYTES = 256 << 20          # a module's file stops growing here
MIN_CODE_BYTES = 16 << 10           # modules with less code than this are not cached

_HEADER = struct.Struct("<8sI32s32sI")          # magic, format, environment, context, count
_ENTRY = struct.Struct("<I32sQI32s")            # index, key, offset, length, payload sha256
_DIGEST = 32
_CONST_NAME = re.compile(r"kv?[0-9]+_[0-9]+")   # the translator's constants (emit, simd_emit)


@lru_cache(maxsize=None)
def environment_digest() -> bytes:
    """The translator's sources and the Python build (see the module docstring, (1), (2))."""
    here = Path(__file__).resolve().parent
    package = here.parent
    files = [*sorted(here.glob("*.py")), *sorted((package / "validate").glob("*.py")),
             *sorted((package / "binary").glob("*.py"))]
    h = hashlib.sha256()
    h.update(f"{FORMAT}|{sys.version}|{sys.hexversion}|{marshal.version}".encode())
    for path in files:
        h.update(path.name.encode())
        h.update(path.read_bytes())
    return h.digest()


def context_digest(validated) -> bytes:
    """What validating and translating a body looks up outside it ((4) in the docstring)."""
    module = validated.module
    context = (module.types, validated.func_types, module.table_types(),
               module.memory_types(), module.global_types(),
               tuple(e.elem_type for e in module.elems), module.data_count)
    return hashlib.sha256(repr(context).encode()).digest()


def function_key(context: bytes, index: int, name: str, code, source: bytes,
                 variant: str = "") -> bytes:
    """The key of function `index`'s translation: the context and environment digests, the
    function's index, display name, translate options, and its code entry's bytes (locals
    and body; decoded or not, the same bytes)."""
    h = hashlib.sha256(environment_digest())
    h.update(context)
    h.update(f"|{index}|{name}|{variant}|".encode())
    h.update(source[code.start:code.start + code.size])
    return h.digest()


def _validity_marker(directory, source: bytes) -> Path:
    h = hashlib.sha256(environment_digest())
    h.update(source)
    digest = h.hexdigest()
    return Path(directory) / "interp" / "valid" / digest


def known_valid(directory, source: bytes) -> bool:
    """Did these exact bytes pass validation (bodies included) before, with this validator?
    (A marker `remember_valid` wrote; the environment digest covers the validator's source.)"""
    try:
        return _validity_marker(directory, source).read_bytes() == b"valid\n"
    except OSError:
        return False


def remember_valid(directory, source: bytes) -> None:
    """Record that `source` passed validation in full (call only after it did)."""
    path = _validity_marker(directory, source)
    if path.exists():
        return
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
        tmp.write_bytes(b"valid\n")
        tmp.replace(path)
    except OSError:
        pass


class TranslationCache:
    """The persisted translations of one module (see the module docstring)."""

    def __init__(self, directory, validated):
        self.context = context_digest(validated)
        self.num_types = len(validated.module.types)
        name = hashlib.sha256(environment_digest() + self.context).hexdigest()
        self.path = Path(directory) / "interp" / f"{name}.pytc"
        self.index = None       # function index -> (key, offset, length, checksum), when read
        self.new: dict[int, tuple] = {}     # function index -> (key, code, consts, tail)
        self.loaded = 0         # translations taken from the file
        self.stored = 0         # translations handed in to be written
        self.rejected = 0       # entries present but ignored (checksum, shape)
        self._registered = False
        if os.environ.get("PYWAMR_TRANSLATE_LOG"):
            atexit.register(self.report)

    def report(self) -> None:
        """One stderr line: translations loaded, made, rejected ($PYWAMR_TRANSLATE_LOG)."""
        print(f"pywamr: translation cache {self.path.name[:16]}: {self.loaded} loaded, "
              f"{self.stored} translated, {self.rejected} rejected", file=sys.stderr)

    def key(self, index: int, name: str, code, source: bytes, variant: str = "") -> bytes:
        return function_key(self.context, index, name, code, source, variant)

    # ---- reading -----------------------------------------------------------------------------
    def _read_index(self) -> dict:
        if self.index is None:
            self.index = {}
            try:
                with open(self.path, "rb") as f:
                    head = f.read(_HEADER.size)
                    if len(head) == _HEADER.size:
                        self.index = self._parse_index(f, head)
            except OSError:
                pass
        return self.index

    def _parse_index(self, f, head: bytes) -> dict:
        magic, fmt, env, context, count = _HEADER.unpack(head)
        size = os.fstat(f.fileno()).st_size
        if (magic != MAGIC or fmt != FORMAT or env != environment_digest()
                or context != self.context or _HEADER.size + count * _ENTRY.size > size):
            return {}
        table = f.read(count * _ENTRY.size + _DIGEST)
        if (len(table) != count * _ENTRY.size + _DIGEST
                or hashlib.sha256(head + table[:-_DIGEST]).digest() != table[-_DIGEST:]):
            self.rejected += 1
            return {}
        index = {}
        for i in range(count):
            func, key, offset, length, checksum = _ENTRY.unpack_from(table, i * _ENTRY.size)
            index[func] = (key, offset, length, checksum)
        return index

    def get(self, index: int, key: bytes):
        """(code, consts, tail) of function `index` if its entry has `key` and checks."""
        entry = self._read_index().get(index)
        if entry is None or entry[0] != key:
            return None
        payload = self._payload(entry)
        value = self._unpack(payload) if payload is not None else None
        if value is None:
            self.rejected += 1
            return None
        self.loaded += 1
        return value

    def _payload(self, entry) -> bytes | None:
        _, offset, length, checksum = entry
        try:
            fd = os.open(self.path, os.O_RDONLY)
            try:
                payload = os.pread(fd, length, offset)
            finally:
                os.close(fd)
        except OSError:
            return None
        if len(payload) != length or hashlib.sha256(payload).digest() != checksum:
            return None
        return payload

    def _unpack(self, payload: bytes):
        try:
            value = marshal.loads(payload)
        except (ValueError, EOFError, TypeError):
            return None
        if not (isinstance(value, tuple) and len(value) == 4):
            return None
        code, plain, typed, tail = value
        if not (isinstance(code, pytypes.CodeType) and code.co_filename == WASM_FILENAME
                and isinstance(plain, dict) and isinstance(typed, tuple)
                and isinstance(tail, bool)):
            return None
        # names bound into the instance namespace: only the translator's constant names
        if not all(isinstance(k, str) and _CONST_NAME.fullmatch(k) and type(v) in (int, float)
                   for k, v in plain.items()):
            return None
        if not all(isinstance(t, tuple) and len(t) == 2 and type(t[1]) is int
                   and 0 <= t[1] < self.num_types and t[0] == f"ty{t[1]}" for t in typed):
            return None
        return code, plain, typed, tail

    # ---- writing -----------------------------------------------------------------------------
    def put(self, index: int, key: bytes, code, consts: dict, tail: bool) -> None:
        """Remember a fresh translation, to be written on `save()` (at exit at the latest)."""
        self.new[index] = (key, code, consts, tail)
        self.stored += 1
        if not self._registered:
            self._registered = True
            atexit.register(self.save)

    def save(self) -> None:
        """Write the file with the new translations added (nothing to do without any). A
        translation whose constants marshal cannot hold is left out (translated each run)."""
        if not self.new:
            return
        new, self.new = self.new, {}
        sources = {index: (entry[0], lambda entry=entry: self._payload(entry))
                   for index, entry in self._read_index().items()}
        for index, (key, code, consts, tail) in new.items():
            sources[index] = (key, lambda c=code, k=consts, t=tail: _pack(c, k, t))
        self._write(sources)
        self.index = None       # re-read (the file changed) on the next lookup

    def _write(self, sources: dict) -> None:
        """Write the entries `sources` (function index -> (key, payload or a function making
        it, None to leave the entry out)), one payload in memory at a time, into a new file
        renamed over the old one. The index goes first; payloads start after room for every
        entry (room left by entries left out stays unused)."""
        start = _HEADER.size + len(sources) * _ENTRY.size + _DIGEST
        offset = start
        table = bytearray()
        tmp = self.path.with_name(f"{self.path.name}.{os.getpid()}.tmp")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with open(tmp, "wb") as f:
                f.seek(start)
                for index in sorted(sources):
                    key, payload = sources[index]
                    if callable(payload):
                        payload = payload()
                    if payload is None or offset + len(payload) > MAX_FILE_BYTES:
                        continue
                    f.write(payload)
                    table += _ENTRY.pack(index, key, offset, len(payload),
                                         hashlib.sha256(payload).digest())
                    offset += len(payload)
                count = len(table) // _ENTRY.size
                head = _HEADER.pack(MAGIC, FORMAT, environment_digest(), self.context, count)
                f.seek(0)
                f.write(head + table + hashlib.sha256(head + table).digest())
            tmp.replace(self.path)
        except OSError:
            try:
                tmp.unlink()
            except OSError:
                pass
            # a cache that cannot be written is only slower


def _pack(code, consts: dict, tail: bool) -> bytes | None:
    """The payload of one translation: the code object, its plain constants, its references
    to types (`ty<N>` -> N, rebuilt from the module), whether it makes tail calls."""
    plain, typed = {}, []
    for name, value in consts.items():
        if type(value) in (int, float):
            plain[name] = value
        elif name.startswith("ty") and name[2:].isdigit():
            typed.append((name, int(name[2:])))
        else:
            return None         # e.g. a SIMD itemgetter: not marshallable
    try:
        return marshal.dumps((code, plain, tuple(typed), tail))
    except ValueError:
        return None
