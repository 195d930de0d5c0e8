"""The bool options of the Lightning stages (the writer's ``fresh_episodes``, the reader's ``stats`` and
``saliency``) take True or False only: a string such as ``"no"`` (a YAML typo, a quoted value) or a number was
truthy, and the option silently on. The Writer's float options: beyond what their float32 use takes (the learned
logarithms up to 1e30, 10**400, NaN) a ConfigError at construction; at their range edges finite weights and
gradients."""

from __future__ import annotations

import re

import pytest
import torch
import torch.nn.functional as F
from torch.func import functional_call

from metanet.errors import ConfigError
from metanet.nets import build
from metanet.reader.lightning import ReaderModule
from metanet.writer import Writer
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


# --- Writer: float options learned as float32 logarithms --------------------------------------------------------------


LOG_OPTIONS = ["ridge_lambda", "sub_lambda", "head_lambda", "temperature", "logit_lambda"]


def _support():
    g = torch.Generator().manual_seed(0)
    return torch.rand(40, 64, generator=g), torch.arange(40) % 4


@pytest.mark.parametrize("name", LOG_OPTIONS)
@pytest.mark.parametrize("value", [1e300, 1e60, 1e31, 10**40, 1e-31, 1e-300])
def test_writer_log_options_beyond_their_range_are_config_errors(name, value):
    # temperature=1e60 wrote inf/NaN weights, head_lambda=1e38 NaN gradients, without a word
    with pytest.raises(ConfigError, match=rf"^Writer {name} must be from 1e-30 to 1e\+30 \(it is learned as a "
                                          rf"float32 logarithm; .*\), got {re.escape(f'{value!r:.40}')}$"):
        Writer(**{name: value})


def test_writer_non_positive_options_keep_their_message():
    with pytest.raises(ConfigError, match=r"^Writer temperature must be a finite number > 0, got 0$"):
        Writer(temperature=0)


@pytest.mark.parametrize("name", LOG_OPTIONS)
@pytest.mark.parametrize("value", [1e30, 1e-30])
def test_writer_log_options_at_their_range_edges_write_finite_weights_and_gradients(name, value):
    writer = Writer(**{name: value}, head="logistic" if name == "logit_lambda" else "ridge")
    x, y = _support()
    arch = "mlp:64-16-4:relu"
    w = writer.write(arch, x, y, 4)
    assert all(torch.isfinite(t).all() for t in w.values())
    loss = F.cross_entropy(functional_call(build(arch), {k: t[0] for k, t in w.items()}, (x,)), y)
    loss.backward()
    assert torch.isfinite(loss)
    assert all(torch.isfinite(p.grad).all() for p in writer.parameters() if p.grad is not None)


# --- Writer: numbers beyond float range -------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["ridge_lambda", "sub_lambda", "head_lambda", "temperature", "start_mix"])
def test_writer_options_beyond_float_range_are_config_errors(name):
    from metanet.writer import Writer

    for v in (10**400, -(10**400)):  # was a raw OverflowError from math.isfinite
        with pytest.raises(ConfigError, match=rf"^Writer {name} must be a finite number.*, got [-\d]{{40}}$"):
            Writer(**{name: v})
    with pytest.raises(ConfigError, match=rf"^Writer {name} must be a finite number.*, got nan$"):
        Writer(**{name: float("nan")})
    if name == "start_mix":  # a float32 weight: 1e300 was a raw RuntimeError
        with pytest.raises(ConfigError, match=r"start_mix must be a finite number within float32 range"):
            Writer(start_mix=1e300)
        Writer(start_mix=-3e38)
    else:  # stored as a float32 logarithm: up to 1e30 (test_writer_log_options_beyond_their_range_are_config_errors)
        Writer(**{name: 10**30})
        with pytest.raises(ConfigError, match=rf"^Writer {name} must be from 1e-30 to 1e\+30"):
            Writer(**{name: 10**300})
