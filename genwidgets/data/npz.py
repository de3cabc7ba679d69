"""A NumPy ``.npz`` file read within bounds: a regular file of at most ``MAX_BYTES``,
members whose unpacked sizes add up to at most that, and each array's header checked
before it is read (no pickled objects, ever; no shape that claims more bytes than the
member holds), so a damaged or hostile file is a clear :class:`DataError`, not a
``MemoryError``."""

from __future__ import annotations

import math
import zipfile
import zlib
from collections.abc import Sequence

import numpy as np
from numpy.lib import format as npy

from genwidgets.data.files import MAX_BYTES, gib, open_zip
from genwidgets.data.validate import DataError

WHAT = "a NumPy .npz file"


def npz_keys(path) -> tuple[zipfile.ZipFile, dict[str, zipfile.ZipInfo]]:
    """The archive at ``path`` and its arrays by name (the members ``NAME.npy``)."""
    archive, members = open_zip(path, WHAT)
    arrays = {m.filename[:-4]: m for m in members if m.filename.endswith(".npy")}
    if not arrays or len(arrays) < len(members):
        others = [m.filename for m in members if not m.filename.endswith(".npy")][:5]
        raise DataError(f"Expected {WHAT}: a zip archive of .npy arrays (np.savez). "
                        f"Received: {str(path)!r}, which holds {others or 'nothing'}.")
    return archive, arrays


def _check_header(archive: zipfile.ZipFile, member: zipfile.ZipInfo, path) -> None:
    with archive.open(member) as f:
        try:
            version = npy.read_magic(f)
            shape, _, dtype = (npy.read_array_header_1_0(f) if version == (1, 0)
                               else npy.read_array_header_2_0(f))
        except (ValueError, OSError, EOFError, zlib.error, zipfile.BadZipFile) as e:
            raise DataError(f"Expected {WHAT}. Received: {str(path)!r}, whose array "
                            f"{member.filename[:-4]!r} cannot be read ({e}).") from None
    if dtype.hasobject:
        raise DataError(f"Expected arrays of numbers or strings in {str(path)!r}. Received: "
                        f"the array {member.filename[:-4]!r} of Python objects (dtype "
                        f"{dtype}), which genwidgets never unpickles. Save plain arrays.")
    claimed = math.prod(shape) * dtype.itemsize
    if claimed > MAX_BYTES or claimed > member.file_size:
        too = (f"more than the {gib(MAX_BYTES)} genwidgets reads" if claimed > MAX_BYTES
               else f"more than the {gib(member.file_size)} it holds (damaged)")
        raise DataError(f"Expected {WHAT} whose arrays fit their data. Received: "
                        f"{str(path)!r}, whose array {member.filename[:-4]!r} claims shape "
                        f"{shape} of {dtype} ({gib(claimed)}), {too}.")


def read_npz(path, keys: Sequence[str], optional: Sequence[str] = ()) -> dict[str, np.ndarray]:
    """The arrays ``keys`` (all needed) and ``optional`` (those present) of the .npz file
    ``path``; a missing key is an error listing what the file holds."""
    archive, arrays = npz_keys(path)
    absent = [k for k in keys if k not in arrays]
    if absent:
        raise DataError(f"Expected the array(s) {absent} in {str(path)!r}. Found: "
                        f"{sorted(arrays)}.")
    wanted = [k for k in (*keys, *optional) if k in arrays]
    out = {}
    with archive:
        for key in wanted:
            _check_header(archive, arrays[key], path)
            try:
                with archive.open(arrays[key]) as f:
                    out[key] = npy.read_array(f, allow_pickle=False)
            except (ValueError, OSError, EOFError, zlib.error, zipfile.BadZipFile) as e:
                raise DataError(f"Expected {WHAT}. Received: {str(path)!r}, whose array "
                                f"{key!r} cannot be read ({e}).") from None
    return out
