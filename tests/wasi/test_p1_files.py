"""Preview-1 file and directory functions on a tmp_path preopen (fd 3)."""
from __future__ import annotations

import os
import struct

import pytest

from pywamr.wasi.p1_abi import ERRNO_NAMES, RIGHTS
from pywamr_testlib import require_wasmtime
from wasi_harness import PywamrWasi

E = {name: number for number, name in enumerate(ERRNO_NAMES)}
READ = RIGHTS["fd_read"] | RIGHTS["fd_seek"] | RIGHTS["fd_tell"] | RIGHTS["fd_readdir"]
WRITE = RIGHTS["fd_write"]
CREAT, DIRECTORY, EXCL, TRUNC = 1, 2, 4, 8
APPEND, NONBLOCK = 1, 4


@pytest.fixture(params=["pywamr", "wasmtime"])
def guest(request, make_guest, sandbox):
    """Each test runs on pywamr and, as the reference, on wasmtime."""
    if request.param == "pywamr":
        return make_guest()
    require_wasmtime()
    from wasi_harness import Guest, WasmtimeWasi
    return Guest(WasmtimeWasi(preopens=[(sandbox, "/sandbox")]))


def is_pywamr(guest) -> bool:
    """Where pywamr deliberately differs: errno instead of a trap for bad enums and pointers,
    and real inode numbers where wasmtime reports hashes."""
    return isinstance(guest.host, PywamrWasi)


def fdstat(guest, fd):
    assert guest.host.call("fd_fdstat_get", fd, 64) == 0
    return struct.unpack("<BxHxxxxQQ", guest.host.read(64, 24))


def filestat(guest, fd=None, path=None, follow=1):
    if path is None:
        errno = guest.host.call("fd_filestat_get", fd, 64)
    else:
        errno = guest.host.call("path_filestat_get", 3, follow, *guest.put(path.encode()), 64)
    if errno:
        return errno
    return dict(zip(("dev", "ino", "type", "nlink", "size", "atim", "mtim", "ctim"),
                    struct.unpack("<QQBxxxxxxxQQQQQ", guest.host.read(64, 64))))


def readdir(guest, fd, cookie=0, size=4096):
    assert guest.host.call("fd_readdir", fd, 8000, size, cookie, 64) == 0
    data = guest.host.read(8000, guest.u32())
    entries, offset = [], 0
    while offset + 24 <= len(data):
        next_cookie, inode, length, kind = struct.unpack_from("<QQIB", data, offset)
        name = data[offset + 24:offset + 24 + length]
        entries.append((next_cookie, inode, kind, name.decode()))
        offset += 24 + length
    return entries, len(data)


def test_preopen_is_fd_3(guest):
    assert guest.host.call("fd_prestat_get", 3, 64) == 0
    assert guest.host.read(64, 8) == struct.pack("<BxxxI", 0, len("/sandbox"))
    assert guest.host.call("fd_prestat_dir_name", 3, 200, 3) == E["nametoolong"]
    assert guest.host.call("fd_prestat_dir_name", 3, 200, 8) == 0
    assert guest.host.read(200, 8) == b"/sandbox"
    assert guest.host.call("fd_prestat_get", 4, 64) == E["badf"]
    assert guest.host.call("fd_prestat_get", 1, 64) == E["badf"]
    filetype, flags, base, inheriting = fdstat(guest, 3)
    assert (filetype, base, inheriting) == (3, 0x07B7FE00, 0x0FF7FFFF)


def test_several_preopens_in_order(make_guest, tmp_path, sandbox):
    other = tmp_path / "other"
    other.mkdir()
    guest = make_guest(preopens=[(str(sandbox), "/a"), (str(other), "b")])
    for fd, name in ((3, b"/a"), (4, b"b")):
        assert guest.host.call("fd_prestat_get", fd, 64) == 0
        assert guest.u32(68) == len(name)
        assert guest.host.call("fd_prestat_dir_name", fd, 200, 10) == 0
        assert guest.host.read(200, len(name)) == name


