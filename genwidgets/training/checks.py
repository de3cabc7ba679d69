"""Checks at a run's door: numbers (batch size, epochs, seed, intervals) and, for a resume,
that the data are those the run was trained on."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from genwidgets.spec import Dataset


def integer(name: str, value: Any, low: int, high: int | None = None) -> int:
    """``value`` as an int in ``[low, high]``, or a ValueError saying what was expected."""
    import numbers

    if (isinstance(value, bool) or not isinstance(value, numbers.Integral)
            or value < low or (high is not None and value > high)):
        if high is None:
            raise ValueError(f"Expected {name} >= {low}, an integer. Received: {name}={value!r}")
        raise ValueError(f"Expected {name} to be an integer from {low} to {high}. Received: "
                         f"{name}={value!r}")
    return int(value)


def seconds(name: str, value: Any) -> float:
    """``value`` as a number of seconds >= 0 (``inf``: never), or a ValueError."""
    import math
    import numbers

    if isinstance(value, bool) or not isinstance(value, numbers.Real) or math.isnan(value) \
            or value < 0:
        raise ValueError(f"Expected {name} to be a number of seconds >= 0 (inf: never). "
                         f"Received: {name}={value!r}")
    return float(value)


def share(name: str, value: Any) -> float:
    """``value`` as a share of the data strictly between 0 and 1, or a ValueError."""
    import math
    import numbers

    if (isinstance(value, bool) or not isinstance(value, numbers.Real)
            or math.isnan(value) or not 0 < value < 1):
        raise ValueError(f"Expected {name} to be a share of the data between 0 and 1, "
                         f"exclusive (say 0.1). Received: {name}={value!r}")
    return float(value)


def share_from_text(flag: str, text: str) -> float:
    """A command line's share (``--validation 0.1``), checked like :func:`share`."""
    try:
        value = float(text)
    except ValueError:
        value = text
    return share(flag, value)


def data_fingerprint(dataset: Dataset) -> dict[str, Any]:
    """What identifies the data a run trains on: the SHA-256 of its items (and of its
    tokenizer), their count and shape; a resume on other data is refused."""
    import hashlib
    import json

    import numpy as np

    x = np.ascontiguousarray(dataset.x)
    digest = hashlib.sha256(f"{x.dtype.str}{x.shape}".encode())
    if x.dtype.hasobject:  # say, a list of strings
        digest.update(repr(x.tolist()).encode())
    else:
        digest.update(memoryview(x).cast("B"))
    doc = {"sha256": digest.hexdigest(), "items": int(len(x)), "shape": list(x.shape[1:]),
           "dtype": x.dtype.name}
    tokenizer = getattr(dataset, "tokenizer", None)
    if tokenizer is not None and hasattr(tokenizer, "to_dict"):
        text = json.dumps(tokenizer.to_dict(), sort_keys=True)
        doc["tokenizer_sha256"] = hashlib.sha256(text.encode()).hexdigest()
    return doc


def check_same_data(out: Path, dataset: Dataset, fingerprint: dict[str, Any]) -> None:
    """Refuse to resume the run in ``out`` on data other than those it was trained on."""
    from genwidgets.training.files import RunFolderError
    from genwidgets.training.run_config import RunConfig

    try:
        recorded = RunConfig.read(out)
    except RunFolderError:
        return  # no config.json to compare with (what reads it next says what is wrong)
    was = recorded.data_fingerprint
    if was is None or "sha256" not in was:
        return  # a run of an older genwidgets: nothing to compare with
    changes = []
    if (was.get("items"), was.get("shape")) != (fingerprint["items"], fingerprint["shape"]):
        changes.append(f"{fingerprint['items']} items of shape {tuple(fingerprint['shape'])}, "
                       f"the run had {was.get('items')} of shape {tuple(was.get('shape') or ())}")
    elif was["sha256"] != fingerprint["sha256"]:
        changes.append("the items differ (same count and shape, other values)")
    if was.get("tokenizer_sha256") != fingerprint.get("tokenizer_sha256"):
        changes.append("the tokenizer differs (another vocabulary)")
    if changes:
        raise RunFolderError(
            f"{out}: the data differ from those the run was trained on ({recorded.data!r} "
            f"with options {recorded.data_options or {}}): {'; '.join(changes)}. Expected "
            f"the same data to resume. Nothing was changed. Resume with the data the run "
            f"had, or start a new run in another folder.")
