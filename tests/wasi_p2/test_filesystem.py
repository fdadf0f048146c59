"""Unit tests of `wasi:filesystem` (descriptor methods, directory entries, preopens, error
codes) over the preview-1 sandbox, calling the host functions with canonical ABI values."""
from __future__ import annotations

import os

import pytest

from pywamr.wasi import WasiConfig

from .p2_testlib import Host


T = "wasi:filesystem/types"
S = "wasi:io/streams"
NOFOLLOW, FOLLOW = frozenset(), frozenset({"symlink-follow"})
RW = frozenset({"read", "write"})


@pytest.fixture
def fs(tmp_path):
    root = tmp_path / "root"
    root.mkdir()
    (root / "hello.txt").write_bytes(b"hello, world\n")
    (root / "sub").mkdir()
    (root / "sub" / "inner.txt").write_bytes(b"inner")
    (tmp_path / "secret.txt").write_text("outside")
    host = Host(WasiConfig().preopen_dir(root, "/sandbox"))
    [(d, guest)] = host.call("wasi:filesystem/preopens", "get-directories")
    assert guest == "/sandbox"
    return host, d, root


def m(host, name, *args):
    return host.call(T, f"[method]descriptor.{name}", *args)


def open_file(host, d, path, flags=frozenset({"read"}), oflags=frozenset()):
    label, value = m(host, "open-at", d, NOFOLLOW, path, oflags, flags)
    assert label == "ok", value
    return value


def test_preopen_is_a_mutable_readable_directory(fs):
    host, d, _ = fs
    assert m(host, "get-type", d) == ("ok", "directory")
    assert m(host, "get-flags", d) == ("ok", frozenset({"read", "mutate-directory"}))


def test_preopens_can_be_fetched_again_after_a_drop(fs):
    host, d, _ = fs
    host.drop("descriptor", d)
    [(again, _)] = host.call("wasi:filesystem/preopens", "get-directories")
    assert m(host, "stat-at", again, NOFOLLOW, "hello.txt")[0] == "ok"


def test_read_write_and_stat_a_file(fs):
    host, d, root = fs
    f = open_file(host, d, "new.bin", RW, frozenset({"create", "exclusive"}))
    assert m(host, "write", f, b"abcdef", 0) == ("ok", 6)
    assert m(host, "write", f, b"XY", 2) == ("ok", 2)
    assert m(host, "read", f, 100, 0) == ("ok", (b"abXYef", False))
    assert m(host, "read", f, 4, 6) == ("ok", (b"", True))
    assert m(host, "set-size", f, 3) == ("ok", None)
    label, stat = m(host, "stat", f)
    assert label == "ok" and stat["type"] == "regular-file" and stat["size"] == 3
    assert stat["link-count"] == 1
    assert stat["data-modification-timestamp"][0] == "some"
    assert (root / "new.bin").read_bytes() == b"abX"
    assert m(host, "get-flags", f) == ("ok", RW)
    assert m(host, "sync", f) == ("ok", None)
    assert m(host, "sync-data", f) == ("ok", None)
    assert m(host, "advise", f, 0, 3, "sequential") == ("ok", None)


def test_permissions_of_a_read_only_file(fs):
    host, d, _ = fs
    f = open_file(host, d, "hello.txt")
    assert m(host, "write", f, b"x", 0) == ("error", "bad-descriptor")
    assert m(host, "set-size", f, 0) == ("error", "invalid")      # as wasmtime
    assert m(host, "write-via-stream", f, 0) == ("error", "bad-descriptor")
    assert m(host, "append-via-stream", f) == ("error", "bad-descriptor")
    assert m(host, "read-directory", f) == ("error", "not-directory")
    assert m(host, "open-at", f, NOFOLLOW, "x", frozenset(), frozenset()) == (
        "error", "not-directory")


def test_file_methods_on_a_directory(fs):
    host, d, _ = fs
    assert m(host, "read", d, 1, 0) == ("error", "bad-descriptor")
    assert m(host, "read-via-stream", d, 0) == ("error", "bad-descriptor")
    assert m(host, "open-at", d, NOFOLLOW, "sub", frozenset(), RW) == ("error", "is-directory")


