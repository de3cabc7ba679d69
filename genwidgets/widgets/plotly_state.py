"""What a Plotly FigureWidget's late viewers build from.

Plotly sends a FigureWidget's full data once, at creation, then deltas; a page that
connects later (a reload, a second tab, Voila) builds the figure from the widget's state
(``_widget_data``, ``_widget_layout``), which Plotly never updates. After changes, make
that state the current one without a message: connected views already follow the deltas,
and ipywidgets sends the stored values only when a page asks for every widget's state.
"""

from __future__ import annotations

import contextlib
import copy

import plotly.graph_objects as go


def keep_late_viewers_current(figure: go.FigureWidget) -> None:
    """Store the figure's current data and layout as the state late viewers build from,
    under the traits, without notifying (no message to connected views)."""
    values = figure._trait_values
    values["_widget_data"] = copy.deepcopy(figure._data)
    values["_widget_layout"] = copy.deepcopy(figure._layout_obj._props)


class LateViewers:
    """Stores a figure's state for late viewers once per change, however nested the code
    that makes it: ``with late.sending():`` around a change, ``late.changed = True`` where a
    part of it touched the figure; the state is stored when the outermost block ends, and
    only if something changed."""

    def __init__(self, figure: go.FigureWidget):
        self.figure, self.changed, self._depth = figure, False, 0

    @contextlib.contextmanager
    def sending(self):
        self._depth += 1
        try:
            yield
        finally:
            self._depth -= 1
            if not self._depth and self.changed:
                self.changed = False
                keep_late_viewers_current(self.figure)
