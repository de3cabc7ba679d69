"""``DataFields``: the data part of the Studio's Data & Model tab.

The fields come from the chosen dataset's ``DatasetSpec.options``, so a plugin's dataset
gets them too: ``path`` gives a path field (a file or folder on the server's disk) and,
for text, a ``FileUpload`` of one ``.txt`` file; an image dataset that also takes
``size`` (one that reads image files, as ``images``) gets a ``FileUpload`` of one
``.npz``, one ``.zip`` or several PNG/JPEG files. ``mode`` (line / sentence), ``tokens``
(char / subword / word), ``size`` (the side in pixels) and ``color`` (gray / rgb) give a choice
each, whose "default" leaves the option out (the dataset's own default, said in the help
beside it). Only the fields the dataset lists are shown.

An uploaded file is checked by the dataset's own loader, reading an in-memory file
(:func:`~genwidgets.widgets.uploads.load_upload`), so a refused file gets the data
layer's message and nothing is written to disk. The Studio keeps a copy of an accepted
upload in the run's folder (``data.txt``, ``data.npz`` or ``data.zip``: ``upload.copy``)
and records ``{"path": that copy}`` in the run's ``data_options``.

A dataset that downloads (``mnist``, ``fashion_mnist``) is marked in the list of
:func:`dataset_choices` when its files are not here ("downloads 11 MB", "offline: not
downloaded"); chosen, a note says how to get it; its download shows a progress bar here.
What the loader noted (images skipped as unreadable, resized) shows under the fields.
"""

from __future__ import annotations

import html
import logging
import re
import time
from pathlib import Path

import ipywidgets as W

from genwidgets.widgets.uploads import (  # noqa: F401  (UPLOAD_COPY, load_upload: public)
    IMAGE_ACCEPT,
    TEXT_ACCEPT,
    UPLOAD_COPIES,
    UPLOAD_COPY,
    Upload,
    load_upload,
    pack,
)

DEFAULT = "default"
STYLE = {"description_width": "60px"}
SIZES = (16, 28, 32, 48, 64, 96, 128)
_FD = re.compile(r"/proc/self/fd/\d+")


def dataset_choices(registry) -> list[tuple[str, str]]:
    """``(label, name)`` for each dataset of ``registry``: the name, and for one whose
    files must be downloaded first, why it may not load (``"mnist (offline: not
    downloaded)"``)."""
    from genwidgets.data.download import status

    return [(name if status(name) is None else f"{name} ({status(name)})", name)
            for name in sorted(registry.datasets)]


def _kb(size: int) -> str:
    return f"{size} bytes" if size < 1024 else f"{size / 1024:,.1f} kB"


class _Notes(logging.Handler):
    def __init__(self):
        super().__init__(logging.INFO)
        self.records: list[logging.LogRecord] = []

    def emit(self, record):
        self.records.append(record)


