"""Error codes of the shared WASI core, independent of any WASI version's numbering.

Sits under every WASI host layer: the sandboxed filesystem, the descriptor table and the
clocks raise `WasiError(ErrorCode.X)`; the preview-1 layer maps each code to its errno number
(and a later WASI 0.2 host to its `error-code` variant). Nothing here knows an ABI.
"""
from __future__ import annotations

import contextlib
import enum
import errno


class ErrorCode(enum.Enum):
    """Every error condition a WASI call can report (POSIX-like names, as in the witx)."""

    TOO_BIG = "2big"
    ACCESS = "acces"
    ADDRESS_IN_USE = "addrinuse"
    ADDRESS_NOT_AVAILABLE = "addrnotavail"
    ADDRESS_FAMILY_NOT_SUPPORTED = "afnosupport"
    AGAIN = "again"
    ALREADY = "already"
    BAD_DESCRIPTOR = "badf"
    BAD_MESSAGE = "badmsg"
    BUSY = "busy"
    CANCELED = "canceled"
    CHILD = "child"
    CONNECTION_ABORTED = "connaborted"
    CONNECTION_REFUSED = "connrefused"
    CONNECTION_RESET = "connreset"
    DEADLOCK = "deadlk"
    DESTINATION_ADDRESS_REQUIRED = "destaddrreq"
    DOMAIN = "dom"
    QUOTA = "dquot"
    EXIST = "exist"
    FAULT = "fault"
    FILE_TOO_BIG = "fbig"
    HOST_UNREACHABLE = "hostunreach"
    IDENTIFIER_REMOVED = "idrm"
    ILLEGAL_SEQUENCE = "ilseq"
    IN_PROGRESS = "inprogress"
    INTERRUPTED = "intr"
    INVALID = "inval"
    IO = "io"
    IS_CONNECTED = "isconn"
    IS_DIRECTORY = "isdir"
    LOOP = "loop"
    TOO_MANY_FILES = "mfile"
    TOO_MANY_LINKS = "mlink"
    MESSAGE_SIZE = "msgsize"
    MULTIHOP = "multihop"
    NAME_TOO_LONG = "nametoolong"
    NETWORK_DOWN = "netdown"
    NETWORK_RESET = "netreset"
    NETWORK_UNREACHABLE = "netunreach"
    TOO_MANY_FILES_IN_SYSTEM = "nfile"
    NO_BUFFER_SPACE = "nobufs"
    NO_DEVICE = "nodev"
    NO_ENTRY = "noent"
    NO_EXECUTABLE = "noexec"
    NO_LOCK = "nolck"
    NO_LINK = "nolink"
    NO_MEMORY = "nomem"
    NO_MESSAGE = "nomsg"
    NO_PROTOCOL_OPTION = "noprotoopt"
    NO_SPACE = "nospc"
    NO_SYSTEM_CALL = "nosys"
    NOT_CONNECTED = "notconn"
    NOT_DIRECTORY = "notdir"
    NOT_EMPTY = "notempty"
    NOT_RECOVERABLE = "notrecoverable"
    NOT_SOCKET = "notsock"
    NOT_SUPPORTED = "notsup"
    NOT_TERMINAL = "notty"
    NO_SUCH_DEVICE = "nxio"
    OVERFLOW = "overflow"
    OWNER_DEAD = "ownerdead"
    NOT_PERMITTED = "perm"
    PIPE = "pipe"
    PROTOCOL = "proto"
    PROTOCOL_NOT_SUPPORTED = "protonosupport"
    PROTOCOL_TYPE = "prototype"
    RANGE = "range"
    READ_ONLY = "rofs"
    INVALID_SEEK = "spipe"
    NO_SUCH_PROCESS = "srch"
    STALE = "stale"
    TIMED_OUT = "timedout"
    TEXT_FILE_BUSY = "txtbsy"
    CROSS_DEVICE = "xdev"
    NOT_CAPABLE = "notcapable"


class WasiError(Exception):
    """A WASI call failed with `code`; host layers turn it into their own error value."""

    def __init__(self, code: ErrorCode):
        self.code = code
        super().__init__(code.value)


