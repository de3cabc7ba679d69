"""``TextPath``: the sentences decoded along a latent path from sentence A to sentence B.

Type the two sentences (or pick A and B on a linked :class:`LatentMap`); the path is
decoded in one batched call, one line per step, and what changed from the line before
is highlighted with ``<mark>`` (a word-level or character-level ``difflib`` diff), with
the number of word edits from the line before. Beside A and B: whether each decodes back
to itself (the sentence as the tokenizer reads it). Long lines wrap inside the panel.
"""

from __future__ import annotations

import difflib
import html
import re

import ipywidgets as W
import numpy as np

from genwidgets.data.text import UNKNOWN_CHAR
from genwidgets.data.tokenizers import tokenizer_kind
from genwidgets.widgets.errors import error_html, guarded
from genwidgets.widgets.interpolation_strip import MODES, check_endpoint, check_mode
from genwidgets.widgets.samples import (
    as_source,
    check_modality,
    keras_view,
)

DIFF_UNITS = ("words", "characters")
_WORDS = re.compile(r"\s+|[^\s]+")


def word_edits(previous: str, current: str) -> int:
    """Words replaced, inserted or deleted from ``previous`` to ``current`` (a word diff)."""
    old, new = previous.split(), current.split()
    matcher = difflib.SequenceMatcher(None, old, new, autojunk=False)
    return sum(max(i2 - i1, j2 - j1) for op, i1, i2, j1, j2 in matcher.get_opcodes()
               if op != "equal")


