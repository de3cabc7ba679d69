"""Bounded reads of a user's data files, for every loader (text, IDX, .npz, images).

Only a regular file is read: a FIFO, a device (``/dev/zero``), a socket or a folder is
refused before a byte is read (the file is opened non-blocking and checked with
``fstat``, so a FIFO cannot hang the open). A file larger than :data:`MAX_BYTES` is
refused, and so is anything that would unpack past it: a gzip stream is unpacked only as
far as its reader asks (an IDX header says how far), the members of a zip archive have
their declared sizes checked before any is unpacked (``zipfile`` never unpacks more than
a member declares). Each refusal is a :class:`DataError` that names the
file and the limit.
"""

from __future__ import annotations

import gzip
import io
import os
import stat
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

from genwidgets.data.validate import DataError

MAX_BYTES = 1 << 30  # 1 GiB: the most a loader reads from a file, or unpacks from one
MAX_MEMBERS = 100_000  # the most entries a zip archive may list


def gib(n: int) -> str:
    """``n`` bytes for a message: ``1 GiB``, ``12.3 MB``, ``512 bytes``."""
    if n >= 1 << 30 and n % (1 << 30) == 0:
        return f"{n >> 30} GiB"
    if n >= 1_000_000_000:
        return f"{n / 1e9:,.1f} GB"
    if n >= 1_000_000:
        return f"{n / 1e6:,.1f} MB"
    return f"{n:,} bytes"


def _kind(mode: int) -> str | None:
    for test, name in ((stat.S_ISFIFO, "a named pipe (FIFO)"), (stat.S_ISCHR, "a character "
                       "device"), (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket"),
                       (stat.S_ISDIR, "a folder")):
        if test(mode):
            return name
    return None if stat.S_ISREG(mode) else "not a regular file"


def open_regular(path: str | os.PathLike, what: str = "a data file",
                 max_bytes: int = MAX_BYTES) -> BinaryIO:
    """``path`` opened for reading if it is a regular file of at most ``max_bytes``;
    else :class:`DataError` saying what it is (``what``: the file the loader expected)."""
    name = str(path)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except FileNotFoundError:
        raise DataError(f"Expected {what}. Received: path={name!r}, which does not exist. "
                        f"Check the spelling and the current folder ({Path.cwd()}).") from None
    except OSError as e:
        raise DataError(f"Expected {what} that can be read. Received: path={name!r} "
                        f"({e.strerror or e}).") from None
    try:
        info = os.fstat(fd)
        kind = _kind(info.st_mode)
        if kind == "a folder":
            raise DataError(f"Expected {what}. Received: path={name!r}, a folder. Pass one "
                            f"file inside it.")
        if kind is not None:
            raise DataError(f"Expected {what}: a regular file. Received: path={name!r}, which "
                            f"is {kind}; genwidgets reads regular files only.")
        if info.st_size > max_bytes:
            raise DataError(f"Expected {what} of at most {gib(max_bytes)}. Received: "
                            f"path={name!r} of {gib(info.st_size)}. Use a smaller file (a "
                            f"part of the data, or smaller images).")
        os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def read_bytes(path: str | os.PathLike, what: str = "a data file",
               max_bytes: int = MAX_BYTES) -> bytes:
    """The bytes of the regular file ``path``, at most ``max_bytes`` (see :func:`open_regular`;
    a file that grows past the limit while read is refused too)."""
    with open_regular(path, what, max_bytes) as f:
        data = f.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise DataError(f"Expected {what} of at most {gib(max_bytes)}. Received: "
                        f"path={str(path)!r}, which holds more. Use a smaller file.")
    return data


def gunzip_reader(raw: bytes, name: str) -> Callable[[int], bytes]:
    """``read(n)``: up to ``n`` more unpacked bytes of the gzip data ``raw`` (every member),
    so a caller unpacks no more than it expects (a gzip bomb stops there); a damaged
    stream is a :class:`DataError`."""
    stream = gzip.GzipFile(fileobj=io.BytesIO(raw))

    def read(n: int) -> bytes:
        try:
            return stream.read(n)
        except (OSError, EOFError, zlib.error) as e:
            raise DataError(
                f"Expected a complete gzip file. Received: {name!r}, which cannot be "
                f"unpacked ({e}). The download may have been cut short: fetch it again."
            ) from None
    return read


def open_zip(path: str | os.PathLike, what: str,
             max_bytes: int = MAX_BYTES) -> tuple[zipfile.ZipFile, list[zipfile.ZipInfo]]:
    """The zip archive ``path`` (a regular file, read into memory) and its file members,
    refused when it is not a zip, lists more than :data:`MAX_MEMBERS` entries or its
    members declare more than ``max_bytes`` unpacked in all."""
    return zip_from_bytes(read_bytes(path, what, max_bytes), str(path), what, max_bytes)


def zip_from_bytes(raw: bytes, name: str, what: str, max_bytes: int = MAX_BYTES
                   ) -> tuple[zipfile.ZipFile, list[zipfile.ZipInfo]]:
    """Like :func:`open_zip`, for a zip archive's bytes ``raw`` (``name`` for messages)."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(raw))
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as e:
        raise DataError(f"Expected {what}. Received: {name!r}, which is not a zip "
                        f"archive that can be read ({e}).") from None
    members = archive.infolist()
    if len(members) > MAX_MEMBERS:
        raise DataError(f"Expected {what} of at most {MAX_MEMBERS:,} entries. Received: "
                        f"{name!r} with {len(members):,}.")
    files = [m for m in members if not m.is_dir()]
    total = sum(m.file_size for m in files)
    if total > max_bytes:
        raise DataError(f"Expected {what} that unpacks to at most {gib(max_bytes)}. Received: "
                        f"{name!r}, whose entries unpack to {gib(total)} (a zip bomb, or "
                        f"too much data). Use fewer or smaller files.")
    return archive, files
