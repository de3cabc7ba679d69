"""A model's encoder or decoder as one jitted function of the weights it holds when called.

``CompiledNet(net, post)`` runs ``post(net(x))`` through ``jax.jit`` over Keras'
``stateless_call``: the weights are arguments, read from the variables at call time, so a
live run's newest weights are used (call it inside ``Run.call``) and nothing retraces when
they change. Inputs are cut and padded to a few fixed batch sizes (``BUCKETS``), so each
size compiles once. ``compile_encoder`` finds a plugin model's ``encoder`` sub-network;
``compile_decoder`` its ``decoder`` / ``generator``, mapped by the output the model
declares in ``decoder_output`` (:mod:`genwidgets.built_model`; nothing declared: no
compiled path). Each is checked once against the model's own ``encode`` / ``decode``;
when it does not match, None, and the model's own method is used. A model
that compiles its own nets (``LatentSource.from_keras``'s adapter, for a Keras encoder and
decoder you bring) hands them over in ``compiled_nets``.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable

import numpy as np

from genwidgets.built_model import DECODER_OUTPUTS
from genwidgets.decoding import BUCKETS, padded_calls

PROBE = 4  # latents / items used to check a compiled net against the model's method


def select_outputs(out, output=0):
    """Output ``output`` of a net's answer (a list, tuple or dict of several, or one), or
    the outputs of a tuple of indices joined on their last axis."""
    import keras

    if isinstance(out, dict):
        out = list(out.values())
    if not isinstance(out, (list, tuple)):
        return out
    if isinstance(output, tuple):
        return keras.ops.concatenate([out[i] for i in output], axis=-1)
    return out[output]


class CompiledNet:
    """``post(net(pre(x)))`` for NumPy ``x``, jitted once per batch size; ``traces`` counts.

    ``output``: which output of a net with several (an index, or a tuple of indices whose
    outputs are joined on the last axis); ``pre``: a NumPy step before the net (a reshape).
    """

    def __init__(self, net, post: Callable[[np.ndarray], np.ndarray] | None = None,
                 buckets=BUCKETS, *, pre: Callable[[np.ndarray], np.ndarray] | None = None,
                 output: int | tuple[int, ...] = 0):
        import jax

        self.net, self.post, self.buckets = net, post, tuple(buckets)
        self.pre, self.output = pre, output
        self.traces = 0  # how often JAX traced the net (once per batch size)
        self._trainable = list(net.trainable_variables)
        self._non_trainable = list(net.non_trainable_variables)
        self._fn = jax.jit(self._run)

    def _run(self, trainable, non_trainable, x):
        self.traces += 1  # runs only while tracing
        import jax.numpy as jnp

        out, _ = self.net.stateless_call(trainable, non_trainable, x, training=False)
        out = select_outputs(out, self.output)
        # a mixed-precision net answers in float16 / bfloat16: hand NumPy float32
        return out.astype(jnp.float32) if jnp.issubdtype(out.dtype, jnp.floating) else out

    def raw(self, x) -> np.ndarray:
        """``net(pre(x))`` with the current weights (its ``output``: the first one if there
        are several)."""
        x = np.asarray(x) if self.pre is None else self.pre(np.asarray(x))
        trainable = [v.value for v in self._trainable]
        non_trainable = [v.value for v in self._non_trainable]
        return padded_calls(lambda chunk: self._fn(trainable, non_trainable, chunk), x,
                            self.buckets)

    def __call__(self, x) -> np.ndarray:
        out = self.raw(x)
        return self.post(out) if self.post is not None else out


def _sub_network(model, names):
    for name in names:
        net = getattr(model, name, None)
        if net is not None and hasattr(net, "stateless_call") and net.built:
            return net
    return None


def _own(model, role: str) -> tuple[bool, CompiledNet | None]:
    """``(True, net)`` for a model that compiled its own ``role`` net (None: it could not,
    its own method runs); ``(False, None)`` for one to look into."""
    own = getattr(model, "compiled_nets", None)
    if isinstance(own, dict) and role in own:
        return True, own[role]
    return False, None


def same_output(got: np.ndarray, want: np.ndarray, exact: bool, net=None) -> bool:
    if got.shape != want.shape:
        return False
    if exact:  # token ids: a near-tie may flip an argmax between two compilations
        return float(np.mean(got == want)) >= 0.99
    # two compilations of a half-precision net round differently
    half = str(getattr(net, "compute_dtype", "float32")) in ("bfloat16", "float16")
    return bool(np.allclose(got, want, rtol=1e-2 if half else 1e-3,
                            atol=1e-2 if half else 1e-4))


def compile_decoder(model, modality: str) -> CompiledNet | None:
    """The model's decoder (or generator) compiled, if it reproduces ``model.decode``.

    Call it where the model's variables are current (inside ``Run.call`` on a live run).
    """
    owned, own = _own(model, "decoder")
    if owned:
        return own
    post = DECODER_OUTPUTS.get(str(getattr(model, "decoder_output", None)))
    net = _sub_network(model, ("decoder", "generator"))
    if net is None or post is None:  # nothing declared: the model's own decode runs
        return None
    rng = np.random.default_rng(0)
    z = rng.standard_normal((PROBE, int(model.latent_dim))).astype("float32")
    try:
        want = np.asarray(model.decode(z))
        compiled = CompiledNet(net)
        with warnings.catch_warnings():  # Keras warns before failing on other inputs
            warnings.simplefilter("ignore")
            raw = compiled.raw(z)
    except Exception:  # a decoder that needs more than z (teacher forcing, noise)
        return None
    try:
        if same_output(post(raw), want, exact=modality == "text", net=net):
            compiled.post = post
            return compiled
    except Exception:  # raw output of another shape than the declared output's
        pass
    return None  # it declared what its decode does not do: its own decode runs


def compile_encoder(model, x: np.ndarray) -> CompiledNet | None:
    """The model's encoder compiled (its first output: the code or the posterior mean),
    if it reproduces ``model.encode`` on the items ``x``."""
    owned, own = _own(model, "encoder")
    if owned:
        return own
    net = _sub_network(model, ("encoder",))
    if net is None or len(x) == 0:
        return None
    x = np.asarray(x[:PROBE])
    try:
        want = np.asarray(model.encode(x))
        compiled = CompiledNet(net)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            got = compiled(x)
    except Exception:
        return None
    return compiled if same_output(got, want, exact=False, net=net) else None
