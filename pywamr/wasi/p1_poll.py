"""poll_oneoff of wasi_snapshot_preview1: wait for clock deadlines and descriptor readiness.

Part of the preview-1 layer (p1.py registers it). Clock subscriptions really wait (relative or
absolute, on any of the four clocks); fd_read/fd_write subscriptions report readiness: files
and in-memory streams are always ready, the process's own stdin is checked with select().
"""
from __future__ import annotations

import select

from .clocks import ClockId
from .context import WasiContext
from .descriptors import DirectoryDescriptor, StreamDescriptor
from .errors import ErrorCode, WasiError
from .p1_abi import (
    EVENT, EVENTTYPE_CLOCK, EVENTTYPE_FD_READ, EVENTTYPE_FD_WRITE, SUBCLOCKFLAGS_ABSTIME,
    SUBSCRIPTION_CLOCK, SUBSCRIPTION_FD, SUBSCRIPTION_HEADER, SUBSCRIPTION_SIZE, GuestMemory,
)


class Subscription:
    """One decoded subscription: a clock deadline (monotonic ns) or a descriptor to watch."""

    __slots__ = ("userdata", "kind", "deadline", "fd")

    def __init__(self, userdata: int, kind: int, deadline: int = 0, fd: int = 0):
        self.userdata = userdata
        self.kind = kind
        self.deadline = deadline
        self.fd = fd


def _read_subscription(ctx: WasiContext, memory: GuestMemory, address: int) -> Subscription:
    userdata, kind = memory.unpack(SUBSCRIPTION_HEADER, address)
    body = address + 16
    if kind == EVENTTYPE_CLOCK:
        clock_id, timeout, _precision, flags = memory.unpack(SUBSCRIPTION_CLOCK, body)
        if clock_id not in (ClockId.REALTIME, ClockId.MONOTONIC):
            raise WasiError(ErrorCode.INVALID)   # CPU-time clocks cannot be waited on
        clock = ClockId(clock_id)
        now = ctx.clocks.now(ClockId.MONOTONIC)
        if flags & SUBCLOCKFLAGS_ABSTIME:
            deadline = now + (timeout - ctx.clocks.now(clock))
        else:
            deadline = now + timeout
        return Subscription(userdata, kind, deadline=deadline)
    if kind in (EVENTTYPE_FD_READ, EVENTTYPE_FD_WRITE):
        (fd,) = memory.unpack(SUBSCRIPTION_FD, body)
        if isinstance(ctx.get(fd), DirectoryDescriptor):
            raise WasiError(ErrorCode.BAD_DESCRIPTOR)
        return Subscription(userdata, kind, fd=fd)
    raise WasiError(ErrorCode.INVALID)


def _waitable_fd(ctx: WasiContext, subscription: Subscription) -> int | None:
    """The host fd to select() on when the subscription is a read of the inherited stdin."""
    descriptor = ctx.table.get(subscription.fd)
    if (subscription.kind == EVENTTYPE_FD_READ and isinstance(descriptor, StreamDescriptor)
            and descriptor.input is not None and descriptor.input.host_fd() is not None):
        return descriptor.input.host_fd()
    return None


def poll_oneoff(ctx: WasiContext, memory: GuestMemory, subscriptions_address: int,
                events_address: int, count: int, events_out: int) -> None:
    if count == 0:
        raise WasiError(ErrorCode.INVALID)
    memory.check(subscriptions_address, count * SUBSCRIPTION_SIZE)
    memory.check(events_address, count * EVENT.size)
    memory.check(events_out, 4)
    subscriptions = [_read_subscription(ctx, memory, subscriptions_address + i * SUBSCRIPTION_SIZE)
                     for i in range(count)]
    clocks = [s for s in subscriptions if s.kind == EVENTTYPE_CLOCK]
    watched = [s for s in subscriptions if s.kind != EVENTTYPE_CLOCK]
    waitable = {id(s): _waitable_fd(ctx, s) for s in watched}

    while True:
        ready = [s for s in watched if waitable[id(s)] is None]
        host_fds = sorted({fd for fd in waitable.values() if fd is not None})
        if not ready and host_fds:
            try:
                readable, _, _ = select.select(host_fds, [], [], 0)
            except (OSError, ValueError):
                readable = host_fds
            ready = [s for s in watched if waitable[id(s)] in readable]
        now = ctx.clocks.now(ClockId.MONOTONIC)
        expired = [s for s in clocks if s.deadline <= now]
        if ready or expired:
            break
        remaining = min((s.deadline for s in clocks), default=None)
        remaining = None if remaining is None else remaining - now
        if host_fds:
            try:
                select.select(host_fds, [], [],
                              None if remaining is None else remaining / 1_000_000_000)
            except (OSError, ValueError):
                pass
        else:
            ctx.clocks.sleep(remaining)

    written = 0
    for subscription in expired + ready:
        # wasmtime reports one byte of readiness for every ready descriptor.
        nbytes = 0 if subscription.kind == EVENTTYPE_CLOCK else 1
        memory.pack(EVENT, events_address + written * EVENT.size, subscription.userdata, 0,
                    subscription.kind, nbytes, 0)
        written += 1
    memory.store_u32(events_out, written)
