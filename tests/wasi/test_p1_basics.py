"""Preview-1 functions that do not touch the filesystem: args, env, stdio, clocks, process."""
from __future__ import annotations

import io
import struct
import time

import pytest

from pywamr.errors import WasiExit
from pywamr.wasi import WasiConfig, WasiContext, host_functions
from pywamr.wasi.clocks import Clocks
from pywamr.wasi.p1_abi import ERRNO_NAMES, SIGNATURES

BADF, FAULT, INVAL, NOTSOCK, NOTSUP, SPIPE = (ERRNO_NAMES.index(name) for name in (
    "badf", "fault", "inval", "notsock", "notsup", "spipe"))

WITX_FUNCTIONS = """args_get args_sizes_get environ_get environ_sizes_get clock_res_get
clock_time_get fd_advise fd_allocate fd_close fd_datasync fd_fdstat_get fd_fdstat_set_flags
fd_fdstat_set_rights fd_filestat_get fd_filestat_set_size fd_filestat_set_times fd_pread
fd_prestat_get fd_prestat_dir_name fd_pwrite fd_read fd_readdir fd_renumber fd_seek fd_sync
fd_tell fd_write path_create_directory path_filestat_get path_filestat_set_times path_link
path_open path_readlink path_remove_directory path_rename path_symlink path_unlink_file
poll_oneoff proc_exit proc_raise sched_yield random_get sock_accept sock_recv sock_send
sock_shutdown""".split()


def test_every_witx_function_is_provided():
    functions = host_functions(WasiContext(WasiConfig()))
    assert sorted(functions) == sorted(WITX_FUNCTIONS)
    for name, (functype, function) in functions.items():
        assert functype == SIGNATURES[name]
        assert callable(function)
    assert functions["proc_exit"][0].results == ()
    assert functions["fd_write"][0].results == (0x7F,)


def test_args(make_guest):
    guest = make_guest(argv=["prog", "a b", "ü"])
    assert guest.host.call("args_sizes_get", 64, 68) == 0
    assert (guest.u32(64), guest.u32(68)) == (3, len(b"prog\0a b\0\xc3\xbc\0"))
    assert guest.host.call("args_get", 100, 200) == 0
    pointers = struct.unpack("<3I", guest.host.read(100, 12))
    assert pointers == (200, 205, 209)
    assert guest.host.read(200, 12) == b"prog\0a b\0\xc3\xbc\0"


def test_environment_from_dict_and_pairs(make_guest):
    for env in ({"A": "1", "B": "x=y"}, [("A", "1"), ("B", "x=y")]):
        guest = make_guest(env=env)
        assert guest.host.call("environ_sizes_get", 64, 68) == 0
        assert (guest.u32(64), guest.u32(68)) == (2, 10)
        assert guest.host.call("environ_get", 100, 200) == 0
        assert struct.unpack("<2I", guest.host.read(100, 8)) == (200, 204)
        assert guest.host.read(200, 10) == b"A=1\0B=x=y\0"


def test_args_out_of_bounds_is_fault(make_guest):
    guest = make_guest(argv=["prog"])
    assert guest.host.call("args_sizes_get", 2 * 65536 - 2, 64) == FAULT
    assert guest.host.call("args_get", 64, 2 * 65536 - 3) == FAULT
    assert guest.host.call("args_get", 0xFFFFFFFF, 64) == FAULT


def test_write_to_binary_stdout(make_guest):
    stdout = io.BytesIO()
    guest = make_guest(stdout=stdout)
    text = b"hello \xff\x00 world\n"
    assert guest.write_fd(1, text) == (0, len(text))
    assert stdout.getvalue() == text


def test_gathering_write(make_guest):
    stdout = io.BytesIO()
    guest = make_guest(stdout=stdout)
    guest.host.write(5000, b"abc")
    guest.host.write(5100, b"de")
    guest.host.write(300, struct.pack("<IIIIII", 5000, 3, 6000, 0, 5100, 2))
    assert guest.host.call("fd_write", 1, 300, 3, 64) == 0
    assert guest.u32() == 5
    assert stdout.getvalue() == b"abcde"


def test_text_stderr_is_decoded_across_writes(make_guest):
    stderr = io.StringIO()
    guest = make_guest(stderr=stderr)
    encoded = "héllo €".encode()
    split = encoded.index(b"\xe2") + 1
    assert guest.write_fd(2, encoded[:split])[0] == 0
    assert guest.write_fd(2, encoded[split:] + b"\xff")[0] == 0
    assert stderr.getvalue() == "héllo €\ufffd"


def test_stdin_bytes(make_guest):
    from pywamr.wasi.streams import HostFdInput
    assert isinstance(make_guest(stdin=None).host.ctx.table[0].input, HostFdInput)
    config_guest = make_guest(stdin=b"line one\nline two")
    assert config_guest.read_fd(0, 5) == (0, b"line ")
    assert config_guest.read_fd(0, 100) == (0, b"one\nline two")
    assert config_guest.read_fd(0, 100) == (0, b"")


def test_stdin_bytes_setter_and_text_stdin():
    config = WasiConfig().stdin_bytes(b"xyz")
    assert config.stdin == b"xyz"
    config.inherit_stdio()
    assert (config.stdin, config.stdout, config.stderr) == (None, None, None)
    config.stdin = io.StringIO("ü")
    from wasi_harness import Guest, PywamrWasi
    guest = Guest(PywamrWasi(config))
    assert guest.read_fd(0, 10) == (0, "ü".encode())


