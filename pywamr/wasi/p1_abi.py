"""The wasi_snapshot_preview1 ABI: errno numbers, flags, rights, struct layouts, guest memory.

Everything here is transcribed from the preview-1 witx (`typenames.witx`,
`wasi_snapshot_preview1.witx`); the host functions that use it are in p1.py. Guest memory is
touched only through `GuestMemory`, whose every access is bounds-checked and raises
`WasiError(FAULT)` instead of IndexError/struct.error.
"""
from __future__ import annotations

import struct

from ..binary.types import FuncType, I32, I64
from .descriptors import FileType
from .errors import ErrorCode, WasiError

MODULE_NAME = "wasi_snapshot_preview1"

ERRNO_NAMES = (
    "success", "2big", "acces", "addrinuse", "addrnotavail", "afnosupport", "again", "already",
    "badf", "badmsg", "busy", "canceled", "child", "connaborted", "connrefused", "connreset",
    "deadlk", "destaddrreq", "dom", "dquot", "exist", "fault", "fbig", "hostunreach", "idrm",
    "ilseq", "inprogress", "intr", "inval", "io", "isconn", "isdir", "loop", "mfile", "mlink",
    "msgsize", "multihop", "nametoolong", "netdown", "netreset", "netunreach", "nfile", "nobufs",
    "nodev", "noent", "noexec", "nolck", "nolink", "nomem", "nomsg", "noprotoopt", "nospc",
    "nosys", "notconn", "notdir", "notempty", "notrecoverable", "notsock", "notsup", "notty",
    "nxio", "overflow", "ownerdead", "perm", "pipe", "proto", "protonosupport", "prototype",
    "range", "rofs", "spipe", "srch", "stale", "timedout", "txtbsy", "xdev", "notcapable",
)
"""Errno names in witx order: the index is the errno number."""

ERRNO_SUCCESS = 0
ERRNO = {code: ERRNO_NAMES.index(code.value) for code in ErrorCode}
"""The preview-1 errno number of each shared error code."""


# filetype
FILETYPE_UNKNOWN = 0
FILETYPE_BLOCK_DEVICE = 1
FILETYPE_CHARACTER_DEVICE = 2
FILETYPE_DIRECTORY = 3
FILETYPE_REGULAR_FILE = 4
FILETYPE_SOCKET_DGRAM = 5
FILETYPE_SOCKET_STREAM = 6
FILETYPE_SYMBOLIC_LINK = 7

FILETYPE = {
    FileType.UNKNOWN: FILETYPE_UNKNOWN,
    FileType.BLOCK_DEVICE: FILETYPE_BLOCK_DEVICE,
    FileType.CHARACTER_DEVICE: FILETYPE_CHARACTER_DEVICE,
    FileType.DIRECTORY: FILETYPE_DIRECTORY,
    FileType.FIFO: FILETYPE_UNKNOWN,
    FileType.SYMBOLIC_LINK: FILETYPE_SYMBOLIC_LINK,
    FileType.REGULAR_FILE: FILETYPE_REGULAR_FILE,
    FileType.SOCKET: FILETYPE_SOCKET_STREAM,
}

# rights (bit numbers in witx order)
RIGHT_NAMES = (
    "fd_datasync", "fd_read", "fd_seek", "fd_fdstat_set_flags", "fd_sync", "fd_tell", "fd_write",
    "fd_advise", "fd_allocate", "path_create_directory", "path_create_file", "path_link_source",
    "path_link_target", "path_open", "fd_readdir", "path_readlink", "path_rename_source",
    "path_rename_target", "path_filestat_get", "path_filestat_set_size",
    "path_filestat_set_times", "fd_filestat_get", "fd_filestat_set_size",
    "fd_filestat_set_times", "path_symlink", "path_remove_directory", "path_unlink_file",
    "poll_fd_readwrite", "sock_shutdown", "sock_accept",
)
RIGHTS = {name: 1 << bit for bit, name in enumerate(RIGHT_NAMES)}
RIGHTS_ALL = (1 << len(RIGHT_NAMES)) - 1
RIGHT_FD_READ = RIGHTS["fd_read"]
RIGHT_FD_WRITE = RIGHTS["fd_write"]
RIGHT_FD_READDIR = RIGHTS["fd_readdir"]
RIGHTS_WRITE_LIKE = (RIGHTS["fd_datasync"] | RIGHT_FD_WRITE | RIGHTS["fd_allocate"]
                     | RIGHTS["fd_filestat_set_size"])
