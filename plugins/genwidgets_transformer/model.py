"""The Transformer VAE: loss, encode / decode / sample, and the compiled text sampler."""

from __future__ import annotations

import dataclasses

import keras
import numpy as np
from keras import ops

from genwidgets.decoding import batched, sigmoid
from genwidgets.spec import BOS, EOS, PAD, UNK, DataInfo
from genwidgets_transformer.nets import (
    image_nets,
    parallel_text_nets,
    text_nets,
    word_slot_nets,
)
from genwidgets_transformer.config import MUTABLE, TransformerConfig

PACKAGE = "genwidgets_transformer"


@keras.saving.register_keras_serializable(package=PACKAGE)
class TextSampler(keras.Model):
    """Autoregressive decoding of a whole batch in one compiled loop.

    ``call([z, temperature])`` with z (n, latent_dim) and temperature (n, 1) returns token
    ids (n, seq_len): a fixed-shape buffer filled one position per step (Gumbel-max
    sampling, greedy where temperature is 0), PAD after EOS; the loop ends early once every
    row has emitted EOS. Used through ``predict_on_batch``, so it compiles once per batch
    shape and a new temperature or seed needs no retrace.
    """

    def __init__(self, net, seq_len: int, vocab_size: int, seed: int = 0, **kwargs):
        super().__init__(**kwargs)
        self.net, self.seq_len, self.vocab_size = net, seq_len, vocab_size
        self.seed_generator = keras.random.SeedGenerator(seed)
        self.built = True

    def call(self, inputs):
        z, temperature = inputs
        n, length = ops.shape(z)[0], self.seq_len
        u = keras.random.uniform((n, length, self.vocab_size), minval=1e-7, maxval=1.0,
                                 seed=self.seed_generator)
        gumbel = -ops.log(-ops.log(u))
        # PAD and BOS are never outputs
        banned = np.zeros((self.vocab_size,), dtype="float32")
        banned[[PAD, BOS]] = -1e9
        positions = ops.expand_dims(ops.arange(length, dtype="int32"), 0)
        inputs = ops.where(positions == 0, BOS, PAD) * ops.ones((n, 1), dtype="int32")
        out = ops.zeros((n, length), dtype="int32")
        done = ops.zeros((n,), dtype="bool")

        def cond(i, inputs, out, done):
            return ops.logical_and(i < length, ops.logical_not(ops.all(done)))

        def body(i, inputs, out, done):
            logits = ops.take(self.net([inputs, z]), i, axis=1) + banned
            noisy = logits / ops.maximum(temperature, 1e-6) + ops.take(gumbel, i, axis=1)
            token = ops.argmax(ops.where(temperature > 0, noisy, logits), axis=-1)
            token = ops.where(done, PAD, ops.cast(token, "int32"))
            out = ops.where(positions == i, ops.expand_dims(token, 1), out)
            inputs = ops.where(positions == i + 1, ops.expand_dims(token, 1), inputs)
            return i + 1, inputs, out, ops.logical_or(done, token == EOS)

        start = ops.convert_to_tensor(0, dtype="int32")
        return ops.while_loop(cond, body, (start, inputs, out, done))[2]


