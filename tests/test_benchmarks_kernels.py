"""Smoke test of the benchmark kernels (benchmarks/kernels): each runs at its smallest size on the
`wasmtime` package, prints `time_ns:` and `checksum:`, and the checksum is stable across runs and
equal to the value pinned here (the kernels are deterministic C; a rebuild must not change them).
Also checks that each kernel's work is linear in its size, which the runner's extrapolation of
scaled-down runs relies on, and that each SIMD kernel (`simd_X.wasm`, -msimd128) really uses
v128 instructions, its scalar twin (`simd_X.scalar.wasm`) none, and both print one checksum."""
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.config import DRIVER_DIR, HELLO, HOSTCALL, KERNELS, SIMD_KERNELS  # noqa: E402
from pywamr_testlib import require_wasmtime, wasm_tools_path  # noqa: E402

require_wasmtime()

EXPECTED = {   # checksum at Kernel.tiny
    "fib": "2160937839",
    "nbody": "-0.169075164 -0.169087605",
    "sieve": "6542",
    "matmul": "0.421875 -0.140625",
    "sha256": "b650c67611727709a711d90d86a7391d1c388020ed9beb3ad50fd2631f424054",
    "memloop": "2126647312",
    "bulkmem": "394654228",
    # the BLAKE3 digest of 4 x 4 KiB of the kernel's data (checked against the blake3 package)
    "simd_hash": "9e5d4c1c54f87a41c3a561be2a87b5aca19bc2c0ddfecdcfe20f1ee24cc833ea",
    "simd_gemm": "2072918323",
    "simd_dot": "2013.2521963119507 -0.201178491",
}
for _k in SIMD_KERNELS:       # a scalar twin prints what its SIMD kernel prints
    if _k.group == "simd-scalar":
        EXPECTED[_k.name] = EXPECTED[_k.twin]

# one instruction each SIMD build must contain (the point of the kernel)
SIMD_SIGNATURE = {"simd_hash": "i8x16.shuffle", "simd_gemm": "i32x4.dot_i16x8_s",
                  "simd_dot": "f32x4.mul"}


def run_wasmtime(wasm, *args):
    r = subprocess.run([sys.executable, str(DRIVER_DIR / "wasmtime_run.py"), str(wasm), *map(str, args)],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    return r.stdout


def test_every_kernel_has_an_expected_checksum():
    assert sorted(EXPECTED) == sorted(k.name for k in KERNELS)


@pytest.mark.parametrize("kernel", KERNELS, ids=lambda k: k.name)
def test_kernel_checksum_stable(kernel):
    assert kernel.path.exists(), f"{kernel.path} missing: run benchmarks/kernels/build.sh"
    assert kernel.full > kernel.interp >= kernel.tiny >= 1
    sums = []
    for _ in range(2):
        out = run_wasmtime(kernel.path, kernel.tiny)
        assert re.search(r"^time_ns: \d+$", out, re.M), out
        m = re.search(r"^checksum: (.+)$", out, re.M)
        assert m, out
        sums.append(m.group(1).strip())
    assert sums[0] == sums[1]
    assert sums[0] == EXPECTED[kernel.name]


@pytest.mark.parametrize("kernel", KERNELS, ids=lambda k: k.name)
def test_kernel_work_is_linear_in_size(kernel):
    """The runner extrapolates scaled-down runs linearly: the work per unit of size must be
    constant.  wasmtime's fuel (about one unit per wasm operator) checks it."""
    r = subprocess.run([sys.executable, str(DRIVER_DIR / "wasmtime_fuel.py"), str(kernel.path),
                        str(kernel.tiny)], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    vals = dict(re.findall(r"^(\w+): (\S+)$", r.stdout, re.M))
    assert float(vals["fuel_per_unit"]) > 0
    assert abs(float(vals["linearity"]) - 1.0) < 0.01, r.stdout


def _checksum(wasm, size):
    m = re.search(r"^checksum: (.+)$", run_wasmtime(wasm, size), re.M)
    assert m
    return m.group(1).strip()


@pytest.mark.parametrize("kernel", [k for k in SIMD_KERNELS if k.group == "simd"],
                         ids=lambda k: k.name)
def test_simd_twins_agree(kernel):
    """SIMD build and scalar twin: equal sizes, and equal checksums at a size other than the
    pinned one (the interp size, at most 16)."""
    twin = next(k for k in KERNELS if k.name == kernel.twin)
    assert twin.twin == kernel.name and twin.group == "simd-scalar"
    assert (kernel.full, kernel.interp, kernel.tiny) == (twin.full, twin.interp, twin.tiny)
    size = min(kernel.interp, 16) + 1
    assert _checksum(kernel.path, size) == _checksum(twin.path, size)


@pytest.mark.parametrize("kernel", SIMD_KERNELS, ids=lambda k: k.name)
def test_simd_kernel_instructions(kernel):
    """-msimd128 builds use v128 (and the instruction they are about); scalar twins none."""
    text = subprocess.run([wasm_tools_path(), "print", str(kernel.path)], capture_output=True, text=True,
                          check=True, timeout=120).stdout
    vector = re.findall(r"\b(?:v128|[if](?:8x16|16x8|32x4|64x2))\.\w+", text)
    if kernel.group == "simd":
        assert SIMD_SIGNATURE[kernel.name] in text
        assert len(vector) >= 10
    else:
        assert vector == []


def test_hello():
    assert run_wasmtime(HELLO) == "hello, world\n"


def test_hostcall_module_shape():
    import wasmtime
    engine = wasmtime.Engine()
    module = wasmtime.Module.from_file(engine, str(HOSTCALL))
    assert [(i.module, i.name) for i in module.imports] == [("env", "f")]
    assert "run" in [e.name for e in module.exports]
    store = wasmtime.Store(engine)
    linker = wasmtime.Linker(engine)
    i32 = wasmtime.ValType.i32()
    linker.define_func("env", "f", wasmtime.FuncType([i32], [i32]), lambda x: x + 1)
    inst = linker.instantiate(store, module)
    assert inst.exports(store)["run"](store, 10) == sum(range(1, 11))