"""Base rights that make path_open open for writing (as wasmtime decides)."""

# fdflags, oflags, lookupflags, fstflags
FDFLAGS_APPEND = 1 << 0
FDFLAGS_DSYNC = 1 << 1
FDFLAGS_NONBLOCK = 1 << 2
FDFLAGS_RSYNC = 1 << 3
FDFLAGS_SYNC = 1 << 4
FDFLAGS_ALL = (1 << 5) - 1

OFLAGS_CREAT = 1 << 0
OFLAGS_DIRECTORY = 1 << 1
OFLAGS_EXCL = 1 << 2
OFLAGS_TRUNC = 1 << 3
OFLAGS_ALL = (1 << 4) - 1

LOOKUPFLAGS_SYMLINK_FOLLOW = 1 << 0

FSTFLAGS_ATIM = 1 << 0
FSTFLAGS_ATIM_NOW = 1 << 1
FSTFLAGS_MTIM = 1 << 2
FSTFLAGS_MTIM_NOW = 1 << 3

# whence, advice, eventtype, subclockflags, eventrwflags, preopentype, sdflags
WHENCE_SET = 0
WHENCE_CUR = 1
WHENCE_END = 2

ADVICE_MAX = 5   # normal, sequential, random, willneed, dontneed, noreuse

EVENTTYPE_CLOCK = 0
EVENTTYPE_FD_READ = 1
EVENTTYPE_FD_WRITE = 2

SUBCLOCKFLAGS_ABSTIME = 1 << 0
EVENTRWFLAGS_FD_READWRITE_HANGUP = 1 << 0
PREOPENTYPE_DIR = 0

# struct layouts: (format, size); all little-endian.
FDSTAT = struct.Struct("<BxHxxxxQQ")                  # filetype, flags, rights base/inheriting
FILESTAT = struct.Struct("<QQBxxxxxxxQQQQQ")          # dev ino filetype nlink size atim mtim ctim
PRESTAT = struct.Struct("<BxxxI")                     # tag, pr_name_len
DIRENT = struct.Struct("<QQIBxxx")                    # d_next, d_ino, d_namlen, d_type
IOVEC = struct.Struct("<II")                          # buf, buf_len
SUBSCRIPTION_HEADER = struct.Struct("<QB")            # userdata, tag (union at +8, body at +16)
SUBSCRIPTION_CLOCK = struct.Struct("<IxxxxQQH")       # id, timeout, precision, flags (at +16)
SUBSCRIPTION_FD = struct.Struct("<I")                 # file_descriptor (at +16)
SUBSCRIPTION_SIZE = 48
EVENT = struct.Struct("<QHBxxxxxQHxxxxxx")            # userdata error type nbytes flags
U32 = struct.Struct("<I")
U64 = struct.Struct("<Q")

assert (FDSTAT.size, FILESTAT.size, PRESTAT.size, DIRENT.size, EVENT.size) == (24, 64, 8, 24, 32)


class GuestMemory:
    """Bounds-checked access to a guest's linear memory (a bytearray that may grow)."""

    __slots__ = ("data",)

    def __init__(self, data: bytearray):
        self.data = data

    def check(self, address: int, size: int) -> None:
        if address < 0 or size < 0 or address + size > len(self.data):
            raise WasiError(ErrorCode.FAULT)

    def read(self, address: int, size: int) -> bytes:
        self.check(address, size)
        return bytes(self.data[address:address + size])

    def write(self, address: int, payload: bytes) -> None:
        self.check(address, len(payload))
        self.data[address:address + len(payload)] = payload

    def unpack(self, layout: struct.Struct, address: int) -> tuple:
        self.check(address, layout.size)
        return layout.unpack_from(self.data, address)

    def pack(self, layout: struct.Struct, address: int, *values) -> None:
        self.check(address, layout.size)
        layout.pack_into(self.data, address, *values)

    def u32(self, address: int) -> int:
        return self.unpack(U32, address)[0]

    def store_u32(self, address: int, value: int) -> None:
        self.pack(U32, address, value & 0xFFFFFFFF)

    def store_u64(self, address: int, value: int) -> None:
        self.pack(U64, address, value & 0xFFFFFFFFFFFFFFFF)

    def string(self, address: int, length: int) -> str:
        """A guest string: UTF-8, else ILLEGAL_SEQUENCE."""
        try:
            return self.read(address, length).decode("utf-8")
        except UnicodeDecodeError:
            raise WasiError(ErrorCode.ILLEGAL_SEQUENCE) from None

    def iovecs(self, address: int, count: int) -> list[tuple[int, int]]:
        """The (buf, buf_len) pairs of an iovec/ciovec array, each checked to be in bounds."""
        self.check(address, count * IOVEC.size)
        vectors = []
        for index in range(count):
            buffer, length = IOVEC.unpack_from(self.data, address + index * IOVEC.size)
            self.check(buffer, length)
            vectors.append((buffer, length))
        return vectors

    def gather(self, vectors: list[tuple[int, int]]) -> bytes:
        return b"".join(bytes(self.data[buffer:buffer + length]) for buffer, length in vectors)

    def scatter(self, vectors: list[tuple[int, int]], payload: bytes) -> None:
        """Copy `payload` into the buffers in order (it is no longer than their total)."""
        offset = 0
        for buffer, length in vectors:
            chunk = payload[offset:offset + length]
            if not chunk:
                break
            self.data[buffer:buffer + len(chunk)] = chunk
            offset += len(chunk)


