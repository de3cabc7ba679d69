"""What image and text VAEs share: the KL term, its schedule, mutable settings, encode."""

from __future__ import annotations

import dataclasses

import keras
import numpy as np
from keras import ops

from genwidgets.decoding import batched
from genwidgets.spec import DataInfo
from genwidgets_vae.config import HYPER_SETTINGS, VAEConfig, check_hyper


class VAEBase(keras.Model):
    """A Gaussian-latent VAE. Subclasses set ``self.encoder`` (x -> [mean, log_var]) and
    implement ``call`` (returning ``(logits, mean, log_var, ...)``), ``reconstruction_loss``
    and ``decode``; ``extra_loss`` adds terms of their own.

    The loss per item is ``reconstruction + w * KL`` with ``w = beta * min(1, step /
    kl_anneal_steps)``; ``beta``, the schedule, ``word_dropout`` and ``free_bits`` live in
    non-trainable variables, so :meth:`set_hyper` changes them mid-run without a recompile.
    """

    use_free_bits = False  # text VAEs turn it on

    def __init__(self, config: dict, data_info: dict, **kwargs):
        super().__init__(**kwargs)
        self.vae_config = VAEConfig(**config)
        self.data_info = DataInfo.from_dict(data_info)
        self.latent_dim = self.vae_config.latent_dim
        self.modality = self.data_info.modality
        self.seed_generator = keras.random.SeedGenerator(self.vae_config.seed)
        self.hyper = {
            name: self.add_weight((), initializer=keras.initializers.Constant(
                float(getattr(self.vae_config, name))), trainable=False, name=name)
            for name in HYPER_SETTINGS
        }
        self.kl_step = self.add_weight((), initializer="zeros", trainable=False,
                                       name="kl_step")
        self.reconstruction_tracker = keras.metrics.Mean(name="reconstruction")
        self.kl_tracker = keras.metrics.Mean(name="kl")

    # -- mutable settings ----------------------------------------------------
    def set_hyper(self, name: str, value) -> None:
        """Change ``learning_rate`` or a KL setting; the compiled step sees it next batch."""
        number = check_hyper(name, value)
        if name == "learning_rate":
            self.optimizer.learning_rate.assign(number)
        else:
            self.hyper[name].assign(number)
        cast = int if isinstance(getattr(self.vae_config, name), int) else float
        self.vae_config = dataclasses.replace(self.vae_config, **{name: cast(number)})

    def kl_weight(self, step=None):
        """The KL term's weight at ``step`` (default: the current training step)."""
        step = self.kl_step if step is None else step
        anneal = self.hyper["kl_anneal_steps"]
        ramp = ops.minimum(1.0, (step + 1.0) / ops.maximum(anneal, 1.0))
        return self.hyper["beta"] * ops.where(anneal > 0, ramp, 1.0)

    # -- the loss ------------------------------------------------------------
    def reparameterize(self, mean, log_var):
        eps = keras.random.normal(ops.shape(mean), seed=self.seed_generator)
        return mean + ops.exp(0.5 * log_var) * eps

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        logits, mean, log_var = y_pred[:3]
        reconstruction = ops.mean(self.reconstruction_loss(x, logits))
        kl_dims = 0.5 * (ops.exp(log_var) + ops.square(mean) - 1.0 - log_var)
        kl = ops.mean(ops.sum(kl_dims, axis=-1))
        if self.use_free_bits:
            # Kingma et al. 2016: each dimension's batch-mean KL costs at least free_bits.
            kl_term = ops.sum(ops.maximum(ops.mean(kl_dims, axis=0), self.hyper["free_bits"]))
        else:
            kl_term = kl
        loss = reconstruction + self.kl_weight() * kl_term + self.extra_loss(x, y_pred)
        if training:
            self.kl_step.assign(self.kl_step + 1.0)
        self.reconstruction_tracker.update_state(reconstruction)
        self.kl_tracker.update_state(kl)
        if self.losses:
            loss = loss + ops.sum(self.losses)
        return loss

    def extra_loss(self, x, y_pred):
        """A subclass's further loss terms (nats per item) from its ``call``'s outputs."""
        return 0.0

    # -- the protocol the widgets use (NumPy in, NumPy out) ------------------
    def encode(self, x, batch_size: int = 256) -> np.ndarray:
        """The posterior mean of each item."""
        return batched(lambda chunk: self.encoder.predict_on_batch(chunk)[0],
                       np.asarray(x), batch_size)

    def posterior(self, x, batch_size: int = 256) -> tuple[np.ndarray, np.ndarray]:
        """``(mean, log_var)`` of q(z|x) for each item, each (n, latent_dim)."""
        both = batched(lambda chunk: np.concatenate(
            [np.asarray(a, dtype="float32") for a in self.encoder.predict_on_batch(chunk)],
            axis=-1),
            np.asarray(x), batch_size)
        return both[:, :self.latent_dim], both[:, self.latent_dim:]

    def check_latents(self, z) -> np.ndarray:
        z = np.asarray(z, dtype="float32")
        if z.ndim != 2 or z.shape[1] != self.latent_dim:
            raise ValueError(
                f"Expected latent vectors of shape (n, {self.latent_dim}). "
                f"Received: z.shape={z.shape}"
            )
        return z

    def prior_draws(self, n: int, seed: int) -> tuple[np.ndarray, np.random.Generator]:
        if int(n) < 1:
            raise ValueError(f"Expected n >= 1 samples. Received: n={n}")
        rng = np.random.default_rng(seed)
        return rng.standard_normal((int(n), self.latent_dim)).astype("float32"), rng

    def get_config(self):
        return {
            **super().get_config(),
            "config": dataclasses.asdict(self.vae_config),
            "data_info": self.data_info.to_dict(),
        }
