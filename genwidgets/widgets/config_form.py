"""``ConfigForm``: a settings form generated from a plugin's ``Config`` dataclass.

One row per field that applies to the chosen data's modality (a field's ``metadata``
may name its ``modalities``; :func:`genwidgets.config.settings_for`): the field's name, a
control chosen by its type (``Literal`` -> dropdown, ``bool`` -> checkbox, ``int`` ->
integer box, ``float`` -> number box, ``str`` -> text) and the one-line help of its
``metadata`` (:func:`genwidgets.config.field_help`), as small text beside it and as the
control's tooltip. The rows are a grid whose name column is as wide as the longest name,
so no name is cut. ``value()`` builds the Config through the same parser as the CLI, so the
form and ``--set`` give the same errors; a setting the form does not show keeps its
default for that modality.
"""

from __future__ import annotations

import dataclasses
import html

import ipywidgets as W

from genwidgets.config import choices, field_help, field_types, settings_for
from genwidgets.widgets.errors import error_html

CONTROL = {"width": "190px"}
GRID = W.Layout(grid_template_columns="max-content 190px minmax(200px, 1fr)",
                grid_gap="2px 10px", align_items="center", width="100%")


def field_widget(name: str, tp, default) -> W.Widget:
    """The control of one setting (no description: its name is the row's label)."""
    allowed = choices(tp)
    if allowed is not None:
        return W.Dropdown(options=list(allowed), value=default, layout=W.Layout(**CONTROL))
    if tp is bool:
        return W.Checkbox(value=bool(default), indent=False, layout=W.Layout(**CONTROL))
    if tp is int:
        return W.IntText(value=default, layout=W.Layout(**CONTROL))
    if tp is float:
        return W.FloatText(value=default, layout=W.Layout(**CONTROL))
    return W.Text(value="" if default is None else str(default), layout=W.Layout(**CONTROL))


def name_label(name: str, help_text: str) -> W.HTML:
    """A setting's name, never cut (its grid column fits it), the help as its tooltip."""
    label = W.HTML(f'<span title="{html.escape(help_text)}" style="white-space:nowrap">'
                   f"{html.escape(name)}</span>")
    label.add_class("gw-field-label")
    return label


def help_line(help_text: str) -> W.HTML:
    line = W.HTML(f'<small style="color:#555;line-height:1.25">{html.escape(help_text)}'
                  f"</small>")
    line.add_class("gw-field-help")
    return line


class ConfigForm(W.VBox):
    def __init__(self, spec, modality: str | None = None):
        self.spec, self.modality = spec, modality
        types = field_types(spec.Config)
        defaults = (spec.defaults_for(modality) if modality
                    else dataclasses.asdict(spec.config()))
        shown = settings_for(spec.Config, modality)
        self.fields = {name: field_widget(name, types[name], defaults[name]) for name in shown}
        self.help = {name: field_help(spec.Config, name) for name in shown}
        cells = []
        for name, widget in self.fields.items():
            widget.add_class(f"gw-field-{name}")
            widget.tooltip = self.help[name] or None
            cells += [name_label(name, self.help[name]), widget, help_line(self.help[name])]
        self.grid = W.GridBox(cells, layout=GRID)
        self.grid.add_class("gw-config-grid")
        self.error = W.HTML(layout=W.Layout(width="100%"))
        self.error.add_class("gw-config-error")
        super().__init__([self.grid, self.error], layout=W.Layout(width="100%"))
        self.add_class("gw-config-form")

    def value(self):
        """The Config the form holds; a bad value shows its message and raises it."""
        values = {k: w.value for k, w in self.fields.items()}
        try:
            config = (self.spec.config_for(self.modality, **values) if self.modality
                      else self.spec.config(**values))
        except ValueError as exc:
            self.error.value = error_html(str(exc), inline=True)
            raise
        self.error.value = ""
        return config
