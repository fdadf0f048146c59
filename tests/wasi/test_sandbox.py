"""Sandbox escapes: every way we know to reach outside a preopened directory must fail.

The preopen is tmp_path/box (fd 3); tmp_path/secret.txt and tmp_path/outside/ lie beside it.
Escapes report EPERM (63) as wasmtime does, symbolic link loops ELOOP (32). After each test
the secret is unchanged and nothing new exists outside the box.
"""
from __future__ import annotations

import os
import struct

import pytest

from pywamr.wasi.p1_abi import ERRNO_NAMES
from pywamr_testlib import require_wasmtime
from wasi_harness import PywamrWasi

E = {name: number for number, name in enumerate(ERRNO_NAMES)}
PERM, LOOP = E["perm"], E["loop"]
READ, WRITE = 2 | 4 | (1 << 14), 64
CREAT, DIRECTORY, EXCL, TRUNC = 1, 2, 4, 8

ESCAPING_PATHS = [
    "..", "../", "../secret.txt", "../../secret.txt", "../../../../../../../etc/passwd",
    "sub/../../secret.txt", "sub/../..", "./../secret.txt", "sub/./.././../secret.txt",
    "sub//..//..//secret.txt", "../box/hello.txt", "../outside", "../outside/",
    "../outside/file.txt",
]
ABSOLUTE_PATHS = ["/", "/etc/passwd", "/sandbox", "/sandbox/hello.txt", "//hello.txt"]


@pytest.fixture(params=["pywamr", "wasmtime"])
def guest(request, make_guest, sandbox):
    """The same escapes run against pywamr and, as the reference, against wasmtime."""
    if request.param == "pywamr":
        return make_guest()
    require_wasmtime()
    from wasi_harness import Guest, WasmtimeWasi
    return Guest(WasmtimeWasi(preopens=[(sandbox, "/sandbox")]))


@pytest.fixture
def world(sandbox, tmp_path):
    """The box plus things outside it, and a snapshot of the outside to compare against."""
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "file.txt").write_text("outside file")
    box = sandbox
    (box / "sub" / "deeper").mkdir()
    os.symlink(str(tmp_path / "secret.txt"), box / "absolute_link")
    os.symlink("../secret.txt", box / "relative_link")
    os.symlink("../../secret.txt", box / "sub" / "nested_link")
    os.symlink("..", box / "parent_link")
    os.symlink("../outside", box / "outside_dir_link")
    os.symlink(str(outside), box / "absolute_dir_link")
    os.symlink("hop2", box / "hop1")
    os.symlink("relative_link", box / "hop2")
    os.symlink("sub/../..", box / "sneaky_dotdot")
    os.symlink("loop_b", box / "loop_a")
    os.symlink("loop_a", box / "loop_b")
    os.symlink("self", box / "self")
    os.symlink(".", box / "dot")
    yield box, tmp_path
    assert (tmp_path / "secret.txt").read_text() == "TOP SECRET"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["box", "outside", "secret.txt"]
    assert sorted(p.name for p in outside.iterdir()) == ["file.txt"]
    assert (outside / "file.txt").read_text() == "outside file"


def stat(guest, path, follow=1, fd=3):
    return guest.host.call("path_filestat_get", fd, follow, *guest.put(path.encode()), 64)


@pytest.mark.parametrize("path", ESCAPING_PATHS + ABSOLUTE_PATHS)
def test_open_escape(world, guest, path):
    for oflags, rights in ((0, READ), (DIRECTORY, READ), (CREAT, READ | WRITE),
                           (CREAT | EXCL, WRITE), (TRUNC, WRITE)):
        for lookup in (0, 1):
            assert guest.open(3, path, oflags=oflags, rights=rights, lookup=lookup)[0] == PERM


@pytest.mark.parametrize("path", ESCAPING_PATHS + ABSOLUTE_PATHS)
def test_path_operations_escape(world, guest, path):
    assert stat(guest, path, 0) == PERM
    assert stat(guest, path, 1) == PERM
    assert guest.path_call("path_create_directory", 3, path + "/made") == PERM
    assert guest.path_call("path_unlink_file", 3, path) == PERM
    assert guest.path_call("path_remove_directory", 3, path) == PERM
    assert guest.path_call("path_readlink", 3, path, 300, 100, 64) == PERM
    assert guest.host.call("path_filestat_set_times", 3, 0, *guest.put(path.encode()),
                           0, 0, 2 | 8) == PERM
    put = lambda text: guest.put(text.encode())  # noqa: E731
    assert guest.host.call("path_rename", 3, *put("hello.txt"), 3, *put(path)) == PERM
    assert guest.host.call("path_rename", 3, *put(path), 3, *put("stolen")) == PERM
    assert guest.host.call("path_link", 3, 0, *put(path), 3, *put("stolen")) == PERM
    assert guest.host.call("path_link", 3, 0, *put("hello.txt"), 3, *put(path)) == PERM
    assert guest.host.call("path_symlink", *put("hello.txt"), 3, *put(path)) == PERM


