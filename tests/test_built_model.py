"""The built model's protocols (genwidgets.built_model): what check_model asks of a model,
and the decoder output a model declares, which the views compile instead of guessing."""

from __future__ import annotations

import numpy as np
import pytest

from genwidgets.built_model import (DECODER_OUTPUTS, Decodes, Encodes, Samples, contract,
                                    missing)
from genwidgets.latent.compiled import compile_decoder
from genwidgets.registry import get_registry
from genwidgets.testing import check_model, tiny_dataset


class Half:
    """A model that can decode, but whose spec also promises encode and sample."""

    latent_dim = 2

    def decode(self, z):
        return np.zeros((len(z), 8, 8, 1), "float32")


def test_missing_names_what_the_capabilities_promise_and_a_bad_declaration():
    model = Half()
    assert isinstance(model, Decodes) and not isinstance(model, Encodes | Samples)
    assert missing(model, {"decode"}) == []
    assert missing(model, {"encode", "decode", "sample"}) == ["Encodes.encode",
                                                              "Samples.sample"]
    model.decoder_output = "probabilities"
    assert missing(model, {"decode"}) == [
        "decoder_output='probabilities' (expected one of ('unit', 'logits', 'tanh', "
        "'token_logits'))"]
    assert contract()["DeclaresDecoderOutput"] == ["decoder_output"]


def promises():
    """The built-in VAE's spec claiming also "condition": its model has no num_classes."""
    vae = type(get_registry().model("vae"))
    return type("Promises", (vae,), {"name": "promises",
                                     "capabilities": vae.capabilities | {"condition"}})()


def test_check_model_refuses_a_model_without_what_its_capabilities_promise():
    with pytest.raises(AssertionError, match=r"without what its capabilities .* promise: "
                                             r"Conditional\.num_classes\n") as caught:
        check_model(promises(), "image", config=promises().config_for(
            "image", latent_dim=2, hidden=16, architecture="dense"), n=8, batch_size=4,
            reload=False)
    assert caught.value.check_stage == "build()"


def _built(name: str, modality: str, **config):
    spec = get_registry().model(name)
    data = tiny_dataset(modality, 16)
    return spec.build(spec.config_for(modality, **config), data.info)


@pytest.mark.parametrize("name, modality, config, declared", [
    ("vae", "image", {"latent_dim": 3, "hidden": 16, "architecture": "dense"}, "logits"),
    ("gan", "image", {"latent_dim": 3, "hidden": 16, "architecture": "dense"}, "tanh"),
    ("ae", "text", {"latent_dim": 8, "hidden": 8, "embed_dim": 8}, "token_logits"),
])
def test_the_declared_decoder_output_is_what_the_views_compile(name, modality, config,
                                                                declared):
    model = _built(name, modality, **config)
    assert model.decoder_output == declared
    compiled = compile_decoder(model, modality)
    assert compiled is not None and compiled.post is DECODER_OUTPUTS[declared]
    z = np.random.default_rng(1).standard_normal((5, model.latent_dim)).astype("float32")
    want = np.asarray(model.decode(z))
    if modality == "text":
        np.testing.assert_array_equal(compiled(z), want)
    else:
        np.testing.assert_allclose(compiled(z), want, rtol=1e-4, atol=1e-5)


def test_a_wrong_or_missing_declaration_leaves_the_models_own_decode():
    model = _built("vae", "image", latent_dim=3, hidden=16, architecture="dense")
    model.decoder_output = "tanh"  # not what its decode does: checked once, refused
    assert compile_decoder(model, "image") is None
    model.decoder_output = None  # nothing declared: no guessing
    assert compile_decoder(model, "image") is None
