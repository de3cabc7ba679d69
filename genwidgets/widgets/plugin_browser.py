"""``PluginBrowser``: what the plugin registry holds, and what failed to load.

A view over :meth:`genwidgets.registry.Registry.rows`: one row per model and dataset, and
one red block per failed plugin with its error and a collapsible traceback. "Check models"
builds each model on tiny data (:meth:`~genwidgets.registry.Registry.check`) and shows a red
block for each model whose ``build()``, fit step, encode, decode or sample fails. Every
string a plugin provides is HTML-escaped. Nothing here imports Keras until a check runs.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Mapping
from typing import Any

import ipywidgets as widgets

from genwidgets.registry import Registry, get_registry

MODEL_COLUMNS = ("name", "family", "modalities", "distribution", "version", "status")
DATASET_COLUMNS = ("name", "modalities", "plugin", "distribution", "version", "status")
_COLUMN_WIDTHS = "minmax(8em, 1.2fr) minmax(6em, 1fr) minmax(8em, 1fr) minmax(8em, 1.2fr) 6em 5em"
FAILED_COLOR = "#b00020"
FAILED_BACKGROUND = "#fdecea"


def _text(value: Any) -> str:
    """Escape one cell's value for HTML (lists are joined, ``None`` is a dash)."""
    if value is None or value == "":
        return "–"
    if isinstance(value, (list, tuple)):
        return html.escape(", ".join(str(v) for v in value)) or "–"
    return html.escape(str(value))


def _grid_row(cells: Iterable[str], *, header: bool = False) -> widgets.GridBox:
    children = []
    for column, value in cells:
        cell = widgets.HTML(f"<b>{html.escape(column)}</b>" if header else value)
        if not header:
            cell.add_class(f"gw-plugin-{column}")
        children.append(cell)
    return widgets.GridBox(
        children,
        layout=widgets.Layout(grid_template_columns=_COLUMN_WIDTHS, grid_gap="0 0.5em"),
    )


def _table(rows: list[Mapping[str, Any]], columns: tuple[str, ...], row_class: str):
    header = _grid_row(((c, c) for c in columns), header=True)
    header.add_class("gw-plugin-header")
    body = []
    for row in rows:
        line = _grid_row((c, _text(row.get(c))) for c in columns)
        line.add_class(row_class)
        line.add_class(f"gw-status-{row.get('status', 'ok')}")
        body.append(line)
    return widgets.VBox([header, *body])


def _failure_block(row: Mapping[str, Any]) -> widgets.HTML:
    hook = row.get("hook") or "import"
    what = "check failed in" if row.get("kind") == "model" else "failed in"
    where = f"{_text(row.get('distribution'))} {_text(row.get('version'))}"
    if row.get("kind") == "model":  # a failed check: name the plugin, not only the model
        where = f"plugin {_text(row.get('plugin'))}, {where}"
    trace = row.get("traceback") or ""
    details = (
        f"<details><summary>Traceback</summary>"
        f"<pre style='white-space: pre-wrap; font-size: 0.85em'>{html.escape(trace)}</pre>"
        f"</details>"
        if trace
        else ""
    )
    block = widgets.HTML(
        f"<div style='color: {FAILED_COLOR}; background: {FAILED_BACKGROUND}; "
        f"border-left: 4px solid {FAILED_COLOR}; padding: 0.3em 0.6em; margin: 0.2em 0'>"
        f"<b>{_text(row.get('name'))}</b> <span>({where})</span> {what} "
        f"<code>{html.escape(str(hook))}</code>: "
        f"<span class='gw-plugin-error'>{_text(row.get('error'))}</span>"
        f"{details}</div>"
    )
    block.add_class("gw-plugin-failed")
    return block


def _heading(text: str) -> widgets.HTML:
    return widgets.HTML(f"<h4 style='margin: 0.6em 0 0.2em'>{html.escape(text)}</h4>")


