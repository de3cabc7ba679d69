"""Turn user values (CLI strings, form values, JSON) into a plugin's ``Config`` dataclass."""

from __future__ import annotations

import dataclasses
import json
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
            result = tp(value)
        except (TypeError, ValueError, json.JSONDecodeError):
            kind = "an integer" if tp is int else "a number"
            raise ConfigError(
                f"{owner}: {name} must be {kind}, e.g. {name}=3. Received: {name}={value!r}"
            ) from None
        if tp is float and result != result:  # NaN
            raise ConfigError(f"{owner}: {name} must be a number, not NaN.")
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
