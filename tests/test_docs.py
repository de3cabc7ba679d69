"""The plugin contract is documented with its signatures in docs/plugin-guide.md, and tested.

Three parts, each listed from the code so that adding to it without a section in the
guide, or without a test that names it, fails here:
- every hook in ``genwidgets/hookspecs.py``;
- every public method and class attribute of ``ModelSpec``;
- every method and attribute of the built model's protocols (``genwidgets.built_model``);
  the signature the guide gives must be accepted by each built-in model that has it, and
  every method genwidgets' own source calls on a model (``model.NAME(...)``,
  ``hasattr(model, "NAME")``, less Keras' own methods) must be one of them.
Also: the data classes' fields, and the user guide's pictures.
"""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import pytest

from genwidgets import built_model, hookspecs
from genwidgets.spec import Dataset, DataInfo, DatasetSpec, ModelSpec

ROOT = Path(__file__).resolve().parents[1]
GUIDE = ROOT / "docs" / "plugin-guide.md"
USER_GUIDE = ROOT / "docs" / "user-guide.md"

HOOKS = sorted(name for name, fn in vars(hookspecs).items()
               if callable(fn) and hasattr(fn, f"{hookspecs.PROJECT}_spec"))
SPEC_METHODS = sorted(name for name, value in vars(ModelSpec).items()
                      if inspect.isfunction(value) and not name.startswith("_"))
SPEC_ATTRIBUTES = sorted([*ModelSpec.__annotations__, "Config"])

# Attribute reads on a model that are not calls of the protocol.
_CALL = re.compile(r"\bmodel\.([a-z_]\w*)\(")
_HASATTR = re.compile(r"hasattr\([\w.]*model, \"(\w+)\"\)")
# Written on the model by a plugin and read by the core, never called.
MODEL_ATTRIBUTES = sorted(  # the protocols' attributes
    {n for p in built_model.contract() for n in getattr(built_model, p).__annotations__})
# A model method the guide documents but no test names yet (strict: fixing it fails here).
KNOWN_UNTESTED: set[str] = set()  # methods no test names yet (xfail strictly)


def model_protocol() -> list[str]:
    """The methods of the built model's protocols (``genwidgets.built_model``)."""
    return sorted({n for members in built_model.contract().values() for n in members
                   if n not in MODEL_ATTRIBUTES})


def called_on_models() -> list[str]:
    """The names genwidgets' own code calls on a plugin's model, less Keras' methods."""
    from genwidgets._backend import import_keras

    keras = import_keras()
    names = set()
    for path in (ROOT / "genwidgets").rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        names |= set(_CALL.findall(text)) | set(_HASATTR.findall(text))
    return sorted(n for n in names if not hasattr(keras.Model, n))


def plain_signature(fn) -> str:
    """``(config, data_info)``: the parameters without ``self`` and annotations."""
    sig = inspect.signature(fn)
    params = [p.replace(annotation=p.empty) for p in sig.parameters.values()]
    if params and params[0].name == "self":
        params = params[1:]
    return str(sig.replace(parameters=params, return_annotation=sig.empty))


def guide() -> str:
    return GUIDE.read_text(encoding="utf-8")


def files_naming(pattern: str) -> list[str]:
    """Test files (other than this one) whose text matches ``pattern``."""
    found = []
    for path in sorted((ROOT / "tests").rglob("test_*.py")):
        if path.name != "test_docs.py" and re.search(pattern, path.read_text(encoding="utf-8")):
            found.append(path.name)
    return found


def test_the_contract_is_listed_from_the_code():
    assert {"register_models", "register_datasets"} <= set(HOOKS)
    assert {"build", "custom_objects", "config"} <= set(SPEC_METHODS)
    assert {"name", "family", "modalities", "capabilities", "mutable"} <= set(SPEC_ATTRIBUTES)
    assert {"encode", "decode", "sample", "set_hyper", "fit_prior", "posterior"} <= set(
        model_protocol())
    assert "fit" not in model_protocol() and "save" not in model_protocol()
    assert {"latent_dim", "num_classes", "decoder_output"} <= set(MODEL_ATTRIBUTES)


def test_every_method_the_core_calls_on_a_model_is_in_its_protocols():
    assert set(called_on_models()) <= set(model_protocol()), (
        "genwidgets calls these on a model without a protocol in genwidgets/built_model.py: "
        f"{sorted(set(called_on_models()) - set(model_protocol()))}")


# -- hooks ---------------------------------------------------------------------------


@pytest.mark.parametrize("hook", HOOKS)
def test_hook_is_documented_with_its_signature(hook):
    signature = f"### `{hook}{inspect.signature(getattr(hookspecs, hook))}`"
    assert signature in guide(), f"docs/plugin-guide.md needs a section {signature!r}"


@pytest.mark.parametrize("hook", HOOKS)
def test_hook_is_tested_through_a_plugin(hook):
    assert files_naming(rf"def {hook}\("), f"no test implements the hook {hook!r} in a plugin"