class PluginBrowser(widgets.VBox):
    """Installed models and datasets, and the plugins that failed, as a widget.

    Show it by making it the last expression of a notebook cell::

        from genwidgets.widgets import PluginBrowser
        PluginBrowser()

    Args:
        registry: the :class:`~genwidgets.registry.Registry` to show; the process-wide
            one from :func:`~genwidgets.registry.get_registry` when omitted.
    """

    def __init__(self, registry: Registry | None = None, **kwargs: Any):
        if registry is not None and not isinstance(registry, Registry):
            raise TypeError(
                "Expected `registry` to be a genwidgets.registry.Registry or None. "
                f"Received: registry={registry!r} ({type(registry).__name__})"
            )
        super().__init__(**kwargs)
        self.add_class("gw-plugin-browser")
        self._registry = registry
        self.check_button = widgets.Button(
            description="Check models", icon="stethoscope",
            tooltip="Build each model on tiny data and train one step (seconds a model)")
        self.check_button.add_class("gw-plugin-check")
        self.check_button.on_click(lambda _: self.check())
        self.check_status = widgets.HTML()
        self.check_status.add_class("gw-plugin-check-status")
        self.refresh()

    def check(self, names=None) -> None:
        """Check the models (what the button does) and show the results."""
        self.check_button.disabled = True
        self.check_button.description = "Checking..."

        def progress(result):
            self.check_status.value = f"checked {html.escape(result.model)}..."

        try:
            results = self.registry.check(names, progress=progress)
            failed = [r for r in results if not r.ok]
            self.check_status.value = (
                f"{len(results)} model{'s' if len(results) != 1 else ''} checked"
                + (f", <b style='color: {FAILED_COLOR}'>{len(failed)} failed</b>"
                   if failed else ", all built and trained a step"))
        except Exception as exc:  # the check itself could not run: say why, do not raise
            self.check_status.value = (f"<span style='color: {FAILED_COLOR}'>the check could "
                                       f"not run: {html.escape(repr(exc))}</span>")
        finally:
            self.check_button.disabled = False
            self.check_button.description = "Check models"
        self.refresh()

    @property
    def registry(self) -> Registry:
        return self._registry if self._registry is not None else get_registry()

    def refresh(self) -> None:
        """Rebuild the view from the registry's current rows."""
        rows = self.registry.rows()
        models = [r for r in rows if r["kind"] == "model"]
        datasets = [r for r in rows if r["kind"] == "dataset"]
        failed = [r for r in rows if r["status"] == "failed" and r["kind"] == "plugin"]
        failed_checks = [r for r in models if r["status"] == "failed"]
        blocked = [r for r in rows if r["status"] == "blocked"]

        summary = widgets.HTML(
            f"<b>{len(models)}</b> models, <b>{len(datasets)}</b> datasets"
            + (
                f", <b style='color: {FAILED_COLOR}'>{len(failed)} failed plugin"
                f"{'s' if len(failed) != 1 else ''}</b>"
                if failed
                else ""
            )
            + (f", <b style='color: {FAILED_COLOR}'>{len(failed_checks)} failed check"
               f"{'s' if len(failed_checks) != 1 else ''}</b>" if failed_checks else "")
            + (f", {len(blocked)} blocked" if blocked else "")
        )
        summary.add_class("gw-plugin-summary")
        children: list[widgets.Widget] = [
            summary, _heading("Models"), widgets.HBox([self.check_button, self.check_status])]
        children.append(
            _table(models, MODEL_COLUMNS, "gw-plugin-row")
            if models
            else widgets.HTML("<i>No models are registered.</i>")
        )
        children += [_heading("Datasets"), _table(datasets, DATASET_COLUMNS, "gw-dataset-row")]
        if failed:
            children.append(_heading("Failed plugins"))
            children += [_failure_block(r) for r in failed]
        if failed_checks:
            children.append(_heading("Failed checks"))
            children += [_failure_block(r) for r in failed_checks]
        for reason, label in (("GENWIDGETS_DISABLE_PLUGINS", "Blocked by "
                               "GENWIDGETS_DISABLE_PLUGINS"),
                              ("not in GENWIDGETS_ALLOW_PLUGINS",
                               "Not in GENWIDGETS_ALLOW_PLUGINS, so not loaded")):
            names = ", ".join(_text(r["name"]) for r in blocked if r.get("error") == reason)
            if names:
                children.append(widgets.HTML(f"<i>{label}: {names}</i>"))
        self.children = children
