"""The public plugin contract: ``ModelSpec``, ``DatasetSpec``, ``DataInfo``, ``Dataset``.

Only the standard library here: listing plugins must not import Keras, JAX or NumPy.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from typing import Any, ClassVar, Literal

Modality = Literal["image", "text"]
MODALITIES: tuple[str, ...] = ("image", "text")
CAPABILITIES: tuple[str, ...] = ("encode", "decode", "sample", "condition")
# What a spec claims when it says nothing: the three of an unconditional model.
DEFAULT_CAPABILITIES: frozenset[str] = frozenset({"encode", "decode", "sample"})
# "condition": the model is conditioned on the dataset's labels (class indices into
# ``DataInfo.label_names``). It trains on ``fit((x, labels))`` (each batch's inputs are the
# pair), has ``num_classes``, and takes ``labels=`` in ``decode(z, labels=None)`` and
# ``sample(n, seed=0, labels=None)`` (and ``encode(x, labels=None)`` if it encodes): an
# int array of one label per item, or one int for all; None = any label (the model draws
# them: ``sample`` each item's from its seed, ``decode`` one for all from a fixed seed,
# so a path or grid of latents stays one class). Labels out of range, of
# the wrong length or not integers raise ValueError("Expected ... Received: ...").
# Image data only for the built-in conditional models (cvae, cgan).

# Token ids every text tokenizer reserves.
PAD, BOS, EOS, UNK = 0, 1, 2, 3
SPECIAL_TOKENS: tuple[str, ...] = ("<pad>", "<bos>", "<eos>", "<unk>")


@dataclasses.dataclass(frozen=True)
class DataInfo:
    """What a model needs to know about its data to build itself.

    ``shape`` is one item's shape: ``(height, width, channels)`` for images (float32 in
    [0, 1]), ``(seq_len,)`` for text (int32 token ids, padded with ``PAD``). ``tokens`` is
    the tokenizer kind of text data (``"char"``, ``"subword"`` or ``"word"``), None for
    images or for data of runs older than the field (or of a tokenizer of another kind).
    """

    name: str
    modality: Modality
    shape: tuple[int, ...]
    n_items: int
    vocab: tuple[str, ...] | None = None
    label_names: tuple[str, ...] | None = None
    tokens: str | None = None

    @property
    def vocab_size(self) -> int:
        return len(self.vocab) if self.vocab else 0

    @property
    def seq_len(self) -> int:
        if self.modality != "text":
            raise AttributeError(f"seq_len is for text data; {self.name!r} holds {self.modality}")
        return self.shape[0]

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> DataInfo:
        d = dict(d)
        for key in ("shape", "vocab", "label_names"):
            if d.get(key) is not None:
                d[key] = tuple(d[key])
        return cls(**d)


@dataclasses.dataclass
class Dataset:
    """Loaded data: ``x`` (an array of items), optional ``y`` labels, and its ``info``."""

    x: Any
    info: DataInfo
    y: Any = None
    tokenizer: Any = None  # text only: turns token ids back into strings

    def __len__(self) -> int:
        return len(self.x)


@dataclasses.dataclass(frozen=True)
class DatasetSpec:
    """A named dataset a plugin offers. ``load(**options)`` returns a :class:`Dataset`."""

    name: str
    modality: Modality
    load: Callable[..., Dataset]
    description: str = ""
    options: Mapping[str, str] = dataclasses.field(default_factory=dict)


class ModelSpec:
    """Subclass this to offer a model family. Register the subclass from ``register_models``.

    Class attributes: ``name`` (unique, lowercase), ``family``, ``modalities``,
    ``capabilities`` (what the built model offers of encode/decode/sample, and
    ``"condition"`` for a model conditioned on the data's labels), ``Config``
    (a frozen, keyword-only dataclass whose fields become the settings form) and
    ``mutable`` (Config fields that may change while training) and ``modality_defaults``
    (per modality, the Config values that replace the class defaults for that kind of data,
    e.g. a wider latent for text; what a user sets still wins).
    Import Keras inside :meth:`build`, never at module level.
    """

    name: ClassVar[str]
    family: ClassVar[str]
    modalities: ClassVar[tuple[str, ...]] = ("image",)
    capabilities: ClassVar[frozenset[str]] = DEFAULT_CAPABILITIES
    description: ClassVar[str] = ""
    mutable: ClassVar[tuple[str, ...]] = ("learning_rate",)
    modality_defaults: ClassVar[Mapping[str, Mapping[str, Any]]] = {}

    @dataclasses.dataclass(frozen=True, kw_only=True)
    class Config:
        learning_rate: float = 1e-3

    def build(self, config: Any, data_info: DataInfo) -> Any:
        """Return a compiled ``keras.Model`` for ``data_info`` with ``config``."""
        raise NotImplementedError(f"{type(self).__name__}.build is not implemented")

    def custom_objects(self) -> dict[str, Any]:
        """Keras classes needed to load a saved model of this family (imports Keras)."""
        return {}

    def config(self, **values: Any) -> Any:
        """Make a ``Config`` from keyword values (strings are parsed), with clear errors."""
        from genwidgets.config import make_config

        return make_config(self.Config, values, owner=self.name)

    def defaults_for(self, modality: str) -> dict[str, Any]:
        """The Config defaults for ``modality`` data: the class's, then ``modality_defaults``."""
        base = {f.name: f.default for f in dataclasses.fields(self.Config)
                if f.default is not dataclasses.MISSING}
        return {**base, **dict(self.modality_defaults.get(modality, {}))}

    def config_for(self, modality: str, **values: Any) -> Any:
        """Like :meth:`config`, starting from the defaults for ``modality`` data."""
        return self.config(**{**dict(self.modality_defaults.get(modality, {})), **values})

    def __repr__(self) -> str:
        return f"<ModelSpec {self.name!r} family={self.family!r} modalities={self.modalities}>"