@pytest.mark.parametrize("link", ["absolute_link", "relative_link", "sub/nested_link", "hop1",
                                  "parent_link/secret.txt", "outside_dir_link/file.txt",
                                  "absolute_dir_link/file.txt", "sneaky_dotdot/secret.txt",
                                  "dot/dot/../secret.txt", "sub/deeper/../../parent_link",
                                  "parent_link/box/hello.txt"])
def test_symlinks_pointing_outside_are_not_followed(world, guest, link):
    assert guest.open(3, link, rights=READ)[0] == PERM
    assert guest.open(3, link, oflags=CREAT, rights=WRITE)[0] == PERM
    assert stat(guest, link, follow=1) == PERM
    assert guest.host.call("path_filestat_set_times", 3, 1, *guest.put(link.encode()),
                           0, 0, 2 | 8) == PERM


def test_links_themselves_stay_visible(world, guest):
    # Without SYMLINK_FOLLOW the link itself is the object: readable as a link, never opened.
    for link in ("absolute_link", "relative_link", "parent_link"):
        assert stat(guest, link, follow=0) == 0
        assert guest.host.read(64 + 16, 1) == b"\x07"
        assert guest.open(3, link, rights=READ, lookup=0)[0] == LOOP
    assert guest.path_call("path_readlink", 3, "relative_link", 300, 100, 64) == 0
    assert guest.host.read(300, guest.u32()) == b"../secret.txt"
    # An absolute target is a host path: not revealed.
    assert guest.path_call("path_readlink", 3, "absolute_link", 300, 100, 64) == PERM
    # Removing a link inside the box is allowed and leaves its target alone.
    assert guest.path_call("path_unlink_file", 3, "absolute_link") == 0


def test_intermediate_symlinks_to_outside_directories(world, guest):
    for path in ("outside_dir_link/file.txt", "absolute_dir_link/file.txt",
                 "parent_link/outside/file.txt"):
        assert guest.open(3, path, rights=READ)[0] == PERM
        assert guest.path_call("path_create_directory", 3, path.rsplit("/", 1)[0] + "/x") == PERM
        assert guest.path_call("path_unlink_file", 3, path) == PERM


def test_symlink_loops(world, guest, sandbox):
    for path in ("loop_a", "loop_b", "self", "loop_a/x", "sub/../self/x"):
        assert guest.open(3, path, rights=READ)[0] == LOOP
        assert stat(guest, path, follow=1) == LOOP
    previous = "hello.txt"
    for index in range(45):
        os.symlink(previous, sandbox / f"chain{index}")
        previous = f"chain{index}"
    assert guest.open(3, "chain38", rights=READ)[0] == 0
    assert guest.open(3, "chain44", rights=READ)[0] == LOOP


def test_dot_link_expansions_stay_inside(world, guest):
    errno, fd = guest.open(3, "dot/dot/dot/sub/../hello.txt", rights=READ)
    assert errno == 0
    assert guest.read_fd(fd, 5) == (0, b"hello")


def test_guest_cannot_plant_escaping_symlinks(world, guest, sandbox):
    put = lambda text: guest.put(text.encode())  # noqa: E731
    assert guest.host.call("path_symlink", *put("/etc/passwd"), 3, *put("planted")) == PERM
    # A relative target is stored (as wasmtime does) but resolution refuses to follow it out.
    assert guest.host.call("path_symlink", *put("../../secret.txt"), 3, *put("sub/planted")) == 0
    assert guest.open(3, "sub/planted", rights=READ)[0] == PERM
    assert guest.open(3, "sub/planted", oflags=CREAT, rights=WRITE)[0] == PERM
    # Hard-linking the planted link copies the link, not the secret.
    assert guest.host.call("path_link", 3, 0, *put("sub/planted"), 3, *put("copy")) == 0
    assert os.path.islink(sandbox / "copy")
    assert guest.open(3, "copy", rights=READ)[0] == PERM
    assert guest.host.call("path_link", 3, 1, *put("relative_link"), 3, *put("c2")) == E["inval"]


