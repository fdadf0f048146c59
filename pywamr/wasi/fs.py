"""The sandboxed filesystem: resolve guest paths beneath a directory and act on what they name.

Shared core of every WASI host. Paths are resolved one component at a time with descriptor-
relative system calls (`openat` with O_NOFOLLOW|O_DIRECTORY, `readlinkat`): symbolic links are
expanded by us, never by the kernel, so neither `..`, an absolute path, nor a symbolic link
(absolute or relative, swapped in by a racing process or not) can reach outside the directory
the guest was granted. The final system call always acts on (parent directory fd, one plain
name) with symbolic links not followed (rename may hand the kernel "name/", whose link the
kernel does not follow either). Trailing slashes and the other corner cases follow wasmtime's
preview-1 host, as measured by tests/fixtures/wasi's `paths` program. An operation that opens
or changes something asks the directory's capability broker (broker.py), if any, once its
path is resolved and before it acts (`authorize`). No ABI knowledge here: errors are
`WasiError`s.
"""
from __future__ import annotations

import contextlib
import errno
import os
import stat as stat_module

from .broker import FileRequest, approves, guest_path
from .descriptors import (DirectoryDescriptor, FileDescriptor, FileType, Stat, file_type_from_mode,
                          resolve_times)
from .errors import ErrorCode, WasiError, code_from_os_error, host_errors

MAX_SYMLINK_EXPANSIONS = 40
"""How many symbolic links one resolution may expand before failing with LOOP (as Linux)."""

ESCAPE_ERROR = ErrorCode.NOT_PERMITTED
"""What an attempt to leave the sandbox reports (wasmtime: EPERM, from cap-std)."""

_DIRECTORY_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC


class ResolvedPath:
    """A resolved guest path: the host fd of its parent directory and its last component.

    Owns the directory fds opened on the way (closed on `close()`); the root is borrowed.
    `name` is a single component (or "." when the path names the directory itself);
    `trailing_slash` records that the guest wrote "name/", which requires a directory;
    `directories` names the directories from the root down to the parent, as resolved (what
    the capability broker is told)."""

    __slots__ = ("parent_fd", "name", "trailing_slash", "owned", "directories")

    def __init__(self, parent_fd: int, name: str, trailing_slash: bool, owned: list[int],
                 directories: tuple[str, ...] = ()):
        self.parent_fd = parent_fd
        self.name = name
        self.trailing_slash = trailing_slash
        self.owned = owned
        self.directories = directories

    def components(self) -> tuple[str, ...]:
        """The resolved path's components beneath the root ("." left out)."""
        return self.directories if self.name == "." else self.directories + (self.name,)

    def close(self) -> None:
        while self.owned:
            os.close(self.owned.pop())

    def __enter__(self) -> "ResolvedPath":
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()


def authorize(root: DirectoryDescriptor, operation: str, target: ResolvedPath,
              second: tuple[DirectoryDescriptor, ResolvedPath] | None = None,
              link_text: str | None = None, **options) -> None:
    """Ask the capability broker of `root` (if any) for `operation` on the resolved `target`,
    once the path is resolved and before the system call that acts; a denial is ACCESS.
    `second` is the other side of rename and link, `link_text` a new symbolic link's text."""
    if root.broker is None:
        return
    other = link_text if second is None else guest_path(second[0].guest_path,
                                                         second[1].components())
    request = FileRequest(operation, guest_path(root.guest_path, target.components()), other,
                          **options)
    if not approves(root.broker, request):
        raise WasiError(ErrorCode.ACCESS)


def check_path(path: str) -> None:
    """Reject paths that can never be valid beneath a directory."""
    if "\0" in path:
        raise WasiError(ErrorCode.INVALID)
    if path == "":
        raise WasiError(ErrorCode.NO_ENTRY)
    if path.startswith("/"):
        raise WasiError(ESCAPE_ERROR)


def _read_symlink(directory_fd: int, name: str) -> str | None:
    """The target of `name` if it is a symbolic link, else None."""
    try:
        return os.readlink(name, dir_fd=directory_fd)
    except OSError:
        return None


