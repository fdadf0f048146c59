"""Running one measured process: wall time, exit status, output and that child's own max RSS
(and, on request, the peak RSS and PSS of its whole process tree: `treemem.py`)."""
from __future__ import annotations

import os
import re
import signal
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass, field

TIME_RE = re.compile(r"^time_ns:\s*(\d+)\s*$", re.M)
CHECKSUM_RE = re.compile(r"^checksum:\s*(.*?)\s*$", re.M)


@dataclass
class ProcResult:
    argv: list[str]
    returncode: int
    wall_s: float
    maxrss_kb: int
    stdout: str
    stderr: str
    timed_out: bool = False
    extra: dict = field(default_factory=dict)

    @property
    def guest_ns(self) -> int | None:
        m = TIME_RE.search(self.stdout)
        return int(m.group(1)) if m else None

    @property
    def checksum(self) -> str | None:
        m = CHECKSUM_RE.search(self.stdout)
        return m.group(1) if m else None

    def error(self) -> str | None:
        """None when the run succeeded, else a one-line reason."""
        if self.timed_out:
            return f"timed out after {self.wall_s:.0f} s"
        if self.returncode != 0:
            return f"exit {self.returncode}: {last_line(self.stderr) or last_line(self.stdout)}"
        return None


def last_line(text: str) -> str:
    lines = [ln.strip() for ln in text.strip().splitlines() if ln.strip()]
    return lines[-1][:200] if lines else ""


GNU_TIME = "/usr/bin/time"


def run(argv: list[str], *, env: dict | None = None, cwd=None, timeout: float = 300.0,
        rss: bool = False, tree: bool = False) -> ProcResult:
    """Run argv to completion; measure wall time from spawn to reap, and the max RSS.

    The rusage of os.wait4 is the child's own, but on Linux a child's max RSS starts from the
    RSS of the process that forked it (this runner, ~20 MiB), so with rss=True the command runs
    under GNU time (`/usr/bin/time -f %M`, a small C program: ~1.5 MiB floor, ~1.3 ms of extra
    wall time) when it is installed, and its %M is reported instead. With tree=True the whole
    process tree is sampled every 10 ms (`treemem.TreeSampler`, the GNU time wrapper left out)
    and `extra` gets "tree_rss_kb", "tree_pss_kb" (peaks of the sums over the tree) and
    "tree_single_kb" (the largest single process seen)."""
    full_env = dict(os.environ)
    # Every runtime is timed as installed software runs: with Python's bytecode cache. A shell
    # that sets PYTHONDONTWRITEBYTECODE would otherwise make each run recompile every module.
    full_env.pop("PYTHONDONTWRITEBYTECODE", None)
    if env:
        full_env.update(env)
    rss_file = None
    cmd = list(argv)
    if rss and os.access(GNU_TIME, os.X_OK):
        fd, rss_file = tempfile.mkstemp(prefix="bench-rss-")
        os.close(fd)
        cmd = [GNU_TIME, "-f", "%M", "-o", rss_file] + cmd
    t0 = time.perf_counter()
    try:
        p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=full_env,
                             cwd=cwd, stdin=subprocess.DEVNULL, start_new_session=True)
    except OSError as exc:
        return ProcResult(argv, 127, 0.0, 0, "", f"cannot start: {exc}")
    sampler = None
    if tree:
        from .treemem import TreeSampler
        if TreeSampler.supported():
            sampler = TreeSampler(p.pid, skip={p.pid} if rss_file else ()).start()
    out_chunks: list[bytes] = []
    err_chunks: list[bytes] = []

    def pump(stream, sink):
        for chunk in iter(lambda: stream.read(65536), b""):
            sink.append(chunk)

    threads = [threading.Thread(target=pump, args=(p.stdout, out_chunks), daemon=True),
               threading.Thread(target=pump, args=(p.stderr, err_chunks), daemon=True)]
    for t in threads:
        t.start()
    timed_out = threading.Event()

    def kill():
        timed_out.set()
        try:
            os.killpg(p.pid, signal.SIGKILL)
        except OSError:
            pass

    timer = threading.Timer(timeout, kill)
    timer.start()
    try:
        _, status, rusage = os.wait4(p.pid, 0)
    finally:
        timer.cancel()
    wall = time.perf_counter() - t0
    extra = {"cpu_s": rusage.ru_utime + rusage.ru_stime}
    if sampler is not None:
        peaks = sampler.stop()
        extra.update(tree_rss_kb=peaks.rss_sum_kb, tree_pss_kb=peaks.pss_sum_kb,
                     tree_single_kb=peaks.rss_single_kb)
    p.returncode = os.waitstatus_to_exitcode(status)
    for t in threads:
        t.join()
    p.stdout.close()
    p.stderr.close()
    maxrss = int(rusage.ru_maxrss)
    if rss_file:
        try:
            with open(rss_file) as f:
                nums = [ln.strip() for ln in f if ln.strip().isdigit()]
            if nums:
                maxrss = int(nums[-1])
        finally:
            os.unlink(rss_file)
    return ProcResult(argv, p.returncode, wall, maxrss,
                      b"".join(out_chunks).decode("utf-8", "replace"),
                      b"".join(err_chunks).decode("utf-8", "replace"), timed_out.is_set(),
                      extra)
