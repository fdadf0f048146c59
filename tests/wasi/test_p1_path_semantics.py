"""Trailing slashes and fdflags in preview-1 path_* and fd_* calls, pinned to what wasmtime does.

Each test runs on pywamr's host and, as the reference, on wasmtime's (the `guest` fixture),
with the exact results measured on wasmtime 50 written out, so the pywamr half still checks
them when wasmtime is absent. The full matrix (every call x every path shape) is the
`paths` program of tests/fixtures/wasi, compared with wasmtime line by line on both engines
by tests/test_wasi_differential.py; these tests are the readable regression set.
"""
from __future__ import annotations

import os
import struct

import pytest

from pywamr.wasi.p1_abi import ERRNO_NAMES, RIGHTS

E = {name: number for number, name in enumerate(ERRNO_NAMES)}
READ = RIGHTS["fd_read"] | RIGHTS["fd_seek"] | RIGHTS["fd_tell"]
WRITE = RIGHTS["fd_write"]
CREAT, DIRECTORY, EXCL, TRUNC = 1, 2, 4, 8
APPEND, DSYNC, NONBLOCK, RSYNC, SYNC = 1, 2, 4, 8, 16
NO_FOLLOW, FOLLOW = 0, 1


@pytest.fixture(params=["pywamr", "wasmtime"])
def guest(request, make_guest, sandbox):
    """The standard layout in the preopen (fd 3), on pywamr or on wasmtime."""
    (sandbox / "file").write_bytes(b"hello")
    (sandbox / "file2").write_bytes(b"two")
    (sandbox / "dir").mkdir()
    (sandbox / "dir2").mkdir()
    os.symlink("file", sandbox / "lfile")
    os.symlink("dir", sandbox / "ldir")
    os.symlink("missing", sandbox / "ldang")
    if request.param == "pywamr":
        return make_guest()
    pytest.importorskip("wasmtime", reason="wasmtime is the reference for these results")
    from wasi_harness import Guest, WasmtimeWasi
    return Guest(WasmtimeWasi(preopens=[(sandbox, "/sandbox")]))


def fdstat(guest, fd):
    """(filetype, fdflags, has fd_write right) of an open descriptor."""
    assert guest.host.call("fd_fdstat_get", fd, 64) == 0
    filetype, flags, base, _ = struct.unpack("<BxHxxxxQQ", guest.host.read(64, 24))
    return filetype, flags, bool(base & WRITE)


def call2(guest, name, old, new, flags=0):
    """path_link / path_rename / path_symlink with two guest paths."""
    old_ptr, old_len = guest.put(old.encode())
    new_ptr, new_len = guest.put(new.encode())
    if name == "path_link":
        return guest.host.call(name, 3, flags, old_ptr, old_len, 3, new_ptr, new_len)
    if name == "path_rename":
        return guest.host.call(name, 3, old_ptr, old_len, 3, new_ptr, new_len)
    return guest.host.call(name, old_ptr, old_len, 3, new_ptr, new_len)


# ---- fdflags ----------------------------------------------------------------------------

@pytest.mark.parametrize("fdflags", [DSYNC, RSYNC, SYNC, SYNC | APPEND, DSYNC | RSYNC | SYNC])
def test_path_open_with_sync_fdflags_is_not_supported(guest, sandbox, fdflags):
    """Regression: path_open(fdflags=SYNC) used to open with flags 0; wasmtime refuses the
    synchronous-I/O flags with NOTSUP before looking at the path or the other flags."""
    assert guest.open(3, "file", rights=READ | WRITE, fdflags=fdflags)[0] == E["notsup"]
    assert guest.open(3, "dir", oflags=DIRECTORY, fdflags=fdflags)[0] == E["notsup"]
    assert guest.open(3, "missing", fdflags=fdflags)[0] == E["notsup"]
    assert guest.open(3, "new", oflags=CREAT, fdflags=fdflags)[0] == E["notsup"]
    assert guest.open(3, "new", oflags=CREAT | DIRECTORY, fdflags=fdflags)[0] == E["notsup"]
    assert not (sandbox / "new").exists()
    assert guest.open(99, "file", fdflags=fdflags)[0] == E["badf"]


def test_path_open_reports_append_and_nonblock(guest):
    for fdflags in (0, APPEND, NONBLOCK, APPEND | NONBLOCK):
        errno, fd = guest.open(3, "file", rights=READ | WRITE, fdflags=fdflags)
        assert errno == 0
        assert fdstat(guest, fd) == (4, fdflags, True)


