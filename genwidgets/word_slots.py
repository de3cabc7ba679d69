"""Keras parts for sentence autoencoders over whole words (``tokens="word"``), shared by
the text model plugins (imports Keras).

A sentence of word ids is held in ``seq_len`` **slots**, one a word, and the latent is the
slots' codes side by side (``code_dim`` numbers a slot). The decoder says of each slot
which word it holds or that it is empty (``PAD``); it never says ``EOS`` (a slot cannot
know whether the slots after it hold words), so a decoded sentence is its slots' words in
order, the empty slots skipped (what every tokenizer's ``decode`` does with ``PAD``).

- :func:`slot_nets`: the encoder (word vectors, a context mixer over the slots, a code per
  slot) and the decoder (each slot's code on its own to a word). The decoder's word
  logits are ``scale x cos(h, e_w) + b_w`` (:class:`TiedWordLogits`), ``e_w`` the
  encoder's own word vectors. A point between two codes of a slot then decodes to one of
  the two words, not to a look-alike: a third word would need a vector nearer to the
  segment than both ends, and the cosines of unrelated words are small.
- :func:`slot_loss`: cross-entropy of each slot's word over the batch's own words plus
  ``negatives`` drawn from the whole vocabulary (a sampled softmax: the vocabulary of
  36,000 sentences holds 30,000 words, a full softmax per slot would cost five times the
  rest of a step).
- :func:`slot_targets`: what latent mixup trains the point ``t`` of the way from A to B
  towards: slot by slot, A's word until ``t`` passes ``sigmoid(k(a) - k(b))``, then B's.
  ``k`` is a word's frequency key (:func:`frequency_keys`), so the order in which words
  change is the same walked from either end (the point ``t`` from A is the point ``1 - t``
  from B) and a path swaps a few whole words at a time, rarer words first.

The word tokenizer orders its vocabulary by frequency (most frequent first), so a word's
rank stands for its frequency here (Zipf's law: frequency ~ 1 / rank).

Measured (``benchmarks/text_paths.py``, the protocol of ``../shared/data/README.md``, 600 s
a model on a 2-core CPU): see ``docs/plugin-guide.md``, "Text models over whole words".
"""

from __future__ import annotations

import keras
from keras import layers, ops

from genwidgets.spec import BOS, EOS, PAD, UNK
from genwidgets.text_nets import Positions

PACKAGE = "genwidgets"
NEVER = -1e9
FIRST_WORD = UNK + 1  # ids below are PAD, BOS, EOS, UNK
WORD_SHARE = 0.4  # about the share of a batch's slots that hold a word (the rest: PAD, EOS)


@keras.saving.register_keras_serializable(package=PACKAGE)
class TiedWordLogits(layers.Layer):
    """Slot vectors (n, L, dim) -> word logits (n, L, vocab): ``scale x cos(h, e_w) + b_w``,
    ``e_w`` the rows of ``embedding`` (an ``Embedding`` layer used by the encoder too).

    The plugin rebuilds the tie when it builds its nets; a saved model reloads through
    the plugin, not from this layer's config.
    """

    def __init__(self, embedding: layers.Embedding | None = None, **kwargs):
        super().__init__(**kwargs)
        self.embedding = embedding

    def build(self, input_shape):
        vocab = self.embedding.input_dim
        self.bias = self.add_weight((vocab,), name="bias", initializer="zeros")
        self.log_scale = self.add_weight((), name="log_scale",
                                         initializer=keras.initializers.Constant(2.3))

    def _unit(self, x):
        return x / (ops.norm(x, axis=-1, keepdims=True) + 1e-6)

    def call(self, h, candidates=None):
        table = ops.convert_to_tensor(self.embedding.embeddings)
        bias = ops.convert_to_tensor(self.bias)
        ids = ops.arange(self.embedding.input_dim) if candidates is None else candidates
        if candidates is not None:
            table, bias = ops.take(table, candidates, axis=0), ops.take(bias, candidates)
        never = ops.logical_or(ops.equal(ids, BOS), ops.equal(ids, EOS))  # see the module
        cos = ops.einsum("nld,vd->nlv", self._unit(h), self._unit(table))
        return ops.exp(self.log_scale) * cos + ops.where(never, NEVER, bias)

    def compute_output_shape(self, input_shape):
        return (*input_shape[:-1], self.embedding.input_dim)


