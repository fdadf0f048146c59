"""The wasi_snapshot_preview1 host functions over a shared `WasiContext`.

Top of the WASI layer for core modules: `host_functions(ctx)` gives the engine, per import
name, the wasm signature and a Python callable `fn(caller, *args)` whose arguments are in the
internal representation (i32/i64 as unsigned ints) and whose result is the errno. The ABI
details (numbers, layouts) are in p1_abi.py; files and paths are the shared core's (fs.py,
descriptors.py); poll_oneoff is in p1_poll.py. Behaviour follows wasmtime's preview-1 host.
"""
from __future__ import annotations

import functools

from ..errors import WasiExit
from .clocks import ClockId
from .context import WasiContext
from .descriptors import (Descriptor, DirectoryDescriptor, FileDescriptor, SetTime,
                          StreamDescriptor, Whence)
from . import fs
from .errors import ErrorCode, WasiError, code_from_os_error
from .p1_abi import (
    ADVICE_MAX, DIRENT, ERRNO, ERRNO_SUCCESS, FDFLAGS_ALL, FDFLAGS_APPEND, FDFLAGS_DSYNC,
    FDFLAGS_NONBLOCK, FDFLAGS_RSYNC, FDFLAGS_SYNC, FDSTAT, FILESTAT, FILETYPE, FSTFLAGS_ATIM,
    FSTFLAGS_ATIM_NOW, FSTFLAGS_MTIM, FSTFLAGS_MTIM_NOW, LOOKUPFLAGS_SYMLINK_FOLLOW,
    OFLAGS_ALL, OFLAGS_CREAT, OFLAGS_DIRECTORY, OFLAGS_EXCL, OFLAGS_TRUNC, PRESTAT,
    PREOPENTYPE_DIR, RIGHT_FD_READ, RIGHT_FD_READDIR, RIGHT_FD_WRITE, RIGHTS_ALL,
    RIGHTS_WRITE_LIKE, SIGNATURES, WHENCE_CUR, WHENCE_END, WHENCE_SET, GuestMemory, signed64,
)
from .p1_poll import poll_oneoff

_WHENCE = {WHENCE_SET: Whence.SET, WHENCE_CUR: Whence.CURRENT, WHENCE_END: Whence.END}

DIRECTORY_RIGHTS_BASE = 0x07B7FE00
"""What wasmtime reports as a directory's base rights: the path_* and directory fd_* rights
(no path_filestat_set_size, no fd_filestat_set_size, no fd_sync/fd_datasync)."""

DIRECTORY_RIGHTS_INHERITING = 0x0FF7FFFF
"""What wasmtime reports a preopened directory's children may get: all but
path_filestat_set_size and the socket rights."""

OPENED_DIRECTORY_RIGHTS = 0x3FB7FFBB
"""What wasmtime reports (base and inheriting) for a directory opened with path_open: all but
fd_seek, fd_write, path_filestat_set_size and fd_filestat_set_size."""


def _memory(caller) -> GuestMemory:
    memory = getattr(caller, "memory", None)
    return GuestMemory(memory.data if memory is not None else bytearray())


def _file(descriptor: Descriptor) -> FileDescriptor:
    """The open file behind a descriptor (directories and streams: BAD_DESCRIPTOR)."""
    if not isinstance(descriptor, FileDescriptor):
        raise WasiError(ErrorCode.BAD_DESCRIPTOR)
    return descriptor


_FSTFLAGS_ALL = FSTFLAGS_ATIM | FSTFLAGS_ATIM_NOW | FSTFLAGS_MTIM | FSTFLAGS_MTIM_NOW


def _follow(lookup_flags: int) -> bool:
    """Whether lookupflags ask to follow a final symbolic link. Undefined bits: INVALID
    (wasmtime traps; pywamr reports bad flag values as errnos throughout)."""
    if lookup_flags & ~LOOKUPFLAGS_SYMLINK_FOLLOW:
        raise WasiError(ErrorCode.INVALID)
    return bool(lookup_flags & LOOKUPFLAGS_SYMLINK_FOLLOW)


def _set_time(value: int, flags: int, explicit: int, now: int):
    """One timestamp of fd/path_filestat_set_times: explicit, now, or unchanged.

    Undefined fstflags bits are INVALID (wasmtime traps)."""
    if flags & ~_FSTFLAGS_ALL:
        raise WasiError(ErrorCode.INVALID)
    if flags & explicit and flags & now:
        raise WasiError(ErrorCode.INVALID)
    if flags & now:
        return SetTime.NOW
    if flags & explicit:
        return value
    return SetTime.UNCHANGED


