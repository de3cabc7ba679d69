"""The registry of models and datasets: plugin discovery through the entry-point group
``genwidgets``, one entry point at a time (the built-in plugins live in ``plugins/``).

A plugin that fails to import, raises in a hook, returns the wrong thing or repeats
a name is recorded as a :class:`PluginFailure` and the rest keep working.
``GENWIDGETS_STRICT_PLUGINS=1`` raises instead; ``GENWIDGETS_DISABLE_PLUGINS=a,b``
blocks plugins (entry-point names) or models by name; ``GENWIDGETS_ALLOW_PLUGINS=a,b``
loads only those plugins (the built-in datasets always load). A plugin that is not allowed
is never imported. Nothing here imports Keras; :meth:`Registry.check` (on demand) builds
each model on tiny data and records what fails (a raising ``build()``, an ``encode`` of
the wrong shape, ...).
"""

from __future__ import annotations

import dataclasses
import difflib
import inspect
import os
import re
import traceback
from importlib import metadata
from typing import Any

import pluggy

from genwidgets import hookspecs
from genwidgets.spec import CAPABILITIES, MODALITIES, Dataset, DatasetSpec, ModelSpec

GROUP = "genwidgets"
CORE_PLUGIN = "genwidgets.data"
_NAME = re.compile(r"^[a-z][a-z0-9_\-]*$")


class PluginError(RuntimeError):
    """A plugin is broken (raised only in strict mode)."""


class UnknownNameError(KeyError):
    """No model or dataset of that name is registered."""

    def __str__(self) -> str:  # KeyError quotes its message otherwise
        return str(self.args[0])


@dataclasses.dataclass
class PluginFailure:
    plugin: str
    distribution: str | None
    version: str | None
    hook: str | None
    error: str
    traceback: str = ""


@dataclasses.dataclass
class CheckResult:
    """What :meth:`Registry.check` found for one model: ``stage`` names the failing part."""

    model: str
    plugin: str | None
    modality: str
    ok: bool
    stage: str | None = None  # "build()", "fit", "encode", "decode", "sample", "condition",
    # "reload"
    error: str | None = None
    traceback: str = ""
    seconds: float = 0.0


@dataclasses.dataclass
class PluginRecord:
    name: str
    distribution: str | None
    version: str | None
    status: str = "ok"  # "ok", "failed" or "blocked"
    reason: str | None = None  # why it is blocked
    models: list[str] = dataclasses.field(default_factory=list)
    datasets: list[str] = dataclasses.field(default_factory=list)


def _flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in ("1", "true", "yes", "on")


def _names(variable: str) -> set[str]:
    raw = os.environ.get(variable, "")
    return {part.strip() for part in raw.split(",") if part.strip()}


def _blocked() -> set[str]:
    return _names("GENWIDGETS_DISABLE_PLUGINS")


def _allowed() -> set[str] | None:
    """The allow list, or None when ``GENWIDGETS_ALLOW_PLUGINS`` is unset or empty."""
    return _names("GENWIDGETS_ALLOW_PLUGINS") or None


_FROM_ENV: Any = object()


def get_plugin_manager() -> pluggy.PluginManager:
    pm = pluggy.PluginManager(hookspecs.PROJECT)
    pm.add_hookspecs(hookspecs)
    return pm


def _definition(func: Any) -> str:
    try:
        return f"{inspect.getsourcefile(func)}:{inspect.getsourcelines(func)[1]}"
    except (TypeError, OSError):
        return getattr(func, "__qualname__", repr(func))


def check_model_spec(obj: Any) -> ModelSpec:
    """Return an instance of a valid ``ModelSpec`` subclass, or raise TypeError saying why."""
    if not (isinstance(obj, type) and issubclass(obj, ModelSpec)):
        raise TypeError(
            f"register_models must return ModelSpec subclasses. Received: {obj!r} "
            f"({type(obj).__name__}). Example: return [MyModelSpec]"
        )
    name = getattr(obj, "name", None)
    if not isinstance(name, str) or not _NAME.match(name):
        raise TypeError(
            f"{obj.__name__}.name must be a lowercase identifier such as 'my_vae'. Received: {name!r}"
        )
    if not isinstance(getattr(obj, "family", None), str):
        raise TypeError(f"{obj.__name__}.family must be a string such as 'vae'.")
    bad = set(obj.modalities) - set(MODALITIES)
    if not obj.modalities or bad:
        raise TypeError(
            f"{obj.__name__}.modalities must be a non-empty subset of {MODALITIES}. "
            f"Received: {obj.modalities!r}"
        )
    if set(obj.capabilities) - set(CAPABILITIES):
        raise TypeError(
            f"{obj.__name__}.capabilities must be a subset of {CAPABILITIES}. "
            f"Received: {sorted(obj.capabilities)!r}"
        )
    if not dataclasses.is_dataclass(obj.Config):
        raise TypeError(f"{obj.__name__}.Config must be a dataclass.")
    return obj()


