"""MNIST and Fashion-MNIST files: where they are kept, fetching them with a progress bar,
and what to do when this machine is offline.

The files are those of Keras' own copy, kept where Keras keeps them
(``$KERAS_HOME/datasets``, else ``~/.keras/datasets``), so a file Keras fetched once is
found and one fetched here serves Keras too. ``GENWIDGETS_DATA_MIRROR`` names another
base URL serving the same files (a local mirror). A download shows a ``tqdm`` bar (a
notebook bar in Jupyter), or reports to the function set with :func:`report_progress`
(the Studio's progress bar); it goes to a temporary file, checked (its length, and the
SHA-256 that Keras publishes for ``mnist.npz``), then renamed into place.
"""

from __future__ import annotations

import contextlib
import contextvars
import hashlib
import os
import socket
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

from genwidgets.atomic import replacing
from genwidgets.data.files import MAX_BYTES, gib
from genwidgets.data.validate import DataError

ORIGIN = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"
MIRROR_ENV = "GENWIDGETS_DATA_MIRROR"
# What each kind needs, as paths below the cache folder, per split.
FILES = {
    "mnist": {"train": ("mnist.npz",), "test": ("mnist.npz",)},
    "fashion_mnist": {
        split: tuple(f"fashion-mnist/{prefix}-{what}-idx{n}-ubyte.gz"
                     for what, n in (("images", 3), ("labels", 1)))
        for split, prefix in (("train", "train"), ("test", "t10k"))},
}
SIZES = {"mnist": "11 MB", "fashion_mnist": "30 MB"}
SHA256 = {"mnist.npz": "731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1"}
CHUNK = 1 << 16

Progress = Callable[[str, int, "int | None"], None]  # (file name, bytes so far, total)
_progress: contextvars.ContextVar[Progress | None] = contextvars.ContextVar(
    "genwidgets_download_progress", default=None)


def cache_dir() -> Path:
    """Where the files are kept: Keras' folder, ``$KERAS_HOME/datasets`` or
    ``~/.keras/datasets``."""
    home = os.environ.get("KERAS_HOME") or os.path.join(os.path.expanduser("~"), ".keras")
    return Path(home) / "datasets"


def base_url() -> str:
    mirror = os.environ.get(MIRROR_ENV, "").strip()
    return (mirror.rstrip("/") + "/") if mirror else ORIGIN


def needed(kind: str, splits: list[str]) -> list[str]:
    """The files ``kind`` needs for ``splits``, as paths below :func:`cache_dir`."""
    return list(dict.fromkeys(f for s in splits for f in FILES[kind][s]))


def missing(kind: str, splits: list[str] = ("train", "test")) -> list[str]:
    """Those of the files ``kind`` needs that are not in the cache folder."""
    return [f for f in needed(kind, list(splits)) if not (cache_dir() / f).is_file()]


@contextlib.contextmanager
def report_progress(progress: Progress) -> Iterator[None]:
    """Downloads inside this block call ``progress(name, done, total)`` instead of
    drawing a tqdm bar (``total`` is None when the server does not say it)."""
    token = _progress.set(progress)
    try:
        yield
    finally:
        _progress.reset(token)


def how_to_get(kind: str, splits: list[str]) -> str:
    """What a person does to get ``kind`` onto a machine that cannot fetch it."""
    files = needed(kind, splits)
    urls = ", ".join(ORIGIN + f.rsplit("/", 1)[-1] for f in files)
    return (f"Fix: on a machine that is online, download {urls} and put "
            f"{'it' if len(files) == 1 else 'them'} at "
            f"{', '.join(str(cache_dir() / f) for f in files)} (Keras' datasets folder); "
            f"or pass path= a folder of the IDX files or an .npz (data option path); or "
            f"use the dataset digits (offline) or images (your own .npz, .zip or folder "
            f"of PNG/JPEG files).")


def fetch(kind: str, splits: list[str], timeout: float = 30.0) -> Path:
    """Make sure the files ``kind`` needs for ``splits`` are in :func:`cache_dir`,
    downloading the missing ones; the cache folder. Offline: :class:`DataError` saying
    which URL and where to put the file."""
    for rel in missing(kind, splits):
        target = cache_dir() / rel
        url = base_url() + rel.rsplit("/", 1)[-1]
        try:
            _download(url, target, timeout, SHA256.get(rel) if base_url() == ORIGIN else None)
        except (OSError, ValueError) as e:  # URLError, timeouts, refused, short reads
            reason = getattr(e, "reason", None) or e
            raise DataError(f"Could not download {kind} from {url} ({reason}). This machine "
                            f"may be offline. {how_to_get(kind, splits)}") from None
    return cache_dir()


def _download(url: str, target: Path, timeout: float, sha256: str | None) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    report = _progress.get()
    bar = None
    try:  # into a temporary file of this thread, checked, then renamed into place
        with replacing(target, per_thread=True) as part:
            with urllib.request.urlopen(url, timeout=timeout) as response, \
                    open(part, "wb") as out:
                length = response.headers.get("Content-Length")
                total = int(length) if length and length.isdigit() else None
                if total is not None and total > MAX_BYTES:
                    raise ValueError(f"the server offers {gib(total)}, more than "
                                     f"{gib(MAX_BYTES)}")
                if report is None:
                    from tqdm.auto import tqdm

                    bar = tqdm(total=total, unit="B", unit_scale=True, unit_divisor=1024,
                               desc=f"downloading {target.name}", leave=True)
                done = 0
                if report is not None:
                    report(target.name, 0, total)
                while chunk := response.read(CHUNK):
                    done += len(chunk)
                    if done > MAX_BYTES:
                        raise ValueError(f"the download passes {gib(MAX_BYTES)}")
                    out.write(chunk)
                    digest.update(chunk)
                    if bar is not None:
                        bar.update(len(chunk))
                    else:
                        report(target.name, done, total)
            if total is not None and done != total:
                raise ValueError(f"the download stopped at {done:,} of {total:,} bytes")
            if sha256 is not None and digest.hexdigest() != sha256:
                raise ValueError(f"the file's SHA-256 is {digest.hexdigest()}, not {sha256}")
    finally:
        if bar is not None:
            bar.close()


_REACH: dict[str, tuple[float, bool]] = {}


def reachable(timeout: float = 1.5, ttl: float = 300.0) -> bool:
    """Whether the download host (or the proxy for it) takes a connection within
    ``timeout`` seconds; remembered for ``ttl`` seconds."""
    url = base_url()
    parts = urllib.parse.urlsplit(url)
    proxy = urllib.request.getproxies().get(parts.scheme)
    if proxy and not urllib.request.proxy_bypass(parts.hostname or ""):
        parts = urllib.parse.urlsplit(proxy if "//" in proxy else "//" + proxy)
    key, now = f"{url} via {proxy}", time.monotonic()
    if key in _REACH and now - _REACH[key][0] < ttl:
        return _REACH[key][1]
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    result = [False]

    def probe():
        try:
            socket.create_connection((host, port), timeout=timeout).close()
            result[0] = True
        except OSError:
            pass

    thread = threading.Thread(target=probe, daemon=True)  # name lookups ignore timeouts
    thread.start()
    thread.join(timeout)
    _REACH[key] = (now, result[0])
    return result[0]


def status(kind: str) -> str | None:
    """None when ``kind``'s files are here; else a few words for a list of datasets:
    ``"downloads 11 MB"`` when the host answers, ``"offline: not downloaded"`` when not."""
    if kind not in FILES or not missing(kind):
        return None
    return f"downloads {SIZES[kind]}" if reachable() else "offline: not downloaded"