def slot_code_dim(latent_dim: int, seq_len: int) -> int:
    """Numbers a word slot's code gets: ``latent_dim`` shared by the ``seq_len`` slots,
    rounded up (the model's latent then holds ``seq_len`` times that many)."""
    return max(1, -(-int(latent_dim) // int(seq_len)))


def gru_mixer(units: int, prefix: str = "mixer"):
    """A mixer: one bidirectional GRU of ``units`` each way."""
    def mix(h):
        return layers.Bidirectional(layers.GRU(units, return_sequences=True),
                                    name=f"{prefix}_gru")(h)
    return mix


def slot_nets(seq_len: int, vocab_size: int, embed_dim: int, code_dim: int, hidden: int,
              mixer, outputs=("z",)):
    """``(encoder, decoder, slot_vectors, words)``.

    ``encoder``: word ids (n, seq_len) -> one (n, seq_len * code_dim) output per name in
    ``outputs`` (e.g. ``("mean", "log_var")``). ``decoder``: z -> word logits (n, seq_len,
    vocab_size). ``slot_vectors``: z -> the vectors (n, seq_len, embed_dim) the decoder
    scores against the words (its layers are the decoder's), and ``words`` the
    :class:`TiedWordLogits` that scores them (on a few candidate words in training)."""
    tokens = keras.Input((seq_len,), dtype="int32", name="tokens")
    embedding = layers.Embedding(vocab_size, embed_dim, name="words")
    h = Positions(seq_len, embed_dim, name="positions")(embedding(tokens))
    h = mixer(h)
    h = layers.Dense(hidden, activation="gelu", name="slot_hidden")(h)
    heads = [layers.Reshape((seq_len * code_dim,), name=name)(
        layers.Dense(code_dim, name=f"slot_{name}")(h)) for name in outputs]
    encoder = keras.Model(tokens, heads if len(heads) > 1 else heads[0], name="encoder")

    z = keras.Input((seq_len * code_dim,), name="z")
    v = layers.Reshape((seq_len, code_dim), name="slots")(z)
    v = layers.Dense(embed_dim, name="slot_to_word")(v)  # linear: a segment stays one
    slot_vectors = keras.Model(z, v, name="slot_vectors")
    words = TiedWordLogits(embedding, name="word_logits")
    decoder = keras.Model(z, words(v), name="decoder")
    return encoder, decoder, slot_vectors, words


def _log_rank(ids):
    rank = ops.cast(ops.maximum(ids - FIRST_WORD + 1, 1), "float32")
    return ops.log(rank)


def slot_words(ids):
    """Word ids (n, L) as the slots hold them: ``EOS`` read as an empty slot (``PAD``)."""
    ids = ops.cast(ids, "int32")
    return ops.where(ops.equal(ids, EOS), PAD, ids)


def frequency_keys(ids):
    """Each slot's key (n, L): minus the log rank of its word, centred on the batch's
    words; 0 for a slot without a word (PAD, EOS): it changes at the middle of a path."""
    ids = ops.cast(ids, "int32")
    word = ops.cast(ids >= FIRST_WORD, "float32")
    k = -_log_rank(ids) * word
    mean = ops.sum(k) / ops.maximum(ops.sum(word), 1.0)
    return (k - mean) * word


def slot_targets(ids, t):
    """Slot words (n, L) that the point ``t`` (n,) of the way from each row (A) to the row
    before it (B, the batch rolled by one) is trained towards: slot j holds B's word once
    ``t > sigmoid(k(a_j) - k(b_j))`` (:func:`frequency_keys`), else A's."""
    a = slot_words(ids)
    keys = frequency_keys(a)
    switch = ops.sigmoid(keys - ops.roll(keys, 1, axis=0))
    return ops.where(ops.expand_dims(t, -1) > switch, ops.roll(a, 1, axis=0), a)


def _candidates(ids, negatives: int, vocab_size: int, seed_generator):
    """The batch's slot words, PAD, then ``negatives`` drawn uniformly from the words (C,), and
    each candidate's log inclusion chance (C,) for the sampled softmax's correction."""
    own = ops.reshape(slot_words(ids), (-1,))
    drawn = keras.random.randint((negatives,), UNK, vocab_size, seed=seed_generator)
    cand = ops.concatenate([own, ops.convert_to_tensor([PAD], "int32"), drawn])
    slots = ops.cast(ops.shape(own)[0], "float32")
    words = max(vocab_size - FIRST_WORD, 1)
    harmonic = float(sum(1.0 / r for r in range(1, min(words, 100_000) + 1)))
    in_batch = slots * WORD_SHARE / (ops.exp(_log_rank(cand)) * harmonic)
    in_batch = ops.where(cand >= FIRST_WORD, ops.minimum(in_batch, 1.0), 1.0)
    return cand, ops.log(in_batch + negatives / words) - NEVER * repeated(cand)


def repeated(ids):
    """Whether each id (C,) is a copy of one before it (a candidate counted once)."""
    n = ops.shape(ids)[0]
    before = ops.less(ops.arange(n)[None, :], ops.arange(n)[:, None])
    return ops.any(ops.logical_and(ops.equal(ids[:, None], ids[None, :]), before), axis=1)


def slot_loss(words: TiedWordLogits, vectors, targets, candidates, log_q):
    """Nats per sentence (n,): each slot's target word (one of the ``candidates``) against
    the candidates, each logit less its ``log_q`` (a sampled softmax's correction; a
    repeated candidate gets a huge ``log_q``: counted once)."""
    targets = ops.cast(targets, "int32")
    logits = words(vectors, candidates) - log_q
    same = ops.equal(ops.expand_dims(targets, -1), candidates[None, None, :])
    first = ops.argmax(ops.cast(same, "int32"), axis=-1)  # the target's first copy
    ce = keras.losses.sparse_categorical_crossentropy(first, logits, from_logits=True)
    return ops.sum(ce, axis=-1)


class SlotTraining:
    """What a plugin's training step does with the slot nets: the sentence's own slots
    and, with ``mixup > 0``, the points between it and the batch's previous sentence."""

    def __init__(self, slot_vectors, words, vocab_size: int, negatives: int = 1024):
        self.slot_vectors, self.words = slot_vectors, words
        self.vocab_size, self.negatives = int(vocab_size), int(negatives)

    def loss(self, ids, z, seed_generator, mixup: float = 0.0, training: bool = True):
        """``(reconstruction, mixed)``: nats per sentence (n,) of the sentence's own slots
        from ``z`` and (``None`` without mixup) of the mixup points' slot targets."""
        ids = ops.cast(ids, "int32")
        cand, log_q = _candidates(ids, self.negatives, self.vocab_size, seed_generator)
        n = ops.shape(z)[0]
        if mixup > 0:
            t = keras.random.uniform((n,), seed=seed_generator)
            z_mix = z + ops.expand_dims(t, -1) * (ops.roll(z, 1, axis=0) - z)
            both = self.slot_vectors(ops.concatenate([z, z_mix], axis=0), training=training)
            own = slot_loss(self.words, both[:n], slot_words(ids), cand, log_q)
            mixed = slot_loss(self.words, both[n:], slot_targets(ids, t), cand, log_q)
            return own, mixed
        vectors = self.slot_vectors(z, training=training)
        return slot_loss(self.words, vectors, slot_words(ids), cand, log_q), None
