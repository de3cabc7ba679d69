"""A run's validation split: a fixed share of the data held out, drawn from a seed.

``config.json`` records the split (``{"share", "seed", "items", "of", "sha256"}``: the items held out of
how many, and the digest of their indices), so a resume or ``Run.from_folder`` holds out the very
same items; a resume asking for another share is refused before anything is written.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from genwidgets.training.checks import share


def split_indices(n: int, fraction: float, seed: int):
    """``(train, held_out)`` indices of ``n`` items, each sorted: ``round(fraction * n)``
    items held out, chosen by ``seed``."""
    import numpy as np

    order = np.random.default_rng([int(seed), 7919]).permutation(n)  # 7919: the split's own
    held = int(round(fraction * n))
    return np.sort(order[held:]), np.sort(order[:held])


def _digest(indices) -> str:
    import hashlib

    import numpy as np

    return hashlib.sha256(np.asarray(indices, dtype="<i8").tobytes()).hexdigest()


def recorded_split(folder: Path | None) -> dict[str, Any] | None:
    """The split a run folder's ``config.json`` records (None: the run has none)."""
    from genwidgets.training.run_config import RunConfig

    if folder is None or not RunConfig.exists(folder):
        return None
    return RunConfig.read(folder).validation


def hold_out(x, validation: Any, batch_size: int, *, seed: int | None, resume: bool,
             folder: Path | None):
    """``(train_x, held_out_x, split)`` for a run; ``split`` is what ``config.json``
    records (None, and ``held_out_x`` None, without validation).

    ``validation`` is a share in (0, 1), or None: none for a new run, the run's own for a
    resume. Each side must keep at least one whole batch of ``batch_size``.
    """
    from genwidgets.training.folder import RunFolderError

    if validation is not None:
        validation = share("validation", validation)
    if resume:
        was = recorded_split(folder)
        has = was.get("share") if isinstance(was, dict) else None
        if validation is not None and validation != has:
            what = f"holds out {has}" if has is not None else "has no validation split"
            raise RunFolderError(
                f"{folder}: validation={validation!r} cannot change on a resume: the run "
                f"{what}, and a resume keeps its split (and its steps per epoch). Nothing "
                f"was changed. Resume without it, or start a new run in another folder.")
        if has is None:
            return x, None, None
        validation, seed = share("validation", has), int(was["seed"])
    if validation is None:
        return x, None, None
    if seed is None:
        import numpy as np

        seed = int(np.random.randint(2**31))
    n = len(x)
    train, held = split_indices(n, validation, seed)
    size = int(batch_size)
    if len(held) < size or len(train) < size:
        side = "held out" if len(held) < size else "left to train on"
        count = len(held) if len(held) < size else len(train)
        raise ValueError(
            f"Expected validation to leave at least one batch ({size} items) held out and "
            f"one to train on. Received: validation={validation!r} of {n} items: {count} "
            f"{side}. Change the share, or the batch size.")
    split = {"share": validation, "seed": int(seed), "items": int(len(held)), "of": int(n),
             "sha256": _digest(held)}
    # other data (another count) are refused by the data check, naming what differs
    if resume and was.get("of") == n and was.get("sha256") not in (None, split["sha256"]):
        raise RunFolderError(
            f"{folder}: the validation split drawn again from its seed is not the one the "
            f"run recorded (another NumPy draws other items). Expected the same held-out "
            f"items to resume. Nothing was changed. Start a new run in another folder.")
    return x[train], x[held], split