def check_dataset_spec(obj: Any) -> DatasetSpec:
    if not isinstance(obj, DatasetSpec):
        raise TypeError(
            f"register_datasets must return DatasetSpec instances. Received: {obj!r} "
            f"({type(obj).__name__})"
        )
    if not _NAME.match(obj.name) or obj.modality not in MODALITIES or not callable(obj.load):
        raise TypeError(
            f"DatasetSpec needs a lowercase name, a modality in {MODALITIES} and a callable "
            f"load. Received: name={obj.name!r} modality={obj.modality!r}"
        )
    return obj


class Registry:
    """Models and datasets from every plugin, and the plugins that failed."""

    def __init__(self, strict: bool | None = None, blocked: set[str] | None = None,
                 allowed: set[str] | None = _FROM_ENV):
        self.strict = _flag("GENWIDGETS_STRICT_PLUGINS") if strict is None else strict
        self.blocked = _blocked() if blocked is None else set(blocked)
        self.allowed = _allowed() if allowed is _FROM_ENV else (
            None if allowed is None else set(allowed))
        self.checks: dict[str, CheckResult] = {}
        self.pm = get_plugin_manager()
        self.models: dict[str, ModelSpec] = {}
        self.datasets: dict[str, DatasetSpec] = {}
        self.plugins: list[PluginRecord] = []
        self.failures: list[PluginFailure] = []
        self._origin: dict[str, str] = {}

    # -- discovery ---------------------------------------------------------
    def discover(self) -> Registry:
        from genwidgets.data import builtin

        self.add_plugin(CORE_PLUGIN, lambda: builtin, "genwidgets", _version("genwidgets"))
        for ep in sorted(metadata.entry_points(group=GROUP), key=lambda e: e.name):
            dist = getattr(ep, "dist", None)
            self.add_plugin(
                ep.name, ep.load, dist.name if dist else None, dist.version if dist else None
            )
        return self

    def add_plugin(self, name: str, load, distribution=None, version=None) -> PluginRecord:
        """Load one plugin (``load()`` returns the module or object with hook functions)."""
        record = PluginRecord(name, distribution, version)
        self.plugins.append(record)
        if name in self.blocked:
            record.status, record.reason = "blocked", "GENWIDGETS_DISABLE_PLUGINS"
            return record
        if self.allowed is not None and name != CORE_PLUGIN and name not in self.allowed:
            record.status, record.reason = "blocked", "not in GENWIDGETS_ALLOW_PLUGINS"
            return record
        try:
            module = load()
            self.pm.register(module, name=name)
        except Exception as exc:
            record.status = "failed"
            self._fail(record, None, exc)
            return record
        for impl in self.pm.hook.register_models.get_hookimpls():
            if impl.plugin_name == name:
                self._call(record, impl, "register_models", check_model_spec, self.models)
        for impl in self.pm.hook.register_datasets.get_hookimpls():
            if impl.plugin_name == name:
                self._call(record, impl, "register_datasets", check_dataset_spec, self.datasets)
        return record

    def _call(self, record, impl, hook, check, target) -> None:
        try:
            result = impl.function()
            if not isinstance(result, (list, tuple)):
                raise TypeError(f"{hook} must return a list. Received: {type(result).__name__}")
            items = [check(obj) for obj in result]
        except Exception as exc:
            record.status = "failed"
            self._fail(record, hook, exc, _definition(impl.function))
            return
        for item in items:
            kind = "model" if hook == "register_models" else "dataset"
            if item.name in self.blocked:
                continue
            if item.name in target:
                record.status = "failed"
                err = ValueError(
                    f"{kind} name {item.name!r} is already registered by plugin "
                    f"{self._origin[kind + item.name]!r}; names must be unique."
                )
                self._fail(record, hook, err, _definition(impl.function))
                continue
            target[item.name] = item
            self._origin[kind + item.name] = record.name
            (record.models if kind == "model" else record.datasets).append(item.name)

    def _fail(self, record, hook, exc, definition: str | None = None) -> None:
        where = f" in hook {hook}" if hook else " on import"
        at = f" (defined at {definition})" if definition else ""
        message = f"plugin {record.name!r}{where}{at}: {type(exc).__name__}: {exc}"
        failure = PluginFailure(
            record.name, record.distribution, record.version, hook,
            f"{type(exc).__name__}: {exc}", "".join(traceback.format_exception(exc)),
        )
        self.failures.append(failure)
        if self.strict:
            raise PluginError(message + "\n(GENWIDGETS_STRICT_PLUGINS=1 is set)") from exc

    # -- look-ups ----------------------------------------------------------
    def model(self, name: str) -> ModelSpec:
        return self._get(self.models, name, "model")

    def dataset(self, name: str) -> DatasetSpec:
        return self._get(self.datasets, name, "dataset")

    def _get(self, table: dict, name: str, kind: str):
        if name in table:
            return table[name]
        close = difflib.get_close_matches(str(name), list(table), n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise UnknownNameError(
            f"Unknown {kind} {name!r}. Expected one of {sorted(table)}.{hint} "
            f"`genwidgets plugins` lists what is installed and what failed to load."
        )

    def plugin_of(self, model: str) -> str | None:
        """The name of the plugin that registered ``model``."""
        return self._origin.get("model" + model)

    def check(self, names=None, *, reload: bool = False, progress=None) -> list[CheckResult]:
        """Build each model (or those in ``names``) on tiny data, train one step and check
        encode / decode / sample (``genwidgets.testing.check_model``); record the results.

        This imports Keras and takes seconds a model. ``progress(result)`` is called after
        each model. A failing model stays listed, marked failed with the failing stage.
        """
        import time

        from genwidgets.testing import check_model

        results = []
        for name in sorted(self.models) if names is None else list(names):
            spec = self.model(name)
            modality = spec.modalities[0]
            t0 = time.monotonic()
            try:
                check_model(spec, modality, reload=reload)
                result = CheckResult(name, self.plugin_of(name), modality, True)
            except Exception as exc:
                result = CheckResult(
                    name, self.plugin_of(name), modality, False, _stage(exc),
                    f"{type(exc).__name__}: {exc}", "".join(traceback.format_exception(exc)))
            result.seconds = time.monotonic() - t0
            self.checks[name] = result
            results.append(result)
            if progress is not None:
                progress(result)
        return results

    def models_for(self, modality: str) -> list[ModelSpec]:
        return [m for m in self.models.values() if modality in m.modalities]

    def rows(self) -> list[dict[str, Any]]:
        """One row per model and dataset, and one per failure (for tables and JSON)."""
        rows = []
        by_plugin = {p.name: p for p in self.plugins}
        for name, spec in self.models.items():
            plugin = by_plugin[self._origin["model" + name]]
            row = _row("model", name, spec.family, list(spec.modalities), plugin)
            checked = self.checks.get(name)
            if checked is not None:
                row["check"] = "passed" if checked.ok else "failed"
                if not checked.ok:
                    row.update(status="failed", hook=checked.stage, traceback=checked.traceback,
                               error=f"{checked.stage} failed: {checked.error}")
            rows.append(row)
        for name, ds in self.datasets.items():
            plugin = by_plugin[self._origin["dataset" + name]]
            rows.append(_row("dataset", name, "", [ds.modality], plugin))
        for f in self.failures:
            rows.append({
                "kind": "plugin", "name": f.plugin, "family": "", "modalities": [],
                "plugin": f.plugin, "distribution": f.distribution, "version": f.version,
                "status": "failed", "error": f.error, "hook": f.hook, "traceback": f.traceback,
            })
        for p in self.plugins:
            if p.status == "blocked":
                rows.append({**_row("plugin", p.name, "", [], p), "status": "blocked",
                             "error": p.reason})
        return rows


def _row(kind, name, family, modalities, plugin: PluginRecord) -> dict[str, Any]:
    return {
        "kind": kind, "name": name, "family": family, "modalities": modalities,
        "plugin": plugin.name, "distribution": plugin.distribution,
        "version": plugin.version, "status": "ok", "error": None,
    }


def _stage(exc: BaseException) -> str:
    """Which stage of ``genwidgets.testing.check_model`` failed (it marks its exceptions)."""
    return getattr(exc, "check_stage", None) or "check"


def _version(dist: str) -> str | None:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return None


_REGISTRY: Registry | None = None


def get_registry(refresh: bool = False) -> Registry:
    """The process-wide registry, discovered on first use."""
    global _REGISTRY
    if _REGISTRY is None or refresh:
        _REGISTRY = Registry().discover()
    return _REGISTRY


def load_dataset(name: str, **options: Any) -> Dataset:
    """Load a registered dataset by name, e.g. ``load_dataset("digits")``."""
    return get_registry().dataset(name).load(**options)
