"""``DataFields``: the data part of the Studio's Data & Model tab.

The fields come from the chosen dataset's ``DatasetSpec.options``, so a plugin's dataset
gets them too: ``path`` gives a path field (a file or folder on the server's disk) and,
for text, a ``FileUpload`` of one ``.txt`` file; ``mode`` (line / sentence) and
``tokens`` (the data layer's kinds, e.g. subword / char) give a choice each, whose
"default" leaves the option out (the dataset's own default, said in the help beside it).
Only the fields the dataset lists are shown.

An uploaded file is checked by the dataset's own loader, reading an in-memory file
(:func:`load_upload`), so a refused file gets the data layer's message (the byte offset
and line of a byte that is not UTF-8, too few lines, ...) and nothing is written to disk.
The Studio keeps a copy of an accepted file in the run's folder (``data.txt``) and
records ``{"path": that copy}`` in the run's ``data_options``.
"""

from __future__ import annotations

import html
import os
import tempfile
from pathlib import Path

import ipywidgets as W

UPLOAD_COPY = "data.txt"  # the copy of an uploaded file inside its run's folder
DEFAULT = "default"
STYLE = {"description_width": "60px"}


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
        path = Path(folder) / "upload.txt"
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


def _kb(size: int) -> str:
    return f"{size} bytes" if size < 1024 else f"{size / 1024:,.1f} kB"


class DataFields(W.VBox):
    """The data options of the dataset ``name`` of ``registry``; :meth:`show` another."""

    def __init__(self, registry, name: str, *, paths: bool = True):
        """``paths=False`` (the standalone app) offers uploads only, never a typed path."""
        from genwidgets.data.text import MODES
        from genwidgets.data.tokens import TOKENS

        self.registry, self.paths = registry, paths
        self.upload = W.FileUpload(accept=".txt", multiple=False, description="upload .txt",
                                   layout=W.Layout(width="auto"))
        self.upload_info = W.HTML()
        self.path = W.Text(description="path", continuous_update=False, style=STYLE,
                           layout=W.Layout(width="420px"))
        self.mode = W.Dropdown(options=[DEFAULT, *MODES], value=DEFAULT, description="mode",
                               style=STYLE, layout=W.Layout(width="220px"))
        self.tokens = W.Dropdown(options=[DEFAULT, *TOKENS], value=DEFAULT,
                                 description="tokens", style=STYLE,
                                 layout=W.Layout(width="220px"))
        self.helps = {key: W.HTML() for key in ("upload", "path", "mode", "tokens")}
        self.rows = {
            "upload": W.HBox([self.upload, self.upload_info, self.helps["upload"]]),
            "path": W.HBox([self.path, self.helps["path"]]),
            "mode": W.HBox([self.mode, self.helps["mode"]]),
            "tokens": W.HBox([self.tokens, self.helps["tokens"]]),
        }
        for key, row in self.rows.items():
            row.add_class(f"gw-data-{key}")
            row.layout.align_items = "center"
            self.helps[key].add_class("gw-data-help")
        self.upload.observe(self._uploaded, "value")
        self.path.observe(self._typed, "value")
        super().__init__([row for key, row in self.rows.items() if paths or key != "path"])
        self.add_class("gw-data-fields")
        self.show(name)

    # -- which fields ---------------------------------------------------------------
    def show(self, name: str) -> None:
        """Show the fields that dataset ``name`` takes, with its options' help."""
        self.spec = self.registry.dataset(name)
        options = dict(self.spec.options)
        text = self.spec.modality == "text"
        shown = {"path": "path" in options and self.paths,
                 "upload": "path" in options and text,
                 "mode": "mode" in options, "tokens": "tokens" in options}
        for key, row in self.rows.items():
            row.layout.display = None if shown[key] else "none"
        self.path.placeholder = options.get("path", "")
        self.helps["upload"].value = self._help(
            "or type a path below" if shown["path"] else "")
        self.helps["path"].value = self._help(
            f"on this server's disk: {options['path']}" if shown["path"] else "")
        for key in ("mode", "tokens"):
            self.helps[key].value = self._help(options.get(key, ""))

    @staticmethod
    def _help(text: str) -> str:
        return f"<span style='color:#666;margin-left:6px'>{html.escape(text)}</span>"

    @property
    def shown(self) -> list[str]:
        return [key for key, row in self.rows.items() if row.layout.display != "none"]

    # -- what they hold -------------------------------------------------------------
    def uploaded(self) -> tuple[str, bytes] | None:
        """``(name, content)`` of the uploaded file, if the dataset takes one and one is."""
        if "upload" not in self.shown or not self.upload.value:
            return None
        item = self.upload.value[0]
        return str(item["name"]), bytes(item["content"])

    def options(self) -> dict:
        """The load options the fields hold, but the path or upload (see :meth:`load`)."""
        shown = self.shown
        return {key: widget.value for key, widget in (("mode", self.mode),
                                                      ("tokens", self.tokens))
                if key in shown and widget.value != DEFAULT}

    def load(self, spec=None):
        """``(dataset, data_options, upload)``: the dataset loaded with the fields' options,
        what to record (a typed path as an absolute one; for an upload the caller puts
        the copy's path under ``"path"``), and the upload ``(name, content)`` or None.
        Errors are the data layer's; a dataset that needs a path says where to give it."""
        spec = spec or self.spec
        options = self.options()
        upload = self.uploaded()
        typed = self.path.value.strip() if "path" in self.shown else ""
        if upload is not None:
            return load_upload(spec, *upload, **options), dict(options), upload
        if typed:
            path = Path(typed).expanduser()
            return spec.load(path=str(path), **options), {
                "path": str(path.resolve()), **options}, None
        try:
            return spec.load(**options), options, None
        except Exception as exc:
            if "path" not in spec.options:
                raise
            where = ("upload a .txt file or type the path of one" if spec.modality == "text"
                     else f"type the path of one ({spec.options['path']})")
            from genwidgets.data.validate import DataError

            raise DataError(f"{spec.name} needs your data here: {where} above. "
                            f"({exc})") from exc

    # -- one source at a time ---------------------------------------------------------
    def _uploaded(self, change) -> None:
        files = change["new"]
        if files:
            item = files[0]
            self.upload_info.value = (f"<code>{html.escape(str(item['name']))}</code> "
                                      f"({_kb(int(item['size']))})")
            self.path.value = ""  # the upload is the data now
        else:
            self.upload_info.value = ""

    def _typed(self, change) -> None:
        if change["new"].strip() and self.upload.value:
            self.upload.value = ()  # the typed path is the data now
