"""Fixtures for the WASI tests: a pywamr preview-1 host over a tmp_path sandbox."""
from __future__ import annotations

import io
import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(__file__))

from wasi_harness import Guest, PywamrWasi  # noqa: E402

from pywamr.wasi import WasiConfig  # noqa: E402


@pytest.fixture
def sandbox(tmp_path):
    """A directory to preopen (`box`) beside a secret file the guest must never reach."""
    box = tmp_path / "box"
    box.mkdir()
    (tmp_path / "secret.txt").write_text("TOP SECRET")
    (box / "hello.txt").write_bytes(b"hello world")
    (box / "sub").mkdir()
    return box


@pytest.fixture
def make_guest(sandbox):
    """Build a Guest over pywamr's host; keyword arguments go to WasiConfig."""
    hosts = []

    def make(**options) -> Guest:
        options.setdefault("stdout", io.BytesIO())
        options.setdefault("stderr", io.BytesIO())
        config = WasiConfig(**options)
        if not config.preopens:
            config.preopen_dir(sandbox, "/sandbox")
        host = PywamrWasi(config)
        hosts.append(host)
        return Guest(host)

    yield make
    for host in hosts:
        host.close()


@pytest.fixture
def guest(make_guest) -> Guest:
    return make_guest()