def test_create_write_seek_read(guest, sandbox):
    errno, fd = guest.open(3, "new.txt", oflags=CREAT | EXCL, rights=READ | WRITE)
    assert (errno, fd) == (0, 4)
    assert guest.write_fd(fd, b"0123456789") == (0, 10)
    assert guest.host.call("fd_tell", fd, 64) == 0 and guest.u64() == 10
    assert guest.host.call("fd_seek", fd, 2, 0, 64) == 0 and guest.u64() == 2
    assert guest.read_fd(fd, 3) == (0, b"234")
    assert guest.host.call("fd_seek", fd, -2, 1, 64) == 0 and guest.u64() == 3
    assert guest.host.call("fd_seek", fd, -1, 2, 64) == 0 and guest.u64() == 9
    assert guest.read_fd(fd, 10) == (0, b"9")
    assert guest.read_fd(fd, 10) == (0, b"")
    assert guest.host.call("fd_seek", fd, -100, 1, 64) == E["inval"]
    if is_pywamr(guest):
        assert guest.host.call("fd_seek", fd, 0, 3, 64) == E["inval"]
    assert guest.close(fd) == 0
    assert guest.close(fd) == E["badf"]
    assert (sandbox / "new.txt").read_bytes() == b"0123456789"
    assert guest.open(3, "new.txt", oflags=CREAT | EXCL)[0] == E["exist"]


def test_scattering_read(guest):
    errno, fd = guest.open(3, "hello.txt", rights=READ)
    guest.host.write(300, struct.pack("<IIII", 5000, 4, 5100, 100))
    assert guest.host.call("fd_read", fd, 300, 2, 64) == 0
    assert guest.host.read(5000, 4) == b"hell"
    if is_pywamr(guest):   # wasmtime fills only the first buffer: also a valid short read
        assert guest.u32() == 11
        assert guest.host.read(5100, 7) == b"o world"


def test_truncate_and_append(guest, sandbox):
    errno, fd = guest.open(3, "hello.txt", oflags=TRUNC, rights=READ | WRITE)
    assert errno == 0
    assert (sandbox / "hello.txt").read_bytes() == b""
    guest.write_fd(fd, b"first")
    errno, appender = guest.open(3, "hello.txt", rights=READ | WRITE, fdflags=APPEND)
    assert fdstat(guest, appender)[1] == APPEND
    assert guest.host.call("fd_seek", appender, 0, 0, 64) == 0
    assert guest.write_fd(appender, b"+more") == (0, 5)
    assert (sandbox / "hello.txt").read_bytes() == b"first+more"


def test_pread_pwrite_keep_position(guest, sandbox):
    errno, fd = guest.open(3, "hello.txt", rights=READ | WRITE)
    address, _ = guest.put(b"J")
    iovec, _ = guest.put(struct.pack("<II", address, 1))
    assert guest.host.call("fd_pwrite", fd, iovec, 1, 6, 64) == 0 and guest.u32() == 1
    buffer, _ = guest.put(bytes(5))
    iovec, _ = guest.put(struct.pack("<II", buffer, 5))
    assert guest.host.call("fd_pread", fd, iovec, 1, 6, 64) == 0 and guest.u32() == 5
    assert guest.host.read(buffer, 5) == b"Jorld"
    assert guest.host.call("fd_tell", fd, 64) == 0 and guest.u64() == 0
    assert (sandbox / "hello.txt").read_bytes() == b"hello Jorld"
    assert guest.host.call("fd_pread", 3, iovec, 1, 0, 64) == E["badf"]


