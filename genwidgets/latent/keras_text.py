"""Text for ``LatentSource.from_keras``: the items, the tokenizer, the decoder's output.

A ``tokenizer`` with ``encode`` / ``decode``: a genwidgets tokenizer as it is, or one of a
sentence at a time (Hugging Face's, say) through :class:`SentenceTokenizer`. ``x``:
sentences or token ids (N, seq_len). The decoder gives logits (N, seq_len, vocab), read
greedily, or token ids (N, seq_len).
"""

from __future__ import annotations

import numpy as np

from genwidgets.spec import DataInfo, Dataset

TEXT_OUTPUTS = ("logits", "ids")


class SentenceTokenizer:
    """A tokenizer of one sentence at a time (``encode(text)`` gives ids, or an object with
    ``.ids`` as Hugging Face's ``tokenizers`` do; ``decode(ids)`` gives the text) used as the
    views use one: many sentences at once, cut and padded to ``seq_len`` with ``pad_id``
    (its ``pad_token_id`` if it has one, else 0), trailing padding dropped on decoding."""

    def __init__(self, tokenizer, pad_id: int | None = None):
        self.tokenizer = tokenizer
        own = getattr(tokenizer, "pad_token_id", None)
        self.pad_id = int(pad_id if pad_id is not None else own if isinstance(own, int) else 0)

    def encode(self, texts, seq_len: int) -> np.ndarray:
        texts = [texts] if isinstance(texts, str) else list(texts)
        out = np.full((len(texts), int(seq_len)), self.pad_id, dtype="int32")
        for row, text in enumerate(texts):
            if not isinstance(text, str):
                raise TypeError(f"Expected sentences as str. Received: {text!r} "
                                f"({type(text).__name__}) at position {row}")
            ids = self.tokenizer.encode(text)
            ids = [int(i) for i in getattr(ids, "ids", ids)][:int(seq_len)]
            out[row, :len(ids)] = ids
        return out

    def decode(self, ids) -> list[str]:
        ids = np.asarray(ids)
        out = []
        for row in ids[None] if ids.ndim == 1 else ids:
            row = [int(i) for i in row]
            while row and row[-1] == self.pad_id:
                row.pop()
            out.append(str(self.tokenizer.decode(row)))
        return out

    def unknown(self, text: str, seq_len: int | None = None) -> list[str]:
        """What the tokenizer cannot read: asked of it if it says, else nothing known."""
        own = getattr(self.tokenizer, "unknown", None)
        return list(own(text, seq_len)) if callable(own) else []

    def __repr__(self) -> str:
        return f"SentenceTokenizer({self.tokenizer!r}, pad_id={self.pad_id})"


def text_data(x, labels, label_names, tokenizer, seq_len, name):
    from genwidgets.data.tokenizers import tokenizer_kind
    from genwidgets.data.tokens import Tokenizer
    from genwidgets.data.validate import check_labels

    if not (callable(getattr(tokenizer, "encode", None))
            and callable(getattr(tokenizer, "decode", None))):
        raise TypeError(f"Expected a tokenizer with encode and decode methods. Received: "
                        f"tokenizer={tokenizer!r} ({type(tokenizer).__name__})")
    tok = tokenizer if isinstance(tokenizer, Tokenizer) else SentenceTokenizer(tokenizer)
    if isinstance(x, str):
        x = [x]
    is_text = not isinstance(x, np.ndarray) or x.dtype.kind in "UO"
    ids = None if is_text else np.asarray(x)
    if ids is not None and (ids.ndim != 2 or ids.dtype.kind not in "iu"):
        raise ValueError(f"Expected x as sentences (a list of str) or token ids, ints of "
                         f"shape (N, seq_len). Received: x of shape {ids.shape} ({ids.dtype})")
    seq_len = seq_len or (ids.shape[1] if ids is not None else None)
    if not seq_len:
        raise ValueError("Expected seq_len= (tokens per sentence) for an encoder whose input "
                         "shape is not known. Received: seq_len=None")
    if ids is None:
        ids = tok.encode(list(x), int(seq_len))
    if len(ids) == 0 or ids.shape[1] != seq_len:
        raise ValueError(f"Expected token ids of shape (N, {seq_len}) (the encoder's input). "
                         f"Received: x of shape {ids.shape}")
    y = None if labels is None else check_labels(labels, len(ids))
    info = DataInfo(name=name, modality="text", shape=(int(seq_len),), n_items=len(ids),
                    vocab=tuple(tok.vocab) if isinstance(tok, Tokenizer) else None,
                    label_names=None if label_names is None else tuple(label_names),
                    tokens=tokenizer_kind(tok))
    return Dataset(x=ids.astype("int32"), info=info, y=y, tokenizer=tok)


def text_output(raw: np.ndarray, seq_len: int, decoder, choice: str):
    """``post``: token ids (n, seq_len) from the decoder's logits or ids."""
    if choice not in ("auto", *TEXT_OUTPUTS):
        raise ValueError(f"Expected decoder_output for text to be one of "
                         f"{('auto', *TEXT_OUTPUTS)}. Received: decoder_output={choice!r}")
    if choice == "auto":
        choice = "logits" if raw.ndim == 3 else "ids"
    ok = (raw.ndim == 3 and raw.shape[1] == seq_len) if choice == "logits" else (
        raw.ndim == 2 and raw.shape[1] == seq_len)
    if not ok:
        raise ValueError(
            f"Expected {decoder} to give per-position logits (N, {seq_len}, vocab) or token "
            f"ids (N, {seq_len}). Received: output of shape {raw.shape}")
    if choice == "logits":
        return lambda out: np.asarray(out).argmax(-1).astype("int32")
    return lambda out: np.rint(np.asarray(out)).astype("int32")
