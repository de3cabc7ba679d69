"""The GAN's Keras model: a stateless JAX train step with two optimizers."""

from __future__ import annotations

import dataclasses

import jax
import keras
import numpy as np
from keras import ops

from genwidgets.decoding import batched, tanh_to_unit
from genwidgets.spec import DataInfo
from genwidgets_gan.nets import make_networks
from genwidgets_gan.config import GANConfig

RATE_NAMES = ("learning_rate", "d_learning_rate", "g_learning_rate")


class GANOptimizer(keras.optimizers.MultiOptimizer):
    """One Adam for the discriminator's variables, one for the generator's.

    ``learning_rate`` reads the generator's rate and sets both, so a trainer that only
    knows ``model.optimizer.learning_rate`` still works. The GAN rebuilds this optimizer
    from its own config when loaded (see ``GAN.compile_from_config``).
    """

    def __init__(self, d_optimizer, g_optimizer, d_variables, name="gan_optimizer"):
        d_ids = {id(v) for v in d_variables}
        super().__init__(_NetworkSelector(d_optimizer, g_optimizer, d_ids), name=name)
        self.d_optimizer, self.g_optimizer = d_optimizer, g_optimizer

    @property
    def learning_rate(self):
        return self.g_optimizer.learning_rate

    @learning_rate.setter
    def learning_rate(self, value):
        self.d_optimizer.learning_rate = value
        self.g_optimizer.learning_rate = value


class _NetworkSelector:
    """Pick the discriminator's optimizer for its variables, the generator's otherwise."""

    def __init__(self, d_optimizer, g_optimizer, d_ids):
        self.d_optimizer, self.g_optimizer, self.d_ids = d_optimizer, g_optimizer, d_ids

    def values(self):
        return [self.d_optimizer, self.g_optimizer]

    def __call__(self, variable):
        return self.d_optimizer if id(variable) in self.d_ids else self.g_optimizer


