"""An LLVM worker whose parent is gone (it exited while a chunk compiled) leaves quietly: no
Python traceback reaches the user's terminal through the inherited stderr."""
from __future__ import annotations

import os
import struct
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_worker_reply_to_a_gone_parent_is_silent():
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    read_end, write_end = os.pipe()
    worker = subprocess.Popen([sys.executable, "-m", "pywamr.aot.worker", "--serve"],
                              stdin=subprocess.PIPE, stdout=write_end,
                              stderr=subprocess.PIPE, env=env)
    os.close(write_end)
    os.close(read_end)          # nobody will read the reply
    text = b"this is not LLVM IR"   # a compile error: its reply is written all the same
    _, err = worker.communicate(struct.pack("<I", len(text)) + text, timeout=120)
    assert worker.returncode == 0
    assert b"Traceback" not in err and b"BrokenPipe" not in err, err.decode()