def test_rights_decide_read_and_write(guest):
    errno, read_only = guest.open(3, "hello.txt", rights=READ)
    assert guest.write_fd(read_only, b"x")[0] == E["badf"]
    assert fdstat(guest, read_only)[2] & WRITE == 0
    errno, write_only = guest.open(3, "hello.txt", rights=WRITE)
    assert guest.read_fd(write_only, 1)[0] == E["badf"]
    assert fdstat(guest, write_only)[2] == 0x3FFFFFFF & ~RIGHTS["fd_read"] & ~RIGHTS["fd_readdir"]
    errno, no_rights = guest.open(3, "hello.txt", rights=0)
    assert guest.read_fd(no_rights, 5) == (0, b"hello")
    assert guest.host.call("fd_filestat_set_size", read_only, 0) == E["inval"]


def test_open_errors(guest):
    assert guest.open(3, "missing")[0] == E["noent"]
    assert guest.open(3, "hello.txt", oflags=DIRECTORY)[0] == E["notdir"]
    assert guest.open(3, "hello.txt/")[0] == E["notdir"]
    assert guest.open(3, "sub", rights=WRITE)[0] == E["isdir"]
    assert guest.open(3, "newdir", oflags=DIRECTORY | CREAT)[0] == E["inval"]
    assert guest.open(3, "")[0] == E["noent"]
    assert guest.open(99, "hello.txt")[0] == E["badf"]
    assert guest.open(1, "hello.txt")[0] == E["badf"]
    errno, file_fd = guest.open(3, "hello.txt", rights=READ)
    assert guest.open(file_fd, "x")[0] == E["notdir"]
    address, length = guest.put(b"\xff\xfe")
    assert guest.host.call("path_open", 3, 0, address, length, 0, 0, 0, 0, 64) == E["ilseq"]


def test_open_directory_and_readdir_cookies(guest, sandbox):
    for name in ("a", "b", "c"):
        (sandbox / "sub" / name).write_text(name)
    (sandbox / "sub" / "d").mkdir()
    os.symlink("a", sandbox / "sub" / "link")
    errno, directory = guest.open(3, "sub", oflags=DIRECTORY, rights=READ)
    assert errno == 0
    assert fdstat(guest, directory)[0] == 3
    entries, _ = readdir(guest, directory)
    names = [entry[3] for entry in entries]
    assert names[:2] == [".", ".."]
    assert sorted(names[2:]) == ["a", "b", "c", "d", "link"]
    assert [entry[0] for entry in entries] == list(range(1, 8))
    kinds = {entry[3]: entry[2] for entry in entries}
    assert (kinds["."], kinds["a"], kinds["d"], kinds["link"]) == (3, 4, 3, 7)
    inodes = {entry[3]: entry[1] for entry in entries}
    if is_pywamr(guest):
        assert inodes["a"] == os.stat(sandbox / "sub" / "a").st_ino
        assert inodes["."] == os.stat(sandbox / "sub").st_ino
    # Resuming at every cookie gives the rest of the same listing.
    for cookie in range(len(entries) + 1):
        assert readdir(guest, directory, cookie=cookie)[0] == entries[cookie:]
    assert readdir(guest, directory, cookie=1000)[0] == []
    # A small buffer is filled completely, the last entry cut short.
    _, used = readdir(guest, directory, size=30)
    assert used == 30
    assert guest.host.call("fd_readdir", 1, 100, 100, 0, 64) == E["badf"]
    errno, file_fd = guest.open(3, "hello.txt", rights=READ)
    assert guest.host.call("fd_readdir", file_fd, 100, 100, 0, 64) == E["badf"]
    assert guest.read_fd(directory, 4)[0] == E["badf"]
    assert fdstat(guest, directory)[2] == 0x3FB7FFBB


def test_create_and_remove_directories(guest, sandbox):
    assert guest.path_call("path_create_directory", 3, "made") == 0
    assert (sandbox / "made").is_dir()
    assert guest.path_call("path_create_directory", 3, "made") == E["exist"]
    assert guest.path_call("path_create_directory", 3, "made/inner/") == 0
    assert guest.path_call("path_remove_directory", 3, "made") == E["notempty"]
    assert guest.path_call("path_remove_directory", 3, "hello.txt") == E["notdir"]
    assert guest.path_call("path_remove_directory", 3, "made/inner") == 0
    assert guest.path_call("path_remove_directory", 3, "made") == 0
    assert guest.path_call("path_remove_directory", 3, ".") == E["inval"]
    assert not (sandbox / "made").exists()


