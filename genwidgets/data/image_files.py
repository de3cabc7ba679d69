"""Your own images (the ``images`` dataset): a ``.npz`` of arrays, or PNG/JPEG files in a
``.zip`` or a folder, read with Pillow.

PNG/JPEG files are resized to ``size`` x ``size`` (stretched; default: their own size
when every image has the same, else 28) and kept grey or RGB (``color``; default grey
when every image is grey). Labels come from sub-folder names (``cats/1.png``,
``dogs/2.png``; one common top folder is skipped); their names are kept for the map's
legend. A zip is read in memory, never extracted: names serve only as labels. Files
that cannot be read are skipped and named in a warning (logger ``genwidgets.data``)
while at least half load; otherwise the error names the first few. Every read is
bounded (:mod:`genwidgets.data.files`), and so is the decoded array.
"""

from __future__ import annotations

import io
import logging
import os
import re
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from genwidgets.data.arrays import from_arrays, npz_dataset
from genwidgets.data.files import MAX_BYTES, MAX_MEMBERS, gib, read_bytes, zip_from_bytes
from genwidgets.data.validate import DataError
from genwidgets.spec import Dataset

SUFFIXES = (".png", ".jpg", ".jpeg")
DEFAULT_SIZE = 28
MAX_SIZE = 512
COLORS = ("gray", "rgb")
MAX_PIXELS = 40_000_000  # one image's width x height (Pillow's bomb limit is 89M)
SHOWN = 5  # unreadable files named in a message
WHAT = "a .npz file, a .zip of PNG/JPEG files or a folder of them"
log = logging.getLogger("genwidgets.data")

Item = tuple[tuple[str, ...], Callable[[], bytes]]  # (path parts, its bytes)


def check_image_options(size: Any, color: Any, limit: Any) -> tuple[int | None, str | None,
                                                                     int | None]:
    if size is not None and (isinstance(size, bool) or not isinstance(size, (int, np.integer))
                             or not 4 <= size <= MAX_SIZE):
        raise DataError(f"Expected size to be an integer from 4 to {MAX_SIZE} (the side in "
                        f"pixels) or None. Received: size={size!r}. Example: size=28")
    if color is not None and color not in COLORS:
        raise DataError(f"Expected color to be one of {COLORS} or None (grey when every "
                        f"image is). Received: color={color!r}")
    if limit is not None and (isinstance(limit, bool) or not isinstance(
            limit, (int, np.integer)) or limit < 1):
        raise DataError(f"Expected limit to be a positive integer or None. Received: {limit!r}")
    return (None if size is None else int(size), color, None if limit is None else int(limit))


def load_images(path: str | os.PathLike | None = None, size: int | None = None,
                color: str | None = None, limit: int | None = None) -> Dataset:
    """Images from ``path``: a ``.npz`` (``x``, optional ``y`` and ``label_names``), a
    ``.zip`` of PNG/JPEG files or a folder of them (labels from sub-folder names)."""
    size, color, limit = check_image_options(size, color, limit)
    if path is None:
        raise DataError(f"Expected path= {WHAT}. Received: no path. Example: "
                        f"load_dataset('images', path='pets.zip', size=32)")
    path = Path(path)
    if path.is_dir():
        return _from_items(_folder_items(path), str(path), size, color, limit)
    raw = read_bytes(path, WHAT)  # a regular file, at most MAX_BYTES
    if raw[:4] != b"PK\x03\x04" and raw[:4] != b"PK\x05\x06":
        raise DataError(f"Expected {WHAT}. Received: {str(path)!r}, which is none of them "
                        f"(it starts with bytes {raw[:4].hex(' ') or 'nothing'}). One image? "
                        f"Put it in a folder or a .zip with the others.")
    archive, members = zip_from_bytes(raw, str(path), WHAT)
    if members and all(m.filename.endswith(".npy") for m in members):
        return npz_dataset(path, size, color, limit)
    items, ignored = [], 0
    for m in members:
        parts = tuple(p for p in m.filename.replace("\\", "/").split("/") if p)
        if _wanted(parts):
            items.append((parts, lambda m=m: archive.read(m)))
        else:
            ignored += 1
    if not items:
        raise DataError(f"Expected PNG or JPEG files ({', '.join(SUFFIXES)}) in the zip "
                        f"{str(path)!r}. Found: {[m.filename for m in members][:SHOWN]}"
                        f"{' ...' if len(members) > SHOWN else ''}.")
    return _from_items(items, str(path), size, color, limit)


def _wanted(parts: tuple[str, ...]) -> bool:
    return bool(parts) and parts[-1].lower().endswith(SUFFIXES) and not any(
        p.startswith(".") or p == "__MACOSX" for p in parts)


def _folder_items(top: Path) -> list[Item]:
    items: list[Item] = []
    budget = [MAX_BYTES]

    def reader(file: Path) -> Callable[[], bytes]:
        def read() -> bytes:
            data = read_bytes(file, "an image file", budget[0])  # regular files only
            budget[0] -= len(data)
            return data
        return read

    for root, dirs, files in os.walk(top, followlinks=False):
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d != "__MACOSX")
        rel = Path(root).relative_to(top).parts
        for name in sorted(files):
            if _wanted((*rel, name)):
                items.append(((*rel, name), reader(Path(root) / name)))
                if len(items) > MAX_MEMBERS:
                    raise DataError(f"Expected a folder of at most {MAX_MEMBERS:,} images. "
                                    f"Received: {str(top)!r}, which holds more.")
    if not items:
        raise DataError(f"Expected PNG or JPEG files ({', '.join(SUFFIXES)}) in the folder "
                        f"{str(top)!r} or its sub-folders. Found none.")
    return items


