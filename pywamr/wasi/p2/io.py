"""`wasi:io`: `error`, `poll` (pollables and a `poll` that blocks on many) and `streams`.

Part of the WASI 0.2 host (`pywamr.wasi.p2`). Streams here are the resource objects the guest
holds; the bytes come from the shared core: `streams.py` for the standard streams and the
`FileDescriptor`s of `descriptors.py` for files (opened through the preview-1 sandbox by
`filesystem.py`). Every stream writes through before returning (no host buffering), so
`flush` has nothing to wait for. A pollable is ready now, at a monotonic deadline, or when a
host fd is readable/writable; `poll` waits with one `select` (or one sleep) for the first.

Spec: wasi-0.2.12/io/{error,poll,streams}.wit. Does not implement sockets' streams (no
sockets) and never blocks the process beyond what the guest asked for.
"""
from __future__ import annotations

import select

from ...errors import Trap, TrapCode
from ..clocks import ClockId
from ..errors import ErrorCode, WasiError
from .host import P2Host

CHECK_WRITE_BUDGET = 1 << 20
"""What `check-write` permits at once (bytes); a larger `write` traps, as the WIT says."""

BLOCKING_WRITE_LIMIT = 4096
"""The most bytes `blocking-write-and-flush` and `blocking-write-zeroes-and-flush` take."""

READ_CHUNK = 1 << 20
"""The most bytes one `read` returns (guests loop; the host never allocates what was asked)."""


# ---- wasi:io/error ---------------------------------------------------------------------------

class IoError:
    """The `error` resource: why the last stream operation failed (a core `ErrorCode`)."""

    __slots__ = ("code",)

    def __init__(self, code: ErrorCode):
        self.code = code

    def to_debug_string(self) -> str:
        return f"{self.code.name.lower().replace('_', ' ')} ({self.code.value})"


class StreamError(Exception):
    """A stream operation failed: `closed`, or with an `IoError` (last-operation-failed)."""

    def __init__(self, error: IoError | None = None):
        super().__init__("closed" if error is None else error.to_debug_string())
        self.error = error


# ---- waiting on host fds (poll(2): no FD_SETSIZE limit, unlike select) ----------------------

def wait_fds(fds: list, timeout: float | None) -> set:
    """Wait up to `timeout` seconds (None: forever) until one of `fds`, (fd, for_write) pairs,
    is ready; the pairs that are. A closed or invalid fd counts as ready (the operation on it
    then reports the error)."""
    poller = select.poll()
    for fd, write in fds:
        poller.register(fd, select.POLLOUT if write else select.POLLIN)
    try:
        events = poller.poll(None if timeout is None else max(0, int(timeout * 1000 + 0.999)))
    except (OSError, ValueError):
        return set(fds)
    ready = set()
    for fd, mask in events:
        for pair in fds:
            if pair[0] == fd:
                wanted = select.POLLOUT if pair[1] else select.POLLIN
                if mask & (wanted | select.POLLERR | select.POLLHUP | select.POLLNVAL):
                    ready.add(pair)
    return ready


def fd_ready(fd: int, write: bool = False, timeout: float | None = 0) -> bool:
    """Is host fd `fd` readable (or writable) within `timeout` seconds (None: wait)?"""
    if fd < 0:
        return True
    return bool(wait_fds([(fd, write)], timeout))


# ---- wasi:io/poll ----------------------------------------------------------------------------

class Pollable:
    """A pollable that is always ready (streams over files, output to the process's fds)."""

    __slots__ = ()

    def ready(self) -> bool:
        return True

    def deadline(self) -> int | None:
        """The monotonic time (ns) at which it becomes ready, if it is a timer."""
        return None

    def host_fd(self) -> tuple[int, bool] | None:
        """(host fd, waiting to write) when readiness is a host fd's."""
        return None


class TimerPollable(Pollable):
    """Ready once the monotonic clock of `clocks` reaches `when` (ns)."""

    __slots__ = ("clocks", "when")

    def __init__(self, clocks, when: int):
        self.clocks = clocks
        self.when = when

    def ready(self) -> bool:
        return self.clocks.now(ClockId.MONOTONIC) >= self.when

    def deadline(self) -> int | None:
        return self.when


class FdPollable(Pollable):
    """Ready when host fd `fd` is readable (or writable, `write`) without blocking."""

    __slots__ = ("fd", "write")

    def __init__(self, fd: int, write: bool = False):
        self.fd = fd
        self.write = write

    def ready(self) -> bool:
        return fd_ready(self.fd, self.write)

    def host_fd(self) -> tuple[int, bool] | None:
        return self.fd, self.write


