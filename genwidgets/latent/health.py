"""Is the latent space in use? Active units, KL per dimension, sample diversity, warnings.

- Active units (Burda et al. 2016): dimensions whose posterior mean E[z|x] varies over the
  data, Var_x(E[z|x]) > 0.01. None active, and less than ``HELD_KL`` nats of KL an item
  (when the KL is known): posterior collapse. The warning never contradicts those figures
  (no warning while a unit is active or the KL holds more), and a model that has not
  trained yet (or the map of epoch 0, before training) gets none: an untrained encoder
  says nothing about collapse.
- KL per dimension: the mean over items of KL(q(z_k|x) || N(0, 1)), needs the posterior
  variance, so only for models that offer ``posterior(x) -> (mean, log_var)``.
- Diversity of samples: mean pairwise distance between samples over that between data
  items (images), or the share of distinct sentences (text). Near 0: mode collapse.
"""

from __future__ import annotations

import numpy as np

ACTIVE_VARIANCE = 0.01  # Burda et al.'s threshold on Var_x(E[z|x])
HELD_KL = 1.0  # nats an item: a posterior holding more is no collapse (I(x; z) <= KL)
UNTRAINED = "untrained: these figures describe the initial weights, not collapse"
MODE_COLLAPSE = 0.2  # diversity below this: the samples are nearly all alike


def is_variational(source) -> bool:
    """A model with a posterior: it offers ``posterior`` or logs a ``kl`` loss part
    (:attr:`LatentSource.variational <genwidgets.latent.source.LatentSource.variational>`)."""
    return bool(source.variational)


def active_units(z) -> int:
    """How many dimensions of the posterior means ``z`` (N, d) vary over the data."""
    z = np.asarray(z, dtype="float64")
    return int(np.sum(z.var(axis=0) > ACTIVE_VARIANCE)) if len(z) > 1 else 0


def kl_per_dim(mean, log_var) -> list[float]:
    """Mean over items of KL(N(mean, exp(log_var)) || N(0, 1)) for each dimension (nats)."""
    mean, log_var = np.asarray(mean, "float64"), np.asarray(log_var, "float64")
    kl = 0.5 * (np.exp(log_var) + mean ** 2 - 1.0 - log_var)
    return [float(v) for v in kl.mean(axis=0)]


def collapse_warning(latent_dim: int, kl: float | None = None) -> str:
    held = "" if kl is None else f", and it holds {kl:.2f} nats an item (< {HELD_KL:g})"
    return (f"Posterior collapse: none of the {latent_dim} latent dimensions is active (the "
            f"encoder gives nearly the same posterior for every item, Var_x(E[z|x]) <= "
            f"{ACTIVE_VARIANCE}{held}), so the decoder ignores z. Try a smaller beta, KL "
            f"annealing or free bits.")


def is_collapsed(report: dict) -> bool:
    """What the figures of ``report`` say: no active unit, and (if known) the KL holds
    less than ``HELD_KL`` nats an item."""
    kl = report.get("kl_per_dim")
    return report.get("active_units") == 0 and (kl is None or sum(kl) < HELD_KL)


def trained(source) -> bool | None:
    """Has the model of ``source`` trained at all? A live run: a step done; a saved run
    folder: a batch recorded (``batches.jsonl``); a model given directly: None (unknown)."""
    run = getattr(source, "run", None)
    if run is not None:
        return run.steps > 0
    folder = getattr(source, "folder", None)
    if folder is None:
        return None
    try:
        return (folder / "batches.jsonl").stat().st_size > 0
    except OSError:
        return False