def _open(data: bytes):
    from PIL import Image

    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        image = Image.open(io.BytesIO(data), formats=["PNG", "JPEG"])
    if image.width * image.height > MAX_PIXELS:
        raise ValueError(f"{image.width}x{image.height} pixels, more than {MAX_PIXELS:,}")
    return image


def _rgb(image, shape: tuple[int, int]) -> np.ndarray:
    """The image as uint8 (H, W, 3), transparency on white, resized to ``shape``."""
    from PIL import Image, ImageOps

    h, w = shape
    if image.format == "JPEG":
        image.draft("RGB", (w, h))  # decode a big JPEG at a smaller scale
    image = ImageOps.exif_transpose(image)
    if image.mode.startswith("I") or image.mode == "F":  # 16-bit or float grey
        values = np.asarray(image, dtype=np.float64)
        top = 65535.0 if image.mode.startswith("I;16") or values.max() > 255 else 255.0
        image = Image.fromarray(np.clip(values / top * 255 + 0.5, 0, 255).astype(np.uint8))
    if image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info:
        image = image.convert("RGBA")
        image = Image.alpha_composite(Image.new("RGBA", image.size, "white"), image)
    image = image.convert("RGB")
    if image.size != (w, h):
        image = image.resize((w, h), Image.Resampling.LANCZOS)
    return np.asarray(image, dtype=np.uint8)


def _from_items(items: list[Item], where: str, size: int | None, color: str | None,
                limit: int | None):
    bad: list[tuple[str, str]] = []
    heads = []  # (parts, reader, (w, h)) of the files whose header reads
    for parts, read in items:
        if limit is not None and len(heads) >= limit:
            break
        try:
            heads.append((parts, read, _open(read()).size))
        except Exception as e:  # noqa: BLE001  (any file may be broken in any way)
            bad.append(("/".join(parts), _reason(e)))
    sizes = {wh for _, _, wh in heads}
    if size is not None:
        shape = (size, size)
    elif len(sizes) == 1:
        (w, h), = sizes
        shape = (h, w)
    else:
        shape = (DEFAULT_SIZE, DEFAULT_SIZE)
    if len(heads) * shape[0] * shape[1] * 3 * 4 > MAX_BYTES:
        raise DataError(f"Expected images that fit in {gib(MAX_BYTES)} as floats. Received: "
                        f"{len(heads):,} images of {shape[1]}x{shape[0]} from {where!r}. Fix: "
                        f"a smaller size= or limit=.")
    pixels, kept = [], []
    for parts, read, _ in heads:
        try:
            pixels.append(_rgb(_open(read()), shape))
            kept.append(parts)
        except Exception as e:  # noqa: BLE001
            bad.append(("/".join(parts), _reason(e)))
    named = "; ".join(f"{n} ({r})" for n, r in bad[:SHOWN]) + (" ..." if len(bad) > SHOWN
                                                                else "")
    if not pixels or len(bad) > len(pixels):
        raise DataError(f"Expected image files that Pillow can read (PNG or JPEG). Received: "
                        f"{len(bad)} of {len(bad) + len(pixels)} unreadable in {where!r}: "
                        f"{named}.")
    if bad:
        log.warning("skipped %d unreadable image file(s) of %d in %r: %s", len(bad),
                    len(bad) + len(pixels), where, named)
    rgb = np.stack(pixels)
    gray = color == "gray" or (color is None and bool(
        (rgb[..., 0] == rgb[..., 1]).all() and (rgb[..., 1] == rgb[..., 2]).all()))
    if gray:  # ITU-R 601 luma, as Pillow's convert("L")
        x = (rgb.astype(np.float32) @ np.float32([0.299, 0.587, 0.114]))[..., None] / 255.0
        x = np.clip(x, 0.0, 1.0)
    else:
        x = rgb
    labels, names = _labels(kept)
    resized = "" if size is None and len(sizes) == 1 else (
        f", resized to {shape[1]}x{shape[0]}" + ("" if size is not None else
                                                 f" (their {len(sizes)} sizes differ: the "
                                                 f"default {DEFAULT_SIZE})"))
    log.info("read %d images from %r%s, %s%s", len(x), where, resized,
             "grey" if gray else "RGB", f", {len(names)} labels from sub-folders" if names
             else ", no labels (no sub-folders)")
    return from_arrays(x, labels, name="images", label_names=names)


def _reason(e: Exception) -> str:
    text = str(e).splitlines()[0] if str(e) else type(e).__name__
    if isinstance(e, DataError) and ", which is " in text:  # not a regular file
        text = text.split(", which is ", 1)[1]
    return text.replace("cannot identify image file <_io.BytesIO object at", "not a PNG or "
                        "JPEG image").split(" 0x")[0][:120]


_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def _labels(kept: list[tuple[str, ...]]) -> tuple[np.ndarray | None, list[str] | None]:
    """Labels from the first folder under the common top folder(s); None when any image
    sits outside a sub-folder."""
    parts = list(kept)
    while all(len(p) > 1 for p in parts) and len({p[0] for p in parts}) == 1:
        parts = [p[1:] for p in parts]
    if not all(len(p) > 1 for p in parts):
        if any(len(p) > 1 for p in parts):
            log.warning("no labels: some images sit in sub-folders and some do not")
        return None, None
    folders = [_CONTROL.sub("", p[0])[:40] or "?" for p in parts]
    names = sorted(set(folders))
    index = {n: i for i, n in enumerate(names)}
    return np.array([index[f] for f in folders], dtype=np.int64), names
