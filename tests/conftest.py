"""Fixtures and hooks shared by the whole suite: the engine parameter, and the check that
runs before every test marked `needs_aot` (skip locally, fail under CI=true)."""
import pytest

from pywamr_testlib import ENGINES, require_aot


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "needs_aot: runs on the aot engine (requires llvmlite; fails under CI=true "
                   "when it is missing)")


def pytest_runtest_setup(item):
    if item.get_closest_marker("needs_aot") is not None:
        require_aot()


@pytest.fixture(params=ENGINES)
def engine_kind(request):
    return request.param