class DataFields(W.VBox):
    """The data options of the dataset ``name`` of ``registry``; :meth:`show` another."""

    def __init__(self, registry, name: str, *, paths: bool = True):
        """``paths=False`` (the standalone app) offers uploads only, never a typed path."""
        from genwidgets.data.image_files import COLORS
        from genwidgets.data.text import MODES
        from genwidgets.data.tokens import TOKENS

        self.registry, self.paths = registry, paths
        self.upload = W.FileUpload(accept=TEXT_ACCEPT, multiple=False, description="upload",
                                   layout=W.Layout(width="auto"))
        self.upload_info = W.HTML()
        self.path = W.Text(description="path", continuous_update=False, style=STYLE,
                           layout=W.Layout(width="420px"))

        def choice(key, values):
            return W.Dropdown(options=[DEFAULT, *values], value=DEFAULT, description=key,
                              style=STYLE, layout=W.Layout(width="220px"))

        self.mode, self.tokens = choice("mode", MODES), choice("tokens", TOKENS)
        self.size, self.color = choice("size", SIZES), choice("color", COLORS)
        self.choices = {"mode": self.mode, "tokens": self.tokens, "size": self.size,
                        "color": self.color}
        self.helps = {key: W.HTML() for key in ("upload", "path", *self.choices)}
        self.rows = {
            "upload": W.HBox([self.upload, self.upload_info, self.helps["upload"]]),
            "path": W.HBox([self.path, self.helps["path"]]),
            **{key: W.HBox([widget, self.helps[key]]) for key, widget in self.choices.items()},
        }
        for key, row in self.rows.items():
            row.add_class(f"gw-data-{key}")
            row.layout.align_items = "center"
            self.helps[key].add_class("gw-data-help")
        self.progress = W.FloatProgress(min=0.0, max=1.0, description="download",
                                        style=STYLE, layout=W.Layout(width="420px"))
        self.progress_info = W.HTML()
        self.download_row = W.HBox([self.progress, self.progress_info],
                                   layout=W.Layout(display="none", align_items="center"))
        self.download_row.add_class("gw-data-download")
        self.note = W.HTML()
        self.note.add_class("gw-data-note")
        self.upload.observe(self._uploaded, "value")
        self.path.observe(self._typed, "value")
        super().__init__([row for key, row in self.rows.items() if paths or key != "path"]
                         + [self.download_row, self.note])
        self.add_class("gw-data-fields")
        self.show(name)

    # -- which fields ---------------------------------------------------------------
    def show(self, name: str) -> None:
        """Show the fields that dataset ``name`` takes, with its options' help."""
        self.spec = self.registry.dataset(name)
        options = dict(self.spec.options)
        text = self.spec.modality == "text"
        images = self.spec.modality == "image" and "size" in options
        shown = {"path": "path" in options and self.paths,
                 "upload": "path" in options and (text or images),
                 **{key: key in options for key in self.choices}}
        for key, row in self.rows.items():
            row.layout.display = None if shown[key] else "none"
        accept = IMAGE_ACCEPT if images else TEXT_ACCEPT
        if (self.upload.accept, self.upload.multiple) != (accept, images):
            self.upload.value = ()  # a file for the other kind of data
            self.upload.accept, self.upload.multiple = accept, images
        self.upload.description = "upload files" if images else "upload .txt"
        self.path.placeholder = options.get("path", "")
        kinds = "one .npz, one .zip, or PNG/JPEG files" if images else ""
        self.helps["upload"].value = self._help(
            ", ".join(t for t in (kinds, "or type a path below" if shown["path"] else "") if t))
        self.helps["path"].value = self._help(
            f"on this server's disk: {options['path']}" if shown["path"] else "")
        for key in self.choices:
            self.helps[key].value = self._help(options.get(key, ""))
        self.note.value = self._status_note(self.spec.name)

    def _status_note(self, name: str) -> str:
        from genwidgets.data import download

        state = download.status(name)
        if state is None:
            return ""
        if state.startswith("downloads"):
            return self._help(f"{name} is not on this machine yet: Create run {state} "
                              f"(into {download.cache_dir()}).")
        fix = download.how_to_get(name, ["train", "test"])
        if not self.paths:  # the app: no typed path
            fix = fix.replace("or pass path= a folder of the IDX files or an .npz (data "
                              "option path); ", "")
        return (f"<div style='color:#b26a00;max-width:760px'>{html.escape(name)} cannot load "
                f"here: this machine is offline and its files are not downloaded. "
                f"{html.escape(fix)}</div>")

    @staticmethod
    def _help(text: str) -> str:
        return f"<span style='color:#666;margin-left:6px'>{html.escape(text)}</span>"

    @property
    def shown(self) -> list[str]:
        return [key for key, row in self.rows.items() if row.layout.display != "none"]

    # -- what they hold -------------------------------------------------------------
    def uploaded(self) -> Upload | None:
        """The :class:`~genwidgets.widgets.uploads.Upload` (name, content, copy) of the
        uploaded file(s), if the dataset takes one and one is there."""
        if "upload" not in self.shown or not self.upload.value:
            return None
        return pack(self.upload.value, images=self.upload.multiple)

    def options(self) -> dict:
        """The load options the fields hold, but the path or upload (see :meth:`load`)."""
        shown = self.shown
        return {key: widget.value for key, widget in self.choices.items()
                if key in shown and widget.value != DEFAULT}

    def load(self, spec=None):
        """``(dataset, data_options, upload)``: the dataset loaded with the fields' options,
        what to record (a typed path as an absolute one; for an upload the caller puts
        the copy's path, ``upload.copy`` in the run folder, under ``"path"``), and the
        :class:`~genwidgets.widgets.uploads.Upload` or None. Errors are the data layer's;
        a dataset that needs a path says where to give it."""
        from genwidgets.data.download import report_progress

        spec = spec or self.spec
        self.note.value = ""
        notes = _Notes()
        logger = logging.getLogger("genwidgets.data")
        level = logger.level
        logger.addHandler(notes)
        logger.setLevel(logging.INFO)
        try:
            with report_progress(self._progressed):
                result = self._load(spec)
        finally:
            logger.removeHandler(notes)
            logger.setLevel(level)
            self.download_row.layout.display = "none"
        upload = result[2]
        said = [_FD.sub(upload.name if upload else "the upload", r.getMessage())
                for r in notes.records]
        self.note.value = "".join(
            f"<div style='color:{'#b26a00' if r.levelno >= logging.WARNING else '#666'}'>"
            f"{html.escape(text)}</div>" for r, text in zip(notes.records, said, strict=True))
        return result

    def _load(self, spec):
        options = self.options()
        upload = self.uploaded()
        typed = self.path.value.strip() if "path" in self.shown else ""
        if upload is not None:
            return (load_upload(spec, upload.name, upload.content, **options), dict(options),
                    upload)
        if typed:
            path = Path(typed).expanduser()
            return spec.load(path=str(path), **options), {
                "path": str(path.resolve()), **options}, None
        try:
            return spec.load(**options), options, None
        except Exception as exc:
            if "path" not in spec.options:
                raise
            text = spec.modality == "text"
            where = ("upload a .txt file or type the path of one" if text else
                     "upload your files or type the path of them" if "size" in spec.options
                     else f"type the path of one ({spec.options['path']})")
            if not self.paths:
                where = where.split(" or type")[0]
            from genwidgets.data.validate import DataError

            raise DataError(f"{spec.name} needs your data here: {where} above. "
                            f"({exc})") from exc

    def _progressed(self, name: str, done: int, total: int | None) -> None:
        now = time.monotonic()
        if done and total and done < total and now - getattr(self, "_drawn", 0.0) < 0.2:
            return  # at most ~5 updates a second
        self._drawn = now
        self.download_row.layout.display = None
        self.progress.value = done / total if total else 0.0
        size = f"{done / 1e6:.1f} of {total / 1e6:.1f} MB" if total else f"{done / 1e6:.1f} MB"
        self.progress_info.value = self._help(f"{name}: {size}")

    # -- one source at a time ---------------------------------------------------------
    def _uploaded(self, change) -> None:
        files = change["new"]
        if files:
            size = sum(int(f["size"]) for f in files)
            names = ", ".join(str(f["name"]) for f in files[:3]) + (
                f" and {len(files) - 3} more" if len(files) > 3 else "")
            self.upload_info.value = f"<code>{html.escape(names)}</code> ({_kb(size)})"
            self.path.value = ""  # the upload is the data now
        else:
            self.upload_info.value = ""

    def _typed(self, change) -> None:
        if change["new"].strip() and self.upload.value:
            self.upload.value = ()  # the typed path is the data now
