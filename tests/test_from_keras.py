"""The latent views on a Keras encoder and decoder a user already has (``from_keras``).

keras.io's VAE example (``tests/keras_io_vae.py``) trained a few epochs on the digits,
opened in the map, the strip and a sample grid; the same from ``.keras`` files; decoders
whose output is logits, tanh images or 0-255 values; plain callables (a PCA); an encoder
and decoder of flat rows; a text model read with a genwidgets and a Hugging Face
tokenizer; and the errors a user meets, each naming what was expected and received.
"""

from __future__ import annotations

import runpy
from pathlib import Path

import ipywidgets as W
import numpy as np
import pytest

import genwidgets  # noqa: F401  (Keras on JAX)
from genwidgets._backend import import_keras
from genwidgets.data import load_digits
from genwidgets.latent import LatentSource
from genwidgets.widgets import InterpolationStrip, LatentMap, SampleGrid, TextPath

keras = import_keras()
layers = keras.layers
EPOCHS = 5
HERE = Path(__file__).resolve().parent


@pytest.fixture(scope="module")
def digits():
    data = load_digits()
    return data.x, data.y, list(data.info.label_names)


@pytest.fixture(scope="module")
def vae(digits):
    """keras.io's VAE (encoder [z_mean, z_log_var, z], sigmoid decoder), trained."""
    x, _, _ = digits
    keras.utils.set_random_seed(0)
    example = runpy.run_path(str(HERE / "keras_io_vae.py"))
    example["vae"].fit(x, epochs=EPOCHS, batch_size=64, verbose=0)
    return example["encoder"], example["decoder"]