def endpoint_html(name: str, sentence: str | None, decoded: str) -> str:
    """Does endpoint ``name`` (the sentence it is, None for a spot of the map) decode to
    itself? ``data-exact``: 1, 0, or empty for a spot."""
    wrap = "white-space:normal;overflow-wrap:anywhere"
    if sentence is None:
        return (f'<span class="gw-end-mark" data-exact="" style="color:#666;{wrap}">{name} '
                f"is a spot of the map, not a sentence</span>")
    if decoded == sentence:
        return (f'<span class="gw-end-mark" data-exact="1" style="color:#2e7d32;{wrap}">'
                f"✓ {name} decodes to itself</span>")
    return (f'<span class="gw-end-mark" data-exact="0" style="color:#c62828;{wrap}">✗ {name} '
            f"decodes to: <code>{html.escape(decoded) or '(nothing)'}</code></span>")


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
        end = dict(layout=W.Layout(flex="1 1 auto", min_width="0", max_width="560px"))
        self.end_a, self.end_b = W.HTML(**end), W.HTML(**end)
        for widget, name in [(self.sentence_a, "a"), (self.sentence_b, "b"), (self.go, "go"),
                             (self.steps, "steps"), (self.mode, "mode"),
                             (self.diff_by, "diff-by"), (self.lines_view, "lines"),
                             (self.note, "note"), (self.error, "error"),
                             (self.end_a, "end-a"), (self.end_b, "end-b")]:
            widget.add_class(f"gw-text-path-{name}")
        self.a = self.b = None
        self.zs, self.lines = None, None
        self._input_notes: list[str] = []  # what became of the typed sentences
        self._sentences: list[str | None] = [None, None]  # what A and B are, read as tokens
        self.latent_map = latent_map
        self._quiet = False  # set while the map fills the boxes: keep its exact vectors
        for box_widget in (self.sentence_a, self.sentence_b):
            box_widget.observe(lambda _: self._quiet or self._guard(self.from_text), "value")
        self.go.on_click(lambda _: self._guard(self.from_text))
        self.steps.observe(lambda _: self.refresh(), "value")
        self.mode.observe(lambda _: self.refresh(), "value")
        self.diff_by.observe(lambda _: self._show(), "value")
        ends = [W.HBox([box_widget, mark], layout=W.Layout(align_items="center"))
                for box_widget, mark in ((self.sentence_a, self.end_a),
                                         (self.sentence_b, self.end_b))]
        super().__init__([*ends,
                          W.HBox([self.go, self.steps, self.mode, self.diff_by]),
                          self.lines_view, self.note, self.error])
        self.add_class("gw-text-path")
        if latent_map is not None:
            latent_map.on_path(self.set_endpoints)
        if a and b:
            self._guard(self.from_text)

    @classmethod
    def from_keras(cls, encoder, decoder, x, labels=None, label_names=None, *, tokenizer,
                   **options) -> TextPath:
        """The path over a Keras text encoder and decoder of your own, read with
        ``tokenizer`` (``encode`` / ``decode``): the arguments of
        :meth:`genwidgets.latent.LatentSource.from_keras`, then the view's (``a``, ``b``,
        ``steps``...)."""
        return keras_view(cls, encoder, decoder, x, labels, label_names,
                          {**options, "tokenizer": tokenizer})

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
        self._sentences = self._as_read(texts)
        notes = self._input_notes = []
        units = {"word": "words", "subword": "word pieces"}.get(
            tokenizer_kind(tokenizer), "characters")
        for name, text in zip("AB", texts):
            count = getattr(tokenizer, "token_ids", None)  # genwidgets' tokenizers have it
            if (len(count([text])[0]) if count else len(text)) > seq_len - 1:
                notes.append(f"{name} was cut to its first {seq_len - 1} {units}")
            unknown = tokenizer.unknown(text, seq_len)
            if unknown:
                what = "words" if units == "words" else "characters"
                notes.append(f"{name} has {what} the model never saw, read as "
                             f"{UNKNOWN_CHAR}: {' '.join(unknown)}")
        self.refresh()

    def set_endpoints(self, a, b) -> None:
        """Walk from latent vector ``a`` to ``b`` (the boxes show what A and B hold)."""
        d = self.source.latent_dim
        self.a, self.b = check_endpoint("a", a, d), check_endpoint("b", b, d)
        picks = (getattr(self.latent_map, "a", None), getattr(self.latent_map, "b", None))
        texts, sentences = [], []
        for pick, z in zip(picks, (self.a, self.b)):
            same = pick is not None and pick.index is not None and np.array_equal(pick.z, z)
            texts.append(self.source.items(np.array([pick.index]))[0] if same
                         else self.source.decode(z[None])[0])
            sentences.append(texts[-1] if same else None)  # a spot of space is no sentence
        self._sentences = sentences
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
            notes.append(f"every point of this path decodes to the same sentence{self._why()}")
        self.note.value = "<br>".join(f"<i>{html.escape(n)}</i>" for n in notes)
        for mark, name, sentence, line in ((self.end_a, "A", self._sentences[0], lines[0]),
                                           (self.end_b, "B", self._sentences[1], lines[-1])):
            mark.value = endpoint_html(name, sentence, line)
        self._show()
        if self.latent_map is not None:
            self.latent_map.show_path(zs)

    def _as_read(self, texts: list[str]) -> list[str]:
        """The sentences as the model can give them back: encoded, then decoded (cut to
        the sequence length, unknown characters shown as such)."""
        tokenizer = self.source.tokenizer
        return list(tokenizer.decode(tokenizer.encode(list(texts), self.source.info.seq_len)))

    def _why(self) -> str:
        """Why a path may decode one sentence, as far as the figures say: an untrained
        model, or the linked map's health line warning of collapse; else nothing."""
        from genwidgets.latent.health import trained

        if trained(self.source) is False:
            return ": the model has not trained yet"
        report = getattr(self.latent_map, "health_report", None)
        if report and report.get("warning"):
            return ": the health line under the map warns of posterior collapse"
        return ""

    def _show(self) -> None:
        if self.lines is None:
            return
        items, previous, n = [], None, len(self.lines)
        for k, line in enumerate(self.lines):
            same = line == previous
            end = {0: "A", n - 1: "B"}.get(k, "")
            style = "color:#999;" if same else ""
            edits = ""
            if previous is not None:
                n_edits = word_edits(previous, line)
                edits = (f' <span class="gw-path-edits" data-edits="{n_edits}" '
                         f"style='color:#777;font-size:90%'>· {n_edits} word "
                         f"edit{'s' if n_edits != 1 else ''}</span>")
            items.append(
                f'<li class="gw-path-line" data-step="{k}" data-changed="{int(not same)}" '
                f'style="{style}overflow-wrap:anywhere">'
                f'<code style="white-space:pre-wrap;overflow-wrap:anywhere">'
                f"{diff_html(previous, line, self.diff_by.value) or '&nbsp;'}"
                f"</code>{f' <b>{end}</b>' if end else ''}{edits}</li>")
            previous = line
        self.lines_view.value = (f'<ol class="gw-text-path-list" style="margin:4px 0;'
                                 f'max-width:100%;white-space:normal;overflow-wrap:anywhere">'
                                 f'{"".join(items)}</ol>')
