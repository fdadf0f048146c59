"""Paths, kernels and their sizes.

Every kernel's argv[1] is a repetition count of a fixed unit of work, so the work is linear in it
and a run at a scaled-down size extrapolates to the full size by the ratio of the sizes.

The SIMD kernels come in pairs built from one C source: `simd_X` (clang -msimd128) and its scalar
twin `simd_X.scalar` (no -msimd128), with the same sizes and the same checksum; `twin` links them.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
REPO_ROOT = BENCH_DIR.parent
KERNEL_DIR = BENCH_DIR / "kernels"
DRIVER_DIR = BENCH_DIR / "drivers"
PEERS_DIR = Path.home() / ".cache" / "pywamr-bench" / "peers"   # private pip --target for wamr-bin


@dataclass(frozen=True)
class Kernel:
    name: str
    what: str
    full: int      # the full size: wasmtime runs it in roughly 20-200 ms
    interp: int    # the size pywamr's pure-Python interp runs (about 1/10 .. 1/100 of full)
    tiny: int      # the size for the slowest interpreter (pywasm) and the smoke test
    group: str = "c"         # "c" (scalar C kernels), "simd" (-msimd128), "simd-scalar" (twin)
    twin: str | None = None  # a SIMD kernel's scalar twin, and the twin's SIMD kernel

    @property
    def path(self) -> Path:
        return KERNEL_DIR / f"{self.name}.wasm"

    def size(self, scale: str) -> int:
        return {"full": self.full, "interp": self.interp, "tiny": self.tiny}[scale]


KERNELS: list[Kernel] = [
    Kernel("fib", "recursive fib(20), N times", 4000, 100, 5),
    Kernel("nbody", "5-body f64 simulation, N steps", 2_000_000, 40_000, 1000),
    Kernel("sieve", "sieve of Eratosthenes to 65536, N times", 600, 20, 1),
    Kernel("matmul", "64x64 f64 matrix multiply, N times", 900, 20, 1),
    Kernel("sha256", "SHA-256 over N KiB", 16_384, 256, 16),
    Kernel("memloop", "byte-loop fill+copy of 64 KiB, N times", 4000, 80, 2),
    Kernel("bulkmem", "memory.fill/copy of 64 KiB, N times", 40_000, 4000, 400),
]


def _simd_pair(name: str, what: str, full: int, interp: int, tiny: int) -> list[Kernel]:
    """`name` (-msimd128) and `name.scalar` (the same source without it), equal sizes."""
    scalar = f"{name}.scalar"
    return [Kernel(name, what + " (-msimd128)", full, interp, tiny, "simd", scalar),
            Kernel(scalar, what + " (scalar twin)", full, interp, tiny, "simd-scalar", name)]


SIMD_KERNELS: list[Kernel] = [
    *_simd_pair("simd_hash", "BLAKE3 of N x 4 KiB, 4 chunks at a time", 12_288, 128, 4),
    *_simd_pair("simd_gemm", "i16 GEMM 64x128 . 128x64 -> i32, N times", 400, 4, 1),
    *_simd_pair("simd_dot", "f32 saxpy + dot over 4096 floats, N times", 25_000, 256, 8),
]
KERNELS += SIMD_KERNELS

HELLO = KERNEL_DIR / "hello.wasm"
HOSTCALL = KERNEL_DIR / "hostcall.wasm"


def kernel_by_name(name: str) -> Kernel:
    for k in KERNELS:
        if k.name == name:
            return k
    raise KeyError(name)
