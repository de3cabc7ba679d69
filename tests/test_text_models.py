"""The text models' latents carry the sentence: trained for real on a few hundred of the
shipped WordNet sentences, each spells its training sentences back from their latents and
a path between two sentences passes through others. Also the per-modality defaults."""

from __future__ import annotations

import numpy as np
import pytest

from genwidgets.latent.piece_lm import PieceLM
from genwidgets.latent.source import LatentSource
from genwidgets.latent.text_paths import TextCodec, distinct, endpoint_exact
from genwidgets.registry import get_registry

TEXT_MODELS = ["ae", "vae", "transformer"]
N_SENTENCES = 256
EPOCHS = 60  # 8 steps an epoch at batch 32: a few hundred steps, under a minute each
TEXT_LATENT = 384  # the text defaults' latent: 12 word slots of 32 numbers


def test_modality_defaults_replace_the_class_defaults_and_a_user_value_wins():
    spec = get_registry().model("vae")
    assert spec.config_for("image") == spec.config()
    text = spec.config_for("text")
    assert text.latent_dim == spec.modality_defaults["text"]["latent_dim"] == TEXT_LATENT
    assert spec.config_for("text", latent_dim=8).latent_dim == 8
    assert spec.defaults_for("text")["latent_dim"] == TEXT_LATENT
    assert spec.defaults_for("image")["latent_dim"] == spec.config().latent_dim


@pytest.mark.parametrize("tokens", ["word", "subword"])
@pytest.mark.parametrize("name", TEXT_MODELS)
def test_text_model_spells_its_sentences_back_and_its_paths_move(name, tokens, tmp_path):
    """Whole words (the default: a code per word slot) and subword pieces (a parallel
    decoder over the positions)."""
    import keras

    from genwidgets.training import Run

    keras.utils.set_random_seed(0)
    registry = get_registry()
    dataset = registry.dataset("sentences").load(split="train", limit=N_SENTENCES,
                                                 tokens=tokens)
    run = Run(name, dataset, {"learning_rate": 3e-3}, epochs=EPOCHS, batch_size=32,
              out=tmp_path / name, seed=0)
    assert run.config.latent_dim == TEXT_LATENT  # the text defaults, through Run
    assert getattr(run.model, "word_slots", False) == (tokens == "word")
    run.start()
    assert run.wait(timeout=240), "training did not finish in 4 minutes"
    assert run.state == "finished", run.message
    codec = TextCodec.of(run.model, dataset.tokenizer, dataset.info.seq_len)
    sentences = dataset.tokenizer.decode(dataset.x[:64])
    exact = endpoint_exact(sentences, codec.reconstruct(sentences))
    assert exact >= 0.9, (name, exact)
    pairs = [(sentences[2 * i], sentences[2 * i + 1]) for i in range(8)]
    paths = codec.paths(pairs)
    assert all(len(p) == 8 for p in paths)
    assert distinct(paths) >= 3, (name, paths[:2])
    assert np.isfinite(run.history[-1]["loss"])
    # what the latent views show: the same model through a LatentSource. A few hundred
    # sentences are too few for the token trigrams: the plain argmax, paths that move
    source = LatentSource.from_run(run)
    shown = TextCodec.of(source)
    assert not source.lm_fits
    assert distinct(shown.paths(pairs)) >= 3, name
    z = shown.encode(sentences[:8])
    assert np.mean(source.decode_raw(z) == run.model.decode(z)) >= 0.99, name
    # a saved run comes back as it was trained
    again = TextCodec.of(LatentSource.from_folder(tmp_path / name, dataset=dataset))
    assert again.reconstruct(sentences[:16]) == shown.reconstruct(sentences[:16]), name
    source.lm_min_tokens = 0
    if tokens == "word":  # whole words: no trigrams, whatever the data's size
        assert not source.lm_fits
        return
    # with enough data (here: told so) the views decode with the trigrams
    assert endpoint_exact(sentences, shown.reconstruct(sentences)) >= 0.9, name
    logits = np.asarray(run.model.decoder.predict_on_batch(z))
    want = PieceLM(dataset.x, logits.shape[-1]).decode(logits, weight=source.lm_weight)
    assert np.mean(source.decode_raw(z) == want) >= 0.99, name