def resolve(root_fd: int, path: str, follow_final: bool) -> ResolvedPath:
    """Resolve `path` beneath the directory `root_fd` without ever leaving it.

    Intermediate symbolic links are always followed (within the sandbox); the final one only
    when `follow_final`. `..` above the root, an absolute path or link target raise the escape
    error; more than MAX_SYMLINK_EXPANSIONS links raise LOOP."""
    check_path(path)
    stack: list[int] = [root_fd]
    owned: list[int] = []
    names: list[str] = []       # the directory names of `owned`, for the broker
    pending = [component for component in reversed(path.split("/"))]
    trailing_slash = path.endswith("/")
    expansions = 0
    try:
        while pending:
            component = pending.pop()
            if component in ("", "."):
                if not pending:
                    return ResolvedPath(stack[-1], ".", trailing_slash, owned, tuple(names))
                continue
            if component == "..":
                if len(stack) == 1:
                    raise WasiError(ESCAPE_ERROR)
                os.close(stack.pop())
                owned.pop()
                names.pop()
                if not pending:
                    return ResolvedPath(stack[-1], ".", trailing_slash, owned, tuple(names))
                continue
            is_final = all(part == "" for part in pending)
            if is_final and not follow_final and not trailing_slash:
                return ResolvedPath(stack[-1], component, trailing_slash, owned, tuple(names))
            target = _read_symlink(stack[-1], component)
            if target is not None:
                expansions += 1
                if expansions > MAX_SYMLINK_EXPANSIONS:
                    raise WasiError(ErrorCode.LOOP)
                if target.startswith("/"):
                    raise WasiError(ESCAPE_ERROR)
                if target == "":
                    raise WasiError(ErrorCode.NO_ENTRY)
                if is_final and trailing_slash:
                    pending.append("")
                pending.extend(reversed(target.split("/")))
                continue
            if is_final:
                return ResolvedPath(stack[-1], component, trailing_slash, owned, tuple(names))
            try:
                directory_fd = os.open(component, _DIRECTORY_FLAGS, dir_fd=stack[-1])
            except OSError as error:
                raise WasiError(code_from_os_error(error)) from None
            stack.append(directory_fd)
            owned.append(directory_fd)
            names.append(component)
        return ResolvedPath(stack[-1], ".", trailing_slash, owned, tuple(names))
    except BaseException:
        for fd in owned:
            os.close(fd)
        raise


@contextlib.contextmanager
def resolved(root: DirectoryDescriptor, path: str, follow_final: bool):
    """`resolve` as a context manager that also turns OSErrors into WasiErrors."""
    with resolve(root.host_fd, path, follow_final) as target, host_errors():
        yield target


def _lstat(target: ResolvedPath) -> os.stat_result:
    return os.stat(target.name, dir_fd=target.parent_fd, follow_symlinks=False)


def as_directory_path(path: str) -> str:
    """`path` with a trailing slash read as "the directory itself": "x/" becomes "x/.".

    This is how wasmtime (cap-std) treats a trailing slash in path_link, path_symlink,
    path_readlink, path_remove_directory and path_filestat_set_times: "x" (a symbolic link to a
    directory is followed, inside the sandbox) must open as a directory, else NOT_DIRECTORY or
    NO_ENTRY, and the call then acts on "." inside it (so rmdir "x/" is INVALID and a new link
    named "x/" is EXIST). path_open, path_rename, path_unlink_file, path_create_directory and
    path_filestat_get keep the slash as a "must be a directory" mark instead."""
    return path + "." if path.endswith("/") else path


def _strip_trailing_slashes(path: str) -> tuple[str, bool]:
    """`path` without trailing slashes, and whether it had any ("/" alone stays)."""
    stripped = path.rstrip("/")
    if not stripped:
        return path, False
    return stripped, stripped != path


class OpenOptions:
    """What `open_at` should do: the flags of WASI's open, without any ABI encoding."""

    __slots__ = ("create", "exclusive", "truncate", "directory", "read", "write", "append",
                 "nonblocking", "data_sync", "read_sync", "file_sync")

    def __init__(self, create=False, exclusive=False, truncate=False, directory=False,
                 read=True, write=False, append=False, nonblocking=False, data_sync=False,
                 read_sync=False, file_sync=False):
        self.create = create
        self.exclusive = exclusive
        self.truncate = truncate
        self.directory = directory
        self.read = read
        self.write = write
        self.append = append
        self.nonblocking = nonblocking
        self.data_sync = data_sync
        self.read_sync = read_sync
        self.file_sync = file_sync

    def host_flags(self) -> int:
        flags = os.O_RDWR if self.write else os.O_RDONLY
        if self.write and not self.read:
            flags = os.O_WRONLY
        for wanted, bit in ((self.create, os.O_CREAT), (self.exclusive, os.O_EXCL),
                            (self.truncate, os.O_TRUNC), (self.directory, os.O_DIRECTORY),
                            (self.append, os.O_APPEND), (self.nonblocking, os.O_NONBLOCK),
                            (self.data_sync, os.O_DSYNC), (self.file_sync, os.O_SYNC),
                            (self.read_sync, getattr(os, "O_RSYNC", os.O_SYNC))):
            if wanted:
                flags |= bit
        return flags | os.O_NOFOLLOW | os.O_CLOEXEC


