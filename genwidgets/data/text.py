"""Text data: text files and lists of strings, and Python's own docs.

Every text dataset holds int32 token ids of one fixed length (``seq_len``): the tokens
(characters, subword pieces with ``tokens="subword"`` or words with ``tokens="word"``), then
``EOS``, then ``PAD`` (a fixed shape keeps the compiled step fixed).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from genwidgets.data.chars import CharTokenizer  # noqa: F401  (where it was first found)
from genwidgets.data.tokenizers import fit_tokenizer
from genwidgets.data.tokens import (  # noqa: F401  (UNKNOWN_CHAR: read from here too)
    UNKNOWN_CHAR,
    check_seq_len,
    check_token_options,
    pad_ids,
)
from genwidgets.data.validate import DataError, check_texts
from genwidgets.spec import DataInfo, Dataset

MODES = ("line", "sentence")


def check_limit(limit: Any) -> int | None:
    if limit is not None and (isinstance(limit, bool) or not isinstance(
            limit, (int, np.integer)) or limit < 1):
        raise DataError(f"Expected limit to be a positive integer or None. Received: {limit!r}")
    return None if limit is None else int(limit)


def split_text(text: str, mode: str = "line") -> list[str]:
    """Items of ``text``: its non-blank lines (stripped), or its sentences.

    Sentences end at ``.``, ``!`` or ``?`` (and a closing quote or bracket) followed by
    whitespace, or at a blank line; whitespace inside a sentence becomes one space.
    """
    if mode not in MODES:
        raise DataError(f"Expected mode to be one of {MODES}. Received: mode={mode!r}")
    if not isinstance(text, str):
        raise DataError(f"Expected text as a str. Received: {type(text).__name__}")
    if mode == "line":
        return [line.strip() for line in text.splitlines() if line.strip()]
    out = []
    for para in re.split(r"\n\s*\n", text):
        para = " ".join(para.split())
        out.extend(s for s in _SENTENCE_END.split(para) if s)
    return out


_SENTENCE_END = re.compile(r"(?<=[.!?])\s+|(?<=[.!?][\"')\]])\s+")


def read_text_file(path: str | Path) -> str:
    """The text of a UTF-8 file (a BOM is dropped), or DataError saying where it is not UTF-8
    (or that it is no regular file, or too large: :func:`genwidgets.data.files.read_bytes`)."""
    from genwidgets.data.files import read_bytes  # a regular file, at most MAX_BYTES

    path = Path(path)
    data = read_bytes(path, "a text file")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise not_utf8_error(path, data, e) from None


_BOMS = ((b"\xff\xfe\x00\x00", "UTF-32LE", "UTF-32"), (b"\x00\x00\xfe\xff", "UTF-32BE", "UTF-32"),
         (b"\xff\xfe", "UTF-16LE", "UTF-16"), (b"\xfe\xff", "UTF-16BE", "UTF-16"))


def not_utf8_error(path: Path, data: bytes, e: UnicodeDecodeError) -> DataError:
    """The error for a file that is not UTF-8: a UTF-16 or UTF-32 one (a byte-order mark,
    or NUL bytes between the letters) is named as such, with the conversion to run."""
    fix = "(in an editor: 'Save with encoding UTF-8')"
    for bom, name, source in _BOMS:
        if data.startswith(bom):
            return DataError(
                f"Expected a UTF-8 text file. Received: {str(path)!r}, which is {name} (it "
                f"starts with the {name} byte-order mark {bom.hex(' ')}), not UTF-8. Fix: "
                f"convert it to UTF-8, e.g. iconv -f {source} -t utf-8 in.txt > out.txt "
                f"{fix}.")
    head = data[:4096]
    nuls = head.count(b"\0")
    if nuls * 4 > len(head):
        name = "UTF-16LE" if head[1::2].count(0) > head[0::2].count(0) else "UTF-16BE"
        return DataError(
            f"Expected a UTF-8 text file. Received: {str(path)!r}, which looks like {name} "
            f"without a byte-order mark ({nuls} NUL bytes in its first "
            f"{len(head)}), not UTF-8. Fix: convert it to UTF-8, e.g. iconv -f {name} -t "
            f"utf-8 in.txt > out.txt {fix}.")
    line = data.count(b"\n", 0, e.start) + 1
    return DataError(
        f"Expected a UTF-8 text file. Received: {str(path)!r}, which is not UTF-8: byte "
        f"0x{data[e.start]:02x} at byte offset {e.start} (line {line}: {e.reason}). "
        f"Fix: re-save the file as UTF-8 {fix}; or, if it is Latin-1 (Windows-1252), "
        f"iconv -f latin1 -t utf-8 in.txt > out.txt.")


def default_seq_len(lengths: Sequence[int]) -> int:
    """The 95th percentile of token ``lengths`` plus the end token, between 8 and 128."""
    p95 = float(np.percentile(np.asarray(lengths), 95))
    return max(8, min(128, math.ceil(p95) + 1))


def text_dataset(items: Sequence[str], seq_len: int | None, name: str, tokens: str = "char",
                 vocab_size: int | None = None) -> Dataset:
    """Fit a tokenizer of kind ``tokens`` on ``items`` and encode them to ``seq_len`` ids
    each (None: :func:`default_seq_len` of their token lengths). Characters are fitted
    on the items cut to seq_len - 1, so the vocab holds only characters the data show;
    subword pieces and words on the whole items. ``info.tokens`` says the kind."""
    tokens, vocab_size = check_token_options(tokens, vocab_size)
    if tokens == "char":
        seq_len = seq_len or default_seq_len([len(t) for t in items])
        items = [t[:seq_len - 1] for t in items]
    tokenizer = fit_tokenizer(items, tokens, vocab_size)
    rows = tokenizer.token_ids(list(items))
    seq_len = seq_len or default_seq_len([len(r) for r in rows])
    x = pad_ids(rows, seq_len)
    info = DataInfo(name=name, modality="text", shape=(seq_len,), n_items=len(items),
                    vocab=tokenizer.vocab, tokens=tokens)
    return Dataset(x=x, info=info, y=None, tokenizer=tokenizer)


def too_short(items: list[str], mode: str, where: str, fix: str) -> None:
    if len(items) < 2:
        unit = "lines" if mode == "line" else "sentences"
        raise DataError(
            f"Expected at least 2 non-blank {unit} of text (too-short text). Received: "
            f"{len(items)} from {where}. Fix: {fix}.")


def load_text(path: str | Path | None = None, texts: Sequence[str] | None = None,
              mode: str = "line", seq_len: int | None = None, limit: int | None = None,
              tokens: str = "char", vocab_size: int | None = None) -> Dataset:
    """Text from a UTF-8 file (``path``) or a list of strings (``texts``), one item per
    line or sentence, blank items dropped, encoded to ``seq_len`` token ids each.

    ``tokens``: ``"char"``, ``"subword"`` (BPE pieces learnt from this text, at most
    ``vocab_size`` of them, 2000 by default) or ``"word"`` (whole words of this text; an
    unseen word reads as UNK); ``vocab_size`` caps a char or word vocab too."""
    if (path is None) == (texts is None):
        raise DataError(
            "Expected exactly one of path= (a UTF-8 text file) or texts= (a list of strings). "
            f"Received: {'both' if path is not None else 'neither'}. "
            "Example: load_text(path='poems.txt') or load_text(texts=['a cat', 'a dog'])")
    if mode not in MODES:
        raise DataError(f"Expected mode to be one of {MODES}. Received: mode={mode!r}")
    limit = check_limit(limit)
    tokens, vocab_size = check_token_options(tokens, vocab_size)
    if seq_len is not None:
        seq_len = check_seq_len(seq_len)
    if path is not None:
        source: Iterable[str] = [read_text_file(path)]
        where = f"the file {str(path)!r}"
    else:
        source = check_texts(texts)
        where = f"{len(source)} string(s)"
    items = [item for t in source for item in split_text(t, mode)]
    if limit is not None:
        items = items[:limit]
    if limit is not None and limit < 2:
        fix = f"raise limit (now {limit})"
    else:
        other = "'sentence' to split long lines" if mode == "line" else "'line'"
        fix = f"add more text, or use mode={other}"
    too_short(items, mode, where, fix)
    return text_dataset(items, seq_len, "text", tokens, vocab_size)


def load_python_docs(mode: str = "sentence", seq_len: int | None = None,
                     limit: int | None = None, tokens: str = "char",
                     vocab_size: int | None = None) -> Dataset:
    """Sentences (or lines) from Python's own help pages (``pydoc_data.topics``): offline.

    Headings and code are dropped; whitespace is collapsed; a sentence must read like
    prose (a capital first, a full stop last). Keeps printable ASCII items of 20 to
    seq_len - 1 characters (seq_len 64 by default), each once, in the order of the sorted
    topic names. With ``tokens="subword"`` or ``"word"`` the items are those of 20 to 63
    characters and ``seq_len`` counts pieces or words (default: the 95th percentile of
    their lengths, plus one).
    """
    from pydoc_data.topics import topics

    if mode not in MODES:
        raise DataError(f"Expected mode to be one of {MODES}. Received: mode={mode!r}")
    tokens, vocab_size = check_token_options(tokens, vocab_size)
    if seq_len is not None:
        seq_len = check_seq_len(seq_len)
    elif tokens == "char":
        seq_len = _DOC_CHARS
    max_chars = seq_len if tokens == "char" else _DOC_CHARS
    limit = check_limit(limit)
    seen: dict[str, None] = {}
    for key in sorted(topics):
        for item in split_text(_drop_headings(topics[key]), mode):
            item = " ".join(item.split())
            if (_MIN_DOC_CHARS <= len(item) < max_chars and _PRINTABLE.fullmatch(item)
                    and not _CODE.search(item)
                    and (mode == "line" or _PROSE.fullmatch(item))):
                seen.setdefault(item)
    items = list(seen)[:limit]
    fix = (f"raise limit (now {limit})" if limit is not None and limit < 2
           else f"raise seq_len above {_MIN_DOC_CHARS} (e.g. 64)")
    too_short(items, mode, f"Python's docs with seq_len={seq_len}", fix)
    return text_dataset(items, seq_len, "python_docs", tokens, vocab_size)


_MIN_DOC_CHARS = 20
_DOC_CHARS = 64
_PRINTABLE = re.compile(r"[ -~]+")
_CODE = re.compile(r">>>|::=|\.\.\.|\|")
_PROSE = re.compile(r"[A-Z\"*][ -~]*[a-z0-9)\"'*][.!?]")
_UNDERLINE = re.compile(r"\s*[*=\-~^]{3,}\s*")


def _drop_headings(text: str) -> str:
    """Blank out reST-style headings (a line underlined with ***, ===, --- or ~~~)."""
    lines = text.splitlines()
    for i, line in enumerate(lines):
        if _UNDERLINE.fullmatch(line):
            lines[i] = ""
            if i and lines[i - 1].strip():
                lines[i - 1] = ""
    return "\n".join(lines)
