"""The word tokenizer: one token a whitespace-split word, kept exactly as written (case
and punctuation are part of the word: ``"Williams'"`` and ``"hit."`` are words), the vocab
fitted on the data (most frequent first); the same interface as
:class:`genwidgets.data.chars.CharTokenizer`.

Decoding joins the words with one space, so ``decode(encode(s))`` is ``" ".join(s.split())``
for a sentence whose words are all in the vocab. A word outside it encodes as ``UNK`` and
decodes as U+FFFD; so does a word spelled like a special token (``"<pad>"``), which the
vocab never holds twice.
"""

from __future__ import annotations

from typing import Any

from genwidgets.data.vocab_tokenizer import VocabTokenizer


class WordTokenizer(VocabTokenizer):
    """Words to token ids and back. ``vocab`` starts with the special tokens."""

    kind, unit, joiner = "word", "a word", " "
    units_rule = "words (non-empty strings without whitespace, none a special token)"

    @staticmethod
    def units(text: str) -> list[str]:
        return text.split()

    @staticmethod
    def is_unit(unit: Any) -> bool:
        """A non-empty str without whitespace (what ``str.split()`` gives)."""
        return isinstance(unit, str) and unit.split() == [unit]
