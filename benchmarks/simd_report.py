"""The report's "SIMD kernels" section: each -msimd128 kernel against its scalar twin.

Sits beside `report.py` (which calls `simd_section`) and reads only the saved results, so it
renders from a results file as well. Every SIMD kernel `simd_X` has a scalar twin `simd_X.scalar`
built from the same C source without -msimd128 (`config.SIMD_KERNELS`); for each pair it shows
the in-guest times at full size on wasmtime and on pywamr aot, the SIMD / scalar ratio on every
runtime that ran both, pywamr aot / wasmtime, geometric means over the pairs, and whether the
twins' reference checksums (wasmtime's, at every size run) agree. It measures nothing itself.
A cell whose run failed says "not supported" when the runtime refused the module as such (an
engine without SIMD) and "failed" otherwise; the full reason is listed with the main tables.
"""
from __future__ import annotations

import math
import re

from .config import KERNELS

NOT_SUPPORTED = re.compile(r"not supported|unsupported", re.I)


def error_cell(err: str | None) -> str:
    """What a kernel-table cell says for a run that produced no time."""
    if err is None:
        return "not run"
    return "not supported" if NOT_SUPPORTED.search(err) else "failed"


def _time(k: dict, rt: str) -> float | None:
    s = k.get("summary", {}).get(rt)
    return s["guest_ms_full"] if s else None


def _cell(res: dict, kname: str, rt: str) -> str:
    from .report import fmt_ms
    k = res["kernels"][kname]
    t = _time(k, rt)
    if t is not None:
        return ("~" if k["sizes"][rt] != k["full"] else "") + fmt_ms(t)
    return error_cell(k["errors"].get(rt))


def _ratio(a: float | None, b: float | None) -> float | None:
    return a / b if a is not None and b else None


def _fmt_ratio(r: float | None) -> str:
    return "n/a" if r is None else f"{r:.3g}×"


def geomean(values: list[float | None]) -> float | None:
    vals = [v for v in values if v is not None and v > 0]
    if not vals or len(vals) != len(values):
        return None          # a mean over some pairs only would not compare with the others
    return math.exp(sum(map(math.log, vals)) / len(vals))


def _twins_agree(simd: dict, scalar: dict) -> str:
    common = sorted(set(simd["reference"]) & set(scalar["reference"]), key=int)
    if not common:
        return "not checked"
    bad = [size for size in common if simd["reference"][size] != scalar["reference"][size]]
    return ("agree at " + ", ".join(common)) if not bad else "DIFFER at " + ", ".join(bad)


def simd_pairs(res: dict) -> list[tuple[str, str]]:
    """(SIMD kernel, scalar twin) for every pair whose both kernels were run."""
    return [(k.name, k.twin) for k in KERNELS
            if k.group == "simd" and k.name in res["kernels"] and k.twin in res["kernels"]]


def simd_section(res: dict) -> list[str]:
    pairs = simd_pairs(res)
    if not pairs:
        return []
    rts = res["runtimes"]
    have = [c for c in ("pywamr-aot", "wasmtime") if c in rts]
    ratio_rts = [c for c in ("pywamr-aot", "pywamr-interp", "wasmtime", "wamr") if c in rts]
    L = ["### SIMD kernels: -msimd128 against the scalar twin (in-guest, full size)\n",
         "Each kernel is one C source built twice: with `-msimd128` (wasm_simd128.h intrinsics) "
         "and without (the scalar twin, `.scalar`). Both do the same work and print the same "
         "checksum. **SIMD / scalar** below 1 means the v128 build is faster on that runtime; "
         "**aot / wasmtime** below 1 means pywamr aot is faster than wasmtime on the same "
         "build.\n"]
    head = ["kernel"]
    for c in have:
        head += [f"{rts[c]['label']} SIMD", f"{rts[c]['label']} scalar"]
    head += [f"{rts[c]['label']} SIMD / scalar" for c in ratio_rts]
    both = "pywamr-aot" in rts and "wasmtime" in rts
    if both:
        head += ["aot / wasmtime (SIMD)", "aot / wasmtime (scalar)"]
    head.append("twin checksums (wasmtime)")
    L.append("| " + " | ".join(head) + " |")
    L.append("|---|" + "---:|" * (len(head) - 2) + "---|")
    columns: dict[str, list[float | None]] = {}
    for simd, scalar in pairs:
        ks, kt = res["kernels"][simd], res["kernels"][scalar]
        row = [f"`{simd}`"]
        for c in have:
            row += [_cell(res, simd, c), _cell(res, scalar, c)]
        for c in ratio_rts:
            r = _ratio(_time(ks, c), _time(kt, c))
            columns.setdefault(f"ratio:{c}", []).append(r)
            row.append(_fmt_ratio(r))
        if both:
            for label, k in (("simd", ks), ("scalar", kt)):
                r = _ratio(_time(k, "pywamr-aot"), _time(k, "wasmtime"))
                columns.setdefault(f"aot:{label}", []).append(r)
                row.append(_fmt_ratio(r))
        row.append(_twins_agree(ks, kt))
        L.append("| " + " | ".join(row) + " |")
    mean = ["geometric mean"] + [""] * (2 * len(have))
    mean += [_fmt_ratio(geomean(columns[f"ratio:{c}"])) for c in ratio_rts]
    if both:
        mean += [_fmt_ratio(geomean(columns["aot:simd"])),
                 _fmt_ratio(geomean(columns["aot:scalar"]))]
    mean.append("")
    L.append("| " + " | ".join(mean) + " |")
    L.append("")
    L.append("`~`: extrapolated from a scaled-down run (see the kernel table). A geometric mean "
             "is n/a unless every pair has both times.")
    L.append("")
    return L
