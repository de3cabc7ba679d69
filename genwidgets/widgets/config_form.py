"""``ConfigForm``: a settings form generated from a plugin's ``Config`` dataclass.

One widget per field, chosen by its type: ``Literal`` -> dropdown, ``bool`` -> checkbox,
``int`` -> integer box, ``float`` -> number box, ``str`` -> text. The comment of a field is
not available at run time, so the field name is the label. ``value()`` builds the Config
through the same parser as the CLI, so the form and ``--set`` give the same errors.
"""

from __future__ import annotations

import dataclasses
import html

import ipywidgets as W

from genwidgets.config import choices, field_types

STYLE = {"description_width": "130px"}
LAYOUT = {"width": "300px"}


def field_widget(name: str, tp, default) -> W.Widget:
    allowed = choices(tp)
    if allowed is not None:
        return W.Dropdown(options=list(allowed), value=default, description=name,
                          style=STYLE, layout=W.Layout(**LAYOUT))
    if tp is bool:
        return W.Checkbox(value=bool(default), description=name, style=STYLE, indent=True)
    if tp is int:
        return W.IntText(value=default, description=name, style=STYLE,
                         layout=W.Layout(**LAYOUT))
    if tp is float:
        return W.FloatText(value=default, description=name, style=STYLE,
                           layout=W.Layout(**LAYOUT))
    return W.Text(value="" if default is None else str(default), description=name,
                  style=STYLE, layout=W.Layout(**LAYOUT))


class ConfigForm(W.VBox):
    def __init__(self, spec, modality: str | None = None):
        self.spec, self.modality = spec, modality
        types = field_types(spec.Config)
        defaults = (spec.defaults_for(modality) if modality
                    else dataclasses.asdict(spec.config()))
        self.fields = {name: field_widget(name, tp, defaults[name]) for name, tp in types.items()}
        for name, widget in self.fields.items():
            widget.add_class(f"gw-field-{name}")
        self.error = W.HTML()
        self.error.add_class("gw-config-error")
        super().__init__([*self.fields.values(), self.error])
        self.add_class("gw-config-form")

    def value(self):
        """The Config the form holds; a bad value shows its message and raises it."""
        try:
            config = self.spec.config(**{k: w.value for k, w in self.fields.items()})
        except ValueError as exc:
            self.error.value = f"<span style='color:#c62828'>{html.escape(str(exc))}</span>"
            raise
        self.error.value = ""
        return config
