"""Tests of the WASI 0.2 host (pywamr.wasi.p2): a package, so that module names such as
`test_cli` and `test_host` do not clash with those of other test directories."""
