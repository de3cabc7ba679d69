"""A Keras encoder and decoder you already have, as a latent space: ``LatentSource.from_keras``.

:func:`keras_source` wraps the two nets (Keras models, ``.keras`` files loaded with
``safe_mode=True``, or plain callables) in :class:`KerasModel`, the model protocol the
latent views read (``latent_dim``, ``encode``, ``decode``, ``sample``, and ``posterior``
when the encoder gives a log-variance), and the items ``x`` in a ``Dataset``.

- An encoder with several outputs: the first is the code (the posterior mean). A
  log-variance feeds the health line: the output named like ``z_log_var``, else the second
  of two or three outputs of the mean's shape (keras.io's ``[z_mean, z_log_var, z]``);
  ``log_var_output=`` gives its index, or None for none.
- Images: a decoder's values outside [0, 1] are read, from what it gives on a probe, as
  logits (a sigmoid), tanh images in [-1, 1] or pixel values in [0, 255], and said in
  the source's ``notes``; ``decoder_output=`` says it instead. Text: see
  :mod:`genwidgets.latent.keras_text`.
- On JAX a Keras net runs as one ``jax.jit`` of its ``stateless_call`` over padded batch
  sizes (:class:`~genwidgets.latent.compiled.CompiledNet`), checked once against its
  ``predict_on_batch``, which runs otherwise (a plain callable is called as it is).
"""

from __future__ import annotations

import math
import os
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from genwidgets.decoding import BUCKETS, padded_calls, sigmoid, tanh_to_unit
from genwidgets.latent.compiled import CompiledNet, same_output, select_outputs
from genwidgets.latent.keras_text import text_data, text_output
from genwidgets.spec import ModelSpec

PROBE_SIZE = BUCKETS[0]  # items (and latents) the nets are first tried on


def _first(x: np.ndarray, n: int) -> np.ndarray:
    """The first ``n`` items, the last repeated when there are fewer."""
    x = x[:n]
    return np.concatenate([x, np.repeat(x[-1:], n - len(x), axis=0)]) if len(x) < n else x


def _unit(images: np.ndarray) -> np.ndarray:
    return np.clip(images, 0.0, 1.0).astype("float32")


def _from_255(images: np.ndarray) -> np.ndarray:
    return np.clip(images / 255.0, 0.0, 1.0).astype("float32")


IMAGE_OUTPUTS = {"unit": _unit, "logits": sigmoid, "tanh": tanh_to_unit, "255": _from_255}
NEAR_UNIT = 0.5  # values no farther outside [0, 1] overshoot it: not another scale
READ_AS = {"clip": "values in [0, 1] that overshoot a little (clipped to it)",
           "logits": "logits (a sigmoid makes them pixel values)",
           "tanh": "tanh images in [-1, 1] (mapped to [0, 1])",
           "255": "pixel values in [0, 255] (divided by 255)"}


class KerasSpec(ModelSpec):
    """The ``spec`` of a model brought with ``from_keras``: its name and what it can do."""

    family = "keras"
    description = "A Keras encoder and decoder of your own (LatentSource.from_keras)."

    def __init__(self, name: str, capabilities, modality: str):
        self.name, self.capabilities = name, frozenset(capabilities)
        self.modalities = (modality,)


