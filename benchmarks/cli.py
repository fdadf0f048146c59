"""`python -m benchmarks`: run the kernels on every runtime, alternating runtimes run by run,
then the extra measurements; print the report and, with --write, update BENCHMARKS.md."""
from __future__ import annotations

import argparse
import datetime
import json
import re
import shlex
import statistics
import sys
import tempfile
import time
from pathlib import Path

from . import proc, report, sections
from .config import BENCH_DIR, DRIVER_DIR, HELLO, HOSTCALL, KERNELS, REPO_ROOT
from .runtimes import ALL_RUNTIMES, PY, RUNTIME_KEYS, Runtime, Wasmtime, install_missing

EXTRA = ["startup", "compile", "instantiate", "hostcall", "components"]


def log(msg: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def parse_args(argv):
    p = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    p.add_argument("--reps", type=int, default=None,
                   help="repetitions per kernel and runtime (default 5; 2 with --quick)")
    p.add_argument("--quick", action="store_true", help="fewer repetitions (2 unless --reps)")
    p.add_argument("--kernels", default=",".join(k.name for k in KERNELS),
                   help="comma-separated kernels (default: all)")
    p.add_argument("--runtimes", default=",".join(RUNTIME_KEYS),
                   help=f"comma-separated runtimes (default: {','.join(RUNTIME_KEYS)})")
    p.add_argument("--extra", default=",".join(EXTRA),
                   help=f"extra sections to run, comma-separated, or 'none' (default: {','.join(EXTRA)})")
    p.add_argument("--timeout", type=float, default=300.0, help="seconds per run before it is killed")
    p.add_argument("--install", action="store_true",
                   help="pip-install missing peer runtimes (wasmtime, pywasm, wamr-bin/wamrc-bin)")
    p.add_argument("--write", action="store_true", help="write BENCHMARKS.md at the repository root")
    p.add_argument("--output", default=str(REPO_ROOT / "BENCHMARKS.md"), help="path for --write")
    p.add_argument("--render", metavar="JSON",
                   help="do not measure: re-render the report from a saved results file")
    p.add_argument("--json", default=str(BENCH_DIR / "results" / "latest.json"),
                   help="where to save the raw results (default benchmarks/results/latest.json)")
    return p.parse_args(argv)


def run_kernels(kernels, runtimes: list[Runtime], reps: int, wasmtime_ref: Runtime | None) -> dict:
    out = {}
    for k in kernels:
        kres = {"full": k.full, "what": k.what, "sizes": {}, "runs": {}, "errors": {},
                "reference": {}, "checksums": {}}
        active = []
        for rt in runtimes:
            ok, why = rt.status()
            kres["sizes"][rt.key] = k.size(rt.scale)
            kres["runs"][rt.key] = []
            if not ok:
                kres["errors"][rt.key] = why
                continue
            try:
                rt.prepare(k.path)
            except Exception as exc:
                kres["errors"][rt.key] = str(exc)
                continue
            active.append(rt)
        # work count: wasm operators per unit (wasmtime fuel), which also checks linearity
        if wasmtime_ref is not None and wasmtime_ref.status()[0]:
            r = proc.run([PY, str(DRIVER_DIR / "wasmtime_fuel.py"), str(k.path), str(k.tiny)],
                         timeout=600)
            vals = dict(re.findall(r"^(\w+):\s*(\S+)\s*$", r.stdout, re.M))
            if r.returncode == 0 and "fuel_per_unit" in vals:
                kres["fuel_per_unit"] = float(vals["fuel_per_unit"])
                kres["linearity"] = float(vals["linearity"])
        # reference checksums: wasmtime at every size some runtime runs (scaled runs included)
        if wasmtime_ref is not None and wasmtime_ref.status()[0]:
            for size in sorted({kres["sizes"][rt.key] for rt in active}):
                r = wasmtime_ref.run(k.path, [str(size)])
                if not r.error() and r.checksum is not None:
                    kres["reference"][str(size)] = r.checksum
        for rt in list(active):
            if rt.warmup:
                log(f"{k.name}: warm-up {rt.key}")
                r = rt.run(k.path, [str(kres['sizes'][rt.key])])
                err = rt.run_error(r)
                if err:
                    kres["errors"][rt.key] = err
                    active.remove(rt)
        for i in range(reps):
            log(f"{k.name}: round {i + 1}/{reps} [{', '.join(rt.key for rt in active)}]")
            for rt in list(active):          # A B C A B C ...: drift hits every runtime alike
                size = kres["sizes"][rt.key]
                r = rt.run(k.path, [str(size)], rss=True)
                err = rt.run_error(r)
                if err is None and (r.guest_ns is None or r.checksum is None):
                    err = "no time_ns/checksum line in the output: " + r.stdout[-80:].strip()
                if err:
                    kres["errors"][rt.key] = err
                    active.remove(rt)
                    continue
                kres["runs"][rt.key].append({"guest_ns": r.guest_ns, "wall_s": r.wall_s,
                                             "maxrss_kb": r.maxrss_kb, "checksum": r.checksum})
        # checksum verification, each runtime against the reference at its own size
        for rt in runtimes:
            runs = kres["runs"][rt.key]
            if not runs:
                continue
            size = str(kres["sizes"][rt.key])
            seen = {r["checksum"] for r in runs}
            ref = kres["reference"].get(size)
            if ref is None:       # no wasmtime: the first runtime that ran this size is the reference
                ref = next((kres["runs"][o.key][0]["checksum"] for o in runtimes
                            if kres["runs"][o.key] and str(kres["sizes"][o.key]) == size), None)
                kres["reference"][size] = ref
            if len(seen) > 1:
                kres["checksums"][rt.key] = f"unstable across runs: {sorted(seen)}"
            elif ref is not None and seen != {ref}:
                kres["checksums"][rt.key] = f"MISMATCH: {next(iter(seen))} != {ref}"
            else:
                kres["checksums"][rt.key] = "ok"
        for rt in runtimes:
            runs = kres["runs"][rt.key]
            if runs:
                g = statistics.median(r["guest_ns"] for r in runs)
                kres.setdefault("summary", {})[rt.key] = {
                    "guest_ms": g / 1e6,
                    "guest_ms_full": g / 1e6 * k.full / kres["sizes"][rt.key],
                    "wall_ms": statistics.median(r["wall_s"] for r in runs) * 1e3,
                    "maxrss_mb": max(r["maxrss_kb"] for r in runs) / 1024,
                    "n": len(runs)}
        out[k.name] = kres
    return out


def main(argv=None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    if args.render:
        text = report.render(json.loads(Path(args.render).read_text()))
        print(text)
        if args.write:
            Path(args.output).write_text(text)
            log(f"wrote {args.output}")
        return 0
    reps = args.reps if args.reps is not None else (2 if args.quick else 5)
    wanted = [s.strip() for s in args.runtimes.split(",") if s.strip()]
    bad = [w for w in wanted if w not in RUNTIME_KEYS]
    if bad:
        print(f"unknown runtime(s) {bad}; choose from {RUNTIME_KEYS}", file=sys.stderr)
        return 2
    names = [s.strip() for s in args.kernels.split(",") if s.strip()]
    kernels = [k for k in KERNELS if k.name in names]
    extra = [] if args.extra.strip() == "none" else [s.strip() for s in args.extra.split(",") if s.strip()]
    workdir = Path(tempfile.mkdtemp(prefix="pywamr-bench-"))
    runtimes = [cls(workdir, args.timeout) for cls in ALL_RUNTIMES if cls.key in wanted]
    rts = {rt.key: rt for rt in runtimes}
    if args.install:
        install_missing(runtimes, log)
    for rt in runtimes:
        ok, why = rt.status()
        log(f"runtime {rt.key}: {'ok' if ok else 'UNAVAILABLE: ' + why}")
        if not ok and rt.install_hint and ("not installed" in why):
            log(f"  to install: {rt.install_hint}   (or pass --install)")
    wasmtime_ref = rts.get("wasmtime") or Wasmtime(workdir, args.timeout)
    started = datetime.datetime.now(datetime.timezone.utc)
    t0 = time.perf_counter()
    results = {
        "command": "python -m benchmarks " + " ".join(shlex.quote(a) for a in (sys.argv[1:] if argv is None else argv)),
        "date": started.strftime("%Y-%m-%d %H:%M UTC"),
        "reps": reps, "quick": args.quick,
        "machine": report.machine_info(),
        "runtimes": {rt.key: {"label": rt.label, "ok": rt.status()[0], "why": rt.status()[1],
                              "version": rt.version(), "scale": rt.scale} for rt in runtimes},
        "kernels": run_kernels(kernels, runtimes, reps, wasmtime_ref),
    }
    usable = {k: rt for k, rt in rts.items()}
    api_keys = ["pywamr-aot", "pywamr-interp", "wasmtime", "pywasm"]
    if "startup" in extra:
        results["startup"] = sections.startup(usable, reps, log)
    if "compile" in extra:
        results["compile"] = sections.compile_time(usable, reps, workdir, log)
    if "instantiate" in extra:
        results["instantiate"] = sections.api_section("instantiate", HELLO, api_keys, usable, log)
    if "hostcall" in extra:
        results["hostcall"] = sections.api_section("hostcall", HOSTCALL, api_keys, usable, log)
    if "components" in extra:
        results["components"] = sections.components(usable)
    results["elapsed_s"] = time.perf_counter() - t0
    text = report.render(results)
    print(text)
    jpath = Path(args.json)
    jpath.parent.mkdir(parents=True, exist_ok=True)
    jpath.write_text(json.dumps(results, indent=1, default=str))
    log(f"raw results: {jpath}")
    if args.write:
        Path(args.output).write_text(text)
        log(f"wrote {args.output}")
    return 0
