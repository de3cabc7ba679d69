"""``TextPath``: the sentences decoded along a latent path from sentence A to sentence B.

Type the two sentences (or pick A and B on a linked :class:`LatentMap`); the path is
decoded in one batched call, one line per step, and what changed from the line before
is highlighted with ``<mark>`` (a word-level or character-level ``difflib`` diff).
"""

from __future__ import annotations

import difflib
import html
import re

import ipywidgets as W
import numpy as np

from genwidgets.data.text import UNKNOWN_CHAR
from genwidgets.widgets.interpolation_strip import MODES, check_endpoint, check_mode
from genwidgets.widgets.samples import as_source, check_modality, error_html, guarded

DIFF_UNITS = ("words", "characters")
_WORDS = re.compile(r"\s+|[^\s]+")


def diff_html(previous: str | None, current: str, by: str = "words") -> str:
    """``current`` as escaped HTML, its parts not in ``previous`` wrapped in ``<mark>``."""
    if by not in DIFF_UNITS:
        raise ValueError(f"Expected by to be one of {DIFF_UNITS}. Received: by={by!r}")
    if previous is None:
        return html.escape(current)
    split = list if by == "characters" else _WORDS.findall
    old, new = split(previous), split(current)
    out = []
    matcher = difflib.SequenceMatcher(None, old, new, autojunk=False)
    for op, _, _, j1, j2 in matcher.get_opcodes():
        text = html.escape("".join(new[j1:j2]))
        out.append(f"<mark>{text}</mark>" if op in ("replace", "insert") and text.strip()
                   else text)
    return "".join(out)