def test_fdstat_set_flags_accepts_append_and_nonblock_only(guest):
    errno, fd = guest.open(3, "file", rights=READ | WRITE, fdflags=APPEND)
    for flags in (DSYNC, RSYNC, SYNC, SYNC | APPEND):
        assert guest.host.call("fd_fdstat_set_flags", fd, flags) == E["inval"]
        assert fdstat(guest, fd)[1] == APPEND
    assert guest.host.call("fd_fdstat_set_flags", fd, NONBLOCK) == 0
    assert fdstat(guest, fd)[1] == NONBLOCK
    errno, directory = guest.open(3, "dir", oflags=DIRECTORY, rights=READ)
    for fd in (directory, 3, 0, 1):
        assert guest.host.call("fd_fdstat_set_flags", fd, APPEND) == E["badf"]


def test_write_on_append_descriptor_goes_to_the_end(guest, sandbox):
    errno, fd = guest.open(3, "file", rights=READ | WRITE, fdflags=APPEND)
    assert guest.write_fd(fd, b"AB") == (0, 2)
    assert guest.host.call("fd_seek", fd, 0, 0, 64) == 0
    assert guest.write_fd(fd, b"CD") == (0, 2)
    assert guest.host.call("fd_tell", fd, 64) == 0 and guest.u64() == 9
    assert (sandbox / "file").read_bytes() == b"helloABCD"
    # Switching APPEND off makes writes positional again.
    assert guest.host.call("fd_fdstat_set_flags", fd, 0) == 0
    assert guest.host.call("fd_seek", fd, 0, 0, 64) == 0
    assert guest.write_fd(fd, b"J") == (0, 1)
    assert (sandbox / "file").read_bytes() == b"JelloABCD"


@pytest.mark.parametrize("oflags,path", [(CREAT, "new"), (TRUNC, "file"), (CREAT, "file"),
                                         (CREAT | EXCL, "new")])
def test_creat_or_trunc_open_for_writing_whatever_the_rights(guest, sandbox, oflags, path):
    errno, fd = guest.open(3, path, oflags=oflags, rights=READ)
    assert errno == 0
    assert fdstat(guest, fd) == (4, 0, True)
    assert guest.write_fd(fd, b"W") == (0, 1)
    assert guest.host.call("fd_seek", fd, 0, 0, 64) == 0
    assert guest.read_fd(fd, 9)[1].startswith(b"W")
    errno, write_only = guest.open(3, path, oflags=oflags & ~EXCL, rights=WRITE)
    assert guest.read_fd(write_only, 1)[0] == E["badf"]


# ---- path_open ----------------------------------------------------------------------------

@pytest.mark.parametrize("path", ["new/", "file/", "dir/", "missing/", "ldang/", "ldir/"])
@pytest.mark.parametrize("oflags", [CREAT, CREAT | EXCL, CREAT | TRUNC])
def test_path_open_creat_with_trailing_slash_is_isdir(guest, sandbox, path, oflags):
    assert guest.open(3, path, oflags=oflags, rights=READ)[0] == E["isdir"]
    assert not (sandbox / "new").exists() and not (sandbox / "missing").exists()


def test_path_open_creat_on_the_directory_itself(guest):
    for path in (".", "dir/.", "./"):
        assert guest.open(3, path, oflags=CREAT, rights=READ)[0] == E["isdir"], path
    for path in (".", "dir/.", "./"):
        assert guest.open(3, path, oflags=CREAT | EXCL, rights=READ)[0] == E["exist"], path
    assert guest.open(3, "dir/", oflags=CREAT | DIRECTORY)[0] == E["inval"]


@pytest.mark.parametrize("path", ["lfile", "ldir", "ldang"])
def test_path_open_directory_without_follow_on_a_symlink_is_loop(guest, path):
    assert guest.open(3, path, oflags=DIRECTORY, rights=READ, lookup=NO_FOLLOW)[0] == E["loop"]
    assert guest.open(3, path, rights=READ, lookup=NO_FOLLOW)[0] == E["loop"]
    assert guest.open(3, path, oflags=CREAT | EXCL, lookup=FOLLOW)[0] == E["exist"]


def test_path_open_trailing_slash_without_creat(guest):
    assert guest.open(3, "file/", rights=READ)[0] == E["notdir"]
    assert guest.open(3, "lfile/", rights=READ)[0] == E["notdir"]
    assert guest.open(3, "missing/", rights=READ)[0] == E["noent"]
    for path in ("dir/", "dir//", "ldir/", "dir/./"):
        errno, fd = guest.open(3, path, rights=READ, lookup=NO_FOLLOW)
        assert errno == 0 and fdstat(guest, fd)[0] == 3, path


# ---- path_link ---------------------------------------------------------------------------

