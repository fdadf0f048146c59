"""Helpers of the AOT tests: build modules from WAT and instantiate them on the aot engine."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from pywamr_testlib import aot_available, wat  # noqa: E402

if not aot_available():
    pytest.skip("the aot engine is not available", allow_module_level=True)


@pytest.fixture
def cache_dir(tmp_path):
    return tmp_path / "cache"
