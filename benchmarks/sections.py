"""The measurements besides the kernel table: start-up, compile, instantiation, host calls,
components.  Each tolerates a missing or failing runtime: its cell says why."""
from __future__ import annotations

import re
import statistics
from pathlib import Path

from . import proc
from .config import DRIVER_DIR, HELLO, KERNEL_DIR, REPO_ROOT
from .runtimes import PY, Runtime, Wasmtime

API = str(DRIVER_DIR / "api_bench.py")
COMPONENT_BENCH = str(DRIVER_DIR / "component_bench.py")


def startup(rts: dict[str, Runtime], reps: int, log) -> dict:
    """Whole-process wall time of hello.wasm, alternating the variants run by run.  Timed runs
    are unwrapped; the max RSS comes from one extra run under GNU time (see proc.run)."""
    variants: list[tuple[str, object]] = [
        ("python -c pass (CPython start-up alone)",
         lambda rss=False: proc.run([PY, "-c", "pass"], rss=rss))]
    aot = rts.get("pywamr-aot")
    if aot is not None:
        variants.append(("pywamr aot, uncached (--no-cache)",
                         lambda rss=False: proc.run(aot.command(HELLO, [], cache=False), env=aot.env(),
                                                    cwd=REPO_ROOT, timeout=aot.timeout, rss=rss)))
        variants.append(("pywamr aot, cached (warm --cache-dir)",
                         lambda rss=False: aot.run(HELLO, [], rss=rss)))
    for key, label in (("pywamr-interp", "pywamr interp"), ("pywasm", "pywasm")):
        if key in rts:
            variants.append((label, (lambda rt: lambda rss=False: rt.run(HELLO, [], rss=rss))(rts[key])))
    if "wasmtime" in rts:
        wt = rts["wasmtime"]
        wt_cached = Wasmtime(wt.workdir, wt.timeout, cache=True)
        variants.append(("wasmtime (py), uncached", lambda rss=False: wt.run(HELLO, [], rss=rss)))
        variants.append(("wasmtime (py), cached (its on-disk cache, warm)",
                         lambda rss=False: wt_cached.run(HELLO, [], rss=rss)))
    if "wamr" in rts:
        wamr = rts["wamr"]

        def run_wamr(rss=False):
            wamr.prepare(HELLO)
            return wamr.run(HELLO, [], rss=rss)
        variants.append(("wamr (native, precompiled .cwasm)", run_wamr))

    def check(label, r):
        return aot.run_error(r) if label.startswith("pywamr aot") else r.error()

    runs: dict[str, list] = {label: [] for label, _ in variants}
    errors: dict[str, str] = {}
    rss: dict[str, int] = {}
    log("start-up: warm-up round (also measures max RSS)")
    for label, fn in variants:           # warm-up: fills the caches the "cached" rows rely on
        try:
            r = fn(rss=True)
            err = check(label, r)
        except Exception as exc:
            err = f"{type(exc).__name__}: {exc}"
        if err:
            errors[label] = err
        else:
            rss[label] = r.maxrss_kb
    for i in range(reps):
        log(f"start-up: round {i + 1}/{reps}")
        for label, fn in variants:
            if label in errors:
                continue
            r = fn()
            err = check(label, r)
            if err:
                errors[label] = err
            else:
                runs[label].append(r)
    out = {}
    for label, _ in variants:
        if label in errors:
            out[label] = {"error": errors[label]}
        else:
            out[label] = {"wall_ms": statistics.median(r.wall_s for r in runs[label]) * 1e3,
                          "maxrss_mb": rss[label] / 1024, "n": len(runs[label])}
    return out


def biggest_fixture() -> Path:
    cands = list(KERNEL_DIR.glob("*.wasm")) + list((REPO_ROOT / "tests" / "fixtures").rglob("*.wasm"))
    return max(cands, key=lambda p: p.stat().st_size)


