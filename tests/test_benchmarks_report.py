"""The benchmark report renders from saved results: the SIMD kernels section (SIMD / scalar per
runtime, pywamr aot / wasmtime, geometric means, twin checksums) and "not supported" cells for
a runtime that refused a module as such, on hand-made results (nothing is measured here)."""
import math
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks import report  # noqa: E402
from benchmarks.config import SIMD_KERNELS  # noqa: E402
from benchmarks.simd_report import error_cell, simd_section  # noqa: E402

RUNTIMES = {"pywamr-aot": ("pywamr aot", "full"), "pywamr-interp": ("pywamr interp", "interp"),
            "wasmtime": ("wasmtime (py)", "full")}
REFUSED = "exit 1: pywamr: error: SIMD (v128) is not supported (at offset 0x243)"


def _kernel(k, times: dict, errors: dict, checksum="c1"):
    sizes = {rt: k.size(scale) for rt, (_, scale) in RUNTIMES.items()}
    summary = {rt: {"guest_ms": t * sizes[rt] / k.full, "guest_ms_full": t, "wall_ms": t + 100,
                    "maxrss_mb": 50.0, "n": 3} for rt, t in times.items()}
    return {"full": k.full, "what": k.what, "sizes": sizes,
            "runs": {rt: [{}] * 3 if rt in times else [] for rt in RUNTIMES},
            "errors": errors, "summary": summary,
            "reference": {str(k.full): checksum, str(k.interp): checksum + "i"},
            "checksums": {rt: "ok" for rt in times}}


def _results(simd_supported: bool):
    kernels = {}
    for k in SIMD_KERNELS:
        scalar = k.group == "simd-scalar"
        wasmtime = {"simd_hash": 80.0, "simd_gemm": 40.0, "simd_dot": 70.0}[k.name.split(".")[0]]
        wasmtime *= 2 if scalar else 1
        times = {"wasmtime": wasmtime}
        errors = {}
        if scalar or simd_supported:
            times["pywamr-aot"] = wasmtime * (1.1 if scalar else 1.2)
            times["pywamr-interp"] = wasmtime * 1000
        else:
            errors = {"pywamr-aot": REFUSED, "pywamr-interp": REFUSED}
        kernels[k.name] = _kernel(k, times, errors)
    return {"command": "python -m benchmarks", "date": "2026-12-01 00:00 UTC", "reps": 3,
            "machine": {"cpu": "x", "cores": 2, "memory": "1 GiB", "os": "Linux",
                        "python": "CPython 3.11", "clang": "clang 14"},
            "runtimes": {rt: {"label": label, "ok": True, "why": "", "version": "1",
                              "scale": scale} for rt, (label, scale) in RUNTIMES.items()},
            "kernels": kernels}


def _section_rows(res):
    lines = simd_section(res)
    rows = [line for line in lines if line.startswith("| `") or line.startswith("| geometric")]
    return {row.split("|")[1].strip(): [c.strip() for c in row.split("|")[2:-1]] for row in rows}


def test_error_cells():
    assert error_cell(REFUSED) == "not supported"
    assert error_cell("exit 1: Trap: unreachable") == "failed"
    assert error_cell(None) == "not run"


def test_not_supported_cells_and_section_while_engines_refuse_simd():
    res = _results(simd_supported=False)
    text = report.render(res)
    row = next(line for line in text.splitlines() if line.startswith("| `simd_gemm` | 400"))
    assert row.count("not supported") == 2 and "failed" not in row
    rows = _section_rows(res)
    assert set(rows) == {"`simd_hash`", "`simd_gemm`", "`simd_dot`", "geometric mean"}
    gemm = rows["`simd_gemm`"]
    # aot SIMD, aot scalar, wasmtime SIMD, wasmtime scalar, then the ratios
    assert gemm[:4] == ["not supported", "88.0 ms", "40.0 ms", "80.0 ms"]
    assert gemm[4:7] == ["n/a", "n/a", "0.5×"]         # aot, interp, wasmtime SIMD / scalar
    assert gemm[7:9] == ["n/a", "1.1×"]                 # aot / wasmtime: SIMD, scalar
    assert gemm[9] == "agree at 4, 400"
    assert rows["geometric mean"][4:9] == ["n/a", "n/a", "0.5×", "n/a", "1.1×"]
    assert "### SIMD kernels" in text


def test_section_once_engines_run_simd():
    res = _results(simd_supported=True)
    rows = _section_rows(res)
    assert rows["`simd_dot`"][4:9] == [f"{1.2 / 2.2:.3g}×", "0.5×", "0.5×", "1.2×", "1.1×"]
    assert rows["geometric mean"][7] == "1.2×"
    # twins whose checksums differ at some size are flagged
    res["kernels"]["simd_dot.scalar"]["reference"]["25000"] = "other"
    assert _section_rows(res)["`simd_dot`"][9] == "DIFFER at 25000"


def test_geometric_mean_needs_every_pair():
    from benchmarks.simd_report import geomean
    assert math.isclose(geomean([2.0, 8.0]), 4.0)
    assert geomean([2.0, None]) is None


def test_ratio_table_geometric_means_per_group():
    text = report.render(_results(simd_supported=True))
    rows = {line.split("|")[1].strip(): line.split("|")[2].strip()
            for line in text.splitlines() if line.startswith("| geometric mean, ")}
    assert rows == {"geometric mean, SIMD kernels (-msimd128)": "1.2×",
                    "geometric mean, their scalar twins": "1.1×"}


def test_tiering_kernel_rows(capsys, monkeypatch):
    """benchmarks/tiering.py: the full size at --kernel-seconds 0 (nothing run), the size
    scaled from one aot run otherwise, and one row per kernel with the auto / aot ratio."""
    from benchmarks import tiering
    assert tiering.kernel_size("fib", 0) == 4000
    monkeypatch.setattr(tiering, "measure", lambda *a, **k: {"guest_s": 0.1})
    assert tiering.kernel_size("fib", 3) == 120000
    rows = {("fib", "auto", "first"): {"guest_s": 3.3, "native_after_s": 0.2, "cpu_s": 4.0,
                                        "runs_reaching_native": "1/1", "size": 120000},
            ("fib", "aot", "cached"): {"guest_s": 3.0, "cpu_s": 3.2, "size": 120000}}
    tiering.print_kernels(rows)
    row = capsys.readouterr().out.strip().splitlines()[-1]
    assert row == "| fib | 120000 | 3.000 | 3.300 | 1.10x | 0.200 | 1/1 | 4.00 / 3.20 |"
