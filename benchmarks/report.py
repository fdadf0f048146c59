"""Machine description and the Markdown report (what --write puts in BENCHMARKS.md)."""
from __future__ import annotations

import os
import platform
import subprocess
import sys

from .config import KERNELS
from .runtimes import RATIO_PAIRS
from .simd_report import error_cell, geomean, simd_section

ORDER = ["pywamr-aot", "pywamr-interp", "wasmtime", "pywasm", "wamr"]


def machine_info() -> dict:
    cpu = "?"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    try:
        clang = subprocess.run(["clang", "--version"], capture_output=True, text=True,
                               timeout=10).stdout.splitlines()[0]
    except (OSError, subprocess.SubprocessError, IndexError):
        clang = "not installed"
    mem = "?"
    try:
        with open("/proc/meminfo") as f:
            kb = int(f.readline().split()[1])
            mem = f"{kb / 1024 / 1024:.0f} GiB"
    except (OSError, ValueError, IndexError):
        pass
    try:
        load = "%.2f %.2f %.2f" % os.getloadavg()
    except OSError:
        load = "?"
    return {"loadavg_at_start": load, "cpu": cpu, "cores": os.cpu_count(), "memory": mem,
            "os": f"{platform.system()} {platform.release()}",
            "python": f"{platform.python_implementation()} {platform.python_version()}",
            "python_exe": sys.executable, "clang": clang}


def fmt_ms(v: float | None) -> str:
    if v is None:
        return "—"
    if v >= 100_000:
        return f"{v / 1000:,.0f} s"
    if v >= 10_000:
        return f"{v / 1000:,.1f} s"
    if v >= 100:
        return f"{v:,.0f} ms"
    if v >= 1:
        return f"{v:.1f} ms"
    return f"{v:.3f} ms"




def _per_runtime_table(res, rts, cols, cell) -> list[str]:
    """A kernel-by-runtime table whose cells are `cell(summary)` at the size actually run."""
    lines = ["| kernel | " + " | ".join(rts[c]["label"] for c in cols) + " |",
             "|---|" + "---:|" * len(cols)]
    for kname, k in res["kernels"].items():
        row = [f"`{kname}`"]
        for c in cols:
            s = k.get("summary", {}).get(c)
            row.append(f"{cell(s)} @{k['sizes'][c]:,}" if s else error_cell(k["errors"].get(c)))
        lines.append("| " + " | ".join(row) + " |")
    return lines

def short(err: str, n: int = 70) -> str:
    err = " ".join(str(err).split()).replace("|", "/")
    return err if len(err) <= n else err[: n - 1] + "…"


def _cols(res):
    return [k for k in ORDER if k in res["runtimes"]]


def kernel_tables(res) -> list[str]:
    cols = _cols(res)
    rts = res["runtimes"]
    lab = [rts[c]["label"] + (" †" if rts[c]["scale"] != "full" else "") for c in cols]
    L = []
    L.append("### Kernels: in-guest time at full size (median, lower is better)\n")
    L.append("| kernel | full size | " + " | ".join(lab) + " | checksums |")
    L.append("|---|---:|" + "---:|" * len(cols) + "---|")
    notes: dict[tuple[str, str], list[str]] = {}
    for kname, k in res["kernels"].items():
        row = [f"`{kname}`", f"{k['full']:,}"]
        for c in cols:
            s = k.get("summary", {}).get(c)
            if s:
                cell = fmt_ms(s["guest_ms_full"])
                if k["sizes"][c] != k["full"]:
                    cell = "~" + cell
                row.append(cell)
            else:
                err = k["errors"].get(c, "not run")
                row.append("not supported" if error_cell(err) == "not supported"
                           else "failed: " + short(err, 40))
                notes.setdefault((rts[c]["label"], short(err, 300)), []).append(f"`{kname}`")
        bad = {c: v for c, v in k["checksums"].items() if v != "ok"}
        row.append("agree (%d runtimes)" % len(k["checksums"]) if not bad and k["checksums"]
                   else ("; ".join(f"{rts[c]['label']}: {short(v, 60)}" for c, v in bad.items())
                         or "—"))
        L.append("| " + " | ".join(row) + " |")
    L.append("")
    L.append("† runs a scaled-down size (below) and is extrapolated linearly to the full size "
             "(`~`); every kernel's size is a repetition count of a fixed unit of work.\n")
    # ratios
    L.append("### Ratios (in-guest time, full-size equivalent; < 1 means pywamr is faster)\n")
    pairs = [(a, b) for a, b in RATIO_PAIRS if a in rts and b in rts]
    if not pairs:
        L.pop()
        L.append("")
    else:
        L.extend(_ratio_rows(res, pairs))
    return L + _other_kernel_tables(res, cols, notes)


