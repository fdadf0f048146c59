"""The state of one WASI guest: descriptor table, arguments, environment, clocks and randomness.

Shared core, built from a `WasiConfig` when an instance is created and then handed to a host
layer (p1.py for wasi_snapshot_preview1; a WASI 0.2 host can reuse it). Descriptors 0-2 are the
standard streams, 3... the preopened directories in configuration order.
"""
from __future__ import annotations

from .config import WasiConfig
from .descriptors import Descriptor, DirectoryDescriptor, StreamDescriptor
from .errors import ErrorCode, WasiError
from .fs import open_preopen
from .streams import input_stream, output_stream

MAX_DESCRIPTORS = 1 << 20
"""The most descriptors one guest may hold open at once (beyond: TOO_MANY_FILES)."""


class WasiContext:
    """One guest's WASI state. `table` maps descriptor numbers to open `Descriptor`s."""

    __slots__ = ("args", "env", "clocks", "random", "table", "exit_status")

    def __init__(self, config: WasiConfig | None = None):
        config = config if config is not None else WasiConfig()
        self.args: list[str] = list(config.argv)
        self.env: list[tuple[str, str]] = config.env_pairs()
        self.clocks = config.clocks
        self.random = config.random
        self.exit_status: int | None = None
        self.table: dict[int, Descriptor] = {
            0: StreamDescriptor(input=input_stream(config.stdin)),
            1: StreamDescriptor(output=output_stream(config.stdout, 1)),
            2: StreamDescriptor(output=output_stream(config.stderr, 2)),
        }
        for host_path, guest_path in config.preopens:
            self.table[len(self.table)] = open_preopen(host_path, guest_path, config.broker)

    def get(self, fd: int) -> Descriptor:
        try:
            return self.table[fd]
        except KeyError:
            raise WasiError(ErrorCode.BAD_DESCRIPTOR) from None

    def get_directory(self, fd: int) -> DirectoryDescriptor:
        """The directory behind `fd`: a file gives NOT_DIRECTORY, a stream BAD_DESCRIPTOR."""
        descriptor = self.get(fd)
        if isinstance(descriptor, StreamDescriptor):
            raise WasiError(ErrorCode.BAD_DESCRIPTOR)
        if not isinstance(descriptor, DirectoryDescriptor):
            raise WasiError(ErrorCode.NOT_DIRECTORY)
        return descriptor

    def insert(self, descriptor: Descriptor) -> int:
        """Give `descriptor` the lowest free number."""
        fd = 0
        while fd in self.table:
            fd += 1
        if fd >= MAX_DESCRIPTORS:
            descriptor.close()
            raise WasiError(ErrorCode.TOO_MANY_FILES)
        self.table[fd] = descriptor
        return fd

    def close(self, fd: int) -> None:
        descriptor = self.table.pop(fd, None)
        if descriptor is None:
            raise WasiError(ErrorCode.BAD_DESCRIPTOR)
        descriptor.close()

    def renumber(self, fd: int, to: int) -> None:
        """Move `fd` onto `to`, closing what `to` held (both must be open)."""
        self.get(fd)
        self.get(to)
        if fd == to:
            return
        self.table.pop(to).close()
        self.table[to] = self.table.pop(fd)

    def close_all(self) -> None:
        """Release every host resource (the context is unusable afterwards)."""
        for fd in list(self.table):
            try:
                self.table.pop(fd).close()
            except WasiError:
                pass
