"""``LatentSource``: what the latent views explore, a live run or a saved one.

Every model call goes through ``self._call(fn)``: ``Run.call`` for a live run (a synced
model between two batches), a plain call otherwise. Encoding and decoding use the model's
sub-networks compiled once (``genwidgets.latent.compiled``) with the weights of the
moment, or the model's own ``encode`` / ``decode`` when those cannot be compiled. Text
from a parallel decoder's per-position logits is decoded with the data's token trigrams
(``genwidgets.latent.piece_lm``), so the points between two sentences read as words.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import numpy as np

from genwidgets.decoding import greedy_tokens
from genwidgets.latent.piece_lm import MIN_TOKENS as LM_MIN_TOKENS
from genwidgets.latent.piece_lm import WEIGHT as LM_WEIGHT
from genwidgets.latent.piece_lm import PieceLM
from genwidgets.latent.subsets import subset_indices
from genwidgets.spec import PAD, Dataset, DataInfo, ModelSpec

_UNSET = object()


class LatentSource:
    """A model with its data, seen as a latent space.

    Build it with :meth:`from_run` (a live or finished ``Run``), :meth:`from_folder` (a
    saved run folder) or :meth:`from_keras` (a Keras encoder and decoder of your own);
    ``LatentSource(spec, model, dataset)`` wraps a model in hand.
    """

    def __init__(self, spec: ModelSpec, model: Any, dataset: Dataset, *, call=None,
                 tokenizer: Any = None):
        self.spec, self.dataset = spec, dataset
        self.info: DataInfo = dataset.info
        self.modality: str = self.info.modality
        self.capabilities = frozenset(spec.capabilities)
        self.latent_dim = int(model.latent_dim)
        self.tokenizer = tokenizer if tokenizer is not None else dataset.tokenizer
        if self.modality == "text" and self.tokenizer is None:
            raise ValueError(f"Expected a tokenizer with the text data {self.info.name!r} "
                             f"to turn token ids into strings. Received: tokenizer=None")
        self._model = model
        self._call_fn = call
        self.run: Any = None  # the live Run, for a source made by from_run
        self.folder: Path | None = None  # the run folder, for from_run with out= or from_folder
        self._decoder: Any = _UNSET  # a CompiledNet, or None for the model's own decode
        self._encoder: Any = _UNSET
        self._subsets: dict[tuple[int, int], np.ndarray] = {}
        self._lock = threading.Lock()
        self.notes: list[str] = []  # what the views should say of the model (from_keras)
        # text from per-position logits: the weight of the data's token trigrams against
        # the decoder's own log-probabilities (0: each position's argmax)
        self.lm_weight: float = LM_WEIGHT
        self.lm_min_tokens: int = LM_MIN_TOKENS
        self._piece_lm: PieceLM | None = None
        self._tokens: int | None = None  # the data's real tokens, once counted

    # -- ways in ----------------------------------------------------------------------
    @classmethod
    def from_run(cls, run) -> LatentSource:
        """Explore a :class:`genwidgets.training.Run`, live: calls go through ``run.call``."""
        source = cls(run.spec, run.model, run.dataset, call=run.call)
        source.run = run
        source.folder = run.folder.path if run.folder is not None else None
        return source

    @classmethod
    def from_folder(cls, path, dataset: Dataset | None = None) -> LatentSource:
        """Explore a saved run folder (``config.json`` + ``model.keras``).

        The data are loaded again by name (with the run's ``data_options``) unless
        ``dataset`` is given; text is decoded with the tokenizer saved with the run.
        """
        from genwidgets._backend import import_keras
        from genwidgets.registry import get_registry
        from genwidgets.training.run_config import RunConfig

        folder = Path(path)
        config, weights = RunConfig.path_in(folder), folder / "model.keras"
        if not config.is_file() or not weights.is_file():
            raise FileNotFoundError(
                f"Expected a run folder holding config.json and model.keras. Received: "
                f"{str(folder)!r}, which has "
                f"{sorted(p.name for p in folder.iterdir()) if folder.is_dir() else 'no folder'}"
                f". A run writes model.keras when it finishes or stops.")
        recorded = RunConfig.read(folder)  # says which key is missing or of the wrong type
        registry = get_registry()
        spec = registry.model(recorded.model)
        if dataset is None:
            dataset = _reload_data(registry, recorded)
        tokenizer = None
        if recorded.tokenizer:
            from genwidgets.data.tokenizers import tokenizer_from_dict

            tokenizer = tokenizer_from_dict(recorded.tokenizer)
        _check_same_data(recorded, dataset, tokenizer)
        keras = import_keras()
        model = keras.saving.load_model(weights, custom_objects=spec.custom_objects(),
                                        safe_mode=True)
        source = cls(spec, model, dataset, tokenizer=tokenizer)
        source.folder = folder
        return source

    @classmethod
    def from_keras(cls, encoder, decoder, x, labels=None, label_names=None, *,
                   tokenizer=None, decoder_output: str = "auto", log_var_output="auto",
                   latent_dim: int | None = None, seq_len: int | None = None,
                   custom_objects=None, name: str | None = None,
                   data_name: str = "data") -> LatentSource:
        """Explore a Keras encoder and decoder you already have, on the items ``x``.

        ``encoder`` / ``decoder``: Keras models, plain callables, or paths of ``.keras``
        files (loaded with ``safe_mode=True``; your own layers in ``custom_objects``).
        ``encoder=None`` for a decoder (a generator) alone: sampling only. An encoder with
        several outputs gives the code (the mean) first; a log-variance, if any, feeds the
        health line (``log_var_output``: its index, None, or "auto": named like
        ``z_log_var``, else the second of two or three outputs of the mean's shape).

        Images: ``x`` (N, H, W[, C]), uint8 or floats in [0, 1], the form the encoder
        takes (reshaped when only the layout differs); ``labels`` (N class indices) and
        ``label_names`` colour the map. ``decoder_output``: "auto" (judged from a probe
        and said in :attr:`notes`), "unit" ([0, 1]), "logits", "tanh" ([-1, 1]) or "255".

        Text: a ``tokenizer`` with ``encode`` / ``decode`` (a genwidgets tokenizer, or one
        of a sentence at a time, as Hugging Face's); ``x`` sentences or token ids
        (N, seq_len); the decoder gives logits (N, seq_len, vocab) or ids.

        On JAX the nets run as one ``jax.jit`` each over padded batch sizes (see
        :attr:`compiled`), else through ``predict_on_batch``.
        """
        from genwidgets.latent.keras_adapter import keras_source

        spec, model, data, notes = keras_source(
            encoder, decoder, x, labels, label_names, tokenizer=tokenizer,
            decoder_output=decoder_output, log_var_output=log_var_output,
            latent_dim=latent_dim, seq_len=seq_len, custom_objects=custom_objects,
            name=name, data_name=data_name)
        source = cls(spec, model, data, tokenizer=data.tokenizer)
        source.notes = notes
        return source

    # -- what the views read ------------------------------------------------------------
    @property
    def label_names(self) -> list[str] | None:
        names = self.info.label_names
        return list(names) if names else None

    @property
    def labels(self) -> np.ndarray | None:
        """The dataset's labels (``dataset.y``), or None."""
        return None if self.dataset.y is None else np.asarray(self.dataset.y)

    def items(self, idx) -> Any:
        """The data items at ``idx``: images (n, H, W, C), or a list of strings."""
        idx = self._indices(idx)
        x = np.asarray(self.dataset.x)[idx]
        return self.tokenizer.decode(x) if self.modality == "text" else x

    def subset(self, max_items: int = 2000, seed: int = 0) -> np.ndarray:
        """A fixed random choice of at most ``max_items`` item indices (sorted)."""
        key = (type(max_items), max_items, int(seed))
        if key not in self._subsets:
            self._subsets[key] = subset_indices(len(self.dataset.x), max_items, seed)
        return self._subsets[key]

    @property
    def snapshots(self):
        """The run's latent snapshots (a ``SnapshotStore``, maybe still empty), or None.

        A live run's come from its ``LatentSnapshots`` callback; a folder's from its
        ``latents/`` folder.
        """
        from genwidgets.latent.snapshots import FOLDER, LatentSnapshots, SnapshotStore

        callback = LatentSnapshots.of(self.run)
        if callback is not None:
            return callback.store
        if self.folder is not None and (self.folder / FOLDER).is_dir():
            return SnapshotStore(self.folder / FOLDER)
        return None

    # -- model calls --------------------------------------------------------------------
    def _call(self, fn):
        with self._lock:  # one view's request at a time
            if self._call_fn is not None:
                return self._call_fn(fn)
            return fn(self._model)

    def encode(self, x) -> np.ndarray:
        """Latent vectors (N, latent_dim) of items ``x`` (the posterior mean for a VAE)."""
        self._need("encode")
        x = np.asarray(x)
        shape = tuple(self.info.shape)
        if x.ndim != len(shape) + 1 or tuple(x.shape[1:]) != shape or len(x) == 0:
            raise ValueError(f"Expected items of shape (N, {', '.join(map(str, shape))}) like "
                             f"{self.info.name!r}. Received: x.shape={x.shape}")

        def run(model):
            if self._encoder is _UNSET:
                from genwidgets.latent.compiled import compile_encoder

                self._encoder = compile_encoder(model, x)
            if self._encoder is None:
                return np.asarray(model.encode(x))
            return self._encoder(x)

        return self._call(run).astype("float32")

    def encode_dataset(self, max_items: int = 2000, seed: int = 0):
        """``(idx, z)``: a fixed random subset of the data (same every call) and its latents."""
        idx = self.subset(max_items, seed)
        return idx, self.encode(np.asarray(self.dataset.x)[idx])

    def decode_raw(self, z, labels=None) -> np.ndarray:
        """Images (N, H, W, C) in [0, 1], or token ids (N, seq_len); ``labels`` (one per
        latent, or one for all) for a conditional model."""
        self._need("decode")
        z = self._latents(z)
        if labels is not None:  # the model's own decode: it takes the labels
            self._need("condition")
            return self._call(lambda model: np.asarray(model.decode(z, labels=labels)))

        def run(model):
            if self._decoder is _UNSET:
                from genwidgets.latent.compiled import compile_decoder

                self._decoder = compile_decoder(model, self.modality)
            if self._decoder is None:
                return np.asarray(model.decode(z))
            if self.lm_weight and self._decoder.post is greedy_tokens and self.lm_fits:
                logits = self._decoder.raw(z)
                return self.piece_lm(logits).decode(logits, weight=self.lm_weight)
            return self._decoder(z)

        return self._call(run)

    @property
    def lm_fits(self) -> bool:
        """Whether the data hold at least ``lm_min_tokens`` tokens for the trigrams: on a
        few hundred sentences they know little more than those sentences, and a path would
        jump from A to B. Never for whole words (``tokens="word"``): the trigrams join
        pieces into words, and a word decoder's slots hold whole words already."""
        if self.info.tokens == "word":
            return False
        if self._tokens is None:  # the data do not change: counted once
            self._tokens = int(np.count_nonzero(np.asarray(self.dataset.x) != PAD))
        return self._tokens >= self.lm_min_tokens

    def piece_lm(self, logits) -> PieceLM:
        """The token trigram model of the data (made once) that text decoding adds to a
        parallel decoder's logits (see :mod:`genwidgets.latent.piece_lm`)."""
        if self._piece_lm is None:
            self._piece_lm = PieceLM(np.asarray(self.dataset.x), np.shape(logits)[-1])
        return self._piece_lm

    def decode(self, z, labels=None) -> Any:
        """Images (N, H, W, C) in [0, 1], or a list of N strings for text."""
        return self._as_items(self.decode_raw(z, labels))

    def sample(self, n: int, seed: int = 0, temperature: float = 1.0, labels=None) -> Any:
        """``n`` samples from the model's prior: images, or a list of strings; ``labels``
        (one per sample, or one for all) for a conditional model (None: any label)."""
        self._need("sample")
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
            raise ValueError(f"Expected n >= 1 samples. Received: n={n!r}")
        asked = {} if labels is None else {"labels": labels}
        if labels is not None:
            self._need("condition")
        out = self._call(lambda model: np.asarray(
            model.sample(int(n), seed=int(seed), temperature=float(temperature), **asked)))
        return self._as_items(out)

    @property
    def conditional(self) -> bool:
        """Whether the model is conditioned on labels (the ``"condition"`` capability)."""
        return "condition" in self.capabilities

    @property
    def variational(self) -> bool:
        """A model with a posterior: it offers ``posterior`` or logs a ``kl`` loss part."""
        if hasattr(self._model, "posterior"):
            return True
        try:
            return any(getattr(m, "name", None) == "kl" for m in self._model.metrics)
        except Exception:  # a model without metrics (a plain callable of from_keras)
            return False

    def posterior(self, x):
        """``(mean, log_var)`` of q(z|x), if the model offers ``posterior(x)``; else None."""
        if not hasattr(self._model, "posterior"):
            return None
        return self._call(lambda model: tuple(np.asarray(a) for a in model.posterior(x)))

    @property
    def compiled(self) -> dict[str, bool | None]:
        """Whether encode / decode run compiled (None: not used yet)."""
        return {k: None if v is _UNSET else v is not None
                for k, v in (("encode", self._encoder), ("decode", self._decoder))}

    # -- checks -------------------------------------------------------------------------
    def _need(self, capability: str) -> None:
        if capability not in self.capabilities:
            raise ValueError(
                f"{self.spec.name} cannot {capability}. Expected a model whose capabilities "
                f"include {capability!r}. Received: capabilities={sorted(self.capabilities)}")

    def _latents(self, z) -> np.ndarray:
        z = np.asarray(z, dtype="float32")
        if z.ndim == 1 and z.shape[0] == self.latent_dim:
            z = z[None]
        if z.ndim != 2 or z.shape[1] != self.latent_dim or len(z) == 0:
            raise ValueError(f"Expected latent vectors of shape (N, {self.latent_dim}). "
                             f"Received: z.shape={z.shape}")
        if not np.all(np.isfinite(z)):
            raise ValueError("Expected finite latent vectors. Received: NaN or inf values")
        return z

    def _indices(self, idx) -> np.ndarray:
        idx = np.asarray(idx)
        n = len(self.dataset.x)
        if idx.ndim != 1 or idx.dtype.kind not in "iu" or (
                idx.size and (idx.min() < -n or idx.max() >= n)):
            raise ValueError(f"Expected a 1-D array of item indices in [0, {n}). "
                             f"Received: {idx!r}")
        return idx

    def _as_items(self, out: np.ndarray) -> Any:
        return self.tokenizer.decode(out) if self.modality == "text" else out

    def __repr__(self) -> str:
        return (f"LatentSource({self.spec.name} on {self.info.name}, "
                f"latent_dim={self.latent_dim})")


def _reload_data(registry, recorded) -> Dataset:
    """The data of a run's RunConfig, loaded again by name with its options."""
    name, options = recorded.data, dict(recorded.data_options or {})
    if name not in registry.datasets:
        raise ValueError(
            f"The run's data {name!r} is not a registered dataset, so it cannot be loaded "
            f"again. Expected one of {sorted(registry.datasets)}. Fix: pass the data itself, "
            f"LatentSource.from_folder(path, dataset=...).")
    from genwidgets.config import data_options

    spec = registry.dataset(name)
    return spec.load(**data_options(spec, options))  # typed: "200" of older runs is 200


def _check_same_data(recorded, dataset: Dataset, tokenizer) -> None:
    saved = recorded.data_info or {}
    shape = tuple(saved.get("shape") or ())
    if shape and tuple(dataset.info.shape) != shape:
        raise ValueError(f"Expected data items of shape {shape}, as the run was trained on. "
                         f"Received: {dataset.info.name!r} with shape {dataset.info.shape}")
    if tokenizer is not None and dataset.tokenizer is not None and (
            tuple(dataset.tokenizer.vocab) != tuple(tokenizer.vocab)
            or (type(dataset.tokenizer) is type(tokenizer) and dataset.tokenizer != tokenizer)):
        raise ValueError(
            f"The data {dataset.info.name!r} loaded again have another vocabulary than the "
            f"run was trained with ({dataset.tokenizer!r} vs {tokenizer!r}). Fix: pass the "
            f"same data with LatentSource.from_folder(path, dataset=...).")
