"""Fixtures shared by the whole suite."""
import pytest

from pywamr_testlib import ENGINES


@pytest.fixture(params=ENGINES)
def engine_kind(request):
    return request.param
