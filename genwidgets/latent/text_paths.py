"""Sentence paths scored by the protocol of ``../shared/data/README.md`` (NumPy, stdlib).

For a pair of sentences (A, B): encode both (posterior means), decode greedily the
``PATH_POINTS`` points ``z_A + t (z_B - z_A)``, ``t = k / 7``, and score the path:

- endpoint exact: the share of sentences s with ``decode(encode(s)) == s``;
- character accuracy: ``1 - Lev(decoded, s) / max(len(decoded), len(s))``, averaged;
- distinct: how many different sentences ``p_0 ... p_7`` holds, averaged over the pairs;
- straightness: word-level ``Lev(A, B)`` over the sum of word-level distances between
  neighbours along ``A, p_0, ..., p_7, B`` (1 = no detour), averaged over the pairs; 0
  when nothing moves, i.e. ``p_0 ... p_7`` are one sentence (a constant path half-way
  between A and B would score 1 by the ratio alone);
- toward B: of the steps ``p_k -> p_k+1`` that change the sentence, the share that bring
  it strictly closer to B (word-level), counted over the steps of all pairs together;
- real words: the share of the words of ``p_1 ... p_6`` (lowercased, punctuation stripped
  from both ends) that occur in the training sentences, over the words of all pairs; the
  same over the middle points ``p_3, p_4`` alone (:data:`MIDDLE`, a secondary figure: the
  points next to A and B mostly decode to A or B, so the middle is where non-words sit);
- real sentences (secondary): the share of the middle sentences whose words are all real,
  what a reader sees halfway (one made-up word in six is 5/6 by real words, a broken
  sentence here).

Sentences are compared after joining their whitespace-split words with single spaces.
The model calls go through a :class:`TextCodec` (a ``LatentSource``, or a model with its
tokenizer); everything else here is plain Python on strings.
"""

from __future__ import annotations

import string
from collections.abc import Callable, Iterable, Sequence
from typing import Any, NamedTuple

import numpy as np