def open_at(root: DirectoryDescriptor, path: str, follow: bool, options: OpenOptions):
    """Open `path` beneath `root`: a DirectoryDescriptor for a directory, else a FileDescriptor.

    As wasmtime: the synchronous-I/O flags are NOT_SUPPORTED (checked before anything else);
    O_CREAT on a path ending in "/" (existing or not) or on "." is IS_DIRECTORY ("." with
    O_EXCL: EXIST); a final symbolic link not followed is LOOP, with O_DIRECTORY too."""
    if options.data_sync or options.read_sync or options.file_sync:
        raise WasiError(ErrorCode.NOT_SUPPORTED)
    if options.directory and (options.create or options.exclusive or options.truncate):
        raise WasiError(ErrorCode.INVALID)
    if options.create and options.exclusive:
        follow = False   # O_CREAT|O_EXCL never follows a final symbolic link (POSIX)
    if options.create:
        stripped, slashed = _strip_trailing_slashes(path)
        if slashed:   # only the parent is resolved: "x/" itself is never followed
            with resolved(root, stripped, False) as target:
                _refuse_creating_directory(target, options)
            raise WasiError(ErrorCode.IS_DIRECTORY)
    with resolved(root, path, follow) as target:
        flags = options.host_flags()
        if options.create:
            _refuse_creating_directory(target, options)
        authorize(root, "open", target, read=options.read, write=options.write,
                  create=options.create, truncate=options.truncate, directory=options.directory)
        opened_path = guest_path(root.guest_path, target.components())
        if target.trailing_slash:
            flags |= os.O_DIRECTORY
        try:
            host_fd = os.open(target.name, flags, 0o666, dir_fd=target.parent_fd)
        except IsADirectoryError:
            raise WasiError(ErrorCode.IS_DIRECTORY) from None
        except OSError as error:
            # A final symbolic link not followed: Linux says ENOTDIR when O_DIRECTORY is set.
            if (error.errno in (errno.ELOOP, errno.ENOTDIR) and not follow
                    and _is_symlink(target)):
                raise WasiError(ErrorCode.LOOP) from None
            raise
        try:
            kind = file_type_from_mode(os.fstat(host_fd).st_mode)
        except OSError:
            os.close(host_fd)
            raise
    if kind is FileType.DIRECTORY:
        return DirectoryDescriptor(host_fd, None, readable=options.read,
                                   guest_path=opened_path,
                                   broker=root.broker)
    return FileDescriptor(host_fd, readable=options.read, writable=options.write,
                          append=options.append, nonblocking=options.nonblocking,
                          file_type=kind)


def _refuse_creating_directory(target: ResolvedPath, options: OpenOptions) -> None:
    """O_CREAT on the directory a path resolves to ("." and the like): EXIST with O_EXCL."""
    if target.name == ".":
        raise WasiError(ErrorCode.EXIST if options.exclusive else ErrorCode.IS_DIRECTORY)


def _is_symlink(target: ResolvedPath) -> bool:
    try:
        return stat_module.S_ISLNK(_lstat(target).st_mode)
    except OSError:
        return False


def create_directory_at(root: DirectoryDescriptor, path: str) -> None:
    with resolved(root, path.rstrip("/") or path, False) as target:
        if target.name == ".":
            raise WasiError(ErrorCode.EXIST)
        authorize(root, "create-directory", target)
        os.mkdir(target.name, 0o777, dir_fd=target.parent_fd)


def stat_at(root: DirectoryDescriptor, path: str, follow: bool) -> Stat:
    with resolved(root, path, follow) as target:
        result = _lstat(target)
        if target.trailing_slash and not stat_module.S_ISDIR(result.st_mode):
            raise WasiError(ErrorCode.NOT_DIRECTORY)
        return Stat.from_host(result)


def set_times_at(root: DirectoryDescriptor, path: str, follow: bool, access, modify) -> None:
    with resolved(root, as_directory_path(path), follow) as target:
        authorize(root, "set-times", target)
        current = _lstat(target)
        os.utime(target.name, ns=resolve_times(current, access, modify),
                 dir_fd=target.parent_fd, follow_symlinks=False)


