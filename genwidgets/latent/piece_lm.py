"""Decoding a parallel text decoder's logits with a token trigram model of the training text.

A parallel decoder (every position's logits from z at once, ``decoder_output =
"token_logits"``) chooses each position on its own. At a point between two sentences its
positions disagree about which sentence they spell, and the argmax of each joins pieces of
different words ("they tested of abection to"). :class:`PieceLM` counts which token follows
which two in the training sentences; :meth:`PieceLM.decode` finds the sequence that
maximises the decoder's log-probabilities plus ``weight`` times the trigram's, among each
position's ``candidates`` likeliest tokens (Viterbi over pairs of neighbours). Where the
decoder is sure (a sentence's own code) the argmax wins; where it hesitates, the tokens that
make words of the training text do. ``weight=0`` is the plain argmax.

Measured with ``benchmarks/text_paths.py`` (the protocol of ``../shared/data/README.md``,
600 s of training each): the share of real words in the middle of held-out paths went from
0.81 / 0.79 / 0.83 (AE, VAE, Transformer) with the argmax to 0.91 / 0.84 / 0.91 at
``WEIGHT``, straightness from 0.42 / 0.37 / 0.36 to 0.49 / 0.42 / 0.43. ``WEIGHT`` was
chosen on pairs of training sentences, not on the held-out pairs.

Pure NumPy: no Keras, no JAX.
"""

from __future__ import annotations

import numpy as np

from genwidgets.spec import BOS, EOS, PAD

WEIGHT = 0.3  # the trigram's log-probability weight against the decoder's
# fewer tokens than this in the data (about 5,000 short sentences): the plain argmax. On
# 256 WordNet sentences the trigrams pulled every path's middle onto A or B (2.25 different
# sentences of 8 against the argmax's 3+)
MIN_TOKENS = 100_000
CANDIDATES = 8  # tokens considered at each position (the decoder's likeliest)
MIX = (0.6, 0.39, 0.01)  # interpolation of trigram, bigram and unigram probabilities
NEVER = -1e9


def log_softmax(logits: np.ndarray) -> np.ndarray:
    x = np.asarray(logits, dtype="float64")
    x = x - x.max(-1, keepdims=True)
    return x - np.log(np.exp(x).sum(-1, keepdims=True))


class PieceLM:
    """Trigram counts of token ids (n, seq_len), each sentence preceded by two BOS.

    PAD after a sentence's EOS counts as tokens too, so the model knows that PAD follows
    EOS and PAD.
    """

    def __init__(self, ids, vocab_size: int, mix: tuple[float, float, float] = MIX):
        ids = np.asarray(ids)
        if ids.ndim != 2 or ids.dtype.kind not in "iu" or ids.size == 0:
            raise ValueError(f"Expected token ids of shape (n, seq_len), n >= 1. Received: "
                             f"shape {ids.shape}, dtype {ids.dtype}")
        v = int(vocab_size)
        if ids.min() < 0 or ids.max() >= v:
            raise ValueError(f"Expected token ids in [0, {v}). Received: ids in "
                             f"[{ids.min()}, {ids.max()}]")
        self.vocab_size, self.mix = v, tuple(float(m) for m in mix)
        ids = ids.astype("int64")
        before = np.concatenate([np.full((len(ids), 2), BOS, "int64"), ids[:, :-1]], axis=1)
        a, b, c = before[:, :-1].ravel(), before[:, 1:].ravel(), ids.ravel()
        self._unigram = (np.bincount(c, minlength=v) + 1.0) / (len(c) + v)
        self._context1 = np.bincount(b, minlength=v).astype("float64")
        self._pairs = np.unique(b * v + c, return_counts=True)
        self._context2 = np.unique(a * v + b, return_counts=True)
        self._triples = np.unique((a * v + b) * v + c, return_counts=True)

    @staticmethod
    def _count(table: tuple[np.ndarray, np.ndarray], keys: np.ndarray) -> np.ndarray:
        values, counts = table
        at = np.minimum(np.searchsorted(values, keys), len(values) - 1)
        return np.where(values[at] == keys, counts[at], 0).astype("float64")

    def log_prob(self, a, b, c) -> np.ndarray:
        """log p(c | a, b) (arrays of ids, broadcast together), interpolated."""
        a, b, c = (np.asarray(t, "int64") for t in (a, b, c))
        v = self.vocab_size
        w3, w2, w1 = self.mix
        seen1 = self._context1[b]
        p2 = self._count(self._pairs, b * v + c) / np.maximum(seen1, 1.0)
        seen2 = self._count(self._context2, a * v + b)
        p3 = self._count(self._triples, (a * v + b) * v + c) / np.maximum(seen2, 1.0)
        return np.log(w1 * self._unigram[c] + w2 * p2 + w3 * p3)

    def decode(self, logits, weight: float = WEIGHT,
               candidates: int = CANDIDATES) -> np.ndarray:
        """Token ids (n, seq_len) from per-position logits (n, seq_len, vocab): the best
        sequence of decoder log-probability + ``weight`` x trigram log-probability, never
        BOS, PAD after the first EOS."""
        logp = log_softmax(logits)
        if logp.ndim != 3 or logp.shape[-1] != self.vocab_size:
            raise ValueError(f"Expected logits of shape (n, seq_len, {self.vocab_size}). "
                             f"Received: shape {logp.shape}")
        logp[..., BOS] = NEVER
        if weight == 0 or logp.shape[1] == 0:
            return _ended(logp.argmax(-1).astype("int32"))
        n, length, _ = logp.shape
        k = max(1, min(int(candidates), self.vocab_size - 1))
        cand = np.argsort(-logp, axis=-1)[..., :k]  # (n, L, k)
        own = np.take_along_axis(logp, cand, -1)  # (n, L, k)
        start = np.full((n, 1), BOS)
        # score[r, i, j]: best total ending with candidate i before candidate j
        score = np.where(np.arange(k)[:, None] == 0, 0.0, NEVER)[None] + (
            own[:, 0, None, :] + weight * self.log_prob(start[:, :, None], start[:, :, None],
                                                        cand[:, 0, None, :]))
        back = []
        for pos in range(1, length):
            a = cand[:, pos - 2][:, :, None, None] if pos >= 2 else np.full((n, 1, 1, 1), BOS)
            b = cand[:, pos - 1][:, None, :, None]
            c = cand[:, pos][:, None, None, :]
            # total[r, h, i, j]: h before i before j
            total = score[:, :, :, None] + weight * self.log_prob(a, b, c)
            best = total.argmax(1)  # (n, i, j)
            back.append(best)
            score = np.take_along_axis(total, best[:, None], 1)[:, 0] + own[:, pos, None, :]
        flat = score.reshape(n, -1).argmax(-1)
        i, j = flat // k, flat % k
        picks = np.zeros((n, length), "int64")
        picks[:, -1] = j
        for pos in range(length - 1, 0, -1):
            picks[:, pos - 1] = i
            i = back[pos - 1][np.arange(n), i, j] if pos >= 2 else i
            j = picks[:, pos - 1]
        ids = np.take_along_axis(cand, picks[..., None], -1)[..., 0]
        return _ended(ids.astype("int32"))


def _ended(ids: np.ndarray) -> np.ndarray:
    ids[np.cumsum(ids == EOS, axis=1) - (ids == EOS) > 0] = PAD
    return ids
