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


@pytest.fixture
def fuzz_tools():
    """The fuzzer's external tools (wasm-tools, the wasmtime package): a skip naming what is
    missing, or a failure under CI=true, where the README's set-up installs them."""
    import sys
    from pywamr_testlib import ROOT
    if str(ROOT) not in sys.path:     # `fuzz/` is a top-level package of the checkout
        sys.path.insert(1, str(ROOT))
    from fuzz.tools import in_ci, missing_tools
    why = missing_tools()
    if why:
        if in_ci():
            pytest.fail(f"CI=true and the fuzzer cannot run: {why}")
        pytest.skip(why)