@keras.saving.register_keras_serializable(package="genwidgets_gan")
class GAN(keras.Model):
    """A generator ``decode(z)`` trained against a discriminator; ``call(z)`` gives images."""

    decoder_output = "tanh"  # decode maps the generator's [-1, 1] to [0, 1]

    def __init__(self, config: dict, data_info: dict, **kwargs):
        super().__init__(**kwargs)
        # build_gan validated it; a model saved before spectral_norm existed had none
        self.gan_config = GANConfig(**{"spectral_norm": False, **config})
        self.data_info = DataInfo.from_dict(data_info)
        self.latent_dim = self.gan_config.latent_dim
        self.modality = self.data_info.modality
        self.generator, self.discriminator = self.networks()
        self.seed_generator = keras.random.SeedGenerator(self.gan_config.seed)
        self.loss_tracker = keras.metrics.Mean(name="loss")
        self.d_loss_tracker = keras.metrics.Mean(name="d_loss")
        self.g_loss_tracker = keras.metrics.Mean(name="g_loss")
        self.built = True

    def networks(self):
        """``(generator, discriminator)`` for this data (a subclass may make others)."""
        return make_networks(self.gan_config, self.data_info)

    @property
    def metrics(self):
        return [self.loss_tracker, self.d_loss_tracker, self.g_loss_tracker]

    def call(self, z, training=False):
        return (self.generator(z, training=training) + 1.0) / 2.0

    # -- compiling: two Adams, rebuilt from the config when loaded -------------
    def compile_gan(self) -> None:
        cfg = self.gan_config
        adam = keras.optimizers.Adam
        optimizer = GANOptimizer(
            adam(cfg.d_rate, beta_1=cfg.beta_1, name="d_adam"),
            adam(cfg.g_rate, beta_1=cfg.beta_1, name="g_adam"),
            self.discriminator.trainable_variables,
        )
        self.compile(optimizer=optimizer)
        self.optimizer.build(self.trainable_variables)

    def get_compile_config(self):
        return {"optimizer": "gan_optimizer"} if self.compiled else None

    def compile_from_config(self, config):
        self.compile_gan()

    def set_hyper(self, name: str, value: float) -> None:
        """Change a learning rate mid-run; the next compiled step uses it.

        Same rule as the Config: each network runs at its own rate if set (> 0), else at
        ``learning_rate``. The new values are saved with the model.
        """
        if name not in RATE_NAMES:
            raise ValueError(f"gan: expected one of {list(RATE_NAMES)}. Received: name={name!r}")
        value = float(value)
        if not value >= 0:
            raise ValueError(f"gan: {name} must be >= 0. Received: {name}={value}")
        self.gan_config = dataclasses.replace(self.gan_config, **{name: value})
        self.optimizer.d_optimizer.learning_rate = self.gan_config.d_rate
        self.optimizer.g_optimizer.learning_rate = self.gan_config.g_rate

    # -- the stateless JAX steps ------------------------------------------------
    def train_step(self, state, data):
        trainable, non_trainable, optimizer_vars, metrics_vars = state
        (real, labels), at = self._real(data), _Positions(self)
        n = real.shape[0]
        (z_d, z_g), seed_state = self._draw_z(non_trainable[at.seed], n, 2)
        g_train, g_nt = at.take(trainable, at.g_train), at.take(non_trainable, at.g_nt)
        d_train, d_nt = at.take(trainable, at.d_train), at.take(non_trainable, at.d_nt)

        # 1. discriminator: real images -> 1 - label_smoothing, generated ones -> 0
        fake, g_nt = self.generator.stateless_call(g_train, g_nt, self._g_in(z_d, labels),
                                                   training=True)
        d_loss_fn = self._d_loss_fn(real, ops.stop_gradient(fake), labels)
        (d_loss, d_nt), d_grads = jax.value_and_grad(d_loss_fn, has_aux=True)(d_train, d_nt)
        d_opt_vars = at.take(optimizer_vars, at.d_opt)
        d_train, d_opt_vars = self.optimizer.d_optimizer.stateless_apply(
            d_opt_vars, d_grads, d_train)

        # 2. generator: make the updated discriminator call its images real
        g_loss_fn = self._g_loss_fn(d_train, d_nt, z_g, labels, training=True)
        (g_loss, g_nt), g_grads = jax.value_and_grad(g_loss_fn, has_aux=True)(g_train, g_nt)
        g_opt_vars = at.take(optimizer_vars, at.g_opt)
        g_train, g_opt_vars = self.optimizer.g_optimizer.stateless_apply(
            g_opt_vars, g_grads, g_train)

        trainable = at.put(trainable, {**dict(zip(at.d_train, d_train)),
                                       **dict(zip(at.g_train, g_train))})
        non_trainable = at.put(non_trainable, {**dict(zip(at.d_nt, d_nt)),
                                               **dict(zip(at.g_nt, g_nt)), at.seed: seed_state})
        optimizer_vars = at.put(optimizer_vars, {
            **dict(zip(at.d_opt, d_opt_vars)), **dict(zip(at.g_opt, g_opt_vars)),
            at.iterations: optimizer_vars[at.iterations] + 1})
        logs, metrics_vars = self._log(metrics_vars, d_loss, g_loss)
        return logs, (trainable, non_trainable, optimizer_vars, metrics_vars)

    def test_step(self, state, data):
        """Both losses on held-out images, nothing updated but the seed (for ``val_*``)."""
        trainable, non_trainable, metrics_vars = state
        (real, labels), at = self._real(data), _Positions(self)
        (z,), seed_state = self._draw_z(non_trainable[at.seed], real.shape[0], 1)
        g_train, g_nt = at.take(trainable, at.g_train), at.take(non_trainable, at.g_nt)
        d_train, d_nt = at.take(trainable, at.d_train), at.take(non_trainable, at.d_nt)
        fake, _ = self.generator.stateless_call(g_train, g_nt, self._g_in(z, labels),
                                                training=False)
        d_loss, _ = self._d_loss_fn(real, fake, labels, training=False)(d_train, d_nt)
        g_loss, _ = self._g_loss_fn(d_train, d_nt, z, labels, training=False)(g_train, g_nt)
        logs, metrics_vars = self._log(metrics_vars, d_loss, g_loss)
        non_trainable = at.put(non_trainable, {at.seed: seed_state})
        return logs, (trainable, non_trainable, metrics_vars)

    def _real(self, data):
        """``(images in the generator's [-1, 1], labels or None)`` of a batch."""
        x = keras.utils.unpack_x_y_sample_weight(data)[0]
        return ops.cast(x, "float32") * 2.0 - 1.0, None  # the generator's tanh range

    def _g_in(self, z, labels):
        """The generator's inputs for latents ``z`` (a conditional GAN adds the labels)."""
        return z

    def _d_in(self, images, labels):
        """The discriminator's inputs for ``images`` (a conditional GAN adds the labels)."""
        return images

    def _draw_z(self, seed_state, n: int, count: int):
        """``count`` batches of z ~ N(0, I) from the model's seed generator, statelessly."""
        with keras.StatelessScope(state_mapping=[(self.seed_generator.state, seed_state)]) as s:
            zs = [keras.random.normal((n, self.latent_dim), seed=self.seed_generator)
                  for _ in range(count)]
        return zs, s.get_current_value(self.seed_generator.state)

    def _d_loss_fn(self, real, fake, labels, training=True):
        n = real.shape[0]
        both = ops.concatenate([real, fake], axis=0)
        both = self._d_in(both, None if labels is None else ops.concatenate([labels, labels]))
        real_target = 1.0 - self.gan_config.label_smoothing
        targets = ops.concatenate([ops.full((n, 1), real_target), ops.zeros((n, 1))], axis=0)

        def d_loss_fn(d_train, d_nt):
            logits, d_nt = self.discriminator.stateless_call(
                d_train, d_nt, both, training=training)
            return _bce(targets, logits), d_nt

        return d_loss_fn

    def _g_loss_fn(self, d_train, d_nt, z, labels, training=True):
        def g_loss_fn(g_train, g_nt):
            images, g_nt = self.generator.stateless_call(
                g_train, g_nt, self._g_in(z, labels), training=training)
            logits, _ = self.discriminator.stateless_call(
                d_train, d_nt, self._d_in(images, labels), training=training)
            return _bce(ops.ones((z.shape[0], 1)), logits), g_nt

        return g_loss_fn

    def _log(self, metrics_vars, d_loss, g_loss):
        logs, updated, start = {}, [], 0
        for metric, value in zip(self.metrics, (d_loss + g_loss, d_loss, g_loss)):
            own = metrics_vars[start:start + len(metric.variables)]
            own = metric.stateless_update_state(own, value)
            logs[metric.name] = metric.stateless_result(own)
            updated += own
            start += len(metric.variables)
        return logs, updated

    # -- the protocol the widgets use (NumPy in, NumPy out) -----------------------
    def decode(self, z, batch_size: int = 256) -> np.ndarray:
        z = np.asarray(z, dtype="float32")
        if z.ndim != 2 or z.shape[1] != self.latent_dim:
            raise ValueError(
                f"Expected latent vectors of shape (n, {self.latent_dim}). "
                f"Received: z.shape={z.shape}"
            )
        images = batched(self.generator.predict_on_batch, z, batch_size)
        return tanh_to_unit(images)

    def sample(self, n: int, seed: int = 0, temperature: float = 1.0) -> np.ndarray:
        """Decode ``n`` draws of z ~ N(0, I); ``temperature`` does not apply to images."""
        rng = np.random.default_rng(seed)
        return self.decode(rng.standard_normal((n, self.latent_dim)).astype("float32"))

    def get_config(self):
        return {
            **super().get_config(),
            "config": dataclasses.asdict(self.gan_config),
            "data_info": self.data_info.to_dict(),
        }


