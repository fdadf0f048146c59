"""`wasi:filesystem`: the `descriptor` and `directory-entry-stream` resources, and preopens.

Part of the WASI 0.2 host (`pywamr.wasi.p2`), over the preview-1 sandbox: every path goes
through `fs.py` (one resolver, beneath a preopened directory, symbolic links expanded by us)
and every open file or directory is a core `FileDescriptor`/`DirectoryDescriptor`. This
module adds what 0.2 asks on top: descriptor flags and their permission checks
(`mutate-directory`), streams over files, metadata hashes, and the mapping from the core's
`ErrorCode`s to the WIT's `error-code` enum.

Spec: wasi-0.2.12/filesystem/{types,preopens}.wit. A core descriptor shared by a descriptor
and its streams is closed when the last of them is dropped.
"""
from __future__ import annotations

import os

from .. import fs
from ..descriptors import DirectoryDescriptor, FileDescriptor, SetTime
from ..errors import ErrorCode, WasiError, code_from_os_error, host_errors
from .clocks import NS, datetime
from .host import P2Host
from .io import READ_CHUNK, FileInputStream, FileOutputStream

ERROR_CODES = {
    ErrorCode.ACCESS: "access", ErrorCode.AGAIN: "would-block", ErrorCode.ALREADY: "already",
    ErrorCode.BAD_DESCRIPTOR: "bad-descriptor", ErrorCode.BUSY: "busy",
    ErrorCode.DEADLOCK: "deadlock", ErrorCode.QUOTA: "quota", ErrorCode.EXIST: "exist",
    ErrorCode.FILE_TOO_BIG: "file-too-large", ErrorCode.ILLEGAL_SEQUENCE: "illegal-byte-sequence",
    ErrorCode.IN_PROGRESS: "in-progress", ErrorCode.INTERRUPTED: "interrupted",
    ErrorCode.INVALID: "invalid", ErrorCode.IO: "io", ErrorCode.IS_DIRECTORY: "is-directory",
    ErrorCode.LOOP: "loop", ErrorCode.TOO_MANY_LINKS: "too-many-links",
    ErrorCode.MESSAGE_SIZE: "message-size", ErrorCode.NAME_TOO_LONG: "name-too-long",
    ErrorCode.NO_DEVICE: "no-device", ErrorCode.NO_ENTRY: "no-entry",
    ErrorCode.NO_LOCK: "no-lock", ErrorCode.NO_MEMORY: "insufficient-memory",
    ErrorCode.NO_SPACE: "insufficient-space", ErrorCode.NOT_DIRECTORY: "not-directory",
    ErrorCode.NOT_EMPTY: "not-empty", ErrorCode.NOT_RECOVERABLE: "not-recoverable",
    ErrorCode.NOT_SUPPORTED: "unsupported", ErrorCode.NOT_TERMINAL: "no-tty",
    ErrorCode.NO_SUCH_DEVICE: "no-such-device", ErrorCode.OVERFLOW: "overflow",
    ErrorCode.NOT_PERMITTED: "not-permitted", ErrorCode.NOT_CAPABLE: "not-permitted",
    ErrorCode.PIPE: "pipe", ErrorCode.READ_ONLY: "read-only",
    ErrorCode.INVALID_SEEK: "invalid-seek", ErrorCode.TEXT_FILE_BUSY: "text-file-busy",
    ErrorCode.CROSS_DEVICE: "cross-device",
}
"""Core error codes as the WIT's `error-code` labels; any other code reports `io`."""

ADVICE = {
    "normal": os.POSIX_FADV_NORMAL, "sequential": os.POSIX_FADV_SEQUENTIAL,
    "random": os.POSIX_FADV_RANDOM, "will-need": os.POSIX_FADV_WILLNEED,
    "dont-need": os.POSIX_FADV_DONTNEED, "no-reuse": os.POSIX_FADV_NOREUSE,
}


def error_code(code: ErrorCode) -> str:
    return ERROR_CODES.get(code, "io")