def _ratio_rows(res, pairs) -> list[str]:
    rts = res["runtimes"]
    L = []
    L.append("| kernel | " + " | ".join(f"{rts[a]['label']} / {rts[b]['label']}" for a, b in pairs) + " |")
    L.append("|---|" + "---:|" * len(pairs))
    ratios: dict[tuple[str, str], dict[str, float | None]] = {}
    for kname, k in res["kernels"].items():
        row = [f"`{kname}`"]
        for a, b in pairs:
            sa, sb = k.get("summary", {}).get(a), k.get("summary", {}).get(b)
            r = sa["guest_ms_full"] / sb["guest_ms_full"] if sa and sb and sb["guest_ms_full"] > 0 else None
            ratios.setdefault((a, b), {})[kname] = r
            row.append(f"{r:.3g}×" if r is not None else "n/a")
        L.append("| " + " | ".join(row) + " |")
    groups = {k.name: k.group for k in KERNELS}
    for group, label in (("c", "C kernels"), ("simd", "SIMD kernels (-msimd128)"),
                         ("simd-scalar", "their scalar twins")):
        names = [n for n in res["kernels"] if groups.get(n) == group]
        if names:
            means = [geomean([ratios[p][n] for n in names]) for p in pairs]
            L.append(f"| geometric mean, {label} | "
                     + " | ".join("n/a" if m is None else f"{m:.3g}×" for m in means) + " |")
    L.append("")
    return L


def _other_kernel_tables(res, cols, notes) -> list[str]:
    rts = res["runtimes"]
    L = []
    # wall time and sizes actually run
    L.append("### Kernels: whole-process wall time at the size actually run (median)\n")
    L.append("Process spawn to exit: interpreter start-up, module load/compile, instantiation and "
             "the work. Sizes differ between columns (shown as `@size`), so compare within a column "
             "or against the in-guest table above.\n")
    L.extend(_per_runtime_table(res, rts, cols,
                                lambda s: f"{fmt_ms(s['wall_ms'])}"))
    L.append("")
    L.append("### Peak memory (max RSS of the process, MiB, largest over the runs)\n")
    L.extend(_per_runtime_table(res, rts, cols, lambda s: f"{s['maxrss_mb']:.0f}"))
    L.append("")
    if notes:
        L.append("Failures, in full:\n")
        L.extend(f"- {label} on {', '.join(ks)}: {err}" for (label, err), ks in notes.items())
        L.append("")
    return L


def startup_table(st) -> list[str]:
    L = ["### Start-up: whole process running hello.wasm (median wall time)\n",
         "| variant | wall time | max RSS |", "|---|---:|---:|"]
    for label, c in st.items():
        if "error" in c:
            L.append(f"| {label} | failed: {short(c['error'], 80)} | — |")
        else:
            L.append(f"| {label} | {fmt_ms(c['wall_ms'])} | {c['maxrss_mb']:.0f} MiB |")
    return L + [""]


def compile_table(cp) -> list[str]:
    L = [f"### Compile time: `{cp['fixture']}` ({cp['size_bytes'] / 1024:.0f} KiB, the biggest "
         "fixture)\n",
         "Whole process (wall) and, where the runtime has a Python API, the compile call alone "
         "(in-process).\n",
         "| compiler | wall | MB/s (wall) | in-process | MB/s (in-process) |",
         "|---|---:|---:|---:|---:|"]
    for label, r in cp["rows"].items():
        if "wall_ms" not in r and "inproc_ms" not in r:
            L.append(f"| {label} | failed: {short(r.get('error', '?'), 80)} | | | |")
            continue
        wall = (f"{fmt_ms(r['wall_ms'])} | {r['mb_per_s_wall']:.2f}" if "wall_ms" in r else "— | —")
        if "inproc_ms" in r:
            inproc = f"{fmt_ms(r['inproc_ms'])} | {r['mb_per_s_inproc']:.2f}"
        elif "inproc_error" in r:
            inproc = f"n/a: {short(r['inproc_error'], 50)} | —"
        else:
            inproc = "— | —"
        L.append(f"| {label} | {wall} | {inproc} |")
    return L + [""]


def api_table(title, data, key, unit, scale=1.0) -> list[str]:
    L = [title, "", f"| runtime | {unit} |", "|---|---:|"]
    for rt, v in data.items():
        if "error" in v:
            L.append(f"| {rt} | n/a: {short(v['error'], 90)} |")
        else:
            extra = f" ({int(v['calls']):,} calls)" if "calls" in v else ""
            L.append(f"| {rt} | {v[key] * scale:,.2f}{extra} |")
    return L + [""]


