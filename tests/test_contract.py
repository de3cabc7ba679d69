"""The public contract test, run over every registered model and modality."""

from __future__ import annotations

import pytest

from genwidgets.registry import get_registry
from genwidgets.testing import check_model

CASES = [(name, modality) for name, spec in sorted(get_registry().models.items())
         for modality in spec.modalities]


@pytest.mark.parametrize("name, modality", CASES, ids=[f"{n}-{m}" for n, m in CASES])
def test_model_meets_the_contract(name, modality):
    report = check_model(get_registry().model(name), modality)
    capabilities = get_registry().model(name).capabilities
    assert report.get("reload") == "same decode" or "decode" not in capabilities


def test_every_builtin_model_is_checked():
    assert {name for name, _ in CASES} >= {"ae", "vae", "gan", "transformer", "cvae", "cgan"}