class _Positions:
    """Where each network's variables sit in the model's flat state lists."""

    def __init__(self, model: GAN):
        def where(subset, full):
            index = {id(v): i for i, v in enumerate(full)}
            return [index[id(v)] for v in subset]

        train, nt = model.trainable_variables, model.non_trainable_variables
        opt = model.optimizer
        self.g_train = where(model.generator.trainable_variables, train)
        self.d_train = where(model.discriminator.trainable_variables, train)
        self.g_nt = where(model.generator.non_trainable_variables, nt)
        self.d_nt = where(model.discriminator.non_trainable_variables, nt)
        self.seed = where([model.seed_generator.state], nt)[0]
        self.d_opt = where(opt.d_optimizer.variables, opt.variables)
        self.g_opt = where(opt.g_optimizer.variables, opt.variables)
        self.iterations = where([opt.iterations], opt.variables)[0]
        for name in ("g_train", "d_train"):  # each Adam was built in the model's order
            if getattr(self, name) != sorted(getattr(self, name)):
                raise RuntimeError(f"gan: {name} variables are out of the model's order")

    @staticmethod
    def take(values, positions):
        return [values[i] for i in positions]

    @staticmethod
    def put(values, updates):
        return [updates.get(i, v) for i, v in enumerate(values)]


def _bce(targets, logits):
    return ops.mean(ops.binary_crossentropy(targets, logits, from_logits=True))


def build_gan(config, data_info: DataInfo) -> GAN:
    config.validate()
    model = GAN(dataclasses.asdict(config), data_info.to_dict(), name="gan")
    model.compile_gan()
    return model
