"""Peak memory of a whole process tree: sampled resident set (RSS) and proportional set (PSS).

    python -m benchmarks.treemem [--interval 0.01] [--timeline] -- COMMAND ARGS...

GNU time's `%M` (and `ru_maxrss`) is the largest RSS any single process of a tree reached: a
guest process and its LLVM worker each count alone, never together. `TreeSampler` reads every
process of a tree every `interval` seconds (default 10 ms) from /proc and keeps the peak of
the sums: RSS summed over the tree (counts a shared library's pages once per process that
maps them: an upper bound), PSS summed over the tree (/proc/PID/smaps_rollup: each page is
divided among the processes that map it, so the sum is what the tree costs the machine) and
the largest single RSS seen (comparable with GNU time's, but sampled: it can miss a spike
shorter than the interval). The tree is the root and its descendants (/proc/PID/task/*/children,
followed every sample), plus any process seen before that still lives in the root's session
(a worker reparented after its parent exited). Sampling costs the sampler's own process
~1-3 ms of CPU per sample for a handful of processes; it never touches the measured ones.

Used by `proc.run(..., tree=True)` (and so by `benchmarks/tiering.py`); the command line runs
one command and prints its peaks. Linux only: elsewhere `TreeSampler.supported()` is False and
the callers report no tree figures. A measuring tool, never imported by pywamr.
"""
from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field


@dataclass
class TreePeaks:
    """Peaks of one sampled run, in KiB (0 when nothing could be read)."""
    rss_sum_kb: int = 0         # max over samples of the sum of RSS over the tree
    pss_sum_kb: int = 0         # max over samples of the sum of PSS over the tree
    rss_single_kb: int = 0      # max over samples and processes of one process's RSS
    max_processes: int = 0      # most processes alive in one sample
    samples: int = 0
    timeline: list = field(default_factory=list)    # (seconds, rss sum, pss sum, n) per sample


def _read_rollup(pid: int) -> tuple[int, int] | None:
    """(RSS, PSS) of one process in KiB from smaps_rollup, None if it is gone."""
    rss = pss = None
    try:
        with open(f"/proc/{pid}/smaps_rollup", "rb") as f:
            for line in f:
                if line.startswith(b"Rss:"):
                    rss = int(line.split()[1])
                elif line.startswith(b"Pss:"):
                    pss = int(line.split()[1])
                    break
    except (OSError, ValueError, IndexError):
        return None
    if rss is None or pss is None:
        return None
    return rss, pss


def _children(pid: int) -> list[int]:
    found: list[int] = []
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return found
    for tid in tasks:
        try:
            with open(f"/proc/{pid}/task/{tid}/children", "rb") as f:
                found.extend(int(c) for c in f.read().split())
        except (OSError, ValueError):
            pass
    return found


def _session(pid: int) -> int | None:
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            stat = f.read()
        # the command name (2nd field) may hold spaces: fields after its closing parenthesis
        return int(stat[stat.rindex(b")") + 2:].split()[3])
    except (OSError, ValueError, IndexError):
        return None


class TreeSampler:
    """Samples the tree under `root` on a daemon thread from `start()` to `stop()`.

    `skip`: pids to leave out of the sums (e.g. a GNU time wrapper at the root)."""

    def __init__(self, root: int, interval: float = 0.01, skip=(), timeline: bool = False):
        self.root = root
        self.interval = interval
        self.skip = frozenset(skip)
        self.keep_timeline = timeline
        self.peaks = TreePeaks()
        self.session = _session(root)
        self._known: set[int] = set()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="treemem", daemon=True)
        self._t0 = 0.0

    @staticmethod
    def supported() -> bool:
        return os.path.exists(f"/proc/{os.getpid()}/smaps_rollup") and os.path.exists(
            f"/proc/{os.getpid()}/task/{os.getpid()}/children")

    def start(self) -> "TreeSampler":
        self._t0 = time.perf_counter()
        self._thread.start()
        return self

    def stop(self) -> TreePeaks:
        self._stop.set()
        self._thread.join()
        return self.peaks

    def _tree(self) -> set[int]:
        pids: set[int] = set()
        todo = [self.root] + [p for p in self._known if _session(p) == self.session]
        while todo:
            pid = todo.pop()
            if pid in pids:
                continue
            pids.add(pid)
            todo.extend(_children(pid))
        return pids

    def sample(self) -> None:
        """Take one sample now (the thread calls this every interval)."""
        pids = self._tree()
        self._known |= pids
        rss_sum = pss_sum = n = 0
        peaks = self.peaks
        for pid in pids:
            if pid in self.skip:
                continue
            got = _read_rollup(pid)
            if got is None:
                self._known.discard(pid)
                continue
            rss, pss = got
            rss_sum += rss
            pss_sum += pss
            n += 1
            peaks.rss_single_kb = max(peaks.rss_single_kb, rss)
        peaks.rss_sum_kb = max(peaks.rss_sum_kb, rss_sum)
        peaks.pss_sum_kb = max(peaks.pss_sum_kb, pss_sum)
        peaks.max_processes = max(peaks.max_processes, n)
        peaks.samples += 1
        if self.keep_timeline:
            peaks.timeline.append((time.perf_counter() - self._t0, rss_sum, pss_sum, n))

    def _run(self) -> None:
        while not self._stop.is_set():
            self.sample()
            self._stop.wait(self.interval)


def main(argv=None) -> int:
    import argparse
    p = argparse.ArgumentParser(prog="python -m benchmarks.treemem")
    p.add_argument("--interval", type=float, default=0.01)
    p.add_argument("--timeline", action="store_true",
                   help="also print every sample: seconds, RSS sum, PSS sum (MiB), processes")
    p.add_argument("command", nargs=argparse.REMAINDER)
    args = p.parse_args(argv)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        p.error("no command")
    if not TreeSampler.supported():
        print("treemem: needs Linux /proc smaps_rollup and task children files",
              file=sys.stderr)
        return 2
    proc = subprocess.Popen(command, start_new_session=True)
    sampler = TreeSampler(proc.pid, args.interval, timeline=args.timeline).start()
    rc = proc.wait()
    peaks = sampler.stop()
    if args.timeline:
        for t, rss, pss, n in peaks.timeline:
            print(f"{t:8.3f} {rss / 1024:8.1f} {pss / 1024:8.1f} {n}", file=sys.stderr)
    print(f"treemem: peak tree RSS {peaks.rss_sum_kb / 1024:.1f} MiB, peak tree PSS "
          f"{peaks.pss_sum_kb / 1024:.1f} MiB, largest process {peaks.rss_single_kb / 1024:.1f}"
          f" MiB, up to {peaks.max_processes} processes, {peaks.samples} samples, exit {rc}",
          file=sys.stderr)
    return rc


if __name__ == "__main__":
    raise SystemExit(main())
