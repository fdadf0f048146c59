"""Open descriptors of the shared WASI core: standard streams, host files and host directories.

Each class wraps one host resource and offers the descriptor-level operations (read, write,
seek, stat, set times, list entries). Path operations relative to a directory live in fs.py;
the table that numbers descriptors lives in context.py. Nothing here knows an ABI: errors are
`WasiError(ErrorCode.X)`, file types are `FileType`, times are nanoseconds.
"""
from __future__ import annotations

import enum
import fcntl
import os
import stat as stat_module
import time
from ..record import record

from .errors import ErrorCode, WasiError, host_errors
from .streams import InputStream, OutputStream


class FileType(enum.Enum):
    """What a descriptor or directory entry refers to."""

    UNKNOWN = "unknown"
    BLOCK_DEVICE = "block-device"
    CHARACTER_DEVICE = "character-device"
    DIRECTORY = "directory"
    FIFO = "fifo"
    SYMBOLIC_LINK = "symbolic-link"
    REGULAR_FILE = "regular-file"
    SOCKET = "socket"


def file_type_from_mode(mode: int) -> FileType:
    if stat_module.S_ISREG(mode):
        return FileType.REGULAR_FILE
    if stat_module.S_ISDIR(mode):
        return FileType.DIRECTORY
    if stat_module.S_ISLNK(mode):
        return FileType.SYMBOLIC_LINK
    if stat_module.S_ISCHR(mode):
        return FileType.CHARACTER_DEVICE
    if stat_module.S_ISBLK(mode):
        return FileType.BLOCK_DEVICE
    if stat_module.S_ISFIFO(mode):
        return FileType.FIFO
    if stat_module.S_ISSOCK(mode):
        return FileType.SOCKET
    return FileType.UNKNOWN


@record
class Stat:
    """Metadata of a file, times in nanoseconds since the epoch."""

    device: int
    inode: int
    type: FileType
    link_count: int
    size: int
    access_time: int
    modify_time: int
    change_time: int

    @classmethod
    def from_host(cls, result: os.stat_result) -> "Stat":
        return cls(result.st_dev, result.st_ino, file_type_from_mode(result.st_mode),
                   result.st_nlink, result.st_size, result.st_atime_ns, result.st_mtime_ns,
                   result.st_ctime_ns)


class SetTime(enum.Enum):
    """How to change one timestamp: leave it, or set it to the current time."""

    UNCHANGED = "unchanged"
    NOW = "now"


def resolve_times(current: os.stat_result | None, access, modify) -> tuple[int, int]:
    """The (atime, mtime) pair in ns for os.utime from SetTime values or explicit ns."""
    now = time.time_ns()

    def pick(change, existing: int) -> int:
        if change is SetTime.UNCHANGED:
            return existing
        if change is SetTime.NOW:
            return now
        return change

    atime = current.st_atime_ns if current is not None else now
    mtime = current.st_mtime_ns if current is not None else now
    return pick(access, atime), pick(modify, mtime)


class Whence(enum.Enum):
    SET = os.SEEK_SET
    CURRENT = os.SEEK_CUR
    END = os.SEEK_END


class Descriptor:
    """Base of everything in the descriptor table."""

    __slots__ = ()

    file_type = FileType.UNKNOWN

    def close(self) -> None:
        pass

    def stat(self) -> Stat:
        raise WasiError(ErrorCode.BAD_DESCRIPTOR)

    def isatty(self) -> bool:
        return False


class StreamDescriptor(Descriptor):
    """A standard stream (stdin, stdout or stderr): readable or writable, never seekable."""

    __slots__ = ("input", "output")

    def __init__(self, input: InputStream | None = None, output: OutputStream | None = None):
        self.input = input
        self.output = output

    @property
    def file_type(self) -> FileType:
        return FileType.CHARACTER_DEVICE if self.isatty() else FileType.UNKNOWN

    def isatty(self) -> bool:
        stream = self.input if self.input is not None else self.output
        return stream is not None and stream.isatty()

    def read(self, size: int) -> bytes:
        if self.input is None:
            raise WasiError(ErrorCode.BAD_DESCRIPTOR)
        return self.input.read(size)

    def write(self, payload: bytes) -> int:
        if self.output is None:
            raise WasiError(ErrorCode.BAD_DESCRIPTOR)
        return self.output.write(payload)

    def stat(self) -> Stat:
        return Stat(0, 0, self.file_type, 0, 0, 0, 0, 0)