def test_nul_and_invalid_utf8(world, guest):
    assert guest.open(3, "hello.txt\0../../secret.txt", rights=READ)[0] == E["inval"]
    assert guest.open(3, "\0", rights=READ)[0] == E["inval"]
    assert stat(guest, "sub\0/x") == E["inval"]
    assert guest.host.call("path_symlink", *guest.put(b"a\0b"), 3, *guest.put(b"l")) == \
        E["inval"]
    assert guest.host.call("path_filestat_get", 3, 1, *guest.put(b"..\xff"), 64) == E["ilseq"]


def test_opened_subdirectory_is_its_own_root(world, guest):
    errno, sub = guest.open(3, "sub", oflags=DIRECTORY, rights=READ)
    assert errno == 0
    assert guest.open(sub, "../hello.txt", rights=READ)[0] == PERM
    assert guest.open(sub, "nested_link", rights=READ)[0] == PERM
    assert stat(guest, "..", fd=sub) == PERM
    assert stat(guest, "deeper/..", fd=sub) == 0


def test_swapped_directory_is_rechecked(world, guest, sandbox, tmp_path):
    errno, held = guest.open(3, "sub", oflags=DIRECTORY, rights=READ)
    os.rename(sandbox / "sub", sandbox / "sub-moved")
    os.symlink(str(tmp_path / "outside"), sandbox / "sub")
    # A path through the swapped-in link is refused; the held descriptor still names the old
    # directory (now sub-moved), which is inside.
    assert guest.open(3, "sub/file.txt", rights=READ)[0] == PERM
    assert stat(guest, "deeper", fd=held) == 0
    os.unlink(sandbox / "sub")


def test_root_listing_reveals_nothing_above(world, guest, sandbox):
    assert guest.host.call("fd_readdir", 3, 8000, 4096, 0, 64) == 0
    data = guest.host.read(8000, guest.u32())
    entries, offset = {}, 0
    while offset + 24 <= len(data):
        _, inode, length, _ = struct.unpack_from("<QQIB", data, offset)
        entries[data[offset + 24:offset + 24 + length].decode()] = inode
        offset += 24 + length
    assert "secret.txt" not in entries
    if isinstance(guest.host, PywamrWasi):   # wasmtime reports hashes, not inode numbers
        assert entries[".."] == entries["."] == os.stat(sandbox).st_ino


def test_dot_and_root_are_allowed(world, guest):
    assert guest.open(3, ".", oflags=DIRECTORY, rights=READ)[0] == 0
    assert guest.open(3, "sub/..", oflags=DIRECTORY, rights=READ)[0] == 0
    assert stat(guest, ".") == 0


@pytest.mark.parametrize("link", ["outside_dir_link/", "absolute_dir_link/", "parent_link/",
                                  "relative_link/", "outside_dir_link//"])
def test_trailing_slash_on_links_pointing_outside(world, guest, link):
    """A trailing slash asks for the directory a link names; outside, that is refused (or
    fails before the link is looked at, as wasmtime does), and nothing outside changes."""
    put = lambda text: guest.put(text.encode())  # noqa: E731
    assert guest.open(3, link, oflags=DIRECTORY, rights=READ)[0] == PERM
    assert guest.open(3, link, rights=READ, lookup=0)[0] == PERM
    assert guest.open(3, link, oflags=CREAT, rights=WRITE)[0] == E["isdir"]
    assert guest.path_call("path_create_directory", 3, link + "x") == PERM
    assert guest.path_call("path_create_directory", 3, link) == E["exist"]
    assert guest.path_call("path_remove_directory", 3, link) == PERM
    assert guest.path_call("path_unlink_file", 3, link) == PERM
    assert guest.path_call("path_readlink", 3, link, 300, 100, 64) == PERM
    for follow in (0, 1):
        assert stat(guest, link, follow) == PERM
        assert guest.host.call("path_filestat_set_times", 3, follow, *put(link), 0, 0,
                               2 | 8) == PERM
    # rename keeps the slash for the kernel, which never follows the link: not a directory.
    assert guest.host.call("path_rename", 3, *put(link), 3, *put("stolen")) == E["notdir"]
    assert guest.host.call("path_rename", 3, *put("sub"), 3, *put(link)) == E["notdir"]
    assert guest.host.call("path_rename", 3, *put("hello.txt"), 3, *put(link)) == E["notdir"]
    assert guest.host.call("path_link", 3, 0, *put(link), 3, *put("stolen")) == PERM
    assert guest.host.call("path_link", 3, 0, *put("hello.txt"), 3, *put(link)) == PERM
    assert guest.host.call("path_symlink", *put("hello.txt"), 3, *put(link)) == PERM
