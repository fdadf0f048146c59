"""Clocks and the random source of a WASI context, replaceable for tests and embedders.

Shared core: both the preview-1 host and a later WASI 0.2 host read time through `Clocks`
and entropy through a `random` callable. Nothing here knows a WASI ABI.
"""
from __future__ import annotations

import enum
import os
import time


class ClockId(enum.IntEnum):
    """The clocks WASI exposes (values are preview 1's clockid numbers)."""

    REALTIME = 0
    MONOTONIC = 1
    PROCESS_CPUTIME = 2
    THREAD_CPUTIME = 3


_HOST_CLOCKS = {
    ClockId.REALTIME: time.CLOCK_REALTIME,
    ClockId.MONOTONIC: time.CLOCK_MONOTONIC,
    ClockId.PROCESS_CPUTIME: time.CLOCK_PROCESS_CPUTIME_ID,
    ClockId.THREAD_CPUTIME: time.CLOCK_THREAD_CPUTIME_ID,
}


class Clocks:
    """The host's clocks, in nanoseconds; subclass (or pass another object) to fake time."""

    __slots__ = ()

    def now(self, clock: ClockId) -> int:
        return time.clock_gettime_ns(_HOST_CLOCKS[clock])

    def resolution(self, clock: ClockId) -> int:
        return max(1, round(time.clock_getres(_HOST_CLOCKS[clock]) * 1_000_000_000))

    def sleep(self, nanoseconds: int) -> None:
        """Block for at least `nanoseconds` of monotonic time."""
        deadline = time.monotonic_ns() + nanoseconds
        while True:
            remaining = deadline - time.monotonic_ns()
            if remaining <= 0:
                return
            time.sleep(remaining / 1_000_000_000)


def host_random(size: int) -> bytes:
    """Cryptographically secure random bytes from the host."""
    return os.urandom(size)
