"""The capability broker: an embedder's Python callback that approves or denies, one request at
a time, what a WASI guest asks of the host's filesystem and network.

Shared by preview 1 and WASI 0.2 (one sandbox): `fs.py` asks, once the path is resolved and
before the system call that acts, for every path operation that opens or changes something
beneath a granted directory (the broker travels with the directory capability, from the
preopen to every directory opened under it), and the sockets of `p2/sockets*.py` ask before
every bind, listen, connect and send-to. The broker only narrows
what the configuration grants: a path must still lie inside a preopen and an address inside
an `allow_net` network before the broker is asked. A denial is reported to the guest as the
WIT error code (`access` for files, `access-denied` for sockets; EACCES in preview 1) and the
host system call is never made.

`broker(request) -> bool`: exactly `True` approves; anything else denies. An exception raised
by the broker is the embedder's bug and propagates out of the guest call that triggered it.
Not brokered: reading metadata (stat, readlink, directory listings), reads and writes on
descriptors already open, and name lookups (`allow_dns` governs those).
"""
from __future__ import annotations

import posixpath
from ..record import record

FILE_OPERATIONS = ("open", "create-directory", "remove-directory", "unlink", "rename", "link",
                   "symlink", "set-times")
"""Every `FileRequest.operation`."""

SOCKET_OPERATIONS = ("bind", "listen", "connect", "send")
"""Every `SocketRequest.operation` (`listen`: on the address the socket is bound to; `send`:
a UDP datagram to an address)."""


@record
class FileRequest:
    """A filesystem operation a guest asks for.

    `path`: where the operation acts, as the guest names it: the preopen's guest path and
    the path resolved beneath it, with `..` and every symbolic link the operation follows
    expanded (so a link inside the sandbox cannot disguise where it leads; an escape never
    gets this far). A final symbolic link the operation does not follow is named itself.
    `target`: the other (resolved) path of `rename` and `link`, or the text of a new
    `symlink`. For `open`: what the guest wants to do with the file (`read`, `write`,
    `create`, `truncate`, `directory`: it must be a directory)."""

    operation: str
    path: str
    target: str | None = None
    read: bool = False
    write: bool = False
    create: bool = False
    truncate: bool = False
    directory: bool = False


@record
class SocketRequest:
    """A network operation a WASI 0.2 guest asks for: `operation` ("bind", "listen",
    "connect", "send") of a `protocol` ("tcp", "udp") socket on `address` (an IP literal) and
    `port` (for `listen`, the bound address and port)."""

    operation: str
    protocol: str
    address: str
    port: int


def guest_path(directory_path: str | None, components) -> str:
    """The guest's name for the place `components` (resolved, beneath a directory whose
    guest path is `directory_path`) lead to."""
    joined = posixpath.join(directory_path or ".", *components)
    return posixpath.normpath(joined)


def approves(broker, request) -> bool:
    """Does `broker` (None: no broker) approve `request`?"""
    return broker is None or broker(request) is True
