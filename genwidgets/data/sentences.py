"""The built-in ``sentences``: the 40,720 usage examples of WordNet 3.0, offline.

Short sentences (3-12 words, ASCII, one a line: nouns', verbs', adjectives', adverbs'
examples, in that order), shipped compressed beside their licence notice
(``WORDNET_LICENSE``: WordNet 3.0 Copyright 2006 by Princeton University). Line i
(0-based) is held out when i % 10 == 9, the protocol of the project's benchmarks.
"""

from __future__ import annotations

import functools
import lzma
from importlib import resources

from genwidgets.data.text import check_limit, check_seq_len, text_dataset, too_short
from genwidgets.data.tokens import check_token_options
from genwidgets.data.validate import DataError
from genwidgets.spec import Dataset

FILE = "sentences.txt.xz"
LICENSE = "WORDNET_LICENSE"
N_SENTENCES = 40_720
SHA256 = "4efeed8ab017f27bca04ac032e3281e5153bec403cf89ba8f9d53fa629fff777"  # uncompressed
SPLITS = ("all", "train", "heldout")
HELDOUT_EVERY = 10  # line i is held out when i % 10 == 9


@functools.lru_cache(maxsize=1)
def _read() -> tuple[str, ...]:
    data = lzma.decompress((resources.files("genwidgets.data") / FILE).read_bytes())
    return tuple(data.decode("ascii").splitlines())


def read_sentences(split: str = "all") -> list[str]:
    """The sentences of ``split``: ``"all"``, ``"train"`` (9 lines of 10) or ``"heldout"``
    (line i when i % 10 == 9), in file order."""
    if split not in SPLITS:
        raise DataError(f"Expected split to be one of {SPLITS}. Received: split={split!r}")
    lines = _read()
    if split == "all":
        return list(lines)
    held = split == "heldout"
    return [s for i, s in enumerate(lines) if (i % HELDOUT_EVERY == HELDOUT_EVERY - 1) == held]


def license_text() -> str:
    """WordNet 3.0's licence notice, which goes with every copy of the sentences."""
    return (resources.files("genwidgets.data") / LICENSE).read_text(encoding="ascii")


def load_sentences(tokens: str = "word", vocab_size: int | None = None,
                   seq_len: int | None = None, split: str = "all",
                   limit: int | None = None) -> Dataset:
    """WordNet's sentences of ``split`` (the first ``limit`` of them), encoded.

    ``tokens``: ``"word"`` (whole words of these sentences, the most frequent
    ``vocab_size`` with the special tokens, every word by default; an unseen word reads as
    UNK): the default, because the text models then give each word a slot of the latent
    and a path between two sentences swaps whole words (``genwidgets.word_slots``);
    ``"subword"`` (BPE pieces learnt from these sentences, ``vocab_size`` of them with the
    special tokens, 2000 by default) spells unseen words; or ``"char"``. The tokenizer
    sees only the chosen split. ``seq_len``: tokens a sentence, EOS included (default: the 95th
    percentile of the sentences' token lengths plus one, at least 8); longer ones are cut.
    """
    tokens, vocab_size = check_token_options(tokens, vocab_size)
    if seq_len is not None:
        seq_len = check_seq_len(seq_len)
    if split not in SPLITS:
        raise DataError(f"Expected split to be one of {SPLITS}. Received: split={split!r}")
    limit = check_limit(limit)
    items = read_sentences(split)[:limit]
    too_short(items, "sentence", f"WordNet's sentences (split={split!r})",
              f"raise limit (now {limit})")
    return text_dataset(items, seq_len, "sentences", tokens, vocab_size)

