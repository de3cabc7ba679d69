"""Turn user values (CLI strings, form values, JSON) into a plugin's ``Config`` dataclass."""

from __future__ import annotations

import dataclasses
import json
import math
import typing
from collections.abc import Mapping
from typing import Any, Literal


class ConfigError(ValueError):
    """A configuration value is unknown, of the wrong type, or not one of the choices."""


def fields(config_cls: type) -> list[dataclasses.Field]:
    return list(dataclasses.fields(config_cls))


def field_types(config_cls: type) -> dict[str, Any]:
    hints = typing.get_type_hints(config_cls)
    return {f.name: hints.get(f.name, Any) for f in dataclasses.fields(config_cls)}


def choices(tp: Any) -> tuple | None:
    """The allowed values of a ``Literal[...]`` type, else None."""
    return typing.get_args(tp) if typing.get_origin(tp) is Literal else None


def coerce(name: str, tp: Any, value: Any, owner: str = "config") -> Any:
    """Convert ``value`` to ``tp`` (parsing strings), or raise :class:`ConfigError`."""
    allowed = choices(tp)
    if allowed is not None:
        for choice in allowed:
            if value == choice or (isinstance(value, str) and value == str(choice)):
                return choice
        raise ConfigError(
            f"{owner}: {name} must be one of {list(allowed)}. Received: {name}={value!r}"
        )
    if tp is bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "1", "yes", "on"):
            return True
        if isinstance(value, str) and value.lower() in ("false", "0", "no", "off"):
            return False
        raise ConfigError(f"{owner}: {name} must be true or false. Received: {name}={value!r}")
    if tp in (int, float):
        try:
            if isinstance(value, bool):
                raise TypeError
            if isinstance(value, str):
                value = json.loads(value)
            if isinstance(value, bool):  # "true" is not 1
                raise TypeError
            if tp is int and (isinstance(value, float) and not value.is_integer()):
                raise TypeError
            if isinstance(value, float) and not math.isfinite(value):
                raise ConfigError(  # NaN and infinities are no setting's value
                    f"{owner}: {name} must be a number, finite (not NaN or inf). Received: "
                    f"{name}={value!r}")
            result = tp(value)
        except (TypeError, ValueError, OverflowError, json.JSONDecodeError) as exc:
            if isinstance(exc, ConfigError):
                raise
            kind = "an integer" if tp is int else "a number"
            raise ConfigError(
                f"{owner}: {name} must be {kind}, e.g. {name}=3. Received: {name}={value!r}"
            ) from None
        return result
    if tp is str:
        if not isinstance(value, str):
            raise ConfigError(f"{owner}: {name} must be text. Received: {name}={value!r}")
        return value
    return value


def make_config(config_cls: type, values: Mapping[str, Any], owner: str = "config") -> Any:
    """Build ``config_cls`` from ``values``, naming unknown keys and bad values."""
    types = field_types(config_cls)
    unknown = sorted(set(values) - set(types))
    if unknown:
        raise ConfigError(
            f"{owner}: unknown setting(s) {unknown}. Expected one of {sorted(types)}."
        )
    parsed = {k: coerce(k, types[k], v, owner) for k, v in values.items()}
    config = config_cls(**parsed)
    check = getattr(config, "validate", None)
    if callable(check):
        check()
    return config


def check_config(spec, config: Any, what: str = "config") -> Any:
    """``config`` as ``spec``'s Config: a Config (validated again), a dict of settings, or
    None (the defaults); anything else (say, the text ``"latent_dim=3"``) is a ConfigError
    that names the config, not the plugin."""
    if config is None or isinstance(config, Mapping):
        return make_config(spec.Config, dict(config or {}), owner=spec.name)
    if isinstance(config, spec.Config):
        return make_config(spec.Config, to_dict(config), owner=spec.name)
    raise ConfigError(
        f"{spec.name}: Expected {what} to be a dict of settings (e.g. {{'latent_dim': 8}}) or "
        f"a {spec.name} Config (spec.config(...)). Received: {what}={config!r} "
        f"({type(config).__name__}). The config is wrong, not the plugin.")