def test_unlink(guest, sandbox):
    assert guest.path_call("path_unlink_file", 3, "sub") == E["isdir"]
    assert guest.path_call("path_unlink_file", 3, "hello.txt/") == E["notdir"]
    assert guest.path_call("path_unlink_file", 3, "missing") == E["noent"]
    assert guest.path_call("path_unlink_file", 3, "hello.txt") == 0
    assert not (sandbox / "hello.txt").exists()


def test_rename(guest, sandbox):
    rename = lambda old, new: guest.host.call(  # noqa: E731
        "path_rename", 3, *guest.put(old.encode()), 3, *guest.put(new.encode()))
    assert rename("hello.txt", "sub/moved.txt") == 0
    assert (sandbox / "sub" / "moved.txt").read_bytes() == b"hello world"
    (sandbox / "empty").mkdir()
    assert rename("sub/moved.txt", "empty") == E["isdir"]
    (sandbox / "file").write_text("f")
    assert rename("sub", "file") == E["notdir"]
    assert rename("sub", "sub/inside") == E["inval"]
    assert rename("missing", "x") == E["noent"]
    errno, sub = guest.open(3, "sub", oflags=DIRECTORY, rights=READ)
    assert guest.host.call("path_rename", sub, *guest.put(b"moved.txt"), 3,
                           *guest.put(b"back.txt")) == 0
    assert (sandbox / "back.txt").exists()


def test_hard_links(guest, sandbox):
    link = lambda old, new, flags=0: guest.host.call(  # noqa: E731
        "path_link", 3, flags, *guest.put(old.encode()), 3, *guest.put(new.encode()))
    assert link("hello.txt", "again.txt") == 0
    assert os.stat(sandbox / "again.txt").st_ino == os.stat(sandbox / "hello.txt").st_ino
    assert filestat(guest, path="hello.txt")["nlink"] == 2
    assert link("hello.txt", "again.txt") == E["exist"]
    assert link("sub", "subagain") == E["perm"]
    assert link("hello.txt", "x", flags=1) == E["inval"]
    os.symlink("hello.txt", sandbox / "sym")
    assert link("sym", "symlink-copy") == 0
    assert os.path.islink(sandbox / "symlink-copy")


def test_symlinks_and_readlink(guest, sandbox):
    symlink = lambda target, path: guest.host.call(  # noqa: E731
        "path_symlink", *guest.put(target.encode()), 3, *guest.put(path.encode()))
    assert symlink("hello.txt", "link") == 0
    assert os.readlink(sandbox / "link") == "hello.txt"
    assert symlink("hello.txt", "link") == E["exist"]
    assert symlink("x", "slash/") == E["noent"]
    assert guest.path_call("path_readlink", 3, "link", 300, 100, 64) == 0
    assert guest.u32() == 9 and guest.host.read(300, 9) == b"hello.txt"
    assert guest.path_call("path_readlink", 3, "link", 300, 4, 64) == 0
    assert guest.u32() == 4 and guest.host.read(300, 4) == b"hell"
    assert guest.path_call("path_readlink", 3, "hello.txt", 300, 100, 64) == E["inval"]
    if is_pywamr(guest):
        assert guest.path_call("path_readlink", 3, "link", 2 * 65536 - 2, 100, 64) == E["fault"]
    # Opening follows the link only with SYMLINK_FOLLOW.
    assert guest.open(3, "link", rights=READ, lookup=0)[0] == E["loop"]
    errno, fd = guest.open(3, "link", rights=READ)
    assert guest.read_fd(fd, 5) == (0, b"hello")
    assert filestat(guest, path="link", follow=0)["type"] == 7
    assert filestat(guest, path="link", follow=1)["type"] == 4
    assert guest.path_call("path_unlink_file", 3, "link") == 0
    assert (sandbox / "hello.txt").exists()
    # Dangling links: CREAT creates the target; CREAT|EXCL refuses.
    assert symlink("target.txt", "dangling") == 0
    assert guest.open(3, "dangling", oflags=CREAT | EXCL, rights=WRITE)[0] == E["exist"]
    assert guest.open(3, "dangling", oflags=CREAT, rights=WRITE)[0] == 0
    assert (sandbox / "target.txt").exists()