def poll(pollables: list, clocks) -> list[int]:
    """Block until at least one pollable is ready; the indices of those that are.

    Spec: poll.wit `poll` (an empty list traps)."""
    if not pollables:
        raise Trap(TrapCode.HOST, "wasi:io/poll.poll: empty list of pollables")
    while True:
        ready = [i for i, p in enumerate(pollables) if p.ready()]
        if ready:
            return ready
        _wait(pollables, clocks)


def _wait(pollables: list, clocks) -> None:
    deadlines = [d for d in (p.deadline() for p in pollables) if d is not None]
    fds = [f for f in (p.host_fd() for p in pollables) if f is not None]
    timeout = None
    if deadlines:
        timeout = max(0, min(deadlines) - clocks.now(ClockId.MONOTONIC)) / 1e9
    if fds:
        wait_fds(fds, timeout)
    elif timeout is not None:
        clocks.sleep(int(timeout * 1e9) + 1)
    else:   # unreachable with this host's pollables, which are ready unless they can wait
        raise Trap(TrapCode.HOST, "wasi:io/poll.poll: no pollable can ever become ready")


def block(pollable: Pollable, clocks) -> None:
    poll([pollable], clocks)


# ---- wasi:io/streams ------------------------------------------------------------------------

class InputStream:
    """Base of the `input-stream` resource: subclasses provide `_read` and `subscribe`."""

    __slots__ = ()

    def _read(self, size: int, blocking: bool) -> bytes:
        """Up to `size` bytes (b"" when none are available yet and not `blocking`);
        raises StreamError(None) at end of stream."""
        raise NotImplementedError

    def subscribe(self) -> Pollable:
        return Pollable()

    def read(self, size: int, blocking: bool = False) -> bytes:
        if size == 0:
            return b""
        return self._read(min(size, READ_CHUNK), blocking)

    def skip(self, size: int, blocking: bool = False) -> int:
        skipped = 0
        while skipped < size:
            try:
                chunk = self.read(size - skipped, blocking and skipped == 0)
            except StreamError:
                if skipped:
                    return skipped
                raise
            if not chunk:
                break
            skipped += len(chunk)
        return skipped


class CoreInputStream(InputStream):
    """An input stream over a core `streams.InputStream` (stdin)."""

    __slots__ = ("core",)

    def __init__(self, core):
        self.core = core

    def _read(self, size: int, blocking: bool) -> bytes:
        if not blocking and not self.core.ready():
            return b""
        try:
            data = self.core.read(size)
        except WasiError as exc:
            raise StreamError(IoError(exc.code)) from None
        if not data:
            raise StreamError(None)
        return data

    def subscribe(self) -> Pollable:
        fd = self.core.host_fd()
        return Pollable() if fd is None else FdPollable(fd)


class FileInputStream(InputStream):
    """Reads a core `FileDescriptor` from `offset` on (pread: the descriptor's own position
    is untouched, as in wasmtime)."""

    __slots__ = ("file", "offset")

    def __init__(self, file, offset: int):
        self.file = file
        self.offset = offset

    def _read(self, size: int, blocking: bool) -> bytes:
        try:
            data = self.file.pread(size, self.offset)
        except WasiError as exc:
            raise StreamError(IoError(exc.code)) from None
        except (OverflowError, ValueError):
            raise StreamError(IoError(ErrorCode.INVALID)) from None
        if not data:
            raise StreamError(None)
        self.offset += len(data)
        return data


class OutputStream:
    """Base of the `output-stream` resource: subclasses provide `_write`."""

    __slots__ = ("closed",)

    def __init__(self):
        self.closed = False

    def _write(self, payload: bytes) -> None:
        raise NotImplementedError

    def _flush(self) -> None:
        pass

    def subscribe(self) -> Pollable:
        return Pollable()

    def check_write(self) -> int:
        if self.closed:
            raise StreamError(None)
        return CHECK_WRITE_BUDGET

    def write(self, payload: bytes, limit: int = CHECK_WRITE_BUDGET) -> None:
        if len(payload) > limit:
            raise Trap(TrapCode.HOST, f"wasi:io/streams: write of {len(payload)} bytes exceeds "
                                      f"the {limit} permitted")
        if self.closed:
            raise StreamError(None)
        try:
            self._write(bytes(payload))
        except WasiError as exc:
            self.closed = True
            raise StreamError(IoError(exc.code)) from None
        except (OverflowError, ValueError):   # an offset beyond what the host takes
            self.closed = True
            raise StreamError(IoError(ErrorCode.INVALID)) from None

    def flush(self) -> None:
        if self.closed:
            raise StreamError(None)
        try:
            self._flush()
        except WasiError as exc:
            self.closed = True
            raise StreamError(IoError(exc.code)) from None


class CoreOutputStream(OutputStream):
    """An output stream over a core `streams.OutputStream` (stdout, stderr)."""

    __slots__ = ("core",)

    def __init__(self, core):
        super().__init__()
        self.core = core

    def _write(self, payload: bytes) -> None:
        self.core.write(payload)

    def _flush(self) -> None:
        self.core.flush()