@pytest.mark.parametrize("new,errno", [("new/", "noent"), ("ldang/", "noent"),
                                       ("dir/new/", "noent"), ("file2/", "notdir"),
                                       ("lfile/", "notdir"), ("dir2/", "exist"),
                                       ("dir2/.", "exist"), ("ldir/", "exist")])
def test_path_link_to_a_new_path_with_trailing_slash_fails(guest, sandbox, new, errno):
    """Regression: path_link("file", "new/") used to create "new"; a trailing slash names a
    directory, so wasmtime fails (the missing directory: NOENT)."""
    assert call2(guest, "path_link", "file", new) == E[errno]
    assert sorted(os.listdir(sandbox)) == ["dir", "dir2", "file", "file2", "hello.txt",
                                           "ldang", "ldir", "lfile", "sub"]
    assert os.listdir(sandbox / "dir") == [] and os.listdir(sandbox / "dir2") == []


def test_path_link_source_with_trailing_slash(guest):
    assert call2(guest, "path_link", "file/", "new") == E["notdir"]
    assert call2(guest, "path_link", "file/", "missing/x") == E["notdir"]   # source first
    assert call2(guest, "path_link", "dir/", "new") == E["perm"]
    assert call2(guest, "path_link", "dir/", "new/") == E["noent"]
    assert call2(guest, "path_link", "missing", "file2/") == E["notdir"]
    assert call2(guest, "path_link", "file", "new") == 0


# ---- path_unlink_file / path_remove_directory / path_create_directory --------------------

def test_path_unlink_file_with_trailing_slash(guest, sandbox):
    for path, errno in (("file/", "notdir"), ("lfile/", "notdir"), ("dir/", "isdir"),
                        ("ldir/", "isdir"), ("missing/", "noent"), ("file//", "notdir")):
        assert guest.path_call("path_unlink_file", 3, path) == E[errno], path
    assert (sandbox / "file").exists() and os.path.islink(sandbox / "ldir")


def test_path_remove_directory_with_trailing_slash_is_inval(guest, sandbox):
    (sandbox / "full").mkdir()
    (sandbox / "full" / "x").write_text("x")
    for path, errno in (("dir/", "inval"), ("ldir/", "inval"), ("full/", "inval"),
                        ("dir/.", "inval"), ("file/", "notdir"), ("missing/", "noent"),
                        ("full", "notempty"), ("ldir", "notdir")):
        assert guest.path_call("path_remove_directory", 3, path) == E[errno], path
    assert (sandbox / "dir").is_dir()
    assert guest.path_call("path_remove_directory", 3, "dir") == 0


def test_path_create_directory_ignores_a_trailing_slash(guest, sandbox):
    assert guest.path_call("path_create_directory", 3, "made/") == 0
    assert guest.path_call("path_create_directory", 3, "made//") == E["exist"]
    assert guest.path_call("path_create_directory", 3, "file/") == E["exist"]
    assert guest.path_call("path_create_directory", 3, "ldang/") == E["exist"]
    assert (sandbox / "made").is_dir() and not (sandbox / "missing").exists()


# ---- path_rename --------------------------------------------------------------------------

def test_path_rename_keeps_trailing_slashes_for_the_kernel(guest, sandbox):
    for old, new, errno in (("ldir/", "new", "notdir"), ("ldir/", "dir2", "notdir"),
                            ("dir", "ldang/", "notdir"), ("file", "new/", "notdir"),
                            ("file/", "new", "notdir"), ("lfile/", "new", "notdir"),
                            ("missing/", "new", "noent")):
        assert call2(guest, "path_rename", old, new) == E[errno], (old, new)
    assert os.path.islink(sandbox / "ldir") and not (sandbox / "missing").exists()
    assert call2(guest, "path_rename", "dir/", "new/") == 0
    assert (sandbox / "new").is_dir()
    assert call2(guest, "path_rename", "new", "dir2/") == 0
    assert (sandbox / "dir2").is_dir() and not (sandbox / "new").exists()


# ---- path_symlink / path_readlink / path_filestat_* ---------------------------------------

def test_path_symlink_new_path_with_trailing_slash(guest, sandbox):
    for target, new, errno in (("file", "new/", "noent"), ("file", "file2/", "notdir"),
                               ("file", "lfile/", "notdir"), ("file", "dir2/", "exist"),
                               ("file", "ldang/", "noent"), ("", ".", "noent"),
                               ("file", ".", "exist")):
        assert call2(guest, "path_symlink", target, new) == E[errno], (target, new)
    assert not (sandbox / "new").exists() and not (sandbox / "missing").exists()