class FileDescriptor(Descriptor):
    """An open host file (or device/fifo) reached through a preopened directory."""

    __slots__ = ("host_fd", "readable", "writable", "append", "nonblocking", "file_type")

    def __init__(self, host_fd: int, readable: bool, writable: bool, append: bool = False,
                 nonblocking: bool = False, file_type: FileType = FileType.REGULAR_FILE):
        self.host_fd = host_fd
        self.readable = readable
        self.writable = writable
        self.append = append
        self.nonblocking = nonblocking
        self.file_type = file_type

    def close(self) -> None:
        if self.host_fd >= 0:
            fd, self.host_fd = self.host_fd, -1
            with host_errors():
                os.close(fd)

    def _require(self, permitted: bool) -> None:
        if not permitted:
            raise WasiError(ErrorCode.BAD_DESCRIPTOR)

    def read(self, size: int) -> bytes:
        self._require(self.readable)
        with host_errors():
            return os.read(self.host_fd, size)

    def pread(self, size: int, offset: int) -> bytes:
        self._require(self.readable)
        with host_errors():
            return os.pread(self.host_fd, size, offset)

    def write(self, payload: bytes) -> int:
        self._require(self.writable)
        with host_errors():
            return os.write(self.host_fd, payload)

    def pwrite(self, payload: bytes, offset: int) -> int:
        self._require(self.writable)
        with host_errors():   # on an append descriptor Linux appends, as wasmtime does
            return os.pwrite(self.host_fd, payload, offset)

    def seek(self, offset: int, whence: Whence) -> int:
        with host_errors():
            if whence is Whence.CURRENT:
                base = os.lseek(self.host_fd, 0, os.SEEK_CUR)
            elif whence is Whence.END:
                base = os.fstat(self.host_fd).st_size
            else:
                base = 0
            target = base + offset
            if target < 0:
                raise WasiError(ErrorCode.INVALID)
            return os.lseek(self.host_fd, target, os.SEEK_SET)

    def tell(self) -> int:
        with host_errors():
            return os.lseek(self.host_fd, 0, os.SEEK_CUR)

    def stat(self) -> Stat:
        with host_errors():
            return Stat.from_host(os.fstat(self.host_fd))

    def set_size(self, size: int) -> None:
        self._require(self.writable)
        with host_errors():
            os.ftruncate(self.host_fd, size)

    def set_times(self, access, modify) -> None:
        with host_errors():
            os.utime(self.host_fd, ns=resolve_times(os.fstat(self.host_fd), access, modify))

    def set_append(self, append: bool) -> None:
        with host_errors():
            flags = fcntl.fcntl(self.host_fd, fcntl.F_GETFL)
            flags = flags | os.O_APPEND if append else flags & ~os.O_APPEND
            fcntl.fcntl(self.host_fd, fcntl.F_SETFL, flags)
        self.append = append

    def sync(self) -> None:
        with host_errors():
            os.fsync(self.host_fd)

    def datasync(self) -> None:
        with host_errors():
            os.fdatasync(self.host_fd)

    def advise(self, offset: int, length: int, advice: int) -> None:
        with host_errors():
            os.posix_fadvise(self.host_fd, offset, length, advice)

    def allocate(self, offset: int, length: int) -> None:
        self._require(self.writable)
        with host_errors():
            os.posix_fallocate(self.host_fd, offset, length)

    def isatty(self) -> bool:
        return os.isatty(self.host_fd)


@record
class DirectoryEntry:
    name: str
    inode: int
    type: FileType


class DirectoryDescriptor(Descriptor):
    """An open host directory; `preopen_path` is its guest name when it was preopened.

    `guest_path` is the path the guest knows it by (the preopen's, joined with the paths that
    opened it), `broker` the embedder's capability broker (broker.py) that every directory
    opened beneath inherits. `listing` caches the entries read at cookie 0 so that later
    cookies index a stable list."""

    __slots__ = ("host_fd", "preopen_path", "readable", "listing", "guest_path", "broker")

    file_type = FileType.DIRECTORY

    def __init__(self, host_fd: int, preopen_path: str | None = None, readable: bool = True,
                 guest_path: str | None = None, broker=None):
        self.host_fd = host_fd
        self.preopen_path = preopen_path
        self.readable = readable
        self.listing: list[DirectoryEntry] | None = None
        self.guest_path = guest_path if guest_path is not None else preopen_path
        self.broker = broker

    def close(self) -> None:
        if self.host_fd >= 0:
            fd, self.host_fd = self.host_fd, -1
            with host_errors():
                os.close(fd)

    def stat(self) -> Stat:
        with host_errors():
            return Stat.from_host(os.fstat(self.host_fd))

    def set_times(self, access, modify) -> None:
        with host_errors():
            os.utime(self.host_fd, ns=resolve_times(os.fstat(self.host_fd), access, modify))

    def sync(self) -> None:
        with host_errors():
            os.fsync(self.host_fd)

    def entries(self, fresh: bool) -> list[DirectoryEntry]:
        """All entries, "." and ".." first (as wasmtime reports them); re-read when `fresh`."""
        if fresh or self.listing is None:
            self.listing = self._read_entries()
        return self.listing

    def _read_entries(self) -> list[DirectoryEntry]:
        with host_errors():
            own_inode = os.fstat(self.host_fd).st_ino
            if self.preopen_path is None:
                parent_inode = os.stat("..", dir_fd=self.host_fd).st_ino
            else:
                parent_inode = own_inode   # the sandbox root shows nothing of what is above it
            entries = [DirectoryEntry(".", own_inode, FileType.DIRECTORY),
                       DirectoryEntry("..", parent_inode, FileType.DIRECTORY)]
            with os.scandir(self.host_fd) as iterator:
                for entry in iterator:
                    entries.append(DirectoryEntry(entry.name, entry.inode(),
                                                  _entry_type(entry, self.host_fd)))
        return entries


def _entry_type(entry: os.DirEntry, directory_fd: int) -> FileType:
    try:
        if entry.is_symlink():
            return FileType.SYMBOLIC_LINK
        if entry.is_dir(follow_symlinks=False):
            return FileType.DIRECTORY
        if entry.is_file(follow_symlinks=False):
            return FileType.REGULAR_FILE
        return file_type_from_mode(os.stat(entry.name, dir_fd=directory_fd,
                                           follow_symlinks=False).st_mode)
    except OSError:
        return FileType.UNKNOWN