def test_streams_over_a_file_outlive_the_descriptor(fs):
    host, d, root = fs
    f = open_file(host, d, "hello.txt", RW)
    label, i = m(host, "read-via-stream", f, 7)
    assert label == "ok"
    label, o = m(host, "write-via-stream", f, 0)
    label2, a = m(host, "append-via-stream", f)
    assert label == label2 == "ok"
    host.drop("descriptor", f)   # the streams keep the file open
    assert host.call(S, "[method]input-stream.read", i, 100) == ("ok", b"world\n")
    assert host.call(S, "[method]input-stream.read", i, 100) == ("error", ("closed", None))
    assert host.call(S, "[method]output-stream.write", o, b"HELLO") == ("ok", None)
    assert host.call(S, "[method]output-stream.write", a, b"tail") == ("ok", None)
    assert host.call(S, "[method]output-stream.blocking-write-and-flush", o, b"!") == (
        "ok", None)
    assert (root / "hello.txt").read_bytes() == b"HELLO! world\ntail"
    for kind, rep in (("input-stream", i), ("output-stream", o), ("output-stream", a)):
        host.drop(kind, rep)


def test_dropping_the_last_user_closes_the_host_fd(fs):
    host, d, _ = fs
    before = len(os.listdir("/proc/self/fd"))
    f = open_file(host, d, "hello.txt")
    label, i = m(host, "read-via-stream", f, 0)
    assert len(os.listdir("/proc/self/fd")) == before + 1
    host.drop("descriptor", f)
    assert len(os.listdir("/proc/self/fd")) == before + 1
    host.drop("input-stream", i)
    assert len(os.listdir("/proc/self/fd")) == before


def test_directory_entries_leave_out_dot_and_dotdot(fs):
    host, d, _ = fs
    os.symlink("hello.txt", fs[2] / "link")
    label, stream = m(host, "read-directory", d)
    assert label == "ok"
    entries = []
    while True:
        label, entry = host.call(T, "[method]directory-entry-stream.read-directory-entry",
                                 stream)
        assert label == "ok"
        if entry[0] == "none":
            break
        entries.append((entry[1]["name"], entry[1]["type"]))
    assert sorted(entries) == [("hello.txt", "regular-file"), ("link", "symbolic-link"),
                               ("sub", "directory")]


def test_path_operations(fs):
    host, d, root = fs
    assert m(host, "create-directory-at", d, "made") == ("ok", None)
    assert m(host, "create-directory-at", d, "made") == ("error", "exist")
    assert m(host, "symlink-at", d, "/etc/passwd", "made/abs") == ("error", "not-permitted")
    assert m(host, "symlink-at", d, "../hello.txt", "made/l") == ("ok", None)
    assert m(host, "readlink-at", d, "made/l") == ("ok", "../hello.txt")
    assert m(host, "stat-at", d, FOLLOW, "made/l")[1]["type"] == "regular-file"
    assert m(host, "stat-at", d, NOFOLLOW, "made/l")[1]["type"] == "symbolic-link"
    assert m(host, "link-at", d, NOFOLLOW, "hello.txt", d, "made/hard") == ("ok", None)
    assert m(host, "stat-at", d, NOFOLLOW, "hello.txt")[1]["link-count"] == 2
    assert m(host, "rename-at", d, "made/hard", d, "moved") == ("ok", None)
    assert (root / "moved").read_bytes() == b"hello, world\n"
    assert m(host, "unlink-file-at", d, "moved") == ("ok", None)
    assert m(host, "unlink-file-at", d, "made") == ("error", "is-directory")
    assert m(host, "remove-directory-at", d, "made") == ("error", "not-empty")
    assert m(host, "unlink-file-at", d, "made/l") == ("ok", None)
    assert m(host, "remove-directory-at", d, "made") == ("ok", None)
    assert not (root / "made").exists()


def test_set_times(fs):
    host, d, root = fs
    stamp = ("timestamp", {"seconds": 1_000_000, "nanoseconds": 500})
    assert m(host, "set-times-at", d, NOFOLLOW, "hello.txt", ("no-change", None), stamp) == (
        "ok", None)
    assert os.stat(root / "hello.txt").st_mtime_ns == 1_000_000 * 10**9 + 500
    f = open_file(host, d, "hello.txt")
    assert m(host, "set-times", f, stamp, ("now", None)) == ("ok", None)
    st = os.stat(root / "hello.txt")
    assert st.st_atime_ns == 1_000_000 * 10**9 + 500 and st.st_mtime_ns > st.st_atime_ns
    label, stat = m(host, "stat", f)
    assert stat["data-access-timestamp"] == ("some", {"seconds": 1_000_000, "nanoseconds": 500})


