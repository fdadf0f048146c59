"""Linear memory growth is lazy: growing by gigabytes costs no resident memory until the
guest touches the pages, reads as zeros, and keeps the bytearray's identity (engines bind it).
Also: a memory whose initial size the host cannot allocate is a clean LinkError."""
from __future__ import annotations

import resource
import sys

import pytest

from pywamr.binary.types import PAGE_SIZE, Limits, MemoryType
from pywamr.runtime.objects import Memory
from pywamr.runtime.zeroed import LAZY_THRESHOLD, grow_zeroed


def rss_mib() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * resource.getpagesize() / (1 << 20)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="lazy growth is Linux-only")
def test_growing_by_gigabytes_costs_no_resident_memory():
    m = Memory(MemoryType(Limits(1, None)))
    data = m.data
    data[0:4] = b"keep"
    before = rss_mib()
    assert m.grow(65530) == 1
    assert rss_mib() - before < 64, "the new pages must not be written"
    assert m.data is data and len(data) == 65531 * PAGE_SIZE
    assert data[0:4] == b"keep"
    for offset in (PAGE_SIZE, PAGE_SIZE + 1, 2**31, len(data) - 1):
        assert data[offset] == 0
    data[2**32 - PAGE_SIZE * 6] = 9          # touching one page works
    assert data[2**32 - PAGE_SIZE * 6] == 9
    del data[PAGE_SIZE:]


def test_growth_reads_zeros_where_old_heap_bytes_were():
    """Shrinking and growing again (the allocator may hand back dirty memory) still gives
    zeros, at both unaligned ends and in the middle."""
    for size in (LAZY_THRESHOLD + 12345, 3 * LAZY_THRESHOLD + 1):
        data = bytearray(b"\xff" * (size + 777))
        del data[777:]
        grow_zeroed(data, size)
        assert len(data) == size + 777
        assert data[:777] == b"\xff" * 777
        assert data.count(0) == size


def test_small_growth_and_initial_size():
    m = Memory(MemoryType(Limits(2, 5)))
    assert m.data == bytes(2 * PAGE_SIZE)
    assert m.grow(3) == 2 and m.data == bytes(5 * PAGE_SIZE)
    assert m.grow(1) == -1


def test_unallocatable_initial_memory_is_a_link_error(monkeypatch):
    from pywamr.errors import LinkError
    from pywamr.runtime import objects

    def refuse(size):
        raise MemoryError
    monkeypatch.setattr(objects, "zeroed", refuse)
    with pytest.raises(LinkError, match="cannot allocate a linear memory of 3 pages"):
        Memory(MemoryType(Limits(3, None)))