def render(res) -> str:
    m = res["machine"]
    rts = res["runtimes"]
    L = ["# pywamr benchmarks", ""]
    L.append(f"Generated by `{res['command']}` on {res['date']} "
             f"({res['reps']} repetitions per kernel and runtime"
             + (", **quick mode**: fewer repetitions, so expect more noise" if res.get("quick") else "")
             + f"; the whole run took {res.get('elapsed_s', 0) / 60:.1f} min). "
             "Regenerate with `python -m benchmarks --write` from the repository root "
             "(`--install` fetches missing peer runtimes; `--help` for the rest).")
    L.append("")
    L.append("## What the numbers mean\n")
    L.append(
        "Each kernel is a C program in `benchmarks/kernels/` compiled once to wasm32-wasi with "
        "`clang -O2` (the `.wasm` files are committed); it takes its size from `argv[1]`, times "
        "its own work with `clock_gettime(CLOCK_MONOTONIC)` and prints `time_ns:` and `checksum:`. "
        "**In-guest time** is that number: the work alone, without process start-up, module "
        "compilation or instantiation (for pywamr interp it does include the lazy translation of "
        "each function on its first call). **Wall time** is the whole process, measured by the "
        "runner from spawn to exit. Every run is a fresh process, and runtimes are alternated "
        "run by run (A B C A B C ...) so that drift in machine load hits all of them alike; "
        "tables show medians. The pure-Python interpreters (pywamr interp, pywasm) run a "
        "scaled-down size and their in-guest time is multiplied by full size / run size; the "
        "work per unit is constant, so this is a linear extrapolation, slightly pessimistic for "
        "pywamr interp, whose one-off translation cost is multiplied too. Checksums are compared "
        "with wasmtime's at the same size. wasmtime runs through its Python package (compiling "
        "with Cranelift in-process on each run, no cache); wamr runs modules precompiled by "
        "`wamrc` (compile time is in its own section); pywamr aot runs with a warm `--cache-dir` "
        "(filled by one untimed warm-up run per kernel).")
    L.append("")
    L.append("## Machine and versions\n")
    L.append(f"- CPU: {m['cpu']}, {m['cores']} cores, {m['memory']} RAM; {m['os']}")
    L.append(f"- Python: {m['python']}; kernels built with {m['clang']}")
    if m.get("loadavg_at_start"):
        L.append(f"- load average when the run started: {m['loadavg_at_start']} "
                 "(the machine may have been shared with other work; medians damp, not remove, that)")
    for key in ORDER:
        if key in rts:
            r = rts[key]
            status = "" if r["ok"] else f" — **unavailable**: {short(r['why'], 120)}"
            L.append(f"- {r['label']}: {r['version']}{status}")
    L.append("")
    L.append("## Kernels\n")
    L.append("| kernel | work | full size | pywamr interp size | pywasm size | wasm ops at full size ‡ |")
    L.append("|---|---|---:|---:|---:|---:|")
    for k in KERNELS:
        if k.name in res["kernels"]:
            kr = res["kernels"][k.name]
            ops = (f"{kr['fuel_per_unit'] * k.full / 1e6:,.0f} M" if "fuel_per_unit" in kr else "n/a")
            if "linearity" in kr and abs(kr["linearity"] - 1) > 0.01:
                ops += f" (not linear: {kr['linearity']:.3f})"
            L.append(f"| `{k.name}` | {k.what} | {k.full:,} | {k.interp:,} | {k.tiny:,} | {ops} |")
    L.append("")
    L.append("‡ wasm operators executed in the timed region, counted with wasmtime's fuel "
             "(about one unit per operator) as the difference between runs at 2x and 1x the pywasm "
             "size, times the full size; a third run checks that the work per unit is constant, "
             "which is what the linear extrapolation below relies on.")
    L.append("")
    L.extend(kernel_tables(res))
    L.extend(simd_section(res))
    L.append("## Other measurements\n")
    if "startup" in res:
        L.extend(startup_table(res["startup"]))
    if "compile" in res:
        L.extend(compile_table(res["compile"]))
    if "instantiate" in res:
        L.extend(api_table("### Instantiation of hello.wasm with WASI imports, in-process "
                           "(module compiled once; median)", res["instantiate"], "instantiate_us",
                           "µs per instantiation"))
    if "hostcall" in res:
        L.extend(api_table("### Host-call cost: `hostcall.wasm` calls an imported Python function "
                           "(env.f) n times, through each runtime's Python API", res["hostcall"],
                           "ns_per_call", "ns per call"))
    if "components" in res:
        L.append("### Cross-component calls\n")
        L.append(res["components"])
        L.append("")
    return "\n".join(L) + "\n"
