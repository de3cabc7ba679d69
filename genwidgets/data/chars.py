"""The character tokenizer: one token a character, the vocab fitted on the data (most
frequent first); characters outside it encode as ``UNK`` and decode as U+FFFD."""

from __future__ import annotations

from typing import Any

from genwidgets.data.vocab_tokenizer import VocabTokenizer


class CharTokenizer(VocabTokenizer):
    """Characters to token ids and back. ``vocab`` starts with the special tokens."""

    kind, unit, units_rule, joiner = "char", "a character", "single characters", ""

    @staticmethod
    def units(text: str) -> str:
        return text  # a str is its characters

    @staticmethod
    def is_unit(unit: Any) -> bool:
        return isinstance(unit, str) and len(unit) == 1
