"""Tests of components built by real toolchains (tests/fixtures/toolchains)."""