def test_metadata_hash_and_same_object(fs):
    host, d, _ = fs
    f1 = open_file(host, d, "hello.txt")
    f2 = open_file(host, d, "./sub/../hello.txt")
    f3 = open_file(host, d, "sub/inner.txt")
    assert m(host, "is-same-object", f1, f2) is True
    assert m(host, "is-same-object", f1, f3) is False
    h1, h2, h3 = (m(host, "metadata-hash", f) for f in (f1, f2, f3))
    assert h1 == h2 != h3 and h1[0] == "ok" and set(h1[1]) == {"lower", "upper"}
    assert m(host, "metadata-hash-at", d, NOFOLLOW, "hello.txt") == h1


@pytest.mark.parametrize("path, code", [("../secret.txt", "not-permitted"),
                                        ("/etc/passwd", "not-permitted"),
                                        ("missing", "no-entry"),
                                        ("hello.txt/x", "not-directory"),
                                        ("", "no-entry")])
def test_error_codes_of_open_at(fs, path, code):
    host, d, _ = fs
    assert m(host, "open-at", d, NOFOLLOW, path, frozenset(), frozenset({"read"})) == (
        "error", code)


def test_a_symbolic_link_cannot_escape(fs):
    host, d, root = fs
    os.symlink("../secret.txt", root / "escape")
    assert m(host, "open-at", d, FOLLOW, "escape", frozenset(), frozenset({"read"})) == (
        "error", "not-permitted")
    assert m(host, "open-at", d, NOFOLLOW, "escape", frozenset(), frozenset({"read"})) == (
        "error", "loop")


def test_a_directory_opened_without_mutate_directory_is_read_only(fs):
    host, d, root = fs
    sub = open_file(host, d, "sub", frozenset({"read"}), frozenset({"directory"}))
    assert m(host, "get-flags", sub) == ("ok", frozenset({"read"}))
    assert m(host, "create-directory-at", sub, "x") == ("error", "not-permitted")
    assert m(host, "unlink-file-at", sub, "inner.txt") == ("error", "not-permitted")
    assert m(host, "open-at", sub, NOFOLLOW, "new", frozenset({"create"}),
             frozenset({"write"})) == ("error", "not-permitted")
    assert m(host, "stat-at", sub, NOFOLLOW, "inner.txt")[0] == "ok"
    writable = open_file(host, d, "sub", frozenset({"read", "mutate-directory"}),
                         frozenset({"directory"}))
    assert m(host, "create-directory-at", writable, "x") == ("ok", None)
    assert (root / "sub" / "x").is_dir()


def test_open_flags(fs):
    host, d, root = fs
    assert m(host, "open-at", d, NOFOLLOW, "hello.txt", frozenset({"create", "exclusive"}),
             RW) == ("error", "exist")
    f = open_file(host, d, "hello.txt", RW, frozenset({"truncate"}))
    assert (root / "hello.txt").read_bytes() == b""
    assert m(host, "open-at", d, NOFOLLOW, "hello.txt", frozenset({"directory"}),
             frozenset({"read"})) == ("error", "not-directory")
    assert m(host, "get-type", f) == ("ok", "regular-file")


def test_offsets_and_sizes_beyond_the_host_are_errors_not_crashes(fs):
    host, d, _ = fs
    f = open_file(host, d, "hello.txt", RW)
    top = 2**64 - 1
    assert m(host, "read", f, 10, top) == ("error", "invalid")
    assert m(host, "write", f, b"x", top) == ("error", "invalid")
    assert m(host, "set-size", f, top)[0] == "error"
    assert m(host, "advise", f, top, top, "normal")[0] == "error"
    huge = ("timestamp", {"seconds": top, "nanoseconds": 0})
    assert m(host, "set-times", f, huge, huge)[0] == "error"
    label, i = m(host, "read-via-stream", f, top)
    assert host.call(S, "[method]input-stream.read", i, 10)[0] == "error"
    label, o = m(host, "write-via-stream", f, top)
    assert host.call(S, "[method]output-stream.write", o, b"x")[0] == "error"