def _store_filestat(memory: GuestMemory, address: int, stat) -> None:
    memory.pack(FILESTAT, address, stat.device, stat.inode, FILETYPE[stat.type],
                stat.link_count, stat.size, stat.access_time, stat.modify_time,
                stat.change_time)


class Preview1:
    """The preview-1 functions of one context; each method raises WasiError on failure."""

    __slots__ = ("ctx",)

    def __init__(self, ctx: WasiContext):
        self.ctx = ctx

    # ---- arguments and environment ----------------------------------------------------

    @staticmethod
    def _store_strings(memory: GuestMemory, pointers: int, buffer: int, items: list[str]) -> None:
        encoded = [item.encode("utf-8") + b"\0" for item in items]
        memory.check(pointers, 4 * len(encoded))
        memory.check(buffer, sum(len(item) for item in encoded))
        for index, item in enumerate(encoded):
            memory.store_u32(pointers + 4 * index, buffer)
            memory.write(buffer, item)
            buffer += len(item)

    @staticmethod
    def _store_sizes(memory: GuestMemory, count_out: int, size_out: int, items: list[str]):
        memory.check(count_out, 4)
        memory.check(size_out, 4)
        memory.store_u32(count_out, len(items))
        memory.store_u32(size_out, sum(len(item.encode("utf-8")) + 1 for item in items))

    def _environment(self) -> list[str]:
        return [f"{name}={value}" for name, value in self.ctx.env]

    def args_get(self, memory, argv, argv_buffer):
        self._store_strings(memory, argv, argv_buffer, self.ctx.args)

    def args_sizes_get(self, memory, count_out, size_out):
        self._store_sizes(memory, count_out, size_out, self.ctx.args)

    def environ_get(self, memory, environ, environ_buffer):
        self._store_strings(memory, environ, environ_buffer, self._environment())

    def environ_sizes_get(self, memory, count_out, size_out):
        self._store_sizes(memory, count_out, size_out, self._environment())

    # ---- clocks, randomness, process ---------------------------------------------------

    @staticmethod
    def _clock(clock_id: int) -> ClockId:
        try:
            return ClockId(clock_id)
        except ValueError:
            raise WasiError(ErrorCode.INVALID) from None

    def clock_res_get(self, memory, clock_id, resolution_out):
        memory.store_u64(resolution_out, self.ctx.clocks.resolution(self._clock(clock_id)))

    def clock_time_get(self, memory, clock_id, precision, time_out):
        memory.store_u64(time_out, self.ctx.clocks.now(self._clock(clock_id)))

    def random_get(self, memory, buffer, length):
        memory.check(buffer, length)
        memory.write(buffer, self.ctx.random(length))

    def proc_exit(self, memory, status):
        self.ctx.exit_status = status
        raise WasiExit(status)

    def proc_raise(self, memory, signal):
        raise WasiError(ErrorCode.NOT_SUPPORTED)

    def sched_yield(self, memory):
        pass

    def poll_oneoff(self, memory, subscriptions, events, count, events_out):
        poll_oneoff(self.ctx, memory, subscriptions, events, count, events_out)

    # ---- descriptors -------------------------------------------------------------------

    def fd_advise(self, memory, fd, offset, length, advice):
        file = _file(self.ctx.get(fd))
        if advice > ADVICE_MAX:
            raise WasiError(ErrorCode.INVALID)
        file.advise(offset, length, advice)

    def fd_allocate(self, memory, fd, offset, length):
        _file(self.ctx.get(fd))
        raise WasiError(ErrorCode.NOT_SUPPORTED)

    def fd_close(self, memory, fd):
        self.ctx.close(fd)

    def fd_datasync(self, memory, fd):
        _file(self.ctx.get(fd)).datasync()

    def fd_sync(self, memory, fd):
        _file(self.ctx.get(fd)).sync()

    def fd_fdstat_get(self, memory, fd, stat_out):
        descriptor = self.ctx.get(fd)
        flags = 0
        if isinstance(descriptor, FileDescriptor):
            base = RIGHTS_ALL
            if not descriptor.readable:
                base &= ~(RIGHT_FD_READ | RIGHT_FD_READDIR)
            if not descriptor.writable:
                base &= ~RIGHT_FD_WRITE
            inheriting = base
            flags = ((FDFLAGS_APPEND if descriptor.append else 0)
                     | (FDFLAGS_NONBLOCK if descriptor.nonblocking else 0))
        elif isinstance(descriptor, DirectoryDescriptor) and descriptor.preopen_path is not None:
            base = DIRECTORY_RIGHTS_BASE
            inheriting = DIRECTORY_RIGHTS_INHERITING
        elif isinstance(descriptor, DirectoryDescriptor):
            base = inheriting = OPENED_DIRECTORY_RIGHTS
        else:
            base = inheriting = RIGHT_FD_READ if descriptor.input is not None else RIGHT_FD_WRITE
        memory.pack(FDSTAT, stat_out, FILETYPE[descriptor.file_type], flags, base, inheriting)

    def fd_fdstat_set_flags(self, memory, fd, flags):
        file = _file(self.ctx.get(fd))
        if flags & (FDFLAGS_DSYNC | FDFLAGS_RSYNC | FDFLAGS_SYNC) or flags & ~FDFLAGS_ALL:
            raise WasiError(ErrorCode.INVALID)
        file.set_append(bool(flags & FDFLAGS_APPEND))
        file.nonblocking = bool(flags & FDFLAGS_NONBLOCK)

    def fd_fdstat_set_rights(self, memory, fd, base, inheriting):
        if isinstance(self.ctx.get(fd), StreamDescriptor):
            raise WasiError(ErrorCode.BAD_DESCRIPTOR)
        raise WasiError(ErrorCode.NOT_SUPPORTED)

    def fd_filestat_get(self, memory, fd, stat_out):
        _store_filestat(memory, stat_out, self.ctx.get(fd).stat())

    def fd_filestat_set_size(self, memory, fd, size):
        file = _file(self.ctx.get(fd))
        if not file.writable or size >= 1 << 63:
            raise WasiError(ErrorCode.INVALID)
        file.set_size(size)

    def fd_filestat_set_times(self, memory, fd, access, modify, flags):
        descriptor = self.ctx.get(fd)
        if isinstance(descriptor, StreamDescriptor):
            raise WasiError(ErrorCode.BAD_DESCRIPTOR)
        descriptor.set_times(_set_time(access, flags, FSTFLAGS_ATIM, FSTFLAGS_ATIM_NOW),
                             _set_time(modify, flags, FSTFLAGS_MTIM, FSTFLAGS_MTIM_NOW))

    def _readable(self, fd: int):
        descriptor = self.ctx.get(fd)
        if isinstance(descriptor, DirectoryDescriptor):
            raise WasiError(ErrorCode.BAD_DESCRIPTOR)
        return descriptor

    def fd_read(self, memory, fd, iovs, iovs_count, size_out):
        descriptor = self._readable(fd)
        vectors = memory.iovecs(iovs, iovs_count)
        memory.check(size_out, 4)
        payload = descriptor.read(sum(length for _, length in vectors))
        memory.scatter(vectors, payload)
        memory.store_u32(size_out, len(payload))

    def fd_pread(self, memory, fd, iovs, iovs_count, offset, size_out):
        descriptor = self._readable(fd)
        if isinstance(descriptor, StreamDescriptor) and descriptor.input is not None:
            raise WasiError(ErrorCode.INVALID_SEEK)   # stdin: readable but not seekable
        file = _file(descriptor)
        vectors = memory.iovecs(iovs, iovs_count)
        memory.check(size_out, 4)
        if offset >= 1 << 63:
            raise WasiError(ErrorCode.INVALID)
        payload = file.pread(sum(length for _, length in vectors), offset)
        memory.scatter(vectors, payload)
        memory.store_u32(size_out, len(payload))

    def fd_write(self, memory, fd, iovs, iovs_count, size_out):
        descriptor = self._readable(fd)
        vectors = memory.iovecs(iovs, iovs_count)
        memory.check(size_out, 4)
        written = descriptor.write(memory.gather(vectors))
        memory.store_u32(size_out, written)

    def fd_pwrite(self, memory, fd, iovs, iovs_count, offset, size_out):
        descriptor = self._readable(fd)
        if isinstance(descriptor, StreamDescriptor):
            # stdout/stderr: writable but not seekable; stdin: not writable at all.
            raise WasiError(ErrorCode.INVALID_SEEK if descriptor.output is not None
                            else ErrorCode.BAD_DESCRIPTOR)
        vectors = memory.iovecs(iovs, iovs_count)
        memory.check(size_out, 4)
        if offset >= 1 << 63:
            raise WasiError(ErrorCode.INVALID)
        written = descriptor.pwrite(memory.gather(vectors), offset)
        memory.store_u32(size_out, written)

    def fd_prestat_get(self, memory, fd, prestat_out):
        descriptor = self.ctx.get(fd)
        if not isinstance(descriptor, DirectoryDescriptor) or descriptor.preopen_path is None:
            raise WasiError(ErrorCode.BAD_DESCRIPTOR)
        memory.pack(PRESTAT, prestat_out, PREOPENTYPE_DIR,
                    len(descriptor.preopen_path.encode("utf-8")))

    def fd_prestat_dir_name(self, memory, fd, path, path_length):
        descriptor = self.ctx.get(fd)
        if not isinstance(descriptor, DirectoryDescriptor) or descriptor.preopen_path is None:
            raise WasiError(ErrorCode.BAD_DESCRIPTOR)
        name = descriptor.preopen_path.encode("utf-8")
        if len(name) > path_length:
            raise WasiError(ErrorCode.NAME_TOO_LONG)
        memory.write(path, name)

    def fd_readdir(self, memory, fd, buffer, buffer_length, cookie, size_out):
        descriptor = self.ctx.get(fd)
        if not isinstance(descriptor, DirectoryDescriptor):
            raise WasiError(ErrorCode.BAD_DESCRIPTOR)
        memory.check(buffer, buffer_length)
        memory.check(size_out, 4)
        entries = descriptor.entries(fresh=cookie == 0)
        output = bytearray()
        for index in range(cookie, len(entries)) if cookie < len(entries) else ():
            entry = entries[index]
            name = entry.name.encode("utf-8", errors="surrogateescape")
            output += DIRENT.pack(index + 1, entry.inode, len(name), FILETYPE[entry.type])
            output += name
            if len(output) >= buffer_length:
                break
        del output[buffer_length:]
        memory.write(buffer, bytes(output))
        memory.store_u32(size_out, len(output))

    def fd_renumber(self, memory, fd, to):
        self.ctx.renumber(fd, to)

    def fd_seek(self, memory, fd, offset, whence, position_out):
        descriptor = self.ctx.get(fd)
        if isinstance(descriptor, StreamDescriptor):
            raise WasiError(ErrorCode.INVALID_SEEK)
        file = _file(descriptor)
        if whence not in _WHENCE:
            raise WasiError(ErrorCode.INVALID)
        memory.check(position_out, 8)
        memory.store_u64(position_out, file.seek(signed64(offset), _WHENCE[whence]))

    def fd_tell(self, memory, fd, position_out):
        descriptor = self.ctx.get(fd)
        if isinstance(descriptor, StreamDescriptor):
            raise WasiError(ErrorCode.INVALID_SEEK)
        memory.check(position_out, 8)
        memory.store_u64(position_out, _file(descriptor).tell())

    # ---- paths -------------------------------------------------------------------------

    def _directory(self, fd: int) -> DirectoryDescriptor:
        """The directory a path_* call (other than path_open) starts from: as wasmtime, any
        other descriptor is BAD_DESCRIPTOR (path_open says NOT_DIRECTORY for a file)."""
        descriptor = self.ctx.get(fd)
        if not isinstance(descriptor, DirectoryDescriptor):
            raise WasiError(ErrorCode.BAD_DESCRIPTOR)
        return descriptor

    def path_create_directory(self, memory, fd, path, path_length):
        fs.create_directory_at(self._directory(fd), memory.string(path, path_length))

    def path_filestat_get(self, memory, fd, lookup_flags, path, path_length, stat_out):
        directory = self._directory(fd)
        stat = fs.stat_at(directory, memory.string(path, path_length), _follow(lookup_flags))
        _store_filestat(memory, stat_out, stat)

    def path_filestat_set_times(self, memory, fd, lookup_flags, path, path_length, access,
                                modify, flags):
        directory = self._directory(fd)
        fs.set_times_at(directory, memory.string(path, path_length),
                        _follow(lookup_flags),
                        _set_time(access, flags, FSTFLAGS_ATIM, FSTFLAGS_ATIM_NOW),
                        _set_time(modify, flags, FSTFLAGS_MTIM, FSTFLAGS_MTIM_NOW))

    def path_link(self, memory, old_fd, old_flags, old_path, old_length, new_fd, new_path,
                  new_length):
        old_directory = self._directory(old_fd)
        new_directory = self._directory(new_fd)
        if _follow(old_flags):
            raise WasiError(ErrorCode.INVALID)   # wasmtime links the link itself, never its target
        fs.link_at(old_directory, memory.string(old_path, old_length), new_directory,
                   memory.string(new_path, new_length))

    def path_open(self, memory, fd, lookup_flags, path, path_length, open_flags, rights_base,
                  rights_inheriting, fd_flags, fd_out):
        directory = self.ctx.get_directory(fd)
        name = memory.string(path, path_length)
        memory.check(fd_out, 4)
        if open_flags & ~OFLAGS_ALL or fd_flags & ~FDFLAGS_ALL:
            raise WasiError(ErrorCode.INVALID)
        follow = _follow(lookup_flags)
        # As wasmtime: write-like rights, O_CREAT or O_TRUNC open for writing; fd_read or the
        # absence of write-like rights opens for reading.
        write_rights = bool(rights_base & RIGHTS_WRITE_LIKE)
        options = fs.OpenOptions(
            create=bool(open_flags & OFLAGS_CREAT), exclusive=bool(open_flags & OFLAGS_EXCL),
            truncate=bool(open_flags & OFLAGS_TRUNC),
            directory=bool(open_flags & OFLAGS_DIRECTORY),
            read=bool(rights_base & RIGHT_FD_READ) or not write_rights,
            write=write_rights or bool(open_flags & (OFLAGS_CREAT | OFLAGS_TRUNC)),
            append=bool(fd_flags & FDFLAGS_APPEND),
            nonblocking=bool(fd_flags & FDFLAGS_NONBLOCK),
            data_sync=bool(fd_flags & FDFLAGS_DSYNC), read_sync=bool(fd_flags & FDFLAGS_RSYNC),
            file_sync=bool(fd_flags & FDFLAGS_SYNC))
        opened = fs.open_at(directory, name, follow, options)
        try:
            new_fd = self.ctx.insert(opened)
        except WasiError:
            opened.close()
            raise
        memory.store_u32(fd_out, new_fd)

    def path_readlink(self, memory, fd, path, path_length, buffer, buffer_length, size_out):
        directory = self._directory(fd)
        memory.check(buffer, buffer_length)
        memory.check(size_out, 4)
        target = fs.readlink_at(directory, memory.string(path, path_length)).encode("utf-8")
        target = target[:buffer_length]
        memory.write(buffer, target)
        memory.store_u32(size_out, len(target))

    def path_remove_directory(self, memory, fd, path, path_length):
        fs.remove_directory_at(self._directory(fd), memory.string(path, path_length))

    def path_rename(self, memory, fd, old_path, old_length, new_fd, new_path, new_length):
        old_directory = self._directory(fd)
        new_directory = self._directory(new_fd)
        fs.rename_at(old_directory, memory.string(old_path, old_length), new_directory,
                     memory.string(new_path, new_length))

    def path_symlink(self, memory, old_path, old_length, fd, new_path, new_length):
        target = memory.string(old_path, old_length)
        directory = self._directory(fd)
        fs.symlink_at(target, directory, memory.string(new_path, new_length))

    def path_unlink_file(self, memory, fd, path, path_length):
        fs.unlink_file_at(self._directory(fd), memory.string(path, path_length))

    # ---- sockets (none can be granted, so every descriptor is not a socket) ------------

    def _socket(self, fd: int) -> None:
        self.ctx.get(fd)
        raise WasiError(ErrorCode.NOT_SOCKET)

    def sock_accept(self, memory, fd, flags, fd_out):
        self._socket(fd)

    def sock_recv(self, memory, fd, data, data_count, flags, size_out, flags_out):
        self._socket(fd)

    def sock_send(self, memory, fd, data, data_count, flags, size_out):
        self._socket(fd)

    def sock_shutdown(self, memory, fd, how):
        self._socket(fd)


def _host_function(method):
    """Adapt a Preview1 method to the engine's `fn(caller, *args) -> errno` convention."""

    @functools.wraps(method)
    def call(caller, *args):
        try:
            method(_memory(caller), *args)
        except WasiError as error:
            return ERRNO[error.code]
        except OSError as error:
            return ERRNO[code_from_os_error(error)]
        except OverflowError:
            # A 64-bit offset, length or time the host's C types cannot hold.
            return ERRNO[ErrorCode.INVALID]
        return ERRNO_SUCCESS

    return call


def _proc_exit(method):
    @functools.wraps(method)
    def call(caller, status):
        method(None, status)

    return call


def host_functions(ctx: WasiContext) -> dict:
    """Every wasi_snapshot_preview1 import: name -> (FuncType, fn(caller, *args))."""
    functions = Preview1(ctx)
    table = {}
    for name, functype in SIGNATURES.items():
        method = getattr(functions, name)
        adapt = _proc_exit if name == "proc_exit" else _host_function
        table[name] = (functype, adapt(method))
    return table
