"""Campaigns: many generated modules, each checked on every requested engine, with counts.

`check_module` is the unit of work (generate, run on wasmtime, run on each pywamr engine,
compare). `run_campaign` hands the units to worker processes so that a crash (a segfault in
native code) or a hang in one module is recorded as a failure of that module instead of ending
the campaign; the worker pool is rebuilt after either. Failing modules are written to
`out_dir` as `SEED-INDEX.wasm` with a `.txt` of the verdicts and the oracle's `.json` outcome.
"""
from __future__ import annotations

import concurrent.futures as futures
import os
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path

from .compare import ESCAPED, INCONCLUSIVE, MISMATCH, PASS, UNSUPPORTED, Verdict, compare
from .generate import generate_module

CRASHED, HUNG = "crashed", "hung"
STATUSES = (PASS, MISMATCH, INCONCLUSIVE, ESCAPED, CRASHED, HUNG, UNSUPPORTED)

_engines: dict = {}


def _engine(kind: str):
    from .subject import make_engine
    if kind not in _engines:
        _engines[kind] = make_engine(kind)
    return _engines[kind]


@dataclass
class ModuleReport:
    seed: int
    index: int
    verdicts: dict[str, Verdict] = field(default_factory=dict)
    data: bytes | None = None            # kept only when some engine failed
    expected_json: str | None = None
    mode: str = "core"                   # generate.MODES

    @property
    def failed(self) -> bool:
        return any(v.status not in (PASS, INCONCLUSIVE, UNSUPPORTED)
                   for v in self.verdicts.values())


def check_module(seed: int, index: int, kinds: tuple[str, ...],
                 mode: str = "core") -> ModuleReport:
    from .oracle import run_wasmtime
    from .subject import run_pywamr
    data = generate_module(seed, index, mode)
    expected = run_wasmtime(data)
    report = ModuleReport(seed, index, mode=mode)
    for kind in kinds:
        report.verdicts[kind] = compare(expected, run_pywamr(data, _engine(kind)))
    if report.failed:
        report.data, report.expected_json = data, expected.to_json()
    return report


def _lost(seed: int, index: int, kinds, status: str, why: str, mode: str) -> ModuleReport:
    report = ModuleReport(seed, index, {k: Verdict(status, details=[why]) for k in kinds},
                          mode=mode)
    report.data = generate_module(seed, index, mode)
    return report


@dataclass
class Counts:
    modules: int = 0
    per_engine: dict = field(default_factory=dict)    # kind -> {"calls": n, status: n}

    def add(self, report: ModuleReport) -> None:
        self.modules += 1
        for kind, verdict in report.verdicts.items():
            row = self.per_engine.setdefault(kind, dict.fromkeys(("calls",) + STATUSES, 0))
            row["calls"] += verdict.calls
            row[verdict.status] += 1

    def failures(self) -> int:
        return sum(row[s] for row in self.per_engine.values()
                   for s in (MISMATCH, ESCAPED, CRASHED, HUNG))

    def summary(self) -> str:
        lines = [f"modules: {self.modules}"]
        for kind, row in self.per_engine.items():
            lines.append(f"{kind}: calls {row['calls']}, passes {row[PASS]}, mismatches "
                         f"{row[MISMATCH]}, inconclusive {row[INCONCLUSIVE]}, escaped "
                         f"exceptions {row[ESCAPED]}, crashes {row[CRASHED]}, hangs {row[HUNG]}, "
                         f"not supported {row[UNSUPPORTED]}")
        return "\n".join(lines)


def save_failure(report: ModuleReport, out_dir: Path) -> Path:
    out_dir.mkdir(parents=True, exist_ok=True)
    prefix = "" if report.mode == "core" else f"{report.mode}-"
    stem = out_dir / f"{prefix}{report.seed}-{report.index}"
    stem.with_suffix(".wasm").write_bytes(report.data)
    text = [f"seed {report.seed} index {report.index} mode {report.mode}"]
    for kind, verdict in report.verdicts.items():
        text.append(f"[{kind}] {verdict.status}")
        text.extend(f"  {line}" for line in verdict.details)
    stem.with_suffix(".txt").write_text("\n".join(text) + "\n")
    if report.expected_json:
        stem.with_suffix(".json").write_text(report.expected_json)
    return stem


def _new_pool(jobs: int) -> futures.ProcessPoolExecutor:
    return futures.ProcessPoolExecutor(max_workers=jobs)


def _kill(pool: futures.ProcessPoolExecutor) -> None:
    for process in list(getattr(pool, "_processes", {}).values()):
        process.kill()
    pool.shutdown(wait=False, cancel_futures=True)


def run_campaign(seed: int, count: int, kinds: tuple[str, ...], out_dir: Path, *,
                 start: int = 0, jobs: int = 1, timeout: float = 120.0, log=print,
                 check=check_module, mode: str = "core") -> Counts:
    """Check modules `start .. start+count-1` of campaign `seed` generated in `mode`
    (`generate.MODES`); `check` is the unit of work (replaceable for tests). A module that hangs
    or kills its worker is recorded as such; the pool is rebuilt and the modules queued behind
    it are submitted again. (With several jobs, a crash is blamed on the first unfinished
    module of the batch.)"""
    counts = Counts()
    queue = deque(range(start, start + count))
    pool = _new_pool(jobs)
    began = time.monotonic()
    try:
        while queue:
            batch = [queue.popleft() for _ in range(min(len(queue), 4 * jobs))]
            pending = [(i, pool.submit(check, seed, i, kinds, mode)) for i in batch]
            for position, (i, future) in enumerate(pending):
                restart = True
                try:
                    report, restart = future.result(timeout=timeout), False
                except futures.TimeoutError:
                    report = _lost(seed, i, kinds, HUNG, f"no result in {timeout} s", mode)
                except futures.process.BrokenProcessPool:
                    report = _lost(seed, i, kinds, CRASHED, "the worker process died", mode)
                counts.add(report)
                if report.failed:
                    log(f"FAIL {save_failure(report, out_dir)}.wasm: " + ", ".join(
                        f"{k} {v.status}" for k, v in report.verdicts.items()))
                if counts.modules % 100 == 0:
                    log(f"[{counts.modules} modules, {time.monotonic() - began:.0f} s, "
                        f"{counts.failures()} failures]")
                if restart:
                    _kill(pool)
                    pool = _new_pool(jobs)
                    queue.extendleft(reversed([j for j, _ in pending[position + 1:]]))
                    break
    finally:
        _kill(pool)
    return counts


def default_jobs() -> int:
    return max(1, min(2, os.cpu_count() or 1))
