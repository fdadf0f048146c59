"""The code cache's per-function entries: native code of partial modules (`compile_functions`,
the tiered engine's hot and warm functions), kept across runs so that the next run of the
same module starts those functions on native code instead of sampling and compiling again.

Sits in the aot engine beside `artifact.py`, whose file format and checks it reuses, under the
same cache directory (`AotCache`): `functions/<key>.cwfn` holds one partial module's objects,
`functions/index/<context key>.json` lists the groups of functions compiled for one module
context, so that a later run knows which keys to ask for. Used by `aot.compile_functions`
(look up before compiling, store after) and `aot.load_cached_functions` (every group of the
index, at link).

What the key is made of, and why it is enough. A partial module's objects are a function of
the IR text its chunks are made of, the LLVM that compiles it and the target. The IR text is
made by this package's translator from: each compiled function's index, locals and
instructions (its side tables are computed from those and the module by the validator);
the module-level facts a body may refer to (the types section; every import's kind and
type, the function section's type indices; table, memory and global types; element
segments; data segments' modes and placement; tags), read through `ModuleInfo`; the opt
level; whether calls inside the group are direct; and the translator's own code. So the key
hashes: a digest of that module context (`context_digest`: everything in the module but the
code section, data segments' bytes, exports, the start function, names and custom sections,
none of which the translator reads), each function's index and a digest of its locals and
instructions, the opt level and the direct-calls flag (the entry's descriptor), and through
`artifact.cache_key` the host identity (triple, CPU, features, LLVM and llvmlite versions)
and the compiler identity (pywamr version, a hash of the sources of `aot/`, `binary/` and
`validate/`, the vmctx layout version). Calls to functions outside the group go through
their function records, whose code does not depend on the callee's body. A changed body
changes its digest and misses; a change anywhere in the module context misses everything.

Safety. An entry is an artifact (`artifact.write_artifact`) whose embedded "source" is the
descriptor: `read_artifact` refuses another format or compiler, another host, a payload whose
checksum does not match (a truncated or corrupted file) and a descriptor other than the one
asked for; the entry is then deleted and the functions are compiled as if it were absent.
Bounded: at most `MAX_BYTES` of entries (the least recently used go first; a hit refreshes
an entry's time) and `MAX_GROUPS` groups per index, `MAX_INDEXES` indexes.
Deliberately not here: whole modules (`artifact.AotCache`), compiling, loading code.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

from .artifact import ArtifactError, cache_key, read_artifact, sha256, write_artifact

ENTRY_SUFFIX = ".cwfn"
SOURCE_KIND = "functions"
MAX_BYTES = 64 * 1024 * 1024        # all entries together
MAX_GROUPS = 256                    # per index (one module context)
MAX_INDEXES = 256


_contexts: dict = {}     # id(module) -> (module, digest), the last few modules


def context_digest(module) -> str:
    """Digest of the module-level facts a function's native code may depend on (module
    docstring): the module without its code, data bytes, exports, start, names and customs.
    Remembered for the last few modules (a big module's elements take milliseconds)."""
    known = _contexts.get(id(module))
    if known is not None and known[0] is module:
        return known[1]
    context = (
        module.types,
        tuple((imp.kind, imp.desc) for imp in module.imports),
        module.funcs, module.tables, module.memories, module.globals, module.elems,
        tuple((d.mode, d.memory, d.offset, len(d.init)) for d in module.datas),
        module.data_count, module.tags,
    )
    digest = sha256(repr(context).encode())
    if len(_contexts) >= 8:
        _contexts.clear()
    _contexts[id(module)] = (module, digest)
    return digest


def body_digest(code) -> str:
    """Digest of one function's locals and instructions (decoded: `code.body` is needed)."""
    if code.body is None:
        raise ValueError("a per-function cache key needs the function's decoded body")
    return sha256(repr((code.locals, code.body)).encode())


def descriptor(module, funcs, opt_level: int, direct_calls: bool,
               context: str | None = None) -> bytes:
    """The bytes that identify a partial module's code besides host and compiler: stored in
    its entry and checked on every read."""
    first = module.num_imported_funcs()
    functions = [[index, body_digest(module.codes[index - first])] for index in sorted(funcs)]
    return json.dumps({"kind": SOURCE_KIND, "context": context or context_digest(module),
                       "functions": functions, "opt": opt_level,
                       "direct_calls": bool(direct_calls)}, sort_keys=True).encode()


class FunctionCache:
    """The per-function entries of one `AotCache` (module docstring)."""

    def __init__(self, cache):
        self.directory = Path(cache.directory) / "functions"

    def _entry_path(self, key: str) -> Path:
        return self.directory / f"{key}{ENTRY_SUFFIX}"

    def _index_path(self, context: str, host: dict) -> Path:
        return self.directory / "index" / f"{cache_key(context, host)}.json"

    # -- entries -------------------------------------------------------------------------------
    def get(self, described: bytes, host: dict) -> list[bytes] | None:
        """The objects stored for `described` (a `descriptor`), or None: absent, or refused by
        `read_artifact` (then deleted)."""
        path = self._entry_path(cache_key(sha256(described), host))
        try:
            data = path.read_bytes()
        except OSError:
            return None
        try:
            art = read_artifact(data, host, described)
            if art.header.get("source_kind") != SOURCE_KIND or not art.objects:
                raise ArtifactError("not a per-function entry")
        except ArtifactError:
            self.discard(path)
            return None
        try:
            os.utime(path)          # recently used: the last to go when the cache is full
        except OSError:
            pass
        return art.objects

    def put(self, described: bytes, host: dict, objects: list[bytes]) -> None:
        path = self._entry_path(cache_key(sha256(described), host))
        data = write_artifact(described, objects, host, {"source_kind": SOURCE_KIND})
        if _write_atomically(path, data):
            self._bound_entries()

    def drop(self, described: bytes, host: dict) -> None:
        """Delete the entry of `described` (its objects did not load)."""
        self.discard(self._entry_path(cache_key(sha256(described), host)))

    def discard(self, path: Path) -> None:
        try:
            path.unlink()
        except OSError:
            pass

    def _bound_entries(self) -> None:
        """Delete the least recently used entries while there are more than MAX_BYTES."""
        _bound(self.directory, f"*{ENTRY_SUFFIX}", max_bytes=MAX_BYTES)

    # -- the index of groups of one module context -------------------------------------------
    def groups(self, context: str, host: dict) -> list[tuple[tuple[int, ...], int, bool]]:
        """(function indices, opt level, direct calls) of each group compiled before for this
        module context, oldest first. A malformed index is ignored (and deleted)."""
        path = self._index_path(context, host)
        try:
            text = path.read_text()
        except OSError:
            return []
        try:
            groups = [(tuple(g["functions"]), g["opt"], g["direct_calls"])
                      for g in json.loads(text)["groups"]]
            if not all(all(_is_index(i) for i in functions) and opt in (0, 1, 2, 3)
                       and isinstance(direct, bool) for functions, opt, direct in groups):
                raise ValueError
        except (ValueError, KeyError, TypeError, AttributeError):
            self.discard(path)
            return []
        return groups

    def remember(self, context: str, host: dict, funcs, opt_level: int,
                 direct_calls: bool) -> None:
        """Add a group to its module context's index (the most recent last, at most
        MAX_GROUPS: the oldest are forgotten)."""
        group = (tuple(sorted(funcs)), opt_level, bool(direct_calls))
        groups = [g for g in self.groups(context, host) if g != group] + [group]
        text = json.dumps({"groups": [{"functions": list(f), "opt": o, "direct_calls": d}
                                      for f, o, d in groups[-MAX_GROUPS:]]})
        path = self._index_path(context, host)
        if _write_atomically(path, text.encode()):
            _bound(path.parent, "*.json", max_files=MAX_INDEXES)


def _is_index(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _write_atomically(path: Path, data: bytes) -> bool:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
        tmp.write_bytes(data)
        tmp.replace(path)
        return True
    except OSError:
        return False        # a cache that cannot be written is only slower


def _bound(directory: Path, pattern: str, max_bytes: int | None = None,
           max_files: int | None = None) -> None:
    """Delete the least recently modified files matching `pattern` in `directory` until at
    most `max_bytes` / `max_files` remain."""
    try:
        files = []
        for path in directory.glob(pattern):
            try:
                stat = path.stat()
            except OSError:
                continue
            files.append((stat.st_mtime, stat.st_size, path))
    except OSError:
        return
    files.sort()
    total = sum(size for _, size, _ in files)
    count = len(files)
    for _, size, path in files:
        if (max_bytes is None or total <= max_bytes) and (max_files is None
                                                          or count <= max_files):
            break
        try:
            path.unlink()
        except OSError:
            pass
        total -= size
        count -= 1