def test_readlink_and_set_times_with_trailing_slash(guest):
    for path, errno in (("file/", "notdir"), ("lfile/", "notdir"), ("ldir/", "inval"),
                        ("missing/", "noent"), ("ldir", 0)):
        assert guest.path_call("path_readlink", 3, path, 300, 100, 64) == E.get(errno, 0), path
    for follow in (NO_FOLLOW, FOLLOW):
        for path, errno in (("file/", "notdir"), ("lfile/", "notdir"), ("ldang/", "noent"),
                            ("dir/", 0), ("ldir/", 0)):
            result = guest.host.call("path_filestat_set_times", 3, follow,
                                     *guest.put(path.encode()), 5_000_000_000, 7_000_000_000,
                                     1 | 4)
            assert result == E.get(errno, 0), (path, follow)


# ---- the descriptor a path call starts from; positional I/O on the standard streams -----

def test_path_calls_from_a_file_descriptor(guest):
    """path_open from a file is NOT_DIRECTORY; every other path_* call says BAD_DESCRIPTOR."""
    errno, fd = guest.open(3, "file", rights=READ)
    put = lambda text: guest.put(text.encode())  # noqa: E731
    assert guest.open(fd, "x")[0] == E["notdir"]
    for name in ("path_create_directory", "path_remove_directory", "path_unlink_file"):
        assert guest.path_call(name, fd, "x") == E["badf"], name
    assert guest.path_call("path_readlink", fd, "x", 300, 10, 64) == E["badf"]
    assert guest.host.call("path_filestat_get", fd, 1, *put("x"), 64) == E["badf"]
    assert guest.host.call("path_filestat_set_times", fd, 1, *put("x"), 0, 0, 2) == E["badf"]
    assert guest.host.call("path_link", fd, 0, *put("x"), 3, *put("y")) == E["badf"]
    assert guest.host.call("path_link", 3, 0, *put("file"), fd, *put("y")) == E["badf"]
    assert guest.host.call("path_rename", fd, *put("x"), 3, *put("y")) == E["badf"]
    assert guest.host.call("path_rename", 3, *put("file"), fd, *put("y")) == E["badf"]
    assert guest.host.call("path_symlink", *put("x"), fd, *put("y")) == E["badf"]
    assert guest.path_call("path_create_directory", 1, "x") == E["badf"]


def test_positional_io_on_standard_streams(guest):
    """pread/pwrite on a stream it could read/write: INVALID_SEEK; otherwise BAD_DESCRIPTOR."""
    address, _ = guest.put(b"XY")
    iovec, _ = guest.put(struct.pack("<II", address, 2))
    assert guest.host.call("fd_pread", 0, iovec, 1, 0, 64) == E["spipe"]
    assert guest.host.call("fd_pwrite", 0, iovec, 1, 0, 64) == E["badf"]
    for fd in (1, 2):
        assert guest.host.call("fd_pread", fd, iovec, 1, 0, 64) == E["badf"]
        assert guest.host.call("fd_pwrite", fd, iovec, 1, 0, 64) == E["spipe"]


# ---- undefined flag bits: wasmtime traps, pywamr says INVALID (deliberate difference) ----

UNDEFINED_FLAG_CALLS = [
    ("path_open lookupflags", lambda g: g.open(3, "file", lookup=2)[0]),
    ("path_open oflags", lambda g: g.open(3, "file", oflags=16)[0]),
    ("path_open fdflags", lambda g: g.open(3, "file", fdflags=32)[0]),
    ("path_filestat_get lookupflags",
     lambda g: g.host.call("path_filestat_get", 3, 2, *g.put(b"file"), 64)),
    ("path_filestat_set_times lookupflags",
     lambda g: g.host.call("path_filestat_set_times", 3, 2, *g.put(b"file"), 0, 0, 2)),
    ("path_filestat_set_times fstflags",
     lambda g: g.host.call("path_filestat_set_times", 3, 0, *g.put(b"file"), 0, 0, 16)),
    ("fd_filestat_set_times fstflags",
     lambda g: g.host.call("fd_filestat_set_times", 3, 0, 0, 16 | 2)),
    ("path_link lookupflags",
     lambda g: g.host.call("path_link", 3, 2, *g.put(b"file"), 3, *g.put(b"new"))),
]


@pytest.mark.parametrize("label,call", UNDEFINED_FLAG_CALLS,
                         ids=[label for label, _ in UNDEFINED_FLAG_CALLS])
def test_undefined_flag_bits(guest, sandbox, label, call):
    """Documented in tests/fixtures/wasi/README.md: wasmtime traps on a flags value with
    undefined bits; pywamr returns INVALID and does nothing (it used to ignore the bits)."""
    from wasi_harness import PywamrWasi
    if isinstance(guest.host, PywamrWasi):
        assert call(guest) == E["inval"]
    else:
        import wasmtime
        with pytest.raises(wasmtime.WasmtimeError):
            call(guest)
    assert not (sandbox / "new").exists()