def link_at(old_root: DirectoryDescriptor, old_path: str, new_root: DirectoryDescriptor,
            new_path: str) -> None:
    """Hard-link `old_path` (a symbolic link itself, not its target) as `new_path`.

    A trailing slash on either side names a directory's "." (`as_directory_path`): the source
    fails as Linux refuses to hard-link a directory, the destination with EXIST, or earlier
    when the slashed name is missing (NO_ENTRY) or not a directory (NOT_DIRECTORY). The source
    is resolved before the destination, so its errors win."""
    with resolved(old_root, as_directory_path(old_path), False) as source, \
            resolved(new_root, as_directory_path(new_path), False) as destination:
        authorize(old_root, "link", source, (new_root, destination))
        os.link(source.name, destination.name, src_dir_fd=source.parent_fd,
                dst_dir_fd=destination.parent_fd, follow_symlinks=False)


def readlink_at(root: DirectoryDescriptor, path: str) -> str:
    """The target of a symbolic link; an absolute target (a host path) is not revealed."""
    with resolved(root, as_directory_path(path), False) as target:
        link_target = os.readlink(target.name, dir_fd=target.parent_fd)
    if link_target.startswith("/"):
        raise WasiError(ESCAPE_ERROR)
    return link_target


def remove_directory_at(root: DirectoryDescriptor, path: str) -> None:
    """Remove an empty directory; "x/" means "x/." and so is INVALID, as in wasmtime."""
    with resolved(root, as_directory_path(path), False) as target:
        if target.name == ".":
            raise WasiError(ErrorCode.INVALID)
        authorize(root, "remove-directory", target)
        os.rmdir(target.name, dir_fd=target.parent_fd)


def rename_at(old_root: DirectoryDescriptor, old_path: str, new_root: DirectoryDescriptor,
              new_path: str) -> None:
    """Rename with POSIX trailing-slash rules, as wasmtime: the slashes are set aside while the
    parents are resolved and handed back to the kernel with the last component, so "x/" must
    be a directory itself (a symbolic link to one is NOT_DIRECTORY) and is never followed."""
    old_path, old_slashed = _strip_trailing_slashes(old_path)
    new_path, new_slashed = _strip_trailing_slashes(new_path)
    with resolved(old_root, old_path, False) as source, \
            resolved(new_root, new_path, False) as destination:
        if source.name == "." or destination.name == ".":
            raise WasiError(ErrorCode.BUSY)
        authorize(old_root, "rename", source, (new_root, destination))
        os.rename(source.name + "/" * old_slashed, destination.name + "/" * new_slashed,
                  src_dir_fd=source.parent_fd, dst_dir_fd=destination.parent_fd)


def symlink_at(link_target: str, root: DirectoryDescriptor, path: str) -> None:
    """Create a symbolic link; its target is stored as given (resolution checks it later).

    A trailing slash on the new path names a directory's "." (`as_directory_path`), so an
    existing directory gives EXIST, a file NOT_DIRECTORY and a missing name NO_ENTRY."""
    if "\0" in link_target:
        raise WasiError(ErrorCode.INVALID)
    if link_target.startswith("/"):
        raise WasiError(ESCAPE_ERROR)
    with resolved(root, as_directory_path(path), False) as target:
        authorize(root, "symlink", target, link_text=link_target)
        os.symlink(link_target, target.name, dir_fd=target.parent_fd)


def unlink_file_at(root: DirectoryDescriptor, path: str) -> None:
    with resolved(root, path, False) as target:
        authorize(root, "unlink", target)
        if target.trailing_slash:
            if stat_module.S_ISDIR(_lstat(target).st_mode):
                raise WasiError(ErrorCode.IS_DIRECTORY)
            raise WasiError(ErrorCode.NOT_DIRECTORY)
        try:
            os.unlink(target.name, dir_fd=target.parent_fd)
        except IsADirectoryError:
            raise WasiError(ErrorCode.IS_DIRECTORY) from None
        except PermissionError:
            # Linux reports EPERM (not EISDIR) when unlinking a directory.
            if stat_module.S_ISDIR(_lstat(target).st_mode):
                raise WasiError(ErrorCode.IS_DIRECTORY) from None
            raise


def open_preopen(host_path: str, guest_path_: str, broker=None) -> DirectoryDescriptor:
    """Open a host directory the embedder grants; it becomes a sandbox root, whose path
    operations (and those of every directory opened beneath it) `broker` approves."""
    with host_errors():
        host_fd = os.open(host_path, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    return DirectoryDescriptor(host_fd, guest_path_, broker=broker)