class Shared:
    """A core descriptor and how many guest resources (descriptor, streams) still use it."""

    __slots__ = ("core", "users")

    def __init__(self, core, users: int = 1):
        self.core = core
        self.users = users

    def acquire(self) -> "Shared":
        self.users += 1
        return self

    def release(self) -> None:
        self.users -= 1
        if self.users == 0:
            try:
                self.core.close()
            except WasiError:
                pass


class Descriptor:
    """The `descriptor` resource: a core file or directory, with the 0.2 descriptor flags."""

    __slots__ = ("shared", "flags")

    def __init__(self, shared: Shared, flags: frozenset):
        self.shared = shared
        self.flags = flags

    @property
    def core(self):
        return self.shared.core

    def drop(self) -> None:
        self.shared.release()

    def file(self) -> FileDescriptor:
        if not isinstance(self.core, FileDescriptor):
            raise WasiError(ErrorCode.BAD_DESCRIPTOR)
        return self.core

    def directory(self) -> DirectoryDescriptor:
        if not isinstance(self.core, DirectoryDescriptor):
            raise WasiError(ErrorCode.NOT_DIRECTORY)
        return self.core

    def mutable_directory(self) -> DirectoryDescriptor:
        directory = self.directory()
        if "mutate-directory" not in self.flags:
            raise WasiError(ErrorCode.NOT_PERMITTED)
        return directory


class SharedFileInput(FileInputStream):
    """A file's input stream that keeps the core descriptor open until it is dropped."""

    __slots__ = ("shared",)

    def __init__(self, shared: Shared, offset: int):
        super().__init__(shared.core, offset)
        self.shared = shared.acquire()

    def drop(self) -> None:
        self.shared.release()


class SharedFileOutput(FileOutputStream):
    """A file's output stream that keeps the core descriptor open until it is dropped."""

    __slots__ = ("shared",)

    def __init__(self, shared: Shared, offset: int, append: bool = False):
        super().__init__(shared.core, offset, append)
        self.shared = shared.acquire()

    def drop(self) -> None:
        self.shared.release()


class DirectoryEntryStream:
    """The `directory-entry-stream` resource: entries read once, "." and ".." left out."""

    __slots__ = ("entries", "position")

    def __init__(self, entries: list):
        self.entries = [e for e in entries if e.name not in (".", "..")]
        self.position = 0

    def next(self):
        if self.position >= len(self.entries):
            return ("none", None)
        entry = self.entries[self.position]
        self.position += 1
        return ("some", {"type": entry.type.value, "name": entry.name})


# ---- conversions -------------------------------------------------------------------------------

def stat_record(stat) -> dict:
    return {"type": stat.type.value, "link-count": stat.link_count, "size": stat.size,
            "data-access-timestamp": ("some", datetime(stat.access_time)),
            "data-modification-timestamp": ("some", datetime(stat.modify_time)),
            "status-change-timestamp": ("some", datetime(stat.change_time))}


def new_timestamp(value):
    label, payload = value
    if label == "no-change":
        return SetTime.UNCHANGED
    if label == "now":
        return SetTime.NOW
    return payload["seconds"] * NS + payload["nanoseconds"]


def metadata_hash(stat) -> dict:
    import hashlib      # here, not at the top: loading OpenSSL costs every component start
    digest = hashlib.blake2b(f"{stat.device}:{stat.inode}".encode(), digest_size=16).digest()
    return {"lower": int.from_bytes(digest[:8], "little"),
            "upper": int.from_bytes(digest[8:], "little")}


def _result(fn, *args):
    """`result<T, error-code>` of calling `fn`: core WasiErrors become the error case."""
    try:
        return ("ok", fn(*args))
    except WasiError as exc:
        return ("error", error_code(exc.code))
    except OSError as exc:
        return ("error", error_code(code_from_os_error(exc)))
    except (OverflowError, ValueError):
        # an offset, size or time beyond what the host's system calls take
        return ("error", "invalid")


# ---- the descriptor methods ------------------------------------------------------------------