def test_intermediate_symlinks_are_followed_inside(guest, sandbox):
    (sandbox / "sub" / "inner.txt").write_text("inner")
    os.symlink("sub", sandbox / "alias")
    os.symlink("../hello.txt", sandbox / "sub" / "up")
    errno, fd = guest.open(3, "alias/inner.txt", rights=READ)
    assert guest.read_fd(fd, 10) == (0, b"inner")
    errno, fd = guest.open(3, "alias/up", rights=READ)
    assert guest.read_fd(fd, 5) == (0, b"hello")
    assert filestat(guest, path="alias/", follow=0)["type"] == 3
    for path in ("sub/../hello.txt", "./sub/./../hello.txt", "sub//..//hello.txt"):
        assert guest.open(3, path, rights=READ)[0] == 0, path


def test_filestat_and_set_times(guest, sandbox):
    stat = filestat(guest, path="hello.txt")
    host = os.stat(sandbox / "hello.txt")
    assert (stat["type"], stat["size"], stat["nlink"]) == (4, 11, 1)
    assert stat["ino"] == host.st_ino or not is_pywamr(guest)
    assert stat["mtim"] == host.st_mtime_ns
    assert filestat(guest, path="sub")["type"] == 3
    assert filestat(guest, path="missing") == E["noent"]
    assert filestat(guest, path="hello.txt/") == E["notdir"]
    set_times = lambda path, atim, mtim, flags, follow=0: guest.host.call(  # noqa: E731
        "path_filestat_set_times", 3, follow, *guest.put(path.encode()), atim, mtim, flags)
    assert set_times("hello.txt", 5_000_000_000, 7_000_000_000, 1 | 4) == 0
    stat = filestat(guest, path="hello.txt")
    assert (stat["atim"], stat["mtim"]) == (5_000_000_000, 7_000_000_000)
    assert set_times("hello.txt", 0, 9_000_000_000, 4) == 0
    stat = filestat(guest, path="hello.txt")
    assert (stat["atim"], stat["mtim"]) == (5_000_000_000, 9_000_000_000)
    assert set_times("hello.txt", 0, 0, 2) == 0
    assert filestat(guest, path="hello.txt")["atim"] > 1_000_000_000_000_000_000
    assert set_times("hello.txt", 0, 0, 1 | 2) == E["inval"]
    assert set_times("hello.txt", 0, 0, 4 | 8) == E["inval"]
    errno, fd = guest.open(3, "hello.txt", rights=READ | WRITE)
    assert guest.host.call("fd_filestat_set_times", fd, 3_000_000_000, 0, 1) == 0
    assert filestat(guest, fd=fd)["atim"] == 3_000_000_000
    assert guest.host.call("fd_filestat_set_times", 3, 3_000_000_000, 0, 1) == 0
    assert guest.host.call("fd_filestat_set_times", 1, 0, 0, 2) == E["badf"]
    assert filestat(guest, fd=1)["type"] == 0