def test_inherited_stdout_writes_raw_fd(capfd):
    from wasi_harness import Guest, PywamrWasi
    guest = Guest(PywamrWasi(WasiConfig().inherit_stdio()))
    assert guest.write_fd(1, b"to fd one\n") == (0, 10)
    assert guest.write_fd(2, b"to fd two\n") == (0, 10)
    captured = capfd.readouterr()
    assert captured.out == "to fd one\n"
    assert captured.err == "to fd two\n"


def test_stdio_direction_and_seeking(guest):
    assert guest.write_fd(0, b"x")[0] == BADF
    assert guest.read_fd(1, 1)[0] == BADF
    assert guest.host.call("fd_seek", 1, 0, 0, 64) == SPIPE
    assert guest.host.call("fd_tell", 1, 64) == SPIPE
    assert guest.host.call("fd_pwrite", 1, 100, 0, 0, 64) == SPIPE
    assert guest.host.call("fd_pread", 0, 100, 0, 0, 64) == SPIPE   # as wasmtime 50
    assert guest.host.call("fd_pwrite", 0, 100, 0, 0, 64) == BADF


def test_stdio_fdstat(guest):
    assert guest.host.call("fd_fdstat_get", 0, 64) == 0
    filetype, flags, base, inheriting = struct.unpack("<BxHxxxxQQ", guest.host.read(64, 24))
    assert (filetype, flags, base, inheriting) == (0, 0, 2, 2)
    assert guest.host.call("fd_fdstat_get", 1, 64) == 0
    assert struct.unpack("<BxHxxxxQQ", guest.host.read(64, 24))[2] == 64


def test_clocks(guest):
    for clock in (0, 1, 2, 3):
        assert guest.host.call("clock_res_get", clock, 64) == 0
        assert guest.u64() >= 1
        assert guest.host.call("clock_time_get", clock, 1, 64) == 0
    assert guest.host.call("clock_time_get", 0, 0, 64) == 0
    assert abs(guest.u64() - time.time_ns()) < 5_000_000_000
    assert guest.host.call("clock_time_get", 1, 0, 64) == 0
    first = guest.u64()
    assert guest.host.call("clock_time_get", 1, 0, 64) == 0
    assert guest.u64() >= first
    assert guest.host.call("clock_time_get", 4, 0, 64) == INVAL
    assert guest.host.call("clock_res_get", 99, 64) == INVAL
    assert guest.host.call("clock_time_get", 0, 0, 2 * 65536 - 4) == FAULT


def test_injected_clocks_and_random(make_guest):
    class FixedClocks(Clocks):
        __slots__ = ()

        def now(self, clock):
            return 123456789 + int(clock)

    guest = make_guest(clocks=FixedClocks(), random=lambda size: b"\x07" * size)
    assert guest.host.call("clock_time_get", 1, 0, 64) == 0
    assert guest.u64() == 123456790
    assert guest.host.call("random_get", 100, 5) == 0
    assert guest.host.read(100, 5) == b"\x07" * 5


def test_random_get(guest):
    assert guest.host.call("random_get", 100, 64) == 0
    assert guest.host.read(100, 64) != bytes(64)
    assert guest.host.call("random_get", 100, 0) == 0
    assert guest.host.call("random_get", 2 * 65536 - 10, 11) == FAULT


def test_proc_exit_raises(guest):
    with pytest.raises(WasiExit) as caught:
        guest.host.call("proc_exit", 42)
    assert caught.value.status == 42
    assert guest.host.ctx.exit_status == 42


def test_process_and_scheduling(guest):
    assert guest.host.call("sched_yield") == 0
    assert guest.host.call("proc_raise", 2) == NOTSUP


def test_sockets_are_never_granted(guest):
    assert guest.host.call("sock_accept", 1, 0, 64) == NOTSOCK
    assert guest.host.call("sock_accept", 3, 0, 64) == NOTSOCK
    assert guest.host.call("sock_recv", 0, 100, 1, 0, 64, 68) == NOTSOCK
    assert guest.host.call("sock_send", 1, 100, 1, 0, 64) == NOTSOCK
    assert guest.host.call("sock_shutdown", 1, 3) == NOTSOCK
    for name, args in (("sock_accept", (0, 64)), ("sock_recv", (100, 1, 0, 64, 68)),
                       ("sock_send", (100, 1, 0, 64)), ("sock_shutdown", (1,))):
        assert guest.host.call(name, 55, *args) == BADF


def test_bad_iovecs_are_fault_not_exceptions(guest):
    assert guest.host.call("fd_write", 1, 2 * 65536 - 4, 1, 64) == FAULT
    guest.host.write(300, struct.pack("<II", 2 * 65536 - 2, 10))
    assert guest.host.call("fd_write", 1, 300, 1, 64) == FAULT
    assert guest.host.call("fd_write", 1, 300, 0xFFFFFFFF, 64) == FAULT
    guest.host.write(300, struct.pack("<II", 100, 1))
    assert guest.host.call("fd_write", 1, 300, 1, 0xFFFFFFFD) == FAULT




def test_bad_descriptors(guest):
    for name, args in (("fd_close", ()), ("fd_sync", ()), ("fd_datasync", ()),
                       ("fd_fdstat_get", (64,)), ("fd_filestat_get", (64,)),
                       ("fd_prestat_get", (64,)), ("fd_tell", (64,)),
                       ("fd_seek", (0, 0, 64)), ("fd_readdir", (100, 100, 0, 64))):
        assert guest.host.call(name, 1234, *args) == BADF, name
    assert guest.host.call("fd_renumber", 1234, 1) == BADF
    assert guest.host.call("fd_renumber", 1, 1234) == BADF