def posterior_health(z, log_var=None, *, mean=None, variational: bool = True,
                     trained: bool | None = None) -> dict:
    """Active units, KL per dimension and a collapse warning from encodings alone.

    ``z`` (n, d) are the encodings (posterior means), ``log_var`` (n, d) the posterior's
    log-variances or None, ``mean`` the posterior's means if they are not ``z``. No model
    call: it serves saved snapshots as well as a live encoding. ``trained=False`` (an
    untrained model, a snapshot from before training): no warning, a ``note`` saying so.
    """
    z = np.asarray(z)
    means = z if mean is None else np.asarray(mean)  # active units are of E[z|x]
    report = {"active_units": active_units(means), "kl_per_dim": None, "latent_dim": z.shape[1],
              "items": len(z), "warning": None, "note": None}
    if log_var is not None:
        report["kl_per_dim"] = kl_per_dim(means, log_var)
    if trained is False:
        report["note"] = UNTRAINED
    elif variational and is_collapsed(report):
        kl = report["kl_per_dim"]
        report["warning"] = collapse_warning(z.shape[1], None if kl is None else sum(kl))
    return report


def _pairwise_mean(x: np.ndarray) -> float:
    flat = x.reshape(len(x), -1).astype("float64")
    sq = np.sum(flat ** 2, axis=1)
    d2 = np.maximum(sq[:, None] + sq[None, :] - 2.0 * flat @ flat.T, 0.0)
    n = len(flat)
    return float(np.sqrt(d2)[~np.eye(n, dtype=bool)].mean()) if n > 1 else 0.0


def image_diversity(samples, data) -> float:
    """Mean pairwise L2 distance between samples over that between data items."""
    reference = _pairwise_mean(np.asarray(data))
    return _pairwise_mean(np.asarray(samples)) / reference if reference > 0 else 0.0


def text_diversity(sentences) -> float:
    """The share of distinct sentences."""
    return len(set(sentences)) / len(sentences) if len(sentences) else 0.0


def latent_health(source, max_items: int = 1000, n_samples: int = 64,
                  seed: int = 0) -> dict:
    """Active units, KL per dimension, diversity and a warning for a ``LatentSource``.

    Keys: ``active_units`` (int; None for a model that cannot encode), ``kl_per_dim``
    (list of floats, or None when the model offers no posterior variance), ``diversity``
    (float; None for a model that cannot sample), ``latent_dim``, ``items``,
    ``warning`` (str or None; several problems are joined), ``note`` (str or None: e.g.
    the model has not trained yet, so no warning).
    """
    caps, text = source.capabilities, source.modality == "text"
    report = {"active_units": None, "kl_per_dim": None, "diversity": None,
              "latent_dim": source.latent_dim, "items": 0, "warning": None, "note": None}
    warnings = []
    learnt = trained(source)
    if learnt is False:
        report["note"] = UNTRAINED
    if "encode" in caps:
        idx, z = source.encode_dataset(max_items=max_items, seed=seed)
        posterior = source.posterior(np.asarray(source.dataset.x)[idx])
        mean, log_var = posterior if posterior is not None else (None, None)
        part = posterior_health(z, log_var, mean=mean, variational=is_variational(source),
                                trained=learnt)
        report.update({k: part[k] for k in ("active_units", "kl_per_dim", "items")})
        warnings += [part["warning"]] if part["warning"] else []
        if text and "decode" in caps and len(z) > 1 and learnt is not False:
            decoded = source.decode(z[:n_samples])
            if len(set(decoded)) == 1:
                warnings.append(f"The decoder ignores z: every point decodes to the same "
                                f"sentence, {decoded[0]!r}.")
    if "sample" in caps:
        samples = source.sample(n_samples, seed=seed)
        if text:
            report["diversity"] = text_diversity(samples)
        else:
            data = source.items(source.subset(n_samples, seed))
            report["diversity"] = image_diversity(samples, data)
        d = report["diversity"]
        if "encode" not in caps and d < MODE_COLLAPSE and learnt is not False:
            what = (f"only {d:.0%} of {n_samples} samples are distinct sentences" if text
                    else f"samples lie {d:.2f} times as far apart as data items do")
            warnings.append(f"Mode collapse: the samples are nearly all alike ({what}; "
                            f"below {MODE_COLLAPSE} is collapse).")
    report["warning"] = " ".join(warnings) or None
    return report
