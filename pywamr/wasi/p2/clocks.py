"""`wasi:clocks`: monotonic-clock (with pollables that really wait) and wall-clock.

Part of the WASI 0.2 host (`pywamr.wasi.p2`). Time is read from the shared context's `Clocks`
(clocks.py), so a test or embedder that fakes time fakes it for preview 1 and 0.2 alike.
`subscribe-instant`/`subscribe-duration` give timer pollables that `wasi:io/poll` waits on.

Spec: wasi-0.2.12/clocks/{monotonic-clock,wall-clock}.wit. The unstable `timezone`
interface is not provided.
"""
from __future__ import annotations

from ..clocks import ClockId
from .host import P2Host
from .io import TimerPollable

NS = 1_000_000_000


def datetime(ns: int) -> dict:
    """A wall-clock `datetime` record from nanoseconds since the epoch (never negative)."""
    ns = max(0, ns)
    return {"seconds": ns // NS, "nanoseconds": ns % NS}


def define(host: P2Host) -> None:
    clocks = host.context.clocks
    mono = "wasi:clocks/monotonic-clock"
    host.func(mono, "now", lambda: clocks.now(ClockId.MONOTONIC))
    host.func(mono, "resolution", lambda: clocks.resolution(ClockId.MONOTONIC))
    host.func(mono, "subscribe-instant",
              lambda when: host.new("pollable", TimerPollable(clocks, when)))
    host.func(mono, "subscribe-duration",
              lambda duration: host.new("pollable", TimerPollable(
                  clocks, clocks.now(ClockId.MONOTONIC) + duration)))
    wall = "wasi:clocks/wall-clock"
    host.func(wall, "now", lambda: datetime(clocks.now(ClockId.REALTIME)))
    host.func(wall, "resolution", lambda: datetime(clocks.resolution(ClockId.REALTIME)))