def test_set_size_allocate_advise_sync(guest, sandbox):
    errno, fd = guest.open(3, "hello.txt", rights=READ | WRITE)
    assert guest.host.call("fd_filestat_set_size", fd, 5) == 0
    assert (sandbox / "hello.txt").read_bytes() == b"hello"
    assert guest.host.call("fd_filestat_set_size", fd, 8) == 0
    assert (sandbox / "hello.txt").read_bytes() == b"hello\0\0\0"
    assert guest.host.call("fd_filestat_set_size", 3, 0) == E["badf"]
    assert guest.host.call("fd_allocate", fd, 0, 100) == E["notsup"]
    assert guest.host.call("fd_allocate", 3, 0, 100) == E["badf"]
    assert guest.host.call("fd_advise", fd, 0, 0, 1) == 0
    if is_pywamr(guest):
        assert guest.host.call("fd_advise", fd, 0, 0, 6) == E["inval"]
    assert guest.host.call("fd_advise", 3, 0, 0, 0) == E["badf"]
    assert guest.host.call("fd_sync", fd) == 0
    assert guest.host.call("fd_datasync", fd) == 0
    assert guest.host.call("fd_sync", 3) == E["badf"]
    assert guest.host.call("fd_sync", 1) == E["badf"]


def test_fdstat_flags_and_rights(guest):
    errno, fd = guest.open(3, "hello.txt", rights=READ | WRITE)
    assert fdstat(guest, fd) == (4, 0, 0x3FFFFFFF, 0x3FFFFFFF)
    assert guest.host.call("fd_fdstat_set_flags", fd, APPEND | NONBLOCK) == 0
    assert fdstat(guest, fd)[1] == APPEND | NONBLOCK
    assert guest.host.call("fd_fdstat_set_flags", fd, 0) == 0
    assert fdstat(guest, fd)[1] == 0
    assert guest.host.call("fd_fdstat_set_flags", fd, 16) == E["inval"]
    assert guest.host.call("fd_fdstat_set_flags", 3, 0) == E["badf"]
    assert guest.host.call("fd_fdstat_set_flags", 1, 0) == E["badf"]
    assert guest.host.call("fd_fdstat_set_rights", fd, 0, 0) == E["notsup"]
    assert guest.host.call("fd_fdstat_set_rights", 3, 0, 0) == E["notsup"]
    assert guest.host.call("fd_fdstat_set_rights", 1, 0, 0) == E["badf"]


def test_descriptor_numbering_close_and_renumber(guest, sandbox):
    first = guest.open(3, "hello.txt", rights=READ)[1]
    second = guest.open(3, "hello.txt", rights=READ)[1]
    assert (first, second) == (4, 5)
    assert guest.close(first) == 0
    assert guest.open(3, "hello.txt", rights=READ)[1] == 4
    (sandbox / "other.txt").write_text("other")
    other = guest.open(3, "other.txt", rights=READ)[1]
    assert guest.host.call("fd_renumber", other, 4) == 0
    assert guest.read_fd(4, 5) == (0, b"other")
    assert guest.read_fd(other, 5)[0] == E["badf"]
    assert guest.host.call("fd_renumber", 4, 4) == 0
    assert guest.host.call("fd_renumber", 4, 77) == E["badf"]
    assert guest.close(3) == 0
    assert guest.host.call("fd_prestat_get", 3, 64) == E["badf"]


def test_huge_offsets_and_times_are_errors_not_exceptions(guest):
    errno, fd = guest.open(3, "hello.txt", rights=READ | WRITE)
    assert guest.host.call("fd_seek", fd, (1 << 63) - 1, 1, 64) in (0, E["inval"])
    assert guest.host.call("fd_seek", fd, 0, 0, 64) == 0
    assert guest.host.call("fd_filestat_set_size", fd, 1 << 63) in (E["inval"], E["fbig"])
    assert guest.host.call("fd_filestat_set_times", fd, (1 << 64) - 1, 0, 1) in (0, E["inval"])
    assert guest.host.call("fd_advise", fd, (1 << 64) - 1, (1 << 64) - 1, 0) in (0, E["inval"])
    assert guest.host.call("fd_pread", fd, 100, 0, (1 << 64) - 1, 64) in (E["inval"], 0)