_HOST_ERRNO_TO_CODE = {
    errno.E2BIG: ErrorCode.TOO_BIG,
    errno.EACCES: ErrorCode.ACCESS,
    errno.EADDRINUSE: ErrorCode.ADDRESS_IN_USE,
    errno.EADDRNOTAVAIL: ErrorCode.ADDRESS_NOT_AVAILABLE,
    errno.EAFNOSUPPORT: ErrorCode.ADDRESS_FAMILY_NOT_SUPPORTED,
    errno.EAGAIN: ErrorCode.AGAIN,
    errno.EALREADY: ErrorCode.ALREADY,
    errno.EBADF: ErrorCode.BAD_DESCRIPTOR,
    errno.EBADMSG: ErrorCode.BAD_MESSAGE,
    errno.EBUSY: ErrorCode.BUSY,
    errno.ECANCELED: ErrorCode.CANCELED,
    errno.ECHILD: ErrorCode.CHILD,
    errno.ECONNABORTED: ErrorCode.CONNECTION_ABORTED,
    errno.ECONNREFUSED: ErrorCode.CONNECTION_REFUSED,
    errno.ECONNRESET: ErrorCode.CONNECTION_RESET,
    errno.EDEADLK: ErrorCode.DEADLOCK,
    errno.EDESTADDRREQ: ErrorCode.DESTINATION_ADDRESS_REQUIRED,
    errno.EDOM: ErrorCode.DOMAIN,
    errno.EDQUOT: ErrorCode.QUOTA,
    errno.EEXIST: ErrorCode.EXIST,
    errno.EFAULT: ErrorCode.FAULT,
    errno.EFBIG: ErrorCode.FILE_TOO_BIG,
    errno.EHOSTUNREACH: ErrorCode.HOST_UNREACHABLE,
    errno.EIDRM: ErrorCode.IDENTIFIER_REMOVED,
    errno.EILSEQ: ErrorCode.ILLEGAL_SEQUENCE,
    errno.EINPROGRESS: ErrorCode.IN_PROGRESS,
    errno.EINTR: ErrorCode.INTERRUPTED,
    errno.EINVAL: ErrorCode.INVALID,
    errno.EIO: ErrorCode.IO,
    errno.EISCONN: ErrorCode.IS_CONNECTED,
    errno.EISDIR: ErrorCode.IS_DIRECTORY,
    errno.ELOOP: ErrorCode.LOOP,
    errno.EMFILE: ErrorCode.TOO_MANY_FILES,
    errno.EMLINK: ErrorCode.TOO_MANY_LINKS,
    errno.EMSGSIZE: ErrorCode.MESSAGE_SIZE,
    errno.ENAMETOOLONG: ErrorCode.NAME_TOO_LONG,
    errno.ENETDOWN: ErrorCode.NETWORK_DOWN,
    errno.ENETRESET: ErrorCode.NETWORK_RESET,
    errno.ENETUNREACH: ErrorCode.NETWORK_UNREACHABLE,
    errno.ENFILE: ErrorCode.TOO_MANY_FILES_IN_SYSTEM,
    errno.ENOBUFS: ErrorCode.NO_BUFFER_SPACE,
    errno.ENODEV: ErrorCode.NO_DEVICE,
    errno.ENOENT: ErrorCode.NO_ENTRY,
    errno.ENOEXEC: ErrorCode.NO_EXECUTABLE,
    errno.ENOLCK: ErrorCode.NO_LOCK,
    errno.ENOMEM: ErrorCode.NO_MEMORY,
    errno.ENOSPC: ErrorCode.NO_SPACE,
    errno.ENOSYS: ErrorCode.NO_SYSTEM_CALL,
    errno.ENOTCONN: ErrorCode.NOT_CONNECTED,
    errno.ENOTDIR: ErrorCode.NOT_DIRECTORY,
    errno.ENOTEMPTY: ErrorCode.NOT_EMPTY,
    errno.ENOTSOCK: ErrorCode.NOT_SOCKET,
    errno.EOPNOTSUPP: ErrorCode.NOT_SUPPORTED,
    errno.ENOTTY: ErrorCode.NOT_TERMINAL,
    errno.ENXIO: ErrorCode.NO_SUCH_DEVICE,
    errno.EOVERFLOW: ErrorCode.OVERFLOW,
    errno.EPERM: ErrorCode.NOT_PERMITTED,
    errno.EPIPE: ErrorCode.PIPE,
    errno.EPROTO: ErrorCode.PROTOCOL,
    errno.EPROTONOSUPPORT: ErrorCode.PROTOCOL_NOT_SUPPORTED,
    errno.EPROTOTYPE: ErrorCode.PROTOCOL_TYPE,
    errno.ERANGE: ErrorCode.RANGE,
    errno.EROFS: ErrorCode.READ_ONLY,
    errno.ESPIPE: ErrorCode.INVALID_SEEK,
    errno.ESRCH: ErrorCode.NO_SUCH_PROCESS,
    errno.ESTALE: ErrorCode.STALE,
    errno.ETIMEDOUT: ErrorCode.TIMED_OUT,
    errno.ETXTBSY: ErrorCode.TEXT_FILE_BUSY,
    errno.EXDEV: ErrorCode.CROSS_DEVICE,
}
for _name, _code in (("ENOTSUP", ErrorCode.NOT_SUPPORTED), ("EMULTIHOP", ErrorCode.MULTIHOP),
                     ("ENOLINK", ErrorCode.NO_LINK), ("ENOMSG", ErrorCode.NO_MESSAGE),
                     ("ENOPROTOOPT", ErrorCode.NO_PROTOCOL_OPTION),
                     ("ENOTRECOVERABLE", ErrorCode.NOT_RECOVERABLE),
                     ("EOWNERDEAD", ErrorCode.OWNER_DEAD)):
    if hasattr(errno, _name):
        _HOST_ERRNO_TO_CODE.setdefault(getattr(errno, _name), _code)


def code_from_os_error(error: OSError) -> ErrorCode:
    """The WASI error code for a host OSError (EIO when the host errno has no counterpart)."""
    return _HOST_ERRNO_TO_CODE.get(error.errno, ErrorCode.IO)


@contextlib.contextmanager
def host_errors():
    """Turn any OSError raised inside the block into the matching WasiError."""
    try:
        yield
    except OSError as error:
        raise WasiError(code_from_os_error(error)) from None
