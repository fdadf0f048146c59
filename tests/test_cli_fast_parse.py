"""`cli/run.parse_simple`, the argparse-free parse of plain `pywamr run` command lines, against
the argparse parser it stands in for: the same namespace for every line it accepts, None (so
argparse decides) for the rest."""
from __future__ import annotations

import pytest

from pywamr.cli.main import build_parser
from pywamr.cli.run import parse_simple

ACCEPTED = [
    ["m.wasm"],
    ["m.wasm", "a", "b"],
    ["m.wasm", "--engine", "aot"],          # after the module: the guest's arguments
    ["m.wasm", "-h"],
    ["m.wasm", "-x", "--dir=/"],
    ["--engine", "aot", "m.wasm"],
    ["--engine=interp", "m.wasm", "x"],
    ["--engine", "auto", "--engine", "aot", "m.wasm"],
    ["--no-cache", "m.wasm"],
    ["--cache-dir", "/tmp/c", "--no-cache", "m.wasm", "1"],
    ["--cache-dir=/tmp/c", "m.wasm"],
    ["--dir", "/a", "--dir", "/b::/g", "--dir=/c", "m.wasm"],
    ["--env", "A=1", "--env=B", "m.wasm"],
    ["--allow-net", "10.0.0.0/8", "--allow-dns", "m.wasm"],
    ["--invoke", "add", "m.wasm", "1", "2"],
    ["--invoke=f(1, 2)", "c.wasm"],
]

REFUSED = [
    [],                                  # no module: argparse says so
    ["--engine"],
    ["--engine", "bogus", "m.wasm"],
    ["--engine=", "m.wasm"],
    ["--eng", "aot", "m.wasm"],          # an abbreviation argparse accepts
    ["-h"],
    ["--help"],
    ["--", "m.wasm"],
    ["m.wasm", "--", "x"],               # argparse drops the `--`
    ["--cache-dir", "-c", "m.wasm"],
    ["--env=-x", "m.wasm"],
    ["--precompiled-dir", "b", "c.wasm"],
    ["--no-cache=1", "m.wasm"],
    ["--invoke", "f"],
]


def _argparse(argv):
    return vars(build_parser(only="run").parse_args(["run", *argv]))


@pytest.mark.parametrize("argv", ACCEPTED, ids=" ".join)
def test_plain_lines_parse_as_argparse_does(argv):
    fast = parse_simple(list(argv))
    assert fast is not None, "a plain command line should not need argparse"
    # every attribute, defaults included: a new option of `run` fails here until
    # parse_simple sets its default too
    assert vars(fast) == _argparse(argv)


@pytest.mark.parametrize("argv", REFUSED, ids=lambda a: " ".join(a) or "(empty)")
def test_other_lines_are_left_to_argparse(argv):
    assert parse_simple(list(argv)) is None

