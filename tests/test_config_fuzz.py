"""Hypothesis over the settings of every registered model: ``spec.config(**values)`` (what
``--set`` and the Studio call) and the ``ConfigForm`` built from a ``Config``.

Whatever arrives, the answer is a Config or a ``ValueError`` naming the setting; never a
``TypeError`` from inside a dataclass, a ``KeyError`` or a crash. Values that are valid give
the same Config typed as Python values, as command-line strings and through the form.
"""

from __future__ import annotations

import dataclasses
import math

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from genwidgets.config import ConfigError, choices, field_types
from genwidgets.registry import get_registry
from genwidgets.widgets.config_form import ConfigForm

SPECS = [get_registry().model(name) for name in ("ae", "vae", "gan", "transformer")]
FUZZ = settings(max_examples=60, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture,
                                       HealthCheck.too_slow])


def valid_value(tp):
    """Values of the field's own type (the config's own checks may still refuse some)."""
    allowed = choices(tp)
    if allowed is not None:
        return st.sampled_from(allowed)
    if tp is bool:
        return st.booleans()
    if tp is int:
        return st.integers(-3, 4096)
    if tp is float:
        return st.floats(-10.0, 10.0, allow_nan=False, allow_infinity=False)
    return st.text(max_size=12)


ANYTHING = st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=20),
                     st.floats(allow_nan=True, allow_infinity=True),
                     st.lists(st.integers(), max_size=3),
                     st.dictionaries(st.text(max_size=3), st.integers(), max_size=2))


def settings_of(spec, values):
    """Some of the spec's fields, each with a value drawn by ``values(type)``."""
    types = field_types(spec.Config)
    return st.fixed_dictionaries({}, optional={k: values(tp) for k, tp in types.items()})


def assert_config_or_clear_error(spec, values):
    try:
        config = spec.config(**values)
    except ValueError as exc:  # ConfigError is one; a Config's own validate() raises one
        message = str(exc)
        assert message and any(name in message for name in values), message
        return None
    assert isinstance(config, spec.Config)
    return config


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.name)
@FUZZ
@given(data=st.data())
def test_any_value_gives_a_config_or_an_error_naming_the_setting(spec, data):
    values = data.draw(settings_of(spec, lambda tp: ANYTHING))
    assert_config_or_clear_error(spec, values)


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.name)
@FUZZ
@given(data=st.data())
def test_valid_values_as_python_or_as_command_line_strings_agree(spec, data):
    values = data.draw(settings_of(spec, valid_value))
    config = assert_config_or_clear_error(spec, values)
    if config is None:
        return
    for name, value in values.items():
        got = getattr(config, name)
        assert got == value or (isinstance(value, float) and math.isclose(got, value))
    as_text = {k: (str(v).lower() if isinstance(v, bool) else repr(v) if isinstance(v, float)
                   else str(v)) for k, v in values.items()
               if not isinstance(v, str) or choices(field_types(spec.Config)[k])}
    again = spec.config(**{**values, **as_text})
    assert again == config
    assert spec.config(**dataclasses.asdict(config)) == config  # a saved config loads back


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.name)
@FUZZ
@given(names=st.lists(st.text(min_size=1, max_size=8), min_size=1, max_size=3))
def test_unknown_settings_are_named(spec, names):
    known = set(field_types(spec.Config))
    unknown = sorted({n for n in names if n not in known})
    if not unknown:
        return
    with pytest.raises(ConfigError, match=r"unknown setting\(s\)") as info:
        spec.config(**{n: 1 for n in names})
    assert str(sorted(unknown)) in str(info.value)


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.name)
def test_the_form_gives_what_the_parser_gives(spec):
    form = ConfigForm(spec)

    @FUZZ
    @given(data=st.data())
    def check(data):
        values = data.draw(settings_of(spec, valid_value))
        form_values = {k: w.value for k, w in form.fields.items()}
        for name, value in values.items():
            form.fields[name].value = value
            form_values[name] = form.fields[name].value  # what the widget kept
        try:
            expected = spec.config(**form_values)
        except ValueError as exc:
            with pytest.raises(ValueError) as info:
                form.value()
            assert str(info.value) == str(exc)
            assert form.error.value and "c62828" in form.error.value  # shown in red
            return
        assert form.value() == expected
        assert form.error.value == ""

    check()
