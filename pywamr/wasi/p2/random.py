"""`wasi:random`: secure random bytes, insecure random bytes, and the insecure seed.

Part of the WASI 0.2 host (`pywamr.wasi.p2`). Secure bytes come from the shared context's
random source (the same callable preview 1's `random_get` reads, `os.urandom` by default);
the insecure generator is a Python `random.Random` seeded from that source once per host,
and the insecure seed is drawn once and then repeated, as the WIT asks.

Spec: wasi-0.2.12/random/*.wit. A request for more than `host.MAX_LIST` bytes traps instead
of making the host allocate it.
"""
from __future__ import annotations

import random as _random

from .host import P2Host, check_length


def define(host: P2Host) -> None:
    source = host.context.random
    insecure = _random.Random(int.from_bytes(source(16), "little"))
    seed = (int.from_bytes(source(8), "little"), int.from_bytes(source(8), "little"))

    def random_bytes(length: int) -> bytes:
        return bytes(source(check_length(length, "get-random-bytes")))

    def insecure_bytes(length: int) -> bytes:
        return insecure.randbytes(check_length(length, "get-insecure-random-bytes"))

    host.func("wasi:random/random", "get-random-bytes", random_bytes)
    host.func("wasi:random/random", "get-random-u64",
              lambda: int.from_bytes(source(8), "little"))
    host.func("wasi:random/insecure", "get-insecure-random-bytes", insecure_bytes)
    host.func("wasi:random/insecure", "get-insecure-random-u64", lambda: insecure.getrandbits(64))
    host.func("wasi:random/insecure-seed", "insecure-seed", lambda: seed)