def test_keras_io_vae_in_the_map_the_strip_and_a_sample_grid(vae, digits):
    encoder, decoder = vae
    x, y, names = digits
    latent_map = LatentMap.from_keras(encoder, decoder, x, labels=y, label_names=names,
                                      data_name="digits")
    source = latent_map.source
    assert source.latent_dim == 2 and source.spec.name == "encoder + decoder"
    assert len(latent_map.idx) == len(x) and "1797 of 1797 items" in latent_map.info.value
    assert {t.name for t in latent_map.figure.data} >= set(names)  # coloured by label
    # z_log_var feeds the health line: a KL per dimension, and the map says where from
    assert len(latent_map.health_report["kl_per_dim"]) == 2
    assert "KL <b>" in latent_map.health.value  # nats, from z_log_var
    assert "'z_log_var' is read as the log-variance" in source.notes[0]
    assert any("z_log_var" in c.value for c in latent_map.children if isinstance(c, W.HTML))

    # the map's codes are keras' own z_mean, run through one jitted call
    mean, log_var, _ = encoder.predict(x[latent_map.idx], verbose=0)
    np.testing.assert_allclose(latent_map.z, mean, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(source.posterior(x[:40])[1], log_var[:40], rtol=1e-4,
                               atol=1e-5)

    # two digits of different classes: A and B, and the strip between them
    i, j = int(np.flatnonzero(y == 0)[0]), int(np.flatnonzero(y == 7)[0])
    strip = InterpolationStrip(source, latent_map=latent_map, steps=8)
    latent_map.set_a(latent_map.select_item(i))
    latent_map.set_b(latent_map.select_item(j))
    assert strip.images.shape == (8, 8, 8, 1)
    np.testing.assert_allclose(strip.images, decoder.predict(strip.zs, verbose=0),
                               rtol=1e-4, atol=1e-5)
    assert source.compiled == {"encode": True, "decode": True}
    # trained: an item's reconstruction is nearer to it than to the other end's item
    recon_a = strip.images[0]
    assert np.mean((recon_a - x[i]) ** 2) < np.mean((recon_a - x[j]) ** 2)

    grid = SampleGrid(source, n=16, seed=3)
    assert grid.samples.shape == (16, 8, 8, 1) and grid.view.value[:4] == b"\x89PNG"
    again = source.sample(16, seed=3)
    np.testing.assert_array_equal(grid.samples, again)  # the same seed, the same draw
    assert not np.array_equal(again, source.sample(16, seed=4))


def test_the_strip_and_the_grid_have_their_own_from_keras(vae, digits):
    encoder, decoder = vae
    x, _, _ = digits
    strip = InterpolationStrip.from_keras(encoder, decoder, x, steps=5)
    assert strip.images.shape == (5, 8, 8, 1)  # walks from the first item to the second
    z = encoder.predict(x[:2], verbose=0)[0]
    np.testing.assert_allclose(strip.zs[[0, -1]], z, rtol=1e-4, atol=1e-5)
    assert not strip.source.notes[1:]  # only the log-variance note: sigmoid pixels
    # a decoder alone samples; its logits are said under the grid
    grid = SampleGrid.from_keras(None, _wrapped(decoder, "logits"), x, n=4)
    assert grid.samples.shape == (4, 8, 8, 1) and grid.source.capabilities == {
        "decode", "sample"}
    note = grid.children[-1]
    assert "gw-source-notes" in note._dom_classes and "read as logits" in note.value
    with pytest.raises(ValueError, match="cannot encode or decode|cannot encode"):
        LatentMap.from_keras(None, decoder, x)


def test_from_keras_files_loaded_with_safe_mode(vae, digits, tmp_path):
    encoder, decoder = vae
    x, y, _ = digits
    encoder.save(tmp_path / "encoder.keras")
    decoder.save(tmp_path / "decoder.keras")
    latent_map = LatentMap.from_keras(str(tmp_path / "encoder.keras"),
                                      tmp_path / "decoder.keras", x, labels=y, max_items=300)
    np.testing.assert_allclose(latent_map.z, encoder.predict(x[latent_map.idx], verbose=0)[0],
                               rtol=1e-4, atol=1e-5)
    # a Lambda layer runs code when loaded: safe_mode refuses it, and says what to do
    z_in = keras.Input((2,))
    unsafe = keras.Model(z_in, decoder(layers.Lambda(lambda t: t * 2.0)(z_in)))
    unsafe.save(tmp_path / "unsafe.keras")
    with pytest.raises(ValueError, match=r"safe_mode=True.*Lambda layer cannot be loaded"):
        LatentSource.from_keras(tmp_path / "encoder.keras", tmp_path / "unsafe.keras", x)
    with pytest.raises(FileNotFoundError, match=r"Received: '.*nothing.keras', which does "
                                                r"not exist"):
        LatentSource.from_keras(tmp_path / "nothing.keras", decoder, x)


def _wrapped(decoder, how: str):
    """The trained decoder with its pixels given another way (logits, tanh, 0-255)."""
    z_in = keras.Input((2,))
    p = keras.ops.clip(decoder(z_in), 1e-6, 1 - 1e-6)
    out = {"logits": keras.ops.log(p) - keras.ops.log(1 - p), "tanh": 2 * p - 1,
           "255": 255 * p, "unit": p}[how]
    return keras.Model(z_in, out, name=f"decoder_{how}")


@pytest.mark.parametrize("how", ["logits", "tanh", "255", "unit"])
def test_a_decoder_output_outside_0_1_is_detected_and_said(vae, digits, how):
    encoder, decoder = vae
    x, _, _ = digits
    source = LatentSource.from_keras(encoder, _wrapped(decoder, how), x)
    said = [n for n in source.notes if "outside [0, 1]" in n]
    if how == "unit":
        assert said == []
    else:
        assert len(said) == 1 and {"logits": "logits", "tanh": "tanh images",
                                   "255": "pixel values in [0, 255]"}[how] in said[0]
        assert "decoder_output=" in said[0]
    z = source.encode(x[:20])
    np.testing.assert_allclose(source.decode(z), decoder.predict(z, verbose=0), atol=2e-4)
    assert source.compiled["decode"] is True
    told = LatentSource.from_keras(encoder, _wrapped(decoder, how), x,
                                   decoder_output=how)  # told: nothing to say
    assert not [n for n in told.notes if "outside [0, 1]" in n]
    np.testing.assert_allclose(told.decode(z), source.decode(z), atol=1e-6)


def test_plain_callables_a_pca_model(digits):
    """Any function pair works: a PCA of the digits as encoder and decoder (no Keras),
    whose reconstructions overshoot [0, 1] a little: clipped, and said."""
    from sklearn.decomposition import PCA

    x, y, names = digits
    pca = PCA(n_components=6, random_state=0).fit(x.reshape(len(x), -1))

    def encode(images):
        return pca.transform(images.reshape(len(images), -1))

    def decode(z):
        return pca.inverse_transform(z).reshape(len(z), 8, 8, 1)

    latent_map = LatentMap.from_keras(encode, decode, x, labels=y, label_names=names)
    source = latent_map.source
    assert source.latent_dim == 6 and source.spec.name == "encode + decode"
    assert "PC 1" in str(latent_map.figure.layout.xaxis.title.text)
    np.testing.assert_allclose(latent_map.z, encode(x[latent_map.idx]), rtol=1e-5, atol=1e-5)
    assert any("overshoot a little" in n for n in source.notes)
    images = source.decode(latent_map.z[:5])
    assert images.min() >= 0 and images.max() <= 1
    assert source.compiled == {"encode": False, "decode": False}  # called as they are
    assert latent_map.health_report["kl_per_dim"] is None  # no log-variance to read


def test_flat_rows_are_reshaped_both_ways(digits):
    x, _, _ = digits
    keras.utils.set_random_seed(1)
    x_in = keras.Input((64,))
    encoder = keras.Model(x_in, layers.Dense(3)(x_in), name="flat_encoder")
    z_in = keras.Input((3,))
    decoder = keras.Model(z_in, layers.Dense(64, activation="sigmoid")(z_in), name="flat")
    source = LatentSource.from_keras(encoder, decoder, x)
    z = source.encode(x[:10])
    np.testing.assert_allclose(z, encoder.predict(x[:10].reshape(10, 64), verbose=0),
                               rtol=1e-4, atol=1e-5)
    images = source.decode(z)
    assert images.shape == (10, 8, 8, 1)
    np.testing.assert_allclose(images.reshape(10, 64), decoder.predict(z, verbose=0),
                               rtol=1e-4, atol=1e-5)
    assert source.compiled == {"encode": True, "decode": True}


def _dense(shape_in, units, name):
    inp = keras.Input(shape_in)
    return keras.Model(inp, layers.Dense(units)(layers.Flatten()(inp)), name=name)


def _image_decoder(latent, shape, name="decoder"):
    z_in = keras.Input((latent,))
    out = layers.Reshape(shape)(layers.Dense(int(np.prod(shape)), activation="sigmoid")(z_in))
    return keras.Model(z_in, out, name=name)


BAD = [
    ("x of another size than the encoder takes",
     lambda x: dict(encoder=_dense((28, 28, 1), 2, "enc"), decoder=_image_decoder(2, (8, 8, 1)),
                    x=x),
     ValueError, r"Expected items of shape \(28, 28, 1\) \(784 values\), the input of the "
                 r"encoder 'enc'.*Received: x items of shape \(8, 8, 1\) \(64 values\)"),
    ("a decoder taking another latent size",
     lambda x: dict(encoder=_dense((8, 8, 1), 2, "enc"), decoder=_image_decoder(16, (8, 8, 1)),
                    x=x),
     ValueError, r"Expected the decoder 'decoder' to take latent vectors \(None, 2\) as the "
                 r"encoder gives. Received: input shape \(None, 16\)"),
    ("a decoder of other images",
     lambda x: dict(encoder=_dense((8, 8, 1), 2, "enc"), decoder=_image_decoder(2, (28, 28, 1)),
                    x=x),
     ValueError, r"Expected the decoder 'decoder' to give images like x: \(8, 8, 1\) \(64 "
                 r"values an image\). Received: output of shape \(16, 28, 28, 1\)"),
    ("an encoder that is not a model",
     lambda x: dict(encoder=42, decoder=_image_decoder(2, (8, 8, 1)), x=x),
     TypeError, r"Expected the encoder as a Keras model, a callable or the path of a .keras "
                r"file. Received: encoder=42"),
    ("a file that is not .keras",
     lambda x: dict(encoder=__file__, decoder=_image_decoder(2, (8, 8, 1)), x=x),
     FileNotFoundError, r"which is not a .keras file"),
    ("an encoder that fails on the items",
     lambda x: dict(encoder=lambda batch: batch @ np.ones((3, 2)),
                    decoder=_image_decoder(2, (8, 8, 1)), x=x),
     ValueError, r"The encoder '<lambda>' failed on input of shape \(16, 8, 8, 1\)"),
    ("an encoder whose first output is no vector",
     lambda x: dict(encoder=lambda batch: batch, decoder=_image_decoder(2, (8, 8, 1)), x=x),
     ValueError, r"Expected the encoder '<lambda>' to give latent vectors \(N, latent_dim\) "
                 r"as its first output. Received: shape \(16, 8, 8, 1\)"),
    ("a log-variance output that is not there",
     lambda x: dict(encoder=_dense((8, 8, 1), 2, "enc"), decoder=_image_decoder(2, (8, 8, 1)),
                    x=x, log_var_output=1),
     ValueError, r"Expected log_var_output to be 'auto', None or the index"),
    ("a decoder output nobody knows",
     lambda x: dict(encoder=_dense((8, 8, 1), 2, "enc"), decoder=_image_decoder(2, (8, 8, 1)),
                    x=x, decoder_output="probabilities"),
     ValueError, r"Expected decoder_output to be one of \('auto', 'unit', 'logits', 'tanh', "
                 r"'255'\). Received: decoder_output='probabilities'"),
    ("images with labels of another length",
     lambda x: dict(encoder=_dense((8, 8, 1), 2, "enc"), decoder=_image_decoder(2, (8, 8, 1)),
                    x=x, labels=np.zeros(3, "int64")),
     ValueError, r"Expected one label per item: 50 labels. Received: 3 labels"),
    ("a tokenizer without decode",
     lambda x: dict(encoder=_dense((8,), 2, "enc"), decoder=_image_decoder(2, (8, 8, 1)),
                    x=["a b"], tokenizer=object()),
     TypeError, r"Expected a tokenizer with encode and decode methods"),
]


@pytest.mark.parametrize("case,arguments,error,message", BAD, ids=[b[0] for b in BAD])
def test_bad_models_and_data_get_a_clear_error(digits, case, arguments, error, message):
    x, _, _ = digits
    with pytest.raises(error, match=message):
        LatentSource.from_keras(**arguments(x[:50]))


# -- text --------------------------------------------------------------------------------
SEQ_LEN = 12


class WordTokenizer:
    """A tokenizer of one sentence at a time, as Hugging Face's: a WordLevel model of the
    ``tokenizers`` library trained on the sentences."""

    def __init__(self, sentences):
        import tokenizers
        tok = tokenizers.Tokenizer(tokenizers.models.WordLevel(unk_token="[UNK]"))
        tok.pre_tokenizer = tokenizers.pre_tokenizers.Whitespace()
        tok.train_from_iterator(sentences, tokenizers.trainers.WordLevelTrainer(
            special_tokens=["[PAD]", "[UNK]"]))
        self.tok = tok
        self.pad_token_id = tok.token_to_id("[PAD]")
        self.vocab_size = tok.get_vocab_size()

    def encode(self, text):
        return self.tok.encode(text)

    def decode(self, ids):
        return self.tok.decode(ids)


def _text_model(vocab_size, seq_len, latent=8):
    """A small sentence autoencoder: ids -> z -> per-position logits."""
    ids = keras.Input((seq_len,), dtype="int32")
    h = layers.Flatten()(layers.Embedding(vocab_size, 16)(ids))
    encoder = keras.Model(ids, layers.Dense(latent)(layers.Dense(128, "relu")(h)),
                          name="text_encoder")
    z_in = keras.Input((latent,))
    logits = layers.Reshape((seq_len, vocab_size))(
        layers.Dense(seq_len * vocab_size)(layers.Dense(128, "relu")(z_in)))
    decoder = keras.Model(z_in, logits, name="text_decoder")
    auto = keras.Model(ids, decoder(encoder(ids)))
    auto.compile(optimizer=keras.optimizers.Adam(3e-3),
                 loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    return encoder, decoder, auto


@pytest.fixture(scope="module")
def sentences():
    from genwidgets.data import read_sentences

    return [s for s in read_sentences() if len(s.split()) <= 8][:200]


@pytest.mark.parametrize("kind", ["genwidgets char tokenizer", "Hugging Face WordLevel"])
def test_a_keras_text_model_in_the_text_path(sentences, kind):
    from genwidgets.data import CharTokenizer

    if kind.startswith("genwidgets"):
        tokenizer = CharTokenizer.fit(sentences)
        seq_len, vocab = 48, len(tokenizer)
        ids = tokenizer.encode(sentences, seq_len)
    else:
        tokenizer = WordTokenizer(sentences)
        seq_len, vocab = SEQ_LEN, tokenizer.vocab_size
        ids = None
    keras.utils.set_random_seed(2)
    encoder, decoder, auto = _text_model(vocab, seq_len)
    if ids is None:
        from genwidgets.latent.keras_text import SentenceTokenizer

        ids = SentenceTokenizer(tokenizer).encode(sentences, seq_len)
    auto.fit(ids, ids, epochs=5, batch_size=32, verbose=0)

    a, b = sentences[0], sentences[1]
    view = TextPath.from_keras(encoder, decoder, sentences, tokenizer=tokenizer, a=a, b=b,
                               steps=6)
    assert len(view.lines) == 6 and view.source.modality == "text"
    assert view.source.info.shape == (seq_len,)
    assert view.source.info.tokens == ("char" if kind.startswith("genwidgets") else None)
    # each line is the greedy reading of keras' own logits, through the tokenizer
    want_ids = decoder.predict(view.zs, verbose=0).argmax(-1)
    assert view.lines == list(view.source.tokenizer.decode(want_ids))
    assert not any("[PAD]" in line or "<pad>" in line for line in view.lines)
    assert view.source.compiled == {"encode": True, "decode": True}
    # the endpoint marks say whether A and B come back as the tokenizer reads them
    read = list(view.source.tokenizer.decode(view.source.tokenizer.encode([a, b], seq_len)))
    for mark, line, sentence in ((view.end_a, view.lines[0], read[0]),
                                 (view.end_b, view.lines[-1], read[1])):
        assert f'data-exact="{int(line == sentence)}"' in mark.value


def test_text_from_token_ids_and_its_errors(sentences):
    from genwidgets.data import CharTokenizer

    tokenizer = CharTokenizer.fit(sentences)
    encoder, decoder, _ = _text_model(len(tokenizer), 32)
    ids = tokenizer.encode(sentences[:20], 32)
    source = LatentSource.from_keras(encoder, decoder, ids, tokenizer=tokenizer)
    assert source.items(np.array([0]))[0] == tokenizer.decode(ids[:1])[0]
    with pytest.raises(ValueError, match=r"Expected token ids of shape \(N, 32\) \(the "
                                         r"encoder's input\). Received: x of shape \(20, 20\)"):
        LatentSource.from_keras(encoder, decoder, ids[:, :20], tokenizer=tokenizer)
    with pytest.raises(ValueError, match=r"Expected the decoder 'text_decoder' to give "
                                         r"per-position logits \(N, 32, vocab\) or token ids "
                                         r"\(N, 32\). Received: output of shape"):
        LatentSource.from_keras(encoder, _text_model(len(tokenizer), 24)[1], ids,
                                tokenizer=tokenizer)
