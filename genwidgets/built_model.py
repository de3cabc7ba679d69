"""What genwidgets calls on the model a plugin's ``build`` returns, as ``typing.Protocol``s.

Every built model is a compiled ``keras.Model`` that trains with ``fit(x)`` (no ``y``) and
has :class:`BuiltModel`'s ``latent_dim``. What else it has follows from its spec's
``capabilities`` (:data:`BY_CAPABILITY`: ``"encode"`` -> :class:`Encodes`, and so on) and
from what it chooses to offer (:data:`OPTIONAL`). ``check_model`` checks a built model
against them (``isinstance`` works: they are runtime-checkable), the plugin guide lists
them (``tests/test_docs.py`` reads the names from here), and the views read nothing else.

A model whose ``decode`` is "its ``decoder`` (or ``generator``) sub-network, then one of
:data:`DECODER_OUTPUTS`" says which in ``decoder_output``; the latent views then run that
sub-network compiled (``genwidgets.latent.compiled``), checked once against ``decode``. A
model that does not say runs its own ``decode``.
"""

from __future__ import annotations

from typing import Any, Literal, Protocol, get_args, runtime_checkable

import numpy as np

from genwidgets.decoding import greedy_tokens, sigmoid, tanh_to_unit

DecoderOutput = Literal["unit", "logits", "tanh", "token_logits"]


def _unit(images: np.ndarray) -> np.ndarray:
    return np.asarray(images, dtype="float32")


DECODER_OUTPUTS = {  # what decode does to the decoder sub-network's raw output
    "unit": _unit,  # images already in [0, 1]
    "logits": sigmoid,  # Bernoulli logits
    "tanh": tanh_to_unit,  # images in [-1, 1]
    "token_logits": greedy_tokens,  # (n, L, V) logits: argmax, PAD after the first EOS
}
assert set(DECODER_OUTPUTS) == set(get_args(DecoderOutput))


@runtime_checkable
class BuiltModel(Protocol):
    """Every built model: the length of its latent vectors."""

    latent_dim: int


@runtime_checkable
class Encodes(Protocol):
    """``"encode"``: items to latent vectors ``(n, latent_dim)`` (a VAE: posterior means)."""

    def encode(self, x: np.ndarray) -> np.ndarray: ...


@runtime_checkable
class Decodes(Protocol):
    """``"decode"``: latent vectors to items (images in [0, 1], or token ids)."""

    def decode(self, z: np.ndarray) -> np.ndarray: ...


@runtime_checkable
class Samples(Protocol):
    """``"sample"``: ``n`` new items, the same for the same ``seed``."""

    def sample(self, n: int, seed: int = 0, temperature: float = 1.0) -> np.ndarray: ...


@runtime_checkable
class Conditional(Protocol):
    """``"condition"``: conditioned on class labels; ``encode``/``decode``/``sample`` also
    take ``labels=``."""

    num_classes: int


@runtime_checkable
class Variational(Protocol):
    """Optional: ``(mean, log_var)`` of q(z|x), for the latent health report."""

    def posterior(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]: ...


@runtime_checkable
class SetsHyper(Protocol):
    """Optional: change a ``mutable`` setting other than ``learning_rate`` while training."""

    def set_hyper(self, name: str, value: Any) -> None: ...


@runtime_checkable
class FitsPrior(Protocol):
    """Optional: fit what ``sample`` draws from to the training items once training ends."""

    def fit_prior(self, x: np.ndarray) -> None: ...


@runtime_checkable
class DeclaresDecoderOutput(Protocol):
    """Optional: ``decode`` is the ``decoder``/``generator`` sub-network then this output's
    map (:data:`DECODER_OUTPUTS`), so the views may run that sub-network compiled."""

    decoder_output: DecoderOutput


REQUIRED: tuple[type, ...] = (BuiltModel,)
BY_CAPABILITY: dict[str, type] = {"encode": Encodes, "decode": Decodes, "sample": Samples,
                                  "condition": Conditional}
OPTIONAL: tuple[type, ...] = (Variational, SetsHyper, FitsPrior, DeclaresDecoderOutput)


def members(protocol: type) -> list[str]:
    """The attribute and method names ``protocol`` asks for, in the order written."""
    names = [*protocol.__dict__.get("__annotations__", {}),
             *(n for n, v in vars(protocol).items() if callable(v) and not n.startswith("_"))]
    return list(dict.fromkeys(names))


def contract() -> dict[str, list[str]]:
    """Every protocol's name and its members: the contract the plugin guide lists."""
    return {p.__name__: members(p) for p in (*REQUIRED, *BY_CAPABILITY.values(), *OPTIONAL)}


def missing(model: Any, capabilities) -> list[str]:
    """What ``model`` lacks of the protocols its ``capabilities`` require ([] if nothing),
    and a ``decoder_output`` it declares that is not one of :data:`DECODER_OUTPUTS`."""
    wanted = [*REQUIRED, *(BY_CAPABILITY[c] for c in sorted(capabilities)
                           if c in BY_CAPABILITY)]
    out = [f"{p.__name__}.{name}" for p in wanted for name in members(p)
           if not hasattr(model, name)]
    declared = getattr(model, "decoder_output", None)
    if declared is not None and declared not in DECODER_OUTPUTS:
        out.append(f"decoder_output={declared!r} (expected one of {tuple(DECODER_OUTPUTS)})")
    return out
