"""What a resume takes from a run folder's ``config.json`` and what it may change.

A resume goes on with the model, data, batch size and settings the run was trained with;
only the spec's ``mutable`` settings (``learning_rate``, a VAE's KL settings...) may be
given anew, and they are checked with the plugin's Config before anything is written.
Anything else given differently is refused, saying what the run has and what to do.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from genwidgets.training.files import RunFolderError
from genwidgets.training.run_config import RunConfig


def resumed_config(spec, folder: Path, asked: Any, modality: str):
    """The Config a resume of ``folder`` goes on with, and the mutable settings given anew.

    ``asked`` is what the caller passed as ``config``: None (the run's own), a dict (only
    the keys given are compared with the run's) or a Config (every field is). A setting
    that differs and is not mutable is refused, naming it, before anything is written.
    """
    from genwidgets.config import check_config, to_dict

    recorded = None
    if RunConfig.exists(folder):
        run_config = RunConfig.read(folder)  # says which key is missing or of the wrong type
        recorded = run_config.config
        if run_config.model != spec.name:
            recorded = None  # another model's run: the checkpoint check refuses, naming both
    if recorded is None:  # a folder of an older genwidgets: what was asked stands
        if asked is None or isinstance(asked, Mapping):
            return spec.config_for(modality, **dict(asked or {})), {}
        return check_config(spec, asked), {}
    try:
        config = spec.config(**recorded)
    except ValueError as exc:
        raise RunFolderError(f"{RunConfig.path_in(folder)}: its config does not make a "
                             f"{spec.name} Config ({exc}). Nothing was changed.") from None
    if asked is None:
        return config, {}
    if isinstance(asked, Mapping):
        given = dict(asked)
        check_config(spec, {**to_dict(config), **given})  # types and values, named
        given = {k: v for k, v in to_dict(spec.config(**{**to_dict(config), **given})).items()
                 if k in given}
    else:
        given = to_dict(check_config(spec, asked))
    was = to_dict(config)
    differ = {k: v for k, v in given.items() if was.get(k) != v}
    fixed = {k: v for k, v in differ.items() if k not in spec.mutable}
    if fixed:
        listed = ", ".join(f"{k}={v!r} (the run has {was.get(k)!r})" for k, v in fixed.items())
        raise RunFolderError(
            f"{folder}: {listed} cannot change on a resume: the checkpoint's model was built "
            f"with the run's settings. Settings a resume may change: "
            f"{list(spec.mutable)}. Nothing was changed. Resume without it, or start a new "
            f"run with it in another folder.")
    return config, differ


def settings_from_checkpoint(folder: Path, config, model):
    """``config`` with each setting the run's ``config.json`` does not record (one a plugin
    added after the run was written) taken from the checkpoint's model, where its
    ``get_config()`` carries it under ``"config"``: an older run goes on as it was built
    (e.g. a GAN from before ``spectral_norm``), not with the new default."""
    if not RunConfig.exists(folder) or not dataclasses.is_dataclass(config):
        return config
    recorded = RunConfig.read(folder).config
    try:
        built = model.get_config().get("config")
    except Exception:  # a third party's model without a config of its own
        return config
    if not isinstance(recorded, Mapping) or not isinstance(built, Mapping):
        return config
    unrecorded = {f.name: built[f.name] for f in dataclasses.fields(config)
                  if f.name not in recorded and f.name in built}
    return dataclasses.replace(config, **unrecorded) if unrecorded else config


def check_same_config(folder: Path, spec, config, model) -> None:
    """Refuse a resume whose ``config.json`` no longer says what the checkpoint's model was
    built with (an edited file): the model would train on as before while the folder
    claimed otherwise. Compared where the model's ``get_config()`` carries its settings
    under ``"config"`` (the built-ins do); mutable settings may differ."""
    from genwidgets.config import to_dict

    try:
        built = model.get_config().get("config")
    except Exception:  # a third party's model without a config of its own
        return
    if not isinstance(built, Mapping):
        return
    now = json.loads(json.dumps(to_dict(config)))  # as JSON keeps them (lists, not tuples)
    built = json.loads(json.dumps(built, default=str))
    differ = {k: (now[k], v) for k, v in built.items()
              if k in now and k not in spec.mutable and now[k] != v}
    if differ:
        listed = ", ".join(f"{k}={a!r} (its checkpoint's model has {b!r})"
                           for k, (a, b) in differ.items())
        raise RunFolderError(
            f"{RunConfig.path_in(folder)} says {listed}: it was edited after the run "
            f"was trained, and the checkpoint's model cannot change. Nothing was changed. "
            f"Put the recorded values back, or start a new run with these settings in "
            f"another folder.")


def checked_changes(spec, config, values: Mapping[str, Any], *, zero_rate: bool = True,
                    when: str = "while training") -> dict[str, Any]:
    """``values`` for :meth:`Run.set`: mutable settings only, typed, and the Config they
    make validated by the plugin, so a value the model would refuse raises now.
    ``zero_rate``: ``learning_rate=0`` (freeze the weights) is allowed."""
    from genwidgets.config import coerce, field_types

    types = field_types(type(config))
    parsed = {}
    for name, value in values.items():
        if name not in spec.mutable:
            raise ValueError(
                f"{spec.name}: {name!r} cannot change {when}. Expected one of "
                f"{list(spec.mutable)}. Received: {name}={value!r}")
        value = coerce(name, types.get(name, float), value, spec.name)
        if isinstance(value, float) and not value >= 0:
            raise ValueError(f"{spec.name}: {name} must be >= 0. Received: {value}")
        parsed[name] = value
    fields = {k: v for k, v in parsed.items() if k in types}
    probe = dataclasses.replace(config, **fields)
    if zero_rate and fields.get("learning_rate") == 0 and "learning_rate" in types:
        probe = dataclasses.replace(probe, learning_rate=config.learning_rate)  # 0 freezes
    check = getattr(probe, "validate", None)
    if callable(check):
        check()  # the plugin's own rule, e.g. vae: word_dropout must be in [0, 1)
    return parsed