def parse_assignments(items: list[str] | None) -> dict[str, str]:
    """Parse ``["key=value", ...]`` from the command line."""
    out: dict[str, str] = {}
    for item in items or []:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"Expected key=value, e.g. latent_dim=8. Received: {item!r}")
        out[key.strip()] = value.strip()
    return out


def to_dict(config: Any) -> dict[str, Any]:
    return dataclasses.asdict(config)


# -- dataset options (``--data-opt key=value``, a run folder's ``data_options``) ---------------
TEXT_OPTIONS = ("path", "texts")  # kept as given: a file name may be all digits


def option_value(name: str, value: Any) -> Any:
    """A dataset option typed as its loader takes it: an integer where the text is one
    (``limit=200`` is 200), ``none``/``null`` as None, else the text itself."""
    if name in TEXT_OPTIONS or not isinstance(value, str):
        return value
    text = value.strip()
    if text.lower() in ("none", "null"):
        return None
    if text.lstrip("+-").isdigit():
        return int(text)
    return value


def data_options(spec, values: Mapping[str, Any] | None) -> dict[str, Any]:
    """``values`` checked against the options ``spec`` (a DatasetSpec) declares, and typed
    (see :func:`option_value`); an unknown option is a ConfigError listing the known ones.
    Used for the command line and for a run folder's recorded options alike."""
    values = dict(values or {})
    unknown = sorted(set(values) - set(spec.options))
    if unknown:
        known = ", ".join(f"{k} ({v})" for k, v in spec.options.items()) or "none"
        raise ConfigError(
            f"dataset {spec.name!r}: unknown option(s) {unknown}. Expected one of: {known}. "
            f"Received: {', '.join(f'{k}={values[k]!r}' for k in unknown)}")
    return {k: option_value(k, v) for k, v in values.items()}


# -- what a setting means and where it applies: a field's ``metadata`` --------------------
# A plugin's Config may describe each field with ``dataclasses.field(default=...,
# metadata={"help": "one line", "modalities": ("text",)})``: ``help`` is shown beside the
# setting (the form, ``genwidgets plugins``); ``modalities`` names the data the setting
# applies to (missing: every modality the model takes). Both are optional.
HELP, MODALITIES = "help", "modalities"
# The help of settings that mean the same in every model, used when a field has none of
# its own (a plugin's field may always say more).
COMMON_HELP = {
    "seed": "Seed of the weights' initialisation and of the noise.",
    "latent_mixup": "Weight of the loss on points between two sentences, decoded towards "
                    "both word by word (0 = off).",
}


def field_help(config_cls: type, name: str) -> str:
    """The one-line help a Config field carries in its metadata, else the common help of
    its name (:data:`COMMON_HELP`), else ``""``."""
    meta = _metadata(config_cls, name)
    text = meta.get(HELP) or COMMON_HELP.get(name, "")
    return " ".join(str(text).split())  # one line, whatever the source's layout


def field_modalities(config_cls: type, name: str) -> tuple[str, ...] | None:
    """The modalities a Config field applies to (its metadata), or None: all of them."""
    found = _metadata(config_cls, name).get(MODALITIES)
    if found is None:
        return None
    return (found,) if isinstance(found, str) else tuple(found)


def applies(config_cls: type, name: str, modality: str | None) -> bool:
    """Whether the setting ``name`` matters for ``modality`` data (None: any data)."""
    allowed = field_modalities(config_cls, name)
    return modality is None or allowed is None or modality in allowed


def settings_for(config_cls: type, modality: str | None = None) -> list[str]:
    """The Config's field names that apply to ``modality`` data, in declaration order."""
    return [f.name for f in dataclasses.fields(config_cls)
            if applies(config_cls, f.name, modality)]


def _metadata(config_cls: type, name: str) -> Mapping[str, Any]:
    for f in dataclasses.fields(config_cls):
        if f.name == name:
            return f.metadata
    raise ConfigError(f"{getattr(config_cls, '__qualname__', config_cls)}: unknown setting "
                      f"{name!r}. Expected one of {[f.name for f in dataclasses.fields(config_cls)]}.")