# -- the ModelSpec -------------------------------------------------------------------------


@pytest.mark.parametrize("method", SPEC_METHODS)
def test_spec_method_is_documented_with_its_signature(method):
    heading = f"### `ModelSpec.{method}{plain_signature(getattr(ModelSpec, method))}`"
    assert heading in guide(), f"docs/plugin-guide.md needs a section {heading!r}"


@pytest.mark.parametrize("method", SPEC_METHODS)
def test_spec_method_is_named_by_a_test(method):
    assert files_naming(rf"\.{method}\(|def {method}\("), (
        f"no test calls or implements ModelSpec.{method}")


@pytest.mark.parametrize("attribute", SPEC_ATTRIBUTES)
def test_spec_attribute_is_in_the_table(attribute):
    section = guide().split("## The ModelSpec", 1)[-1].split("\n## ", 1)[0]
    assert f"| `{attribute}` |" in section, (
        f"docs/plugin-guide.md's ModelSpec table needs a row for `{attribute}`")


# -- the built model -----------------------------------------------------------------------


def _documented(name: str) -> str | None:
    """The parameter list the guide gives for ``model.NAME``, or None if absent."""
    match = re.search(rf"^### `model\.{name}\((.*)\)`$", guide(), flags=re.M)
    return match.group(1) if match else None


def _builtin_models() -> list[type]:
    from genwidgets._backend import import_keras
    from genwidgets.registry import get_registry

    keras = import_keras()
    registry = get_registry()
    builtin = {p.name for p in registry.plugins if p.distribution == "genwidgets"}
    classes = []
    for name, spec in registry.models.items():
        if registry._origin["model" + name] in builtin:
            classes += [c for c in spec.custom_objects().values()
                        if isinstance(c, type) and issubclass(c, keras.Model)]
    return classes


@pytest.mark.parametrize("name", model_protocol())
def test_model_method_is_documented_with_a_signature_the_builtins_accept(name):
    params = _documented(name)
    assert params is not None, f"docs/plugin-guide.md needs a section '### `model.{name}(...)`'"
    scope: dict = {}
    exec(f"def documented({params}): pass", scope)  # the guide's signature, parsed
    documented = inspect.signature(scope["documented"]).parameters.values()
    args = [p.name for p in documented if p.default is p.empty]
    kwargs = {p.name: p.default for p in documented if p.default is not p.empty}
    implementations = [c for c in _builtin_models() if hasattr(c, name)]
    assert implementations or name in ("set_hyper", "fit_prior", "posterior"), name
    for cls in implementations:
        try:
            inspect.signature(getattr(cls, name)).bind(None, *args, **kwargs)
        except TypeError as exc:
            pytest.fail(f"{cls.__name__}.{name} does not take the documented "
                        f"({params}): {exc}")


@pytest.mark.parametrize("name", MODEL_ATTRIBUTES)
def test_model_attribute_is_documented(name):
    assert f"### `model.{name}`" in guide()


@pytest.mark.parametrize("name", [
    pytest.param(n, marks=pytest.mark.xfail(strict=True, reason="no test names it yet"))
    if n in KNOWN_UNTESTED else n for n in [*model_protocol(), *MODEL_ATTRIBUTES]])
def test_model_method_is_named_by_a_test(name):
    assert files_naming(rf"\.{name}\b"), f"no test uses model.{name}"


# -- the data classes ----------------------------------------------------------------------


@pytest.mark.parametrize("field", [
    *(f"DatasetSpec.{f}" for f in DatasetSpec.__dataclass_fields__),
    *(f"Dataset.{f}" for f in Dataset.__dataclass_fields__),
    *(f"DataInfo.{f}" for f in DataInfo.__dataclass_fields__),
    *(f"DataInfo.{n}" for n, v in vars(DataInfo).items() if isinstance(v, property)),
])
def test_data_field_is_in_a_table(field):
    owner, name = field.split(".")
    section = guide().split("## Datasets", 1)[-1]
    assert f"| `{name}` |" in section, f"docs/plugin-guide.md's Datasets needs `{name}` " \
                                        f"({owner})"


# -- the user guide ------------------------------------------------------------------------


def test_user_guide_pictures_exist_and_are_small():
    text = USER_GUIDE.read_text(encoding="utf-8")
    pictures = re.findall(r"!\[[^\]]*\]\((images/[^)]+\.png)\)", text)
    assert len(pictures) >= 9, pictures
    for picture in pictures:
        path = ROOT / "docs" / picture
        assert path.is_file(), f"docs/user-guide.md shows {picture}, which is missing"
        assert path.stat().st_size < 150_000, f"{picture} is {path.stat().st_size} bytes"


def test_user_guide_shows_every_view():
    from genwidgets import widgets

    text = USER_GUIDE.read_text(encoding="utf-8")
    missing = [name for name in widgets.__all__ if f"`{name}`" not in text]
    assert not missing, f"docs/user-guide.md does not mention {missing}"