@keras.saving.register_keras_serializable(package=PACKAGE)
class TransformerVAE(keras.Model):
    """Encoder -> q(z|x) -> decoder. Text: causal char decoder; images: patch decoder.

    Loss: the negative ELBO with the KL weighted by ``beta`` (ramped over
    ``kl_warmup_steps``) and held at ``free_bits`` per dimension for text. Text losses are
    per character (PAD excluded, EOS counted); image losses per image.
    """

    def __init__(self, config: dict, data_info: dict, **kwargs):
        super().__init__(**kwargs)
        self.tf_config = TransformerConfig(**config)
        self.data_info = DataInfo.from_dict(data_info)
        self.latent_dim = self.tf_config.latent_dim
        self.modality = self.data_info.modality
        cfg = self.tf_config
        self.parallel = self.modality == "text" and cfg.text_decoder == "parallel"
        # what decode does to the decoder's output (genwidgets.built_model); the causal
        # decoder generates token by token: no single pass to compile
        self.decoder_output = ("token_logits" if self.parallel else
                               None if self.modality == "text" else "logits")
        self.word_slots = self.parallel and self.data_info.tokens == "word"
        nets = (image_nets if self.modality != "text" else
                word_slot_nets if self.word_slots else
                parallel_text_nets if self.parallel else text_nets)
        self.encoder, self.decoder, *slots = nets(cfg, self.data_info)
        if slots:  # whole words: a code per word slot, so z is a whole number of codes
            from genwidgets.word_slots import SlotTraining

            self.latent_dim = int(self.encoder.outputs[0].shape[-1])
            self.slot_training = SlotTraining(*slots, self.data_info.vocab_size)
        if self.modality == "text" and not self.parallel:
            self.sampler = TextSampler(self.decoder, self.data_info.seq_len,
                                       self.data_info.vocab_size, cfg.seed + 1, name="sampler")
        self.seed_generator = keras.random.SeedGenerator(cfg.seed)
        self.beta = keras.Variable(cfg.beta, trainable=False, name="beta", dtype="float32")
        self.kl_step = keras.Variable(0.0, trainable=False, name="kl_step", dtype="float32")
        self.reconstruction_tracker = keras.metrics.Mean(name="reconstruction")
        self.kl_tracker = keras.metrics.Mean(name="kl")
        self.built = True  # every net above is built from the config

    # -- training ----------------------------------------------------------------------
    def call(self, x, training=False):
        mean, log_var = self.encoder(x, training=training)
        if self.word_slots:
            log_var = ops.clip(log_var, -12.0, 8.0)
        eps = keras.random.normal(ops.shape(mean), seed=self.seed_generator)
        z = mean + ops.exp(0.5 * log_var) * eps
        if training and self.word_slots:  # nats per sentence (a sampled softmax needs x)
            own, mixed = self.slot_training.loss(x, z, self.seed_generator,
                                                 self.tf_config.latent_mixup, training)
            return (own, mean, log_var) if mixed is None else (own, mean, log_var, mixed)
        if training and self.parallel and self.tf_config.latent_mixup > 0:
            from genwidgets.text_nets import decode_with_mixup

            logits, mixed, t = decode_with_mixup(self.decoder, z, self.seed_generator,
                                                 training)
            return logits, mean, log_var, mixed, t
        if self.modality != "text" or self.parallel:
            return self.decoder(z, training=training), mean, log_var
        x = ops.cast(x, "int32")
        inputs = ops.concatenate([ops.full((ops.shape(x)[0], 1), BOS, dtype="int32"),
                                  x[:, :-1]], axis=1)
        if training and self.tf_config.token_dropout > 0:
            u = keras.random.uniform(ops.shape(inputs), seed=self.seed_generator)
            drop = ops.logical_and(u < self.tf_config.token_dropout, inputs != BOS)
            inputs = ops.where(ops.logical_and(drop, inputs != PAD), UNK, inputs)
        return self.decoder([inputs, z], training=training), mean, log_var

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        logits, mean, log_var = y_pred[:3]
        kl_dims = 0.5 * (ops.exp(log_var) + ops.square(mean) - 1.0 - log_var)  # (n, latent)
        kl = ops.sum(kl_dims, axis=-1)
        weight = self.beta
        if self.tf_config.kl_warmup_steps:
            weight = weight * ops.minimum(1.0, self.kl_step / self.tf_config.kl_warmup_steps)
        if training:
            self.kl_step.assign(self.kl_step + 1.0)
        if self.modality == "text":
            x = ops.cast(x, "int32")
            real = ops.cast(ops.not_equal(x, PAD), "float32")
            n_chars = ops.maximum(ops.sum(real), 1.0)
            if len(logits.shape) == 1:  # word slots in training: nats per sentence
                rec = ops.sum(logits) / n_chars
            else:
                target = x
                if self.word_slots:
                    from genwidgets.word_slots import slot_words

                    target = slot_words(x)
                ce = keras.losses.sparse_categorical_crossentropy(target, logits,
                                                                  from_logits=True)
                # a parallel decoder also says where the sentence ends: its PADs are scored
                rec = ops.sum(ce if self.parallel else ce * real) / n_chars
            batch = ops.cast(ops.shape(x)[0], "float32")
            kl_term = ops.sum(ops.maximum(ops.mean(kl_dims, axis=0), self.tf_config.free_bits))
            loss = rec + weight * kl_term * batch / n_chars
            if len(y_pred) == 4:  # word slots' latent_mixup: nats per sentence already
                loss = loss + self.tf_config.latent_mixup * ops.sum(y_pred[3]) / n_chars
            if len(y_pred) == 5:  # latent_mixup: the points between two sentences
                from genwidgets.text_nets import mixup_loss

                loss = loss + self.tf_config.latent_mixup * ops.sum(
                    mixup_loss(x, y_pred[3], y_pred[4])) / n_chars
        else:
            ce = ops.binary_crossentropy(x, logits, from_logits=True)
            rec = ops.mean(ops.sum(ops.reshape(ce, (ops.shape(ce)[0], -1)), axis=-1))
            loss = rec + weight * ops.mean(kl)
        self.reconstruction_tracker.update_state(rec)
        self.kl_tracker.update_state(ops.mean(kl))
        return loss + ops.sum(self.losses) if self.losses else loss

    def set_hyper(self, name: str, value: float) -> None:
        """Change a mutable setting while training (the compiled step reads the variable)."""
        if name == "learning_rate":
            self.optimizer.learning_rate.assign(float(value))
        elif name == "beta":
            self.beta.assign(float(value))
        else:
            raise ValueError(
                f"transformer: expected one of {MUTABLE}. Received: name={name!r}")

    # -- the protocol the widgets use (NumPy in, NumPy out) -----------------------------
    def encode(self, x, batch_size: int = 64) -> np.ndarray:
        return batched(lambda b: self.encoder.predict_on_batch(b)[0], np.asarray(x), batch_size)

    def posterior(self, x, batch_size: int = 64) -> tuple[np.ndarray, np.ndarray]:
        """``(mean, log_var)`` of q(z|x) for each item, each (n, latent_dim)."""
        both = batched(lambda b: np.concatenate(
            [np.asarray(a, dtype="float32") for a in self.encoder.predict_on_batch(b)], axis=-1),
            np.asarray(x), batch_size)
        return both[:, :self.latent_dim], both[:, self.latent_dim:]

    def decode(self, z, batch_size: int = 32) -> np.ndarray:
        z = self._check_latents(z)
        if self.parallel:
            from genwidgets.text_nets import ids_from_logits

            return ids_from_logits(batched(self.decoder.predict_on_batch, z, batch_size))
        if self.modality == "text":
            return self._generate(z, 0.0, batch_size)
        logits = batched(self.decoder.predict_on_batch, z, batch_size)
        return sigmoid(logits)

    def sample(self, n: int, seed: int = 0, temperature: float = 1.0) -> np.ndarray:
        z = ops.convert_to_numpy(
            keras.random.normal((int(n), self.latent_dim), seed=keras.random.SeedGenerator(seed)))
        if self.modality != "text":
            return self.decode(z)
        if self.parallel:
            from genwidgets.text_nets import ids_from_logits

            logits = batched(self.decoder.predict_on_batch, z, 32)
            return ids_from_logits(logits, float(temperature), np.random.default_rng(seed))
        self.sampler.seed_generator.state.assign(np.array([seed, 1], dtype="uint32"))
        return self._generate(z, float(temperature))

    def elbo_terms(self, x, batch_size: int = 64) -> dict[str, np.ndarray]:
        """Per item: summed reconstruction nats (one posterior sample), KL nats, and the
        count of scored units (text: characters incl. EOS, PAD excluded; images: pixels)."""
        x = np.asarray(x)

        def run(chunk):
            logits, mean, log_var = self.predict_on_batch(chunk)
            kl = 0.5 * np.sum(np.exp(log_var) + mean**2 - 1.0 - log_var, axis=-1)
            if self.modality == "text":
                shifted = logits - logits.max(-1, keepdims=True)
                logp = shifted - np.log(np.exp(shifted).sum(-1, keepdims=True))
                target = np.where(chunk == EOS, PAD, chunk) if self.word_slots else chunk
                nll = -np.take_along_axis(logp, target[..., None].astype("int64"), -1)[..., 0]
                real = np.ones_like(chunk, dtype=bool) if self.parallel else chunk != PAD
                return np.stack([(nll * real).sum(1), kl, (chunk != PAD).sum(1)], 1)
            bce = np.maximum(logits, 0) - logits * chunk + np.log1p(np.exp(-np.abs(logits)))
            flat = bce.reshape(len(chunk), -1)
            return np.stack([flat.sum(1), kl, np.full(len(chunk), flat.shape[1])], 1)

        out = batched(run, x, batch_size)
        return {"reconstruction": out[:, 0], "kl": out[:, 1], "count": out[:, 2]}

    def _generate(self, z, temperature: float, batch_size: int = 32) -> np.ndarray:
        def run(chunk):
            t = np.full((len(chunk), 1), temperature, dtype="float32")
            return self.sampler.predict_on_batch([chunk, t])

        return batched(run, z, batch_size).astype("int32")

    def _check_latents(self, z) -> np.ndarray:
        z = np.asarray(z, dtype="float32")
        if z.ndim != 2 or z.shape[1] != self.latent_dim:
            raise ValueError(
                f"Expected latent vectors of shape (n, {self.latent_dim}). "
                f"Received: z.shape={z.shape}")
        return z

    def get_config(self):
        return {**super().get_config(), "config": dataclasses.asdict(self.tf_config),
                "data_info": self.data_info.to_dict()}


def build_transformer(config, data_info: DataInfo) -> TransformerVAE:
    config.validate()
    if data_info.modality == "text" and data_info.vocab_size < 5:
        raise ValueError(
            f"transformer: text needs a vocab with the special tokens and characters. "
            f"Received: vocab_size={data_info.vocab_size}")
    model = TransformerVAE(dataclasses.asdict(config), data_info.to_dict(), name="transformer")
    optimizer_cls = (keras.optimizers.AdamW if config.optimizer == "adamw"
                     else keras.optimizers.Adam)
    model.compile(optimizer=optimizer_cls(config.learning_rate, global_clipnorm=1.0))
    return model