class Methods:
    """`[method]descriptor.*`, each taking reps and returning canonical ABI values."""

    def __init__(self, host: P2Host):
        self.host = host

    def _d(self, rep) -> Descriptor:
        return self.host.get("descriptor", rep)

    def _stream(self, kind: str, stream) -> int:
        return self.host.new(kind, stream)

    # streams and whole-file operations
    def read_via_stream(self, d, offset):
        def run():
            descriptor = self._d(d)
            if "read" not in descriptor.flags:
                raise WasiError(ErrorCode.BAD_DESCRIPTOR)
            descriptor.file()
            return self._stream("input-stream", SharedFileInput(descriptor.shared, offset))
        return _result(run)

    def write_via_stream(self, d, offset, append=False):
        def run():
            descriptor = self._d(d)
            if "write" not in descriptor.flags:
                raise WasiError(ErrorCode.BAD_DESCRIPTOR)
            descriptor.file()
            return self._stream("output-stream",
                                SharedFileOutput(descriptor.shared, offset, append))
        return _result(run)

    def append_via_stream(self, d):
        return self.write_via_stream(d, 0, True)

    def advise(self, d, offset, length, advice):
        return _result(lambda: self._d(d).file().advise(offset, length, ADVICE[advice]))

    def sync_data(self, d):
        def run():
            with host_errors():
                os.fdatasync(self._d(d).core.host_fd)
        return _result(run)

    def sync(self, d):
        return _result(lambda: self._d(d).core.sync())

    def get_flags(self, d):
        return _result(lambda: self._d(d).flags)

    def get_type(self, d):
        return _result(lambda: self._d(d).core.stat().type.value)

    def set_size(self, d, size):
        def run():
            descriptor = self._d(d)
            if "write" not in descriptor.flags:
                raise WasiError(ErrorCode.INVALID)      # as wasmtime (EINVAL through p1)
            descriptor.file().set_size(size)
        return _result(run)

    def set_times(self, d, access, modify):
        return _result(lambda: self._d(d).core.set_times(new_timestamp(access),
                                                         new_timestamp(modify)))

    def read(self, d, length, offset):
        def run():
            descriptor = self._d(d)
            if "read" not in descriptor.flags:
                raise WasiError(ErrorCode.BAD_DESCRIPTOR)
            data = descriptor.file().pread(min(length, READ_CHUNK), offset)
            return (data, length > 0 and not data)
        return _result(run)

    def write(self, d, buffer, offset):
        def run():
            descriptor = self._d(d)
            if "write" not in descriptor.flags:
                raise WasiError(ErrorCode.BAD_DESCRIPTOR)
            return descriptor.file().pwrite(bytes(buffer), offset)
        return _result(run)

    def read_directory(self, d):
        def run():
            directory = self._d(d).directory()
            return self.host.new("directory-entry-stream",
                                 DirectoryEntryStream(directory.entries(fresh=True)))
        return _result(run)

    def stat(self, d):
        return _result(lambda: stat_record(self._d(d).core.stat()))

    def is_same_object(self, d, other):
        try:
            a, b = self._d(d).core.stat(), self._d(other).core.stat()
        except WasiError:
            return False
        return (a.device, a.inode) == (b.device, b.inode)

    def metadata_hash(self, d):
        return _result(lambda: metadata_hash(self._d(d).core.stat()))

    # path operations (relative to a directory descriptor, through the sandbox)
    def create_directory_at(self, d, path):
        return _result(lambda: fs.create_directory_at(self._d(d).mutable_directory(), path))

    def stat_at(self, d, path_flags, path):
        return _result(lambda: stat_record(fs.stat_at(self._d(d).directory(), path,
                                                      "symlink-follow" in path_flags)))

    def metadata_hash_at(self, d, path_flags, path):
        return _result(lambda: metadata_hash(fs.stat_at(self._d(d).directory(), path,
                                                        "symlink-follow" in path_flags)))

    def set_times_at(self, d, path_flags, path, access, modify):
        return _result(lambda: fs.set_times_at(
            self._d(d).directory(), path, "symlink-follow" in path_flags,
            new_timestamp(access), new_timestamp(modify)))

    def link_at(self, d, old_flags, old_path, new_d, new_path):
        def run():
            if "symlink-follow" in old_flags:
                raise WasiError(ErrorCode.INVALID)
            fs.link_at(self._d(d).mutable_directory(), old_path,
                       self._d(new_d).mutable_directory(), new_path)
        return _result(run)

    def open_at(self, d, path_flags, path, open_flags, flags):
        return _result(self._open_at, d, path_flags, path, open_flags, flags)

    def _open_at(self, d, path_flags, path, open_flags, flags):
        parent = self._d(d)
        directory = parent.directory()
        mutates = ("write" in flags or "mutate-directory" in flags
                   or "create" in open_flags or "truncate" in open_flags)
        if mutates and "mutate-directory" not in parent.flags:
            raise WasiError(ErrorCode.NOT_PERMITTED)
        flags = frozenset(flags)
        if ("create" in open_flags or "truncate" in open_flags) and "directory" not in open_flags:
            # as wasmtime: creating or truncating opens the file for writing too
            flags |= {"write"}
        options = fs.OpenOptions(
            create="create" in open_flags, exclusive="exclusive" in open_flags,
            truncate="truncate" in open_flags, directory="directory" in open_flags,
            read="read" in flags, write="write" in flags,
            data_sync="data-integrity-sync" in flags, file_sync="file-integrity-sync" in flags,
            read_sync="requested-write-sync" in flags)
        core = fs.open_at(directory, path, "symlink-follow" in path_flags, options)
        granted = frozenset(flags)
        if isinstance(core, DirectoryDescriptor):
            granted -= {"write"}
        else:
            granted -= {"mutate-directory"}
        return self.host.new("descriptor", Descriptor(Shared(core), granted))

    def readlink_at(self, d, path):
        return _result(lambda: fs.readlink_at(self._d(d).directory(), path))

    def remove_directory_at(self, d, path):
        return _result(lambda: fs.remove_directory_at(self._d(d).mutable_directory(), path))

    def rename_at(self, d, old_path, new_d, new_path):
        return _result(lambda: fs.rename_at(self._d(d).mutable_directory(), old_path,
                                            self._d(new_d).mutable_directory(), new_path))

    def symlink_at(self, d, old_path, new_path):
        return _result(lambda: fs.symlink_at(old_path, self._d(d).mutable_directory(), new_path))

    def unlink_file_at(self, d, path):
        return _result(lambda: fs.unlink_file_at(self._d(d).mutable_directory(), path))


