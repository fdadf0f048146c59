"""Byte streams behind the standard descriptors: the process's raw fds or Python file objects.

Shared core: the descriptor table wraps these for fds 0-2; a WASI 0.2 host can wrap them as
`input-stream`/`output-stream`. Text file objects are bridged with UTF-8 (errors='replace').
No buffering of our own: every write reaches the underlying object before returning.
"""
from __future__ import annotations

import codecs
import io
import os
import select
import sys

from .errors import host_errors


class InputStream:
    """A source of bytes (base class: reads nothing, always at end of stream)."""

    __slots__ = ()

    def read(self, size: int) -> bytes:
        return b""

    def ready(self) -> bool:
        """Would a read return without blocking (data or end of stream)?"""
        return True

    def isatty(self) -> bool:
        return False

    def host_fd(self) -> int | None:
        return None


class OutputStream:
    """A sink of bytes (base class: discards everything)."""

    __slots__ = ()

    def write(self, payload: bytes) -> int:
        return len(payload)

    def flush(self) -> None:
        pass

    def isatty(self) -> bool:
        return False

    def host_fd(self) -> int | None:
        return None


class HostFdInput(InputStream):
    """Reads the process's own descriptor (normally 0) with os.read: binary-safe."""

    __slots__ = ("fd",)

    def __init__(self, fd: int = 0):
        self.fd = fd

    def read(self, size: int) -> bytes:
        with host_errors():
            return os.read(self.fd, size)

    def ready(self) -> bool:
        try:
            readable, _, _ = select.select([self.fd], [], [], 0)
        except (OSError, ValueError):
            return True
        return bool(readable)

    def isatty(self) -> bool:
        return os.isatty(self.fd)

    def host_fd(self) -> int | None:
        return self.fd


class HostFdOutput(OutputStream):
    """Writes to the process's own descriptor (1 or 2) with os.write, after flushing Python's.

    Python's sys.stdout/sys.stderr may hold buffered text; flushing first keeps the order of
    host prints and guest output."""

    __slots__ = ("fd",)

    def __init__(self, fd: int):
        self.fd = fd

    def write(self, payload: bytes) -> int:
        self.flush()
        view = memoryview(payload)
        with host_errors():
            while view:
                written = os.write(self.fd, view)
                view = view[written:]
        return len(payload)

    def flush(self) -> None:
        for stream in (sys.stdout, sys.stderr):
            try:
                if stream is not None:
                    stream.flush()
            except (OSError, ValueError):
                pass

    def isatty(self) -> bool:
        return os.isatty(self.fd)

    def host_fd(self) -> int | None:
        return self.fd


def _is_text(stream) -> bool:
    if isinstance(stream, io.TextIOBase):
        return True
    if isinstance(stream, (io.RawIOBase, io.BufferedIOBase)):
        return False
    return "b" not in getattr(stream, "mode", "b")


class FileObjectInput(InputStream):
    """Reads a Python file-like object; text objects are encoded to UTF-8."""

    __slots__ = ("stream", "text", "pending")

    def __init__(self, stream):
        self.stream = stream
        self.text = _is_text(stream)
        self.pending = b""

    def read(self, size: int) -> bytes:
        if not self.pending:
            chunk = self.stream.read(size)
            if isinstance(chunk, str):
                chunk = chunk.encode("utf-8", errors="replace")
            self.pending = bytes(chunk or b"")
        result, self.pending = self.pending[:size], self.pending[size:]
        return result


class FileObjectOutput(OutputStream):
    """Writes to a Python file-like object; text objects get UTF-8 decoded text.

    An incremental decoder keeps a character split across two writes intact."""

    __slots__ = ("stream", "decoder")

    def __init__(self, stream):
        self.stream = stream
        self.decoder = (codecs.getincrementaldecoder("utf-8")(errors="replace")
                        if _is_text(stream) else None)

    def write(self, payload: bytes) -> int:
        if self.decoder is None:
            self.stream.write(bytes(payload))
        else:
            text = self.decoder.decode(bytes(payload))
            if text:
                self.stream.write(text)
        self.flush()
        return len(payload)

    def flush(self) -> None:
        flush = getattr(self.stream, "flush", None)
        if flush is not None:
            flush()


def input_stream(source) -> InputStream:
    """The stream for a configured stdin: None inherits fd 0, bytes are read once, else a file."""
    if source is None:
        return HostFdInput(0)
    if isinstance(source, (bytes, bytearray, memoryview)):
        return FileObjectInput(io.BytesIO(bytes(source)))
    if isinstance(source, InputStream):
        return source
    return FileObjectInput(source)


def output_stream(sink, inherited_fd: int) -> OutputStream:
    """The stream for a configured stdout/stderr: None inherits `inherited_fd`, else a file."""
    if sink is None:
        return HostFdOutput(inherited_fd)
    if isinstance(sink, OutputStream):
        return sink
    return FileObjectOutput(sink)