class TextPath(W.VBox):
    """Sentences along the path A -> B, with the changes from line to line marked.

    Args:
        source: a ``LatentSource`` of text, a ``Run`` or a saved run folder.
        a, b: the two sentences (encoded with the dataset's tokenizer).
        steps: sentences along the path, the endpoints included.
        mode: ``"linear"`` (lerp) or ``"spherical"`` (slerp).
        latent_map: a :class:`LatentMap` whose A and B the path follows.
    """

    def __init__(self, source, a: str = "", b: str = "", *, steps: int = 8,
                 mode: str = "linear", diff_by: str = "words", latent_map=None):
        self.source = as_source(source)
        check_modality(self.source, "text", "TextPath", "InterpolationStrip")
        if diff_by not in DIFF_UNITS:
            raise ValueError(f"Expected diff_by to be one of {DIFF_UNITS}. "
                             f"Received: diff_by={diff_by!r}")
        box = dict(continuous_update=False, layout=W.Layout(width="520px"),
                   style={"description_width": "20px"})
        self.sentence_a = W.Text(value=a, placeholder="sentence A", description="A", **box)
        self.sentence_b = W.Text(value=b, placeholder="sentence B", description="B", **box)
        self.go = W.Button(description="Interpolate", icon="arrows-h",
                           layout=W.Layout(width="auto"))
        self.steps = W.IntSlider(value=steps, min=2, max=32, description="steps",
                                 continuous_update=False)
        self.mode = W.ToggleButtons(options=MODES, value=check_mode(mode),
                                    style={"button_width": "80px"})
        self.diff_by = W.ToggleButtons(options=DIFF_UNITS, value=diff_by,
                                       tooltips=["mark changed words", "mark changed characters"],
                                       style={"button_width": "90px"})
        self.lines_view, self.note, self.error = W.HTML(), W.HTML(), W.HTML()
        for widget, name in [(self.sentence_a, "a"), (self.sentence_b, "b"), (self.go, "go"),
                             (self.steps, "steps"), (self.mode, "mode"),
                             (self.diff_by, "diff-by"), (self.lines_view, "lines"),
                             (self.note, "note"), (self.error, "error")]:
            widget.add_class(f"gw-text-path-{name}")
        self.a = self.b = None
        self.zs, self.lines = None, None
        self._input_notes: list[str] = []  # what became of the typed sentences
        self.latent_map = latent_map
        self._quiet = False  # set while the map fills the boxes: keep its exact vectors
        for box_widget in (self.sentence_a, self.sentence_b):
            box_widget.observe(lambda _: self._quiet or self._guard(self.from_text), "value")
        self.go.on_click(lambda _: self._guard(self.from_text))
        self.steps.observe(lambda _: self.refresh(), "value")
        self.mode.observe(lambda _: self.refresh(), "value")
        self.diff_by.observe(lambda _: self._show(), "value")
        super().__init__([self.sentence_a, self.sentence_b,
                          W.HBox([self.go, self.steps, self.mode, self.diff_by]),
                          self.lines_view, self.note, self.error])
        self.add_class("gw-text-path")
        if latent_map is not None:
            latent_map.on_path(self.set_endpoints)
        if a and b:
            self._guard(self.from_text)

    def _guard(self, action, *args):
        return guarded(self.error, action, *args)

    def from_text(self) -> None:
        """Encode the two typed sentences and decode the path between them."""
        texts = [self.sentence_a.value, self.sentence_b.value]
        if not all(t.strip() for t in texts):
            self.note.value = "<i>type sentence A and sentence B</i>"
            return
        tokenizer, seq_len = self.source.tokenizer, self.source.info.seq_len
        z = np.asarray(self.source.encode(tokenizer.encode(texts, seq_len)))
        self.a, self.b = z[0], z[1]
        notes = self._input_notes = []
        for name, text in zip("AB", texts):
            if len(text) > seq_len - 1:
                notes.append(f"{name} was cut to its first {seq_len - 1} characters")
            unknown = sorted({c for c in text[:seq_len - 1]} - set(tokenizer.vocab))
            if unknown:
                notes.append(f"{name} has characters the model never saw, read as "
                             f"{UNKNOWN_CHAR}: {' '.join(unknown)}")
        self.refresh()

    def set_endpoints(self, a, b) -> None:
        """Walk from latent vector ``a`` to ``b`` (the boxes show what A and B hold)."""
        d = self.source.latent_dim
        self.a, self.b = check_endpoint("a", a, d), check_endpoint("b", b, d)
        picks = (getattr(self.latent_map, "a", None), getattr(self.latent_map, "b", None))
        texts = []
        for pick, z in zip(picks, (self.a, self.b)):
            same = pick is not None and pick.index is not None and np.array_equal(pick.z, z)
            texts.append(self.source.items(np.array([pick.index]))[0] if same
                         else self.source.decode(z[None])[0])
        self._quiet = True
        try:
            self.sentence_a.value, self.sentence_b.value = texts
        finally:
            self._quiet = False
        self._input_notes = []
        self.refresh()

    def refresh(self) -> None:
        """Decode the path again (with the model as it is now)."""
        if self.a is None:
            return
        from genwidgets.latent import path

        try:
            zs = path(self.a, self.b, self.steps.value, mode=self.mode.value)
            lines = list(self.source.decode(zs))
        except Exception as exc:
            self.error.value = error_html(exc)
            return
        self.zs, self.lines = zs, lines
        distinct = len(set(lines))
        plural = "s" if distinct != 1 else ""
        notes = [*self._input_notes, f"{distinct} different sentence{plural} in {len(lines)} steps"]
        if distinct == 1 and len(lines) > 2:
            notes.append("every point of this path decodes to the same sentence: the "
                         "posterior may have collapsed (KL near 0)")
        self.note.value = "<br>".join(f"<i>{html.escape(n)}</i>" for n in notes)
        self._show()
        if self.latent_map is not None:
            self.latent_map.show_path(zs)

    def _show(self) -> None:
        if self.lines is None:
            return
        items, previous, n = [], None, len(self.lines)
        for k, line in enumerate(self.lines):
            same = line == previous
            end = {0: "A", n - 1: "B"}.get(k, "")
            style = " style='color:#999'" if same else ""
            items.append(
                f'<li class="gw-path-line" data-step="{k}" data-changed="{int(not same)}"'
                f"{style}><code>{diff_html(previous, line, self.diff_by.value) or '&nbsp;'}"
                f"</code>{f' <b>{end}</b>' if end else ''}</li>")
            previous = line
        self.lines_view.value = f'<ol class="gw-text-path-list">{"".join(items)}</ol>'