class Net:
    """One side of the model: a Keras model or a plain callable, called on NumPy batches."""

    def __init__(self, fn, role: str):
        self.fn, self.role = fn, role
        self.is_keras = hasattr(fn, "predict_on_batch")
        self.name = str(getattr(fn, "name", None) or getattr(fn, "__name__", None)
                        or type(fn).__name__)

    def __str__(self) -> str:
        return f"the {self.role} {self.name!r}"

    @property
    def input_shape(self) -> tuple | None:
        """``(None, ...)`` of a built Keras model with one input; None when not known."""
        inputs = getattr(self.fn, "inputs", None) if self.is_keras else None
        if not inputs:
            return None
        if len(inputs) != 1:
            raise ValueError(f"Expected {self} to take one input. Received: {len(inputs)} "
                             f"inputs, of shapes {[tuple(i.shape) for i in inputs]}")
        return tuple(inputs[0].shape)

    @property
    def output_names(self) -> list[str]:
        try:
            return [str(n) for n in self.fn.output_names] if self.is_keras else []
        except Exception:
            return []

    def _apply(self, x):
        return self.fn.predict_on_batch(x) if self.is_keras else self.fn(x)

    def outputs(self, x: np.ndarray) -> list[np.ndarray]:
        """All its outputs on the small batch ``x``, with a clear error if it fails."""
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                out = self._apply(x)
        except Exception as exc:
            raise ValueError(f"{str(self).capitalize()} failed on input of shape {x.shape} "
                             f"({x.dtype}): {type(exc).__name__}: {exc}") from None
        if isinstance(out, dict):
            out = list(out.values())
        return [np.asarray(o) for o in (out if isinstance(out, (list, tuple)) else [out])]

    def plain(self, output) -> Any:
        """``chunk -> output`` through ``predict_on_batch`` or the callable."""
        return lambda chunk: np.asarray(select_outputs(self._apply(chunk), output))

    def compiled(self, probe: np.ndarray, want: np.ndarray, *, pre=None, output=0,
                 post=None) -> CompiledNet | None:
        """The net jitted (on JAX, a built Keras model), if it gives ``want`` on ``probe``."""
        import keras

        if not self.is_keras or keras.backend.backend() != "jax" or not (
                getattr(self.fn, "built", False) and hasattr(self.fn, "stateless_call")):
            return None
        try:
            net = CompiledNet(self.fn, post, pre=pre, output=output)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                got = net.raw(probe)
        except Exception:  # e.g. an unseeded random op, which jit cannot trace
            return None
        return net if same_output(got, want, exact=False, net=self.fn) else None


class KerasModel:
    """Your encoder and decoder as the model the latent views call.

    ``compiled_nets`` holds their jitted forms (None for one that runs as it is), which
    :mod:`genwidgets.latent.compiled` hands to ``LatentSource``.
    """

    def __init__(self, encoder: Net | None, decoder: Net, latent_dim: int, *, pre, output,
                 post):
        self.encoder, self.decoder, self.latent_dim = encoder, decoder, int(latent_dim)
        self._pre, self._output, self._post = pre, output, post
        self.compiled_nets: dict[str, CompiledNet | None] = {}

    def _encoded(self, x) -> np.ndarray:
        """The encoder's code, and its log-variance after it on the last axis if used."""
        fast = self.compiled_nets.get("encoder")
        if fast is not None:
            return fast.raw(x)
        return padded_calls(self.encoder.plain(self._output), self._pre(np.asarray(x)))

    def encode(self, x) -> np.ndarray:
        return self._encoded(x)[:, :self.latent_dim].astype("float32")

    def decode(self, z) -> np.ndarray:
        fast = self.compiled_nets.get("decoder")
        if fast is not None:
            return fast(z)
        return self._post(padded_calls(self.decoder.plain(0), np.asarray(z, "float32")))

    def sample(self, n: int, seed: int = 0, temperature: float = 1.0) -> np.ndarray:
        """Decoded draws from the prior N(0, temperature² I)."""
        z = np.random.default_rng(seed).standard_normal((int(n), self.latent_dim))
        return self.decode((z * temperature).astype("float32"))


class KerasVAE(KerasModel):
    """A :class:`KerasModel` whose encoder gives a log-variance too (for the health line)."""

    def posterior(self, x) -> tuple[np.ndarray, np.ndarray]:
        out, d = self._encoded(x), self.latent_dim
        return out[:, :d].astype("float32"), out[:, d:].astype("float32")


# -- building a source -------------------------------------------------------------------
def load_net(value, role: str, custom_objects=None):
    """A Keras model from a ``.keras`` path (``safe_mode=True``), or ``value`` if callable."""
    if isinstance(value, (str, os.PathLike)):
        from genwidgets._backend import import_keras

        path = Path(value)
        if path.suffix != ".keras" or not path.is_file():
            raise FileNotFoundError(
                f"Expected the {role} as a Keras model, a callable or the path of a .keras "
                f"file. Received: {str(path)!r}, "
                f"{'which is not a .keras file' if path.is_file() else 'which does not exist'}")
        keras = import_keras()
        try:
            return keras.saving.load_model(path, custom_objects=custom_objects,
                                           compile=False, safe_mode=True)
        except Exception as exc:
            raise ValueError(
                f"Could not load the {role} from {str(path)!r} with safe_mode=True: "
                f"{type(exc).__name__}: {exc}. Fix: pass your own layers with "
                f"custom_objects={{'Sampling': Sampling}} (or register them with "
                f"@keras.saving.register_keras_serializable()); a Lambda layer cannot be "
                f"loaded safely, rebuild it as a layer class.") from None
    if not callable(value):
        raise TypeError(f"Expected the {role} as a Keras model, a callable or the path of a "
                        f".keras file. Received: {role}={value!r} ({type(value).__name__})")
    return value


