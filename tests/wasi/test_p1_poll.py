"""poll_oneoff: clock subscriptions really wait; descriptor subscriptions report readiness."""
from __future__ import annotations

import os
import struct
import time

from pywamr.wasi.p1_abi import ERRNO_NAMES

E = {name: number for number, name in enumerate(ERRNO_NAMES)}
SUBSCRIPTIONS, EVENTS = 4000, 6000


def clock(userdata, timeout, clock_id=1, flags=0):
    return struct.pack("<QB7xIxxxxQQH6x", userdata, 0, clock_id, timeout, 0, flags)


def descriptor(userdata, fd, kind):
    return struct.pack("<QB7xI28x", userdata, kind, fd)


def poll(guest, *subscriptions):
    payload = b"".join(subscriptions)
    assert all(len(s) == 48 for s in subscriptions)
    guest.host.write(SUBSCRIPTIONS, payload)
    errno = guest.host.call("poll_oneoff", SUBSCRIPTIONS, EVENTS, len(subscriptions), 64)
    if errno:
        return errno, []
    events = [struct.unpack("<QHBxxxxxQHxxxxxx", guest.host.read(EVENTS + 32 * i, 32))
              for i in range(guest.u32())]
    return errno, events


def test_relative_sleep_really_sleeps(guest):
    start = time.monotonic_ns()
    errno, events = poll(guest, clock(7, 50_000_000))
    elapsed = time.monotonic_ns() - start
    assert errno == 0
    assert elapsed >= 50_000_000
    assert events == [(7, 0, 0, 0, 0)]


def test_absolute_sleep_on_both_clocks(guest):
    for clock_id, now in ((1, time.monotonic_ns), (0, time.time_ns)):
        start = time.monotonic_ns()
        errno, events = poll(guest, clock(9, now() + 40_000_000, clock_id, flags=1))
        assert time.monotonic_ns() - start >= 35_000_000   # the two clocks are sampled apart
        assert (errno, events) == (0, [(9, 0, 0, 0, 0)])
    start = time.monotonic_ns()
    errno, events = poll(guest, clock(3, 1000, 1, flags=1))   # long past
    assert time.monotonic_ns() - start < 20_000_000
    assert events == [(3, 0, 0, 0, 0)]


def test_earliest_clock_wins(guest):
    start = time.monotonic_ns()
    errno, events = poll(guest, clock(1, 2_000_000_000), clock(2, 30_000_000))
    assert 30_000_000 <= time.monotonic_ns() - start < 1_500_000_000
    assert [event[0] for event in events] == [2]


def test_ready_descriptors_return_at_once(guest):
    errno, fd = guest.open(3, "hello.txt", rights=2 | 64)
    start = time.monotonic_ns()
    errno, events = poll(guest, clock(1, 2_000_000_000), descriptor(5, fd, 1),
                         descriptor(6, 1, 2))
    assert time.monotonic_ns() - start < 1_000_000_000
    assert errno == 0
    assert sorted(events) == [(5, 0, 1, 1, 0), (6, 0, 2, 1, 0)]


def test_stdin_bytes_is_ready(make_guest):
    guest = make_guest(stdin=b"data")
    assert poll(guest, descriptor(4, 0, 1)) == (0, [(4, 0, 1, 1, 0)])


def test_inherited_stdin_waits_for_data(make_guest):
    read_end, write_end = os.pipe()
    saved = os.dup(0)
    try:
        os.dup2(read_end, 0)
        guest = make_guest(stdin=None)
        start = time.monotonic_ns()
        errno, events = poll(guest, descriptor(1, 0, 1), clock(2, 40_000_000))
        assert time.monotonic_ns() - start >= 40_000_000
        assert [event[0] for event in events] == [2]
        os.write(write_end, b"x")
        errno, events = poll(guest, descriptor(1, 0, 1), clock(2, 2_000_000_000))
        assert [event[0] for event in events] == [1]
    finally:
        os.dup2(saved, 0)
        for fd in (saved, read_end, write_end):
            os.close(fd)


def test_poll_errors(guest):
    assert guest.host.call("poll_oneoff", SUBSCRIPTIONS, EVENTS, 0, 64) == E["inval"]
    assert poll(guest, descriptor(1, 99, 1))[0] == E["badf"]
    assert poll(guest, descriptor(1, 3, 1))[0] == E["badf"]
    assert poll(guest, clock(1, 10, clock_id=2))[0] == E["inval"]
    assert poll(guest, struct.pack("<QB39x", 1, 7))[0] == E["inval"]
    assert guest.host.call("poll_oneoff", 2 * 65536 - 40, EVENTS, 1, 64) == E["fault"]
    guest.host.write(SUBSCRIPTIONS, clock(1, 0))
    assert guest.host.call("poll_oneoff", SUBSCRIPTIONS, 2 * 65536 - 16, 1, 64) == E["fault"]
    assert guest.host.call("poll_oneoff", SUBSCRIPTIONS, EVENTS, 1, 2 * 65536) == E["fault"]