def compile_time(rts: dict[str, Runtime], reps: int, workdir: Path, log) -> dict:
    fixture = biggest_fixture()
    size_mb = fixture.stat().st_size / 1e6
    out: dict = {"fixture": str(fixture.relative_to(REPO_ROOT)), "size_bytes": fixture.stat().st_size,
                 "rows": {}}
    variants = []
    aot = rts.get("pywamr-aot")
    if aot is not None:
        dst = workdir / "compile" / "pywamr.cwasm"
        variants.append(("pywamr compile (aot, no cache)",
                         lambda: proc.run([PY, "-m", "pywamr", "compile", str(fixture), "-o", str(dst),
                                           "--no-cache"], env={**aot.env(), "PYWAMR_NO_CACHE": "1"},
                                          cwd=REPO_ROOT, timeout=aot.timeout), "pywamr-aot"))
    if "pywamr-interp" in rts:
        variants.append(("pywamr interp (decode + validate; functions translate lazily)", None,
                         "pywamr-interp"))
    if "wasmtime" in rts:
        variants.append(("wasmtime (py): Module() + serialize()", None, "wasmtime"))
    if "wamr" in rts:
        wamr = rts["wamr"]
        dst_w = workdir / "compile" / "wamr.cwasm"
        variants.append(("wamrc compile", lambda: proc.run(wamr.compile_cmd(fixture, dst_w), timeout=600),
                         "wamr"))
    (workdir / "compile").mkdir(parents=True, exist_ok=True)
    for label, fn, key in variants:
        log(f"compile: {label}")
        row: dict = {}
        walls, inproc = [], []
        err = None
        for _ in range(max(1, min(reps, 3))):
            if fn is not None:
                r = fn()
                err = r.error()
                if err:
                    break
                walls.append(r.wall_s)
            if key in ("pywamr-aot", "pywamr-interp", "wasmtime"):
                r2 = proc.run([PY, API, "compile", key, str(fixture)], cwd=REPO_ROOT,
                              env=rts[key].env(), timeout=600)
                m = re.search(r"compile_ms:\s*([\d.]+)", r2.stdout)
                if r2.returncode != 0 or not m:
                    if fn is None:
                        err = proc.last_line(r2.stderr) or r2.error()
                        break
                    row["inproc_error"] = proc.last_line(r2.stderr) or r2.error()
                else:
                    inproc.append(float(m.group(1)))
        if err:
            row["error"] = err
        if walls:
            row["wall_ms"] = statistics.median(walls) * 1e3
            row["mb_per_s_wall"] = size_mb / statistics.median(walls)
        if inproc:
            row["inproc_ms"] = statistics.median(inproc)
            row["mb_per_s_inproc"] = size_mb / (statistics.median(inproc) / 1e3)
        out["rows"][label] = row
    return out


def api_section(mode: str, module: Path, keys: list[str], rts: dict[str, Runtime], log) -> dict:
    out = {}
    for key in keys:
        if key not in rts:
            continue
        log(f"{mode}: {key}")
        r = proc.run([PY, API, mode, key, str(module)], cwd=REPO_ROOT, env=rts[key].env(), timeout=600)
        vals = dict(re.findall(r"^(\w+):\s*(\S+)\s*$", r.stdout, re.M))
        if r.returncode != 0 or not vals:
            out[key] = {"error": proc.last_line(r.stderr) or r.error() or "no output"}
        else:
            out[key] = {k: float(v) for k, v in vals.items()}
    return out


def components(rts: dict[str, Runtime]) -> str:
    """Cross-component calls per second (drivers/component_bench.py), one process per
    runtime: a u32 add, a string round-trip, a borrowed handle and an owned handle's round
    trip, each looped inside the guest; aot both with its native adapters and through the
    Python bridge (`pywamr-aot-bridge`)."""
    keys = ("add_calls_per_s", "string_calls_per_s", "borrow_calls_per_s",
            "own_round_trips_per_s")
    rows = ["| runtime | u32 add, calls/s | string round-trip, calls/s | borrow<t>, calls/s "
            "| own<t> round-trip, calls/s |", "|---|---:|---:|---:|---:|"]
    rates = {}
    for key in ("pywamr-interp", "pywamr-aot", "pywamr-aot-bridge", "wasmtime"):
        runtime = rts.get("pywamr-aot" if key == "pywamr-aot-bridge" else key)
        if runtime is None:
            continue
        r = proc.run([PY, COMPONENT_BENCH, key], cwd=REPO_ROOT, timeout=300, env=runtime.env())
        vals = dict(re.findall(r"^(\w+):\s*(\S+)\s*$", r.stdout, re.M))
        if r.returncode != 0 or not all(k in vals for k in keys):
            rows.append(f"| {key} | {proc.last_line(r.stderr) or r.error() or 'no output'} "
                        f"| | | |")
            continue
        rates[key] = tuple(float(vals[k]) for k in keys)
        rows.append(f"| {key} | " + " | ".join(f"{v:,.0f}" for v in rates[key]) + " |")
    if "wasmtime" in rates:
        wt = rates["wasmtime"]
        for key in ("pywamr-interp", "pywamr-aot", "pywamr-aot-bridge"):
            if key in rates:
                rows.append(f"| {key} / wasmtime | " + " | ".join(
                    f"{o / w:.2g}×" for o, w in zip(rates[key], wt)) + " |")
    return "\n".join(rows) + "\n"
