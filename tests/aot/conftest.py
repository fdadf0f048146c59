"""Fixtures of the AOT tests. (Whether the aot engine is there is checked by aot_testlib,
which every test module here imports first: a module-level skip, or under CI=true a failure,
cannot be raised from a conftest.)"""
from __future__ import annotations

import pytest


@pytest.fixture
def cache_dir(tmp_path):
    return tmp_path / "cache"
