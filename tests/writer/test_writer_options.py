"""The bool options of the Lightning stages (the writer's ``fresh_episodes``, the reader's ``stats`` and
``saliency``) take True or False only: a string such as ``"no"`` (a YAML typo, a quoted value) or a number was
truthy, and the option silently on."""

from __future__ import annotations

import pytest

from metanet.errors import ConfigError
from metanet.reader.lightning import ReaderModule
from metanet.writer.lightning import EpisodeDataModule


@pytest.mark.parametrize("value", ["no", "false", "", 0, 1, None, 1.0])
def test_fresh_episodes_must_be_a_bool(value):
    with pytest.raises(ConfigError, match=rf"writer data fresh_episodes must be true or false, got "
                                          rf"{type(value).__name__} {value!r}"):
        EpisodeDataModule(fresh_episodes=value)


@pytest.mark.parametrize("name", ["stats", "saliency"])
@pytest.mark.parametrize("value", ["no", "False", 0, 1])
def test_the_reader_modules_bool_options_must_be_bools(name, value):
    with pytest.raises(ConfigError, match=rf"^{name} must be true or false, got {type(value).__name__} {value!r}"):
        ReaderModule(hidden=8, **{name: value})


@pytest.mark.parametrize("value", [True, False])
def test_true_and_false_are_taken(value):
    assert EpisodeDataModule(fresh_episodes=value).hparams.fresh_episodes is value
    for name in ("stats", "saliency"):
        assert ReaderModule(hidden=8, **{name: value}).hparams[name] is value

