"""The autoencoder's Keras model: maths only."""

from __future__ import annotations

import dataclasses

import keras
import numpy as np
from keras import layers, ops

from genwidgets.decoding import batched, sigmoid
from genwidgets.fast_conv import FastConv2DTranspose
from genwidgets.spec import DataInfo
from genwidgets_ae.config import AEConfig


def _use_conv(config, info: DataInfo) -> bool:
    if config.architecture != "auto":
        return config.architecture == "conv"
    import jax

    small = min(info.shape[:2]) < 16
    return not small and jax.default_backend() != "cpu"


def _image_nets(config, info: DataInfo):
    h, w, c = info.shape
    x = keras.Input(info.shape, name="image")
    if _use_conv(config, info):
        if h % 4 or w % 4:
            raise ValueError(
                f"ae: the conv architecture needs height and width divisible by 4. "
                f"Received: shape={info.shape}. Use architecture='dense'."
            )
        f = config.filters
        t = layers.Conv2D(f, 3, strides=2, padding="same", activation="relu")(x)
        t = layers.Conv2D(2 * f, 3, strides=2, padding="same", activation="relu")(t)
        t = layers.Flatten()(t)
        t = layers.Dense(config.hidden, activation="relu")(t)
        z = layers.Dense(config.latent_dim, name="z")(t)
        zin = keras.Input((config.latent_dim,), name="z")
        t = layers.Dense(config.hidden, activation="relu")(zin)
        t = layers.Dense((h // 4) * (w // 4) * 2 * f, activation="relu")(t)
        t = layers.Reshape((h // 4, w // 4, 2 * f))(t)
        t = FastConv2DTranspose(f, 3, strides=2, padding="same", activation="relu")(t)
        t = FastConv2DTranspose(c, 3, strides=2, padding="same")(t)
    else:
        t = layers.Flatten()(x)
        t = layers.Dense(config.hidden, activation="relu")(t)
        t = layers.Dense(config.hidden // 2, activation="relu")(t)
        z = layers.Dense(config.latent_dim, name="z")(t)
        zin = keras.Input((config.latent_dim,), name="z")
        t = layers.Dense(config.hidden // 2, activation="relu")(zin)
        t = layers.Dense(config.hidden, activation="relu")(t)
        t = layers.Dense(h * w * c)(t)
        t = layers.Reshape((h, w, c))(t)
    logits = layers.Activation("linear", name="logits")(t)
    return keras.Model(x, z, name="encoder"), keras.Model(zin, logits, name="decoder")


def _text_nets(config, info: DataInfo):
    """A positional sentence encoder and a parallel decoder (a bidirectional GRU over the
    positions): z is the decoder's only input, so the latent carries the sentence."""
    from genwidgets.text_nets import bidirectional_gru, parallel_decoder, sentence_encoder

    seq_len, vocab = info.seq_len, info.vocab_size
    if info.tokens == "word":  # a code per word slot (genwidgets.word_slots)
        from genwidgets.word_slots import gru_mixer, slot_code_dim, slot_nets

        code = slot_code_dim(config.latent_dim, seq_len)
        return slot_nets(seq_len, vocab, config.embed_dim, code, config.hidden,
                         gru_mixer(config.hidden))
    encoder = sentence_encoder(seq_len, vocab, config.embed_dim, [config.latent_dim])
    decoder = parallel_decoder(seq_len, vocab, config.latent_dim, config.embed_dim,
                               bidirectional_gru(config.hidden))
    return encoder, decoder


@keras.saving.register_keras_serializable(package="genwidgets_ae")
class AutoEncoder(keras.Model):
    """Encoder -> latent z -> decoder; images use Bernoulli logits, text per-char logits."""

    def __init__(self, config: dict, data_info: dict, **kwargs):
        super().__init__(**kwargs)
        self.ae_config = AEConfig(**config)
        self.data_info = DataInfo.from_dict(data_info)
        self.latent_dim = self.ae_config.latent_dim
        self.modality = self.data_info.modality
        # what decode does to the decoder's output (genwidgets.built_model)
        self.decoder_output = "token_logits" if self.modality == "text" else "logits"
        nets = _text_nets if self.modality == "text" else _image_nets
        self.encoder, self.decoder, *slots = nets(self.ae_config, self.data_info)
        self.slot_training = None
        self.word_slots = bool(slots)
        if slots:  # whole words: a code per word slot, so z is a whole number of codes
            from genwidgets.word_slots import SlotTraining

            self.latent_dim = int(self.encoder.outputs[0].shape[-1])
            self.slot_training = SlotTraining(*slots, self.data_info.vocab_size)
        self.seed_generator = keras.random.SeedGenerator(self.ae_config.seed)
        d = self.latent_dim
        self.prior_mean = self.add_weight((d,), initializer="zeros", trainable=False,
                                          name="prior_mean")
        self.prior_scale = self.add_weight((d, d), initializer="identity", trainable=False,
                                           name="prior_scale")

    def call(self, x, training=False):
        z = self.encoder(x, training=training)
        if training and self.ae_config.latent_noise > 0:
            z = z + self.ae_config.latent_noise * keras.random.normal(
                ops.shape(z), seed=self.seed_generator)
        if training and self.slot_training is not None:  # nats per sentence (n,) each
            own, mixed = self.slot_training.loss(x, z, self.seed_generator,
                                                 self.ae_config.latent_mixup, training)
            return own if mixed is None else (own, mixed)
        if training and self.modality == "text" and self.ae_config.latent_mixup > 0:
            from genwidgets.text_nets import decode_with_mixup

            # (logits, logits between this sentence and the next, how far between)
            return decode_with_mixup(self.decoder, z, self.seed_generator, training)
        return self.decoder(z, training=training)

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        if self.modality == "text":  # nats per token (PAD after the end scored too)
            from genwidgets.text_nets import mixup_loss, scored_units, sequence_loss

            mixed = t = None
            if isinstance(y_pred, (tuple, list)):  # word slots: (own, mixed) nats already
                y_pred, mixed, *t = y_pred
            units = ops.maximum(ops.sum(scored_units(x)), 1.0)
            if len(y_pred.shape) == 1:
                loss = ops.sum(y_pred) / units
            else:
                target = x
                if self.slot_training is not None:
                    from genwidgets.word_slots import slot_words

                    target = slot_words(x)
                loss = ops.sum(sequence_loss(target, y_pred)) / units
            if mixed is not None:
                mixed = mixed if not t else mixup_loss(x, mixed, t[0])
                loss = loss + self.ae_config.latent_mixup * ops.sum(mixed) / units
        else:  # summed Bernoulli cross-entropy per image, averaged over the batch
            ce = ops.binary_crossentropy(x, y_pred, from_logits=True)
            loss = ops.mean(ops.sum(ops.reshape(ce, (ops.shape(ce)[0], -1)), axis=-1))
        return loss + ops.sum(self.losses) if self.losses else loss

    # -- the protocol the widgets use (NumPy in, NumPy out) ------------------
    def encode(self, x, batch_size: int = 256) -> np.ndarray:
        return batched(self.encoder.predict_on_batch, x, batch_size)

    def decode(self, z, batch_size: int = 256) -> np.ndarray:
        z = np.asarray(z, dtype="float32")
        if z.ndim != 2 or z.shape[1] != self.latent_dim:
            raise ValueError(
                f"Expected latent vectors of shape (n, {self.latent_dim}). "
                f"Received: z.shape={z.shape}"
            )
        logits = batched(self.decoder.predict_on_batch, z, batch_size)
        if self.modality == "text":
            from genwidgets.text_nets import ids_from_logits

            return ids_from_logits(logits)
        return sigmoid(logits)

    def sample(self, n: int, seed: int = 0, temperature: float = 1.0) -> np.ndarray:
        rng = np.random.default_rng(seed)
        eps = rng.standard_normal((n, self.latent_dim)).astype("float32")
        z = ops.convert_to_numpy(self.prior_mean) + eps @ ops.convert_to_numpy(self.prior_scale).T
        if self.modality != "text" or temperature <= 0:
            return self.decode(z)
        from genwidgets.text_nets import ids_from_logits

        return ids_from_logits(batched(self.decoder.predict_on_batch, z.astype("float32"), 256),
                               temperature, rng)

    def fit_prior(self, x, batch_size: int = 256) -> None:
        """Fit the Gaussian that ``sample`` draws from to the latents of ``x``."""
        z = self.encode(x, batch_size)
        cov = np.cov(z, rowvar=False).reshape(self.latent_dim, self.latent_dim)
        cov += 1e-4 * np.eye(self.latent_dim)
        self.prior_mean.assign(z.mean(0).astype("float32"))
        self.prior_scale.assign(np.linalg.cholesky(cov).astype("float32"))

    def get_config(self):
        return {
            **super().get_config(),
            "config": dataclasses.asdict(self.ae_config),
            "data_info": self.data_info.to_dict(),
        }


def build_autoencoder(config, data_info: DataInfo) -> AutoEncoder:
    config.validate()
    model = AutoEncoder(dataclasses.asdict(config), data_info.to_dict(), name="ae")
    model.compile(optimizer=keras.optimizers.Adam(config.learning_rate))
    return model