def _signature(*params: int, result: bool = True) -> FuncType:
    return FuncType(tuple(params), (I32,) if result else ())


SIGNATURES: dict[str, FuncType] = {
    "args_get": _signature(I32, I32),
    "args_sizes_get": _signature(I32, I32),
    "environ_get": _signature(I32, I32),
    "environ_sizes_get": _signature(I32, I32),
    "clock_res_get": _signature(I32, I32),
    "clock_time_get": _signature(I32, I64, I32),
    "fd_advise": _signature(I32, I64, I64, I32),
    "fd_allocate": _signature(I32, I64, I64),
    "fd_close": _signature(I32),
    "fd_datasync": _signature(I32),
    "fd_fdstat_get": _signature(I32, I32),
    "fd_fdstat_set_flags": _signature(I32, I32),
    "fd_fdstat_set_rights": _signature(I32, I64, I64),
    "fd_filestat_get": _signature(I32, I32),
    "fd_filestat_set_size": _signature(I32, I64),
    "fd_filestat_set_times": _signature(I32, I64, I64, I32),
    "fd_pread": _signature(I32, I32, I32, I64, I32),
    "fd_prestat_get": _signature(I32, I32),
    "fd_prestat_dir_name": _signature(I32, I32, I32),
    "fd_pwrite": _signature(I32, I32, I32, I64, I32),
    "fd_read": _signature(I32, I32, I32, I32),
    "fd_readdir": _signature(I32, I32, I32, I64, I32),
    "fd_renumber": _signature(I32, I32),
    "fd_seek": _signature(I32, I64, I32, I32),
    "fd_sync": _signature(I32),
    "fd_tell": _signature(I32, I32),
    "fd_write": _signature(I32, I32, I32, I32),
    "path_create_directory": _signature(I32, I32, I32),
    "path_filestat_get": _signature(I32, I32, I32, I32, I32),
    "path_filestat_set_times": _signature(I32, I32, I32, I32, I64, I64, I32),
    "path_link": _signature(I32, I32, I32, I32, I32, I32, I32),
    "path_open": _signature(I32, I32, I32, I32, I32, I64, I64, I32, I32),
    "path_readlink": _signature(I32, I32, I32, I32, I32, I32),
    "path_remove_directory": _signature(I32, I32, I32),
    "path_rename": _signature(I32, I32, I32, I32, I32, I32),
    "path_symlink": _signature(I32, I32, I32, I32, I32),
    "path_unlink_file": _signature(I32, I32, I32),
    "poll_oneoff": _signature(I32, I32, I32, I32),
    "proc_exit": _signature(I32, result=False),
    "proc_raise": _signature(I32),
    "sched_yield": _signature(),
    "random_get": _signature(I32, I32),
    "sock_accept": _signature(I32, I32, I32),
    "sock_recv": _signature(I32, I32, I32, I32, I32, I32),
    "sock_send": _signature(I32, I32, I32, I32, I32),
    "sock_shutdown": _signature(I32, I32),
}
"""The wasm type of every preview-1 import, by name."""


def signed64(value: int) -> int:
    """An i64 argument (internal form: unsigned) read as the signed value the witx means."""
    return value - (1 << 64) if value >= 1 << 63 else value