METHODS = ("read-via-stream", "write-via-stream", "append-via-stream", "advise", "sync-data",
           "get-flags", "get-type", "set-size", "set-times", "read", "write", "read-directory",
           "sync", "create-directory-at", "stat", "stat-at", "set-times-at", "link-at",
           "open-at", "readlink-at", "remove-directory-at", "rename-at", "symlink-at",
           "unlink-file-at", "is-same-object", "metadata-hash", "metadata-hash-at")


def define(host: P2Host) -> None:
    types, preopens = "wasi:filesystem/types", "wasi:filesystem/preopens"
    host.resource(types, "descriptor", Descriptor)
    host.resource(types, "directory-entry-stream", DirectoryEntryStream)
    methods = Methods(host)
    for name in METHODS:
        host.func(types, f"[method]descriptor.{name}", getattr(methods, name.replace("-", "_")))
    host.func(types, "[method]directory-entry-stream.read-directory-entry",
              lambda s: _result(host.get("directory-entry-stream", s).next))

    def filesystem_error_code(e):
        error = host.get("error", e)
        code = ERROR_CODES.get(getattr(error, "code", None))
        return ("none", None) if code is None else ("some", code)
    host.func(types, "filesystem-error-code", filesystem_error_code)

    roots = [(Shared(core, users=1), core.preopen_path)
             for _, core in sorted(host.context.table.items())
             if isinstance(core, DirectoryDescriptor) and core.preopen_path is not None]
    root_flags = frozenset({"read", "mutate-directory"})

    def get_directories():
        return [(host.new("descriptor", Descriptor(shared.acquire(), root_flags)), guest)
                for shared, guest in roots]
    host.func(preopens, "get-directories", get_directories)
