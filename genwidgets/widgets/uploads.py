"""Uploaded data files for the Studio: what a ``FileUpload`` holds, made into one file a
dataset's loader reads (``path=``) and a run folder keeps.

Text: one ``.txt`` file, kept as ``data.txt``. Images: one ``.npz`` (kept as
``data.npz``), one ``.zip`` of PNG/JPEG files, or several PNG/JPEG files, packed into a
zip in memory (kept as ``data.zip``). The loader reads the bytes from an anonymous
in-memory file (:func:`load_upload`); nothing touches the disk until a run is made.
"""

from __future__ import annotations

import io
import os
import re
import tempfile
import zipfile
from pathlib import Path
from typing import NamedTuple

UPLOAD_COPY = "data.txt"  # the copy of an uploaded text file inside its run's folder
UPLOAD_COPIES = (UPLOAD_COPY, "data.npz", "data.zip")  # every name a copy may have
TEXT_ACCEPT = ".txt"
IMAGE_ACCEPT = ".npz,.zip,.png,.jpg,.jpeg"
_PICTURES = (".png", ".jpg", ".jpeg")
_SAFE = re.compile(r"[^A-Za-z0-9._ -]+")


class Upload(NamedTuple):
    name: str  # what the person uploaded, for messages
    content: bytes  # the one file the loader reads and the run folder keeps
    copy: str  # its name inside the run folder (one of UPLOAD_COPIES)


def pack(files, images: bool) -> Upload:
    """One :class:`Upload` from a FileUpload's ``value`` (dicts with name and content).
    ``ValueError`` for a mix that is not one .npz, one .zip or PNG/JPEG files."""
    from genwidgets.data.validate import DataError

    items = [(str(f["name"]), bytes(f["content"])) for f in files]
    if not images:
        name, content = items[0]
        return Upload(name, content, UPLOAD_COPY)
    suffixes = [Path(name).suffix.lower() for name, _ in items]
    if len(items) == 1 and suffixes[0] in (".npz", ".zip"):
        name, content = items[0]
        return Upload(name, content, "data.npz" if suffixes[0] == ".npz" else "data.zip")
    if not all(s in _PICTURES for s in suffixes):
        raise DataError(
            f"Expected one .npz file, one .zip file, or PNG/JPEG files. Received: "
            f"{', '.join(name for name, _ in items[:5])}{' ...' if len(items) > 5 else ''}. "
            f"Upload them again, one kind at a time.")
    buffer, used = io.BytesIO(), set()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        for name, content in items:
            stem = _SAFE.sub("_", Path(name).name) or "image.png"
            unique, n = stem, 1
            while unique.lower() in used:
                n += 1
                unique = f"{Path(stem).stem}-{n}{Path(stem).suffix}"
            used.add(unique.lower())
            archive.writestr(unique, content)
    name = items[0][0] if len(items) == 1 else f"{len(items)} uploaded images"
    return Upload(name, buffer.getvalue(), "data.zip")


def load_upload(spec, name: str, content: bytes, **options):
    """The dataset ``spec`` loaded from ``content`` (an uploaded file's bytes) by its own
    loader (``path=``), with its own checks and messages; a message names the file as
    ``name``. The bytes go to an anonymous in-memory file (``memfd``, Linux), or where
    there is none to a private temporary file, deleted at once."""
    content = bytes(content)
    if hasattr(os, "memfd_create"):
        fd = os.memfd_create("genwidgets-upload", os.MFD_CLOEXEC)
        try:
            view = memoryview(content)
            while view:
                view = view[os.write(fd, view):]
            return _load_named(spec, f"/proc/self/fd/{fd}", name, options)
        finally:
            os.close(fd)
    with tempfile.TemporaryDirectory(prefix="genwidgets-upload-") as folder:
        path = Path(folder) / "upload"
        path.write_bytes(content)
        return _load_named(spec, str(path), name, options)


def _load_named(spec, path: str, name: str, options: dict):
    try:
        return spec.load(path=path, **options)
    except Exception as exc:
        if exc.args and isinstance(exc.args[0], str):  # say the upload's name, not ours
            exc.args = (exc.args[0].replace(repr(path), repr(name)).replace(path, name),
                        *exc.args[1:])
        raise