PATH_POINTS = 8  # p_0 ... p_7
MIDDLE = slice(PATH_POINTS // 2 - 1, PATH_POINTS // 2 + 1)  # p_3, p_4: a path's middle
MIN_WORDS, MAX_WORDS = 4, 10  # endpoints are sentences of 4 to 10 words
N_ENDPOINTS = 64  # training endpoints, and held-out sentences paired in order (32 pairs)
HELD_OUT_EVERY = 10  # line i is held out when i % 10 == 9
_PUNCTUATION = string.punctuation


# -- strings ------------------------------------------------------------------------------
def normalise(sentence: str) -> str:
    """The sentence's whitespace-split words joined by single spaces."""
    return " ".join(sentence.split())


def levenshtein(a: Sequence, b: Sequence) -> int:
    """Edit distance (insertions, deletions, substitutions, each 1) between two sequences:
    of characters for strings, of words for lists of words."""
    if len(a) < len(b):
        a, b = b, a
    previous = list(range(len(b) + 1))
    for i, x in enumerate(a, 1):
        current = [i]
        for j, y in enumerate(b, 1):
            current.append(min(previous[j] + 1,  # delete x
                               current[j - 1] + 1,  # insert y
                               previous[j - 1] + (x != y)))  # keep or substitute
        previous = current
    return previous[-1]


def char_distance(a: str, b: str) -> int:
    """Character-level Levenshtein distance between the normalised sentences."""
    return levenshtein(normalise(a), normalise(b))


def word_distance(a: str, b: str) -> int:
    """Word-level Levenshtein distance between the normalised sentences."""
    return levenshtein(a.split(), b.split())


def plain_words(sentence: str) -> list[str]:
    """The sentence's words lowercased, punctuation stripped from their ends; a word of
    punctuation only is dropped."""
    words = (w.lower().strip(_PUNCTUATION) for w in sentence.split())
    return [w for w in words if w]


def word_vocabulary(sentences: Iterable[str]) -> set[str]:
    """Every :func:`plain_words` word of ``sentences`` (the training sentences)."""
    return {w for s in sentences for w in plain_words(s)}


# -- the protocol's figures -----------------------------------------------------------------
def _pairs_of(sentences: Sequence[str], decoded: Sequence[str]) -> list[tuple[str, str]]:
    if len(sentences) != len(decoded):
        raise ValueError(f"Expected one decoded sentence per sentence. Received: "
                         f"{len(sentences)} sentences and {len(decoded)} decoded")
    return [(normalise(s), normalise(d)) for s, d in zip(sentences, decoded)]


def endpoint_exact(sentences: Sequence[str], decoded: Sequence[str]) -> float:
    """The share of ``sentences`` whose reconstruction ``decoded[i]`` is the same sentence."""
    pairs = _pairs_of(sentences, decoded)
    return sum(s == d for s, d in pairs) / len(pairs) if pairs else 0.0


def char_accuracy(sentences: Sequence[str], decoded: Sequence[str]) -> float:
    """Mean of ``1 - Lev(decoded, s) / max(len(decoded), len(s))`` (1 for two empty)."""
    pairs = _pairs_of(sentences, decoded)
    if not pairs:
        return 0.0
    scores = [1.0 - levenshtein(d, s) / max(len(d), len(s)) if (d or s) else 1.0
              for s, d in pairs]
    return float(np.mean(scores))


def _check_path(path: Sequence[str]) -> list[str]:
    if len(path) < 2:
        raise ValueError(f"Expected a path of at least 2 decoded sentences (p_0 ... p_7). "
                         f"Received: {len(path)}")
    return [normalise(p) for p in path]


def distinct(paths: Sequence[Sequence[str]]) -> float:
    """How many different sentences a path holds, averaged over the paths."""
    counts = [len(set(_check_path(p))) for p in paths]
    return float(np.mean(counts)) if counts else 0.0


def path_straightness(a: str, b: str, path: Sequence[str]) -> float:
    """Word ``Lev(A, B)`` over the summed word distances along ``A, p_0 ... p_7, B``;
    0 when the path does not move (``p_0 ... p_7`` one sentence), however near A and B."""
    path = _check_path(path)
    if len(set(path)) == 1:
        return 0.0
    walk = [normalise(a), *path, normalise(b)]
    travelled = sum(word_distance(x, y) for x, y in zip(walk, walk[1:]))
    return word_distance(walk[0], walk[-1]) / travelled


def straightness(pairs: Sequence[tuple[str, str]], paths: Sequence[Sequence[str]]) -> float:
    """:func:`path_straightness`, averaged over the pairs."""
    _same_length(pairs, paths)
    values = [path_straightness(a, b, p) for (a, b), p in zip(pairs, paths)]
    return float(np.mean(values)) if values else 0.0


def steps_toward_b(b: str, path: Sequence[str]) -> tuple[int, int]:
    """``(moving, closer)``: steps ``p_k -> p_k+1`` that change the sentence, and those of
    them that end strictly closer to B (word-level Levenshtein)."""
    path, b = _check_path(path), normalise(b)
    moving = closer = 0
    for x, y in zip(path, path[1:]):
        if x != y:
            moving += 1
            closer += word_distance(y, b) < word_distance(x, b)
    return moving, closer


def toward_b(pairs: Sequence[tuple[str, str]], paths: Sequence[Sequence[str]]) -> float:
    """The share of the moving steps of all paths that bring the sentence closer to B
    (0 when no step moves)."""
    _same_length(pairs, paths)
    counts = [steps_toward_b(b, p) for (_, b), p in zip(pairs, paths)]
    moving = sum(m for m, _ in counts)
    return sum(c for _, c in counts) / moving if moving else 0.0


def real_words(paths: Sequence[Sequence[str]], vocabulary: set[str],
               points: slice = slice(1, -1)) -> float:
    """The share of the words of every path's inner points ``p_1 ... p_-2`` (or the
    ``points`` given, e.g. :data:`MIDDLE`) that are in ``vocabulary`` (see
    :func:`word_vocabulary`); 0 when they hold no word."""
    words = [w for p in paths for s in _check_path(p)[points] for w in plain_words(s)]
    return sum(w in vocabulary for w in words) / len(words) if words else 0.0


def real_sentences(paths: Sequence[Sequence[str]], vocabulary: set[str],
                   points: slice = MIDDLE) -> float:
    """The share of the sentences at ``points`` (:data:`MIDDLE` by default) of every path
    that hold at least one word and only words in ``vocabulary``; 0 when there are none."""
    sentences = [plain_words(s) for p in paths for s in _check_path(p)[points]]
    return (sum(bool(w) and all(x in vocabulary for x in w) for w in sentences)
            / len(sentences) if sentences else 0.0)


def _same_length(pairs, paths) -> None:
    if len(pairs) != len(paths):
        raise ValueError(f"Expected one path per pair. Received: {len(pairs)} pairs and "
                         f"{len(paths)} paths")


def score(sentences: Sequence[str], decoded: Sequence[str],
          pairs: Sequence[tuple[str, str]], paths: Sequence[Sequence[str]],
          vocabulary: set[str]) -> dict[str, float]:
    """The six path figures: ``sentences`` and their reconstructions ``decoded``, the
    ``pairs`` (A, B) and their decoded ``paths``, the training ``vocabulary`` of words."""
    return {
        "endpoint_exact": endpoint_exact(sentences, decoded),
        "char_acc": char_accuracy(sentences, decoded),
        "distinct": distinct(paths),
        "straightness": straightness(pairs, paths),
        "toward_b": toward_b(pairs, paths),
        "real_words": real_words(paths, vocabulary),
    }


# -- the protocol's sentences -----------------------------------------------------------
class ProtocolSentences(NamedTuple):
    train: list[str]
    heldout: list[str]
    endpoints: list[str]  # the first 64 training sentences of 4-10 words
    pairs: list[tuple[str, str]]  # the first 64 held-out ones of 4-10 words, in pairs

    @property
    def heldout_endpoints(self) -> list[str]:
        return [s for pair in self.pairs for s in pair]


def protocol_sentences(lines: Sequence[str]) -> ProtocolSentences:
    """Split the lines of ``wordnet_examples.txt`` (line i held out when i % 10 == 9) and
    pick the endpoints. Each line is normalised; fewer lines give fewer endpoints."""
    lines = [normalise(line) for line in lines]
    train = [s for i, s in enumerate(lines) if i % HELD_OUT_EVERY != HELD_OUT_EVERY - 1]
    heldout = [s for i, s in enumerate(lines) if i % HELD_OUT_EVERY == HELD_OUT_EVERY - 1]

    def ends(sentences: list[str]) -> list[str]:
        fit = [s for s in sentences if MIN_WORDS <= len(s.split()) <= MAX_WORDS]
        return fit[:N_ENDPOINTS]

    held = ends(heldout)
    pairs = [(held[i], held[i + 1]) for i in range(0, len(held) - 1, 2)]
    return ProtocolSentences(train, heldout, ends(train), pairs)


# -- the model calls ------------------------------------------------------------------
def path_latents(z_a, z_b, n: int = PATH_POINTS) -> np.ndarray:
    """``z_A + t (z_B - z_A)`` for ``t = k / (n - 1)``, k = 0 ... n - 1: shape (n, d)."""
    z_a, z_b = np.asarray(z_a, "float32"), np.asarray(z_b, "float32")
    if z_a.shape != z_b.shape or z_a.ndim != 1:
        raise ValueError(f"Expected two latent vectors of the same length. Received: "
                         f"shapes {z_a.shape} and {z_b.shape}")
    t = (np.arange(n, dtype="float32") / (n - 1))[:, None]
    return z_a + t * (z_b - z_a)


class TextCodec:
    """Sentences to latents (posterior means) and latents to greedy decodes.

    ``TextCodec.of(source)`` for a ``LatentSource`` (its ``encode`` of token ids and its
    ``decode`` to strings), or ``TextCodec.of(model, tokenizer, seq_len)`` for a model with
    ``encode(ids) -> z`` and ``decode(z) -> ids``.
    """

    def __init__(self, encode: Callable[[Any], Any], decode: Callable[[Any], list[str]],
                 tokenizer: Any, seq_len: int):
        self._encode, self._decode = encode, decode
        self.tokenizer, self.seq_len = tokenizer, int(seq_len)

    @classmethod
    def of(cls, obj: Any, tokenizer: Any = None, seq_len: int | None = None) -> TextCodec:
        info = getattr(obj, "info", None)  # a LatentSource: decode gives strings
        if tokenizer is None and getattr(obj, "tokenizer", None) is not None and info:
            return cls(obj.encode, obj.decode, obj.tokenizer, seq_len or info.seq_len)
        if tokenizer is None:
            raise ValueError("Expected a LatentSource, or a model with its tokenizer. "
                             "Received: a model and tokenizer=None")
        if seq_len is None:
            data_info = getattr(obj, "data_info", None)
            if data_info is None:
                raise ValueError("Expected seq_len= with a model (the length its token ids "
                                 "are padded to). Received: seq_len=None")
            seq_len = data_info.seq_len
        return cls(obj.encode, lambda z: tokenizer.decode(obj.decode(z)), tokenizer, seq_len)

    def encode(self, sentences: Sequence[str]) -> np.ndarray:
        ids = self.tokenizer.encode([normalise(s) for s in sentences], self.seq_len)
        return np.asarray(self._encode(ids), dtype="float32")

    def decode(self, z) -> list[str]:
        return [normalise(s) for s in self._decode(np.asarray(z, dtype="float32"))]

    def reconstruct(self, sentences: Sequence[str]) -> list[str]:
        """``decode(encode(s))`` for each sentence."""
        return self.decode(self.encode(sentences)) if len(sentences) else []

    def paths(self, pairs: Sequence[tuple[str, str]], n: int = PATH_POINTS) -> list[list[str]]:
        """The ``n`` greedy decodes from A to B for each pair (one encode, one decode)."""
        if not pairs:
            return []
        z = self.encode([s for pair in pairs for s in pair])
        points = np.concatenate([path_latents(z[2 * i], z[2 * i + 1], n)
                                 for i in range(len(pairs))])
        decoded = self.decode(points)
        return [decoded[i * n:(i + 1) * n] for i in range(len(pairs))]


def evaluate(codec: TextCodec, sentences: ProtocolSentences,
             vocabulary: set[str] | None = None) -> dict[str, Any]:
    """The protocol's figures for one model: ``endpoint_exact_train``,
    ``endpoint_exact_heldout``, ``char_acc_heldout``, ``char_acc_train``, ``distinct``,
    ``straightness``, ``toward_b``, ``real_words``, ``real_words_middle`` and
    ``real_sentences_middle`` (of :data:`MIDDLE`), and the decoded ``paths``."""
    if vocabulary is None:
        vocabulary = word_vocabulary(sentences.train)
    train_decoded = codec.reconstruct(sentences.endpoints)
    held = sentences.heldout_endpoints
    held_decoded = codec.reconstruct(held)
    paths = codec.paths(sentences.pairs)
    figures = score(held, held_decoded, sentences.pairs, paths, vocabulary)
    return {
        "endpoint_exact_train": endpoint_exact(sentences.endpoints, train_decoded),
        "endpoint_exact_heldout": figures.pop("endpoint_exact"),
        "char_acc_heldout": figures.pop("char_acc"),
        "char_acc_train": char_accuracy(sentences.endpoints, train_decoded),
        **figures,
        "real_words_middle": real_words(paths, vocabulary, MIDDLE),
        "real_sentences_middle": real_sentences(paths, vocabulary),
        "train_decoded": train_decoded,
        "heldout_decoded": held_decoded,
        "paths": paths,
    }
