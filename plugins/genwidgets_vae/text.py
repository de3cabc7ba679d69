"""The sentence VAE: a positional encoder -> Gaussian z -> a parallel GRU decoder. Maths only.

The decoder reads nothing but z (no previous tokens), so the latent must carry the
sentence: a decoder that reads its past learns the language and lets the KL fall to zero
(posterior collapse). A small ``beta``, reached by KL annealing, keeps tens of nats a
sentence, enough to spell it back. ``word_dropout`` hides tokens of the encoder's input
(a denoising objective); ``free_bits`` holds each dimension's KL above a floor;
``latent_mixup`` trains the points between two sentences (``genwidgets.text_nets``).

With whole words (``tokens="word"``) the latent is a code per word slot and the decoder
reads each slot's code on its own (``genwidgets.word_slots``): the points between two
sentences swap whole words, and ``latent_mixup`` trains them to, in a fixed order.
"""

from __future__ import annotations

import keras
import numpy as np
from keras import ops

from genwidgets.decoding import batched
from genwidgets.spec import UNK
from genwidgets_vae.base import VAEBase


def text_nets(config, seq_len: int, vocab_size: int):
    from genwidgets.text_nets import bidirectional_gru, parallel_decoder, sentence_encoder

    d = config.latent_dim
    encoder = sentence_encoder(seq_len, vocab_size, config.embed_dim, [d, d],
                               output_names=("mean", "log_var"))
    decoder = parallel_decoder(seq_len, vocab_size, d, config.embed_dim,
                               bidirectional_gru(config.rnn_units))
    return encoder, decoder


@keras.saving.register_keras_serializable(package="genwidgets_vae")
class TextVAE(VAEBase):
    """Token ids (n, L) -> q(z|x) -> logits for every position; loss in nats per sentence."""

    use_free_bits = True
    decoder_output = "token_logits"  # decode: greedy ids of decoder(z) (genwidgets.built_model)

    def __init__(self, config: dict, data_info: dict, **kwargs):
        super().__init__(config, data_info, **kwargs)
        if self.modality != "text":
            raise ValueError(f"TextVAE takes text data. Received: {self.modality!r}")
        info, cfg = self.data_info, self.vae_config
        if info.vocab_size <= UNK:
            raise ValueError(
                f"vae: text needs a vocabulary with the special tokens and characters. "
                f"Received: vocab_size={info.vocab_size}"
            )
        self.seq_len, self.vocab_size = info.seq_len, info.vocab_size
        self.word_slots = info.tokens == "word"
        if self.word_slots:
            from genwidgets.word_slots import SlotTraining, gru_mixer, slot_code_dim, slot_nets

            code = slot_code_dim(cfg.latent_dim, self.seq_len)
            self.latent_dim = code * self.seq_len
            self.encoder, self.decoder, vectors, words = slot_nets(
                self.seq_len, self.vocab_size, cfg.embed_dim, code, cfg.rnn_units,
                gru_mixer(cfg.rnn_units), outputs=("mean", "log_var"))
            self.slot_training = SlotTraining(vectors, words, self.vocab_size)
        else:
            self.encoder, self.decoder = text_nets(cfg, self.seq_len, self.vocab_size)

    def call(self, x, training=False):
        x = ops.cast(x, "int32")
        if training:  # word dropout: hide some tokens from the encoder (denoising)
            from genwidgets.text_nets import drop_tokens

            x = drop_tokens(x, self.hyper["word_dropout"], self.seed_generator, UNK)
        mean, log_var = self.encoder(x, training=training)
        log_var = ops.clip(log_var, -12.0, 6.0)
        z = self.reparameterize(mean, log_var) if training else mean
        if training and self.word_slots:  # nats per sentence (a sampled softmax needs x)
            own, mixed = self.slot_training.loss(x, z, self.seed_generator,
                                                 self.vae_config.latent_mixup, training)
            return (own, mean, log_var) if mixed is None else (own, mean, log_var, mixed)
        if training and self.vae_config.latent_mixup > 0:
            from genwidgets.text_nets import decode_with_mixup

            logits, mixed, t = decode_with_mixup(self.decoder, z, self.seed_generator,
                                                 training)
            return logits, mean, log_var, mixed, t
        return self.decoder(z, training=training), mean, log_var

    def extra_loss(self, x, y_pred):
        """``latent_mixup`` times the nats of the points between two sentences."""
        if len(y_pred) == 3:
            return 0.0
        from genwidgets.text_nets import mixup_loss

        if len(y_pred) == 4:  # word slots: the mixup points' nats already
            return self.vae_config.latent_mixup * ops.mean(y_pred[3])
        _, _, _, mixed, t = y_pred
        return self.vae_config.latent_mixup * ops.mean(mixup_loss(x, mixed, t))

    def reconstruction_loss(self, x, logits):
        """Cross-entropy summed over each sentence's positions (nats); word slots in
        training give it already (n,)."""
        from genwidgets.text_nets import sequence_loss

        if len(logits.shape) == 1:
            return logits
        if self.word_slots:
            from genwidgets.word_slots import slot_words

            return sequence_loss(slot_words(x), logits)
        return sequence_loss(x, logits)

    def _logits(self, z: np.ndarray, batch_size: int) -> np.ndarray:
        return batched(self.decoder.predict_on_batch, z, batch_size)

    def decode(self, z, batch_size: int = 256) -> np.ndarray:
        """Greedy decoding: token ids (n, seq_len), PAD after the first EOS."""
        from genwidgets.text_nets import ids_from_logits

        return ids_from_logits(self._logits(self.check_latents(z), batch_size))

    def sample(self, n: int, seed: int = 0, temperature: float = 1.0) -> np.ndarray:
        """Draw z from N(0, I) and decode with ``temperature`` (0 = greedy)."""
        from genwidgets.text_nets import ids_from_logits

        z, rng = self.prior_draws(n, seed)
        return ids_from_logits(self._logits(z, 256), float(temperature), rng)