class FileOutputStream(OutputStream):
    """Writes a core `FileDescriptor` at `offset` (pwrite), or at its end when `append`."""

    __slots__ = ("file", "offset", "append")

    def __init__(self, file, offset: int, append: bool = False):
        super().__init__()
        self.file = file
        self.offset = offset
        self.append = append

    def _write(self, payload: bytes) -> None:
        view = memoryview(payload)
        while view:
            if self.append:
                self.offset = self.file.stat().size
            written = self.file.pwrite(view, self.offset)
            self.offset += written
            view = view[written:]


# ---- the definitions ---------------------------------------------------------------------------

def _stream_result(host: P2Host, fn):
    """Call `fn`, turning a StreamError into `result`'s error case (a stream-error)."""
    try:
        return ("ok", fn())
    except StreamError as exc:
        if exc.error is None:
            return ("error", ("closed", None))
        return ("error", ("last-operation-failed", host.new("error", exc.error)))


def define(host: P2Host) -> None:
    host.resource("wasi:io/error", "error", IoError)
    host.resource("wasi:io/poll", "pollable", Pollable)
    host.resource("wasi:io/streams", "input-stream", InputStream)
    host.resource("wasi:io/streams", "output-stream", OutputStream)
    clocks = host.context.clocks
    get = host.get

    host.func("wasi:io/error", "[method]error.to-debug-string",
              lambda e: get("error", e).to_debug_string())
    host.func("wasi:io/poll", "[method]pollable.ready", lambda p: get("pollable", p).ready())
    host.func("wasi:io/poll", "[method]pollable.block",
              lambda p: block(get("pollable", p), clocks))
    host.func("wasi:io/poll", "poll",
              lambda ps: poll([get("pollable", p) for p in ps], clocks))
    _define_input(host)
    _define_output(host)


def _define_input(host: P2Host) -> None:
    get, func = host.get, host.func
    iface = "wasi:io/streams"

    def read(s, n, blocking=False):
        stream = get("input-stream", s)
        return _stream_result(host, lambda: stream.read(n, blocking))

    def skip(s, n, blocking=False):
        stream = get("input-stream", s)
        return _stream_result(host, lambda: stream.skip(n, blocking))

    func(iface, "[method]input-stream.read", read)
    func(iface, "[method]input-stream.blocking-read", lambda s, n: read(s, n, True))
    func(iface, "[method]input-stream.skip", skip)
    func(iface, "[method]input-stream.blocking-skip", lambda s, n: skip(s, n, True))
    func(iface, "[method]input-stream.subscribe",
         lambda s: host.new_child("pollable", get("input-stream", s).subscribe(),
                                   "input-stream", s))


def _define_output(host: P2Host) -> None:
    get, func = host.get, host.func
    iface = "wasi:io/streams"

    def out(s) -> OutputStream:
        return get("output-stream", s)

    def write(s, contents):
        stream = out(s)
        return _stream_result(host, lambda: stream.write(contents))

    def blocking_write(s, contents):
        stream = out(s)

        def run():
            stream.write(contents, BLOCKING_WRITE_LIMIT)
            stream.flush()
        return _stream_result(host, run)

    def zeroes(s, n, limit=CHECK_WRITE_BUDGET, flush=False):
        stream = out(s)

        def run():
            stream.write(bytes(min(n, limit + 1)), limit)
            if flush:
                stream.flush()
        return _stream_result(host, run)

    def splice(s, src, n, blocking=False):
        stream, source = out(s), get("input-stream", src)

        def run():
            if stream.closed:
                raise StreamError(None)
            data = source.read(min(n, CHECK_WRITE_BUDGET), blocking)
            stream.write(data)
            return len(data)
        return _stream_result(host, run)

    func(iface, "[method]output-stream.check-write",
         lambda s: _stream_result(host, out(s).check_write))
    func(iface, "[method]output-stream.write", write)
    func(iface, "[method]output-stream.blocking-write-and-flush", blocking_write)
    func(iface, "[method]output-stream.flush", lambda s: _stream_result(host, out(s).flush))
    func(iface, "[method]output-stream.blocking-flush",
         lambda s: _stream_result(host, out(s).flush))
    func(iface, "[method]output-stream.subscribe",
         lambda s: host.new_child("pollable", out(s).subscribe(), "output-stream", s))
    func(iface, "[method]output-stream.write-zeroes", zeroes)
    func(iface, "[method]output-stream.blocking-write-zeroes-and-flush",
         lambda s, n: zeroes(s, n, BLOCKING_WRITE_LIMIT, True))
    func(iface, "[method]output-stream.splice", splice)
    func(iface, "[method]output-stream.blocking-splice",
         lambda s, src, n: splice(s, src, n, True))
