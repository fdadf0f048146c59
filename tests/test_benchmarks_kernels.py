"""Smoke test of the benchmark kernels (benchmarks/kernels): each runs at its smallest size on the
`wasmtime` package, prints `time_ns:` and `checksum:`, and the checksum is stable across runs and
equal to the value pinned here (the kernels are deterministic C; a rebuild must not change them).
Also checks that each kernel's work is linear in its size, which the runner's extrapolation of
scaled-down runs relies on."""
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.config import DRIVER_DIR, HELLO, HOSTCALL, KERNELS  # noqa: E402
from pywamr_testlib import require_wasmtime  # noqa: E402

require_wasmtime()

EXPECTED = {   # checksum at Kernel.tiny
    "fib": "2160937839",
    "nbody": "-0.169075164 -0.169087605",
    "sieve": "6542",
    "matmul": "0.421875 -0.140625",
    "sha256": "b650c67611727709a711d90d86a7391d1c388020ed9beb3ad50fd2631f424054",
    "memloop": "2126647312",
    "bulkmem": "394654228",
}


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
