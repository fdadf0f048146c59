"""Growing a bytearray by zero bytes without touching the new pages (linear memory growth).

`bytearray.extend(bytes(n))` writes every new byte, so a memory that grows by 4 GiB costs
4 GiB of resident memory at once, even if the guest never touches it. On Linux the same
result is had lazily: the bytearray is resized without initialising its new bytes
(`PyByteArray_Resize`), the partial pages at both ends are cleared, and the whole pages in
between are handed back with `madvise(MADV_DONTNEED)`, after which a private anonymous mapping
(the heap, or glibc's mmap'ed chunks) reads as zero-fill pages on demand.

Sits under `objects.Memory`. Elsewhere, for small growth, or if any step is unavailable, it
falls back to `extend`. Failure to allocate is `MemoryError`/`BufferError`, as with `extend`.
"""
from __future__ import annotations

import ctypes
import mmap
import sys

LAZY_THRESHOLD = 1 << 22        # below 4 MiB, writing the zeros is cheaper than the syscalls
_MADV_DONTNEED = 4

_resize = ctypes.pythonapi.PyByteArray_Resize
_resize.argtypes = [ctypes.py_object, ctypes.c_ssize_t]
_resize.restype = ctypes.c_int
_address = ctypes.pythonapi.PyByteArray_AsString
_address.argtypes = [ctypes.py_object]
_address.restype = ctypes.c_void_p


def _load_madvise():
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        fn = libc.madvise
    except (OSError, AttributeError):
        return None
    fn.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
    fn.restype = ctypes.c_int
    return fn


_madvise = _load_madvise()


def grow_zeroed(data: bytearray, delta: int) -> None:
    """Append `delta` zero bytes to `data` in place."""
    if delta < LAZY_THRESHOLD or _madvise is None:
        data.extend(bytes(delta))
        return
    old = len(data)
    _resize(data, old + delta)          # raises MemoryError / BufferError, leaving `data` as is
    start = _address(data) + old
    end = start + delta
    page = mmap.PAGESIZE
    first = -(-start // page) * page
    last = end // page * page
    ctypes.memset(start, 0, first - start)
    ctypes.memset(last, 0, end - last)
    if _madvise(first, last - first, _MADV_DONTNEED) != 0:
        ctypes.memset(first, 0, last - first)     # cannot hand the pages back: write the zeros


def zeroed(size: int) -> bytearray:
    """A new bytearray of `size` zero bytes (lazily backed when large)."""
    if size < LAZY_THRESHOLD or _madvise is None:
        return bytearray(size)
    data = bytearray()
    grow_zeroed(data, size)
    return data