def _reshaper(encoder: Net, item_shape: tuple):
    """``pre``: the data items as the encoder takes them (a reshape when only the layout
    differs, e.g. flat rows of pixels), with a clear error when the sizes differ."""
    shape = encoder.input_shape
    if shape is None or any(s is None for s in shape[1:]) or tuple(shape[1:]) == item_shape:
        return lambda x: x
    want, have = math.prod(shape[1:]), math.prod(item_shape)
    if want != have:
        raise ValueError(
            f"Expected items of shape {tuple(shape[1:])} ({want} values), the input of "
            f"{encoder} ({shape}). Received: x items of shape {item_shape} ({have} values)")
    return lambda x: x.reshape(len(x), *shape[1:])


def _log_var_index(outputs: list[np.ndarray], names: list[str], choice) -> int | None:
    if choice is None:
        return None
    if choice != "auto":
        if isinstance(choice, bool) or not isinstance(choice, int) or not (
                0 < choice < len(outputs)):
            raise ValueError(f"Expected log_var_output to be 'auto', None or the index of "
                             f"one of the encoder's outputs after the first (1 to "
                             f"{len(outputs) - 1}). Received: log_var_output={choice!r}")
        index = choice
    else:
        named = [i for i, n in enumerate(names[1:len(outputs)], 1)
                 if "log_var" in n.lower() or "logvar" in n.lower()]
        index = named[0] if named else (1 if len(outputs) in (2, 3) else None)
    if index is None or outputs[index].shape != outputs[0].shape:
        if choice != "auto":
            raise ValueError(f"Expected the encoder's output {index} (the log-variance) to "
                             f"have the mean's shape {outputs[0].shape}. Received: "
                             f"{outputs[index].shape}")
        return None
    return index


def _image_output(raw: np.ndarray, item_shape: tuple, decoder: Net, choice: str):
    """``(post, note)``: what makes the decoder's raw output images (n, H, W, C) in [0, 1],
    judged on ``raw`` (decoded where the data lie, or from the prior without encoder)."""
    want = math.prod(item_shape)
    if raw.ndim < 2 or math.prod(raw.shape[1:]) != want:
        raise ValueError(
            f"Expected {decoder} to give images like x: {item_shape} ({want} values an "
            f"image). Received: output of shape {raw.shape}")
    if choice not in ("auto", *IMAGE_OUTPUTS):
        raise ValueError(f"Expected decoder_output to be one of {('auto', *IMAGE_OUTPUTS)}. "
                         f"Received: decoder_output={choice!r}")
    if not np.all(np.isfinite(raw)):
        raise ValueError(f"Expected {decoder} to give finite values. Received: NaN or inf "
                         f"on {len(raw)} latent vectors")
    lo, hi, eps = float(raw.min()), float(raw.max()), 1e-3
    note = None
    if choice == "auto":
        if lo >= -eps and hi <= 1 + eps:
            choice = "unit"
        elif lo >= -NEAR_UNIT and hi <= 1 + NEAR_UNIT:  # a linear decoder (PCA, MSE)
            choice = "clip"
        elif lo >= -1 - eps and hi <= 1 + eps:
            choice = "tanh"
        elif lo >= -eps and hi <= 255 + eps:
            choice = "255"
        else:
            choice = "logits"
        if choice != "unit":
            note = (f"The decoder gives values in [{lo:.3g}, {hi:.3g}], outside [0, 1]: read "
                    f"as {READ_AS[choice]}. If that is wrong, say decoder_output= one of "
                    f"{tuple(IMAGE_OUTPUTS)}.")
            choice = "unit" if choice == "clip" else choice
    fn = IMAGE_OUTPUTS[choice]
    return (lambda out: fn(np.asarray(out, "float32").reshape(len(out), *item_shape))), note


def keras_source(encoder, decoder, x, labels=None, label_names=None, *, tokenizer=None,
                 decoder_output: str = "auto", log_var_output="auto",
                 latent_dim: int | None = None, seq_len: int | None = None,
                 custom_objects=None, name: str | None = None, data_name: str = "data"):
    """What a ``LatentSource`` over your ``encoder`` and ``decoder`` and the items ``x``
    needs: ``(spec, model, dataset, notes)``; see
    :meth:`genwidgets.latent.LatentSource.from_keras`, which makes it."""
    enc = None if encoder is None else Net(load_net(encoder, "encoder", custom_objects),
                                           "encoder")
    dec = Net(load_net(decoder, "decoder", custom_objects), "decoder")
    text = tokenizer is not None
    if text:
        shape = enc.input_shape if enc is not None else None
        known = shape[1] if shape is not None and len(shape) == 2 else None
        data = text_data(x, labels, label_names, tokenizer, seq_len or known, data_name)
    else:
        from genwidgets.data import from_arrays

        data = from_arrays(x, labels, name=data_name, label_names=label_names)
    item_shape = tuple(data.info.shape)
    # every probe is one batch of the smallest padded size: the sizes later calls use
    probe = _first(np.asarray(data.x), PROBE_SIZE)
    notes, pre, output, log_var, fast_encoder = [], (lambda v: v), 0, None, None
    if enc is not None:
        pre = _reshaper(enc, item_shape)
        outputs = enc.outputs(pre(probe))
        mean = outputs[0]
        if mean.ndim != 2 or len(mean) != len(probe):
            raise ValueError(f"Expected {enc} to give latent vectors (N, latent_dim) as its "
                             f"first output. Received: shape {mean.shape} for "
                             f"{len(probe)} items")
        log_var = _log_var_index(outputs, enc.output_names, log_var_output)
        if log_var is not None:
            output = (0, log_var)
            names = enc.output_names
            label = f" {names[log_var]!r}" if log_var < len(names) else ""
            notes.append(f"The encoder's output {log_var}{label} is read as the "
                         f"log-variance of q(z|x) (the health line's KL).")
        if latent_dim is not None and int(latent_dim) != mean.shape[1]:
            raise ValueError(f"Expected latent_dim={latent_dim}, but {enc} gives vectors of "
                             f"{mean.shape[1]} values. Received: shape {mean.shape}")
        latent_dim = mean.shape[1]
        want = mean if log_var is None else np.concatenate([mean, outputs[log_var]], -1)
        fast_encoder = enc.compiled(probe, want, pre=pre, output=output,
                                    post=lambda out: out[:, :int(latent_dim)])
    shape = dec.input_shape
    if shape is not None and (len(shape) != 2 or (latent_dim and shape[1] != latent_dim)):
        raise ValueError(
            f"Expected {dec} to take latent vectors (None, {latent_dim or 'latent_dim'})"
            f"{' as the encoder gives' if enc is not None else ''}. Received: input shape "
            f"{shape}")
    latent_dim = latent_dim or (shape[1] if shape is not None else None)
    if not latent_dim:
        raise ValueError("Expected latent_dim= for a decoder whose input shape is not "
                         "known and no encoder. Received: latent_dim=None")
    # the output range is judged where the data lie (the prior of an autoencoder may be
    # far from them), or on the prior for a decoder alone
    z = mean if enc is not None else np.random.default_rng(0).standard_normal(
        (PROBE_SIZE, int(latent_dim)))
    z = np.asarray(z, "float32")
    raw = dec.outputs(z)[0]
    if len(raw) != len(z):
        raise ValueError(f"Expected {dec} to give one item per latent vector. Received: "
                         f"output of shape {raw.shape} for {len(z)} vectors")
    if text:
        post = text_output(raw, item_shape[0], dec, decoder_output)
    else:
        post, note = _image_output(raw, item_shape, dec, decoder_output)
        notes += [note] if note else []
    cls = KerasVAE if log_var is not None else KerasModel
    model = cls(enc, dec, int(latent_dim), pre=pre, output=output, post=post)
    model.compiled_nets["decoder"] = dec.compiled(z, raw, post=post)
    if enc is not None:
        model.compiled_nets["encoder"] = fast_encoder
    caps = {"decode", "sample"} | ({"encode"} if enc is not None else set())
    title = name or (f"{enc.name} + {dec.name}" if enc is not None else dec.name)
    spec = KerasSpec(title, caps, data.info.modality)
    return spec, model, data, notes
