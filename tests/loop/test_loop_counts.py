"""The loop's iteration counts have an upper bound, :data:`metanet.errors.MAX_ITERATIONS` (10**9), checked
before any work: ``refine(steps=10**30)``, ``improve(rounds=10**30)`` and ``refine_steps=10**30`` were accepted and
never returned. ``mixup`` copies and ``refine``'s perturbation population that cannot fit in memory are refused
before they are made (``mixup=10**30`` made copies until memory ran out; numpy integers are checked without
wrapping around)."""

from __future__ import annotations

import importlib

import numpy as np
import pytest
import torch
from loop_helpers import ARCH

import metanet
import metanet._state as state
from metanet.errors import ConfigError
from metanet.loop import LoopConfig, improve, refine
from metanet.errors import MAX_ITERATIONS
from metanet.nets import build

HUGE = [MAX_ITERATIONS + 1, 10**30]
refine_module = importlib.import_module("metanet.loop.refine")  # metanet.loop.refine is also the function's name
loop_core = importlib.import_module("metanet.loop.core")


@pytest.mark.parametrize("steps", HUGE)
def test_refine_refuses_absurd_steps_before_any_work(steps):
    # no examples at all: the count is refused first (it was "refine needs at least one training example", and with
    # examples the call never returned)
    no_examples = (torch.zeros(0, 64), torch.zeros(0, dtype=torch.long))
    with pytest.raises(ConfigError, match=r"need steps <= 1,000,000,000 \(more steps than any run could finish\)"):
        refine(build(ARCH), no_examples, steps=steps, verify_on=None)


def test_refine_takes_ordinary_step_counts(small):
    res = refine(build(ARCH, seed=0), small.support, steps=2, verify_on=None)
    assert len(res.history) >= 1


@pytest.mark.parametrize("refine_steps", HUGE)
def test_loop_config_refuses_absurd_refine_steps(refine_steps):
    with pytest.raises(ConfigError, match=r"need refine_steps <= 1,000,000,000"):
        LoopConfig(refine_steps=refine_steps)
    assert LoopConfig(refine_steps=MAX_ITERATIONS).refine_steps == MAX_ITERATIONS  # the bound itself is taken


@pytest.mark.parametrize("rounds", HUGE)
def test_improve_refuses_absurd_rounds_before_any_work(tiny_writer, rounds):
    # no tasks: the count is refused first (the empty task list was the error before; with tasks, no return)
    with pytest.raises(ConfigError, match=r"need rounds <= 1,000,000,000 \(more rounds than any run could finish\)"):
        improve(tiny_writer, [], rounds=rounds, candidates=2)


def test_mixup_copies_that_cannot_fit_in_memory_are_refused(tiny_writer, small, monkeypatch):
    # a machine of 1 MiB: the support's 30 inputs of 64 values and 1000 copies need 7.7 MB
    monkeypatch.setattr(state, "physical_memory", lambda: 2**20)  # read by the shared check_fits_memory
    with pytest.raises(ConfigError, match=r"mixup=1,000: the 30 support inputs and their mixup copies need about "
                                          r"1,921,920 float32 values, 0\.0 GiB, more than this machine's 0\.0 GiB of "
                                          r"memory; give a smaller mixup \(the default is 1\)"):
        improve(tiny_writer, [small], rounds=1, candidates=2, mixup=1000)


def test_mixup_that_fits_is_taken(tiny_writer, small):
    _, hist = improve(tiny_writer, [small], rounds=1, candidates=2, mixup=3)
    assert len(hist.rounds) == 2


# --- mixup copies and refine's population: the shared memory check ----------------------------------------------------


def test_mixup_copies_use_the_shared_memory_check(monkeypatch):
    x = torch.rand(30, 64)
    monkeypatch.setattr(state, "physical_memory", lambda: 2**20)  # 1 MiB: 1001 copies of 30x64 do not fit
    with pytest.raises(ConfigError, match=r"^mixup=1,000: the 30 support inputs and their mixup copies need about "
                                          r"1,921,920 float32 values, .* GiB, more than this machine's 0\.0 GiB of "
                                          r"memory; give a smaller mixup \(the default is 1\)$"):
        loop_core._distil_inputs(x, 1000, torch.Generator().manual_seed(0))
    assert len(loop_core._distil_inputs(x, 3, torch.Generator().manual_seed(0))) == 120  # 3 copies fit in 1 MiB


def _refine(population, **kw):
    net = metanet.nets.build("mlp:64-8-10:relu", seed=0)
    g = torch.Generator().manual_seed(0)
    x, y = torch.rand(40, 64, generator=g), torch.arange(40) % 10
    return refine_module.refine(net, (x, y), population=population, steps=1, verify_on=None, **kw)


def test_refine_population_uses_the_shared_memory_check(monkeypatch):
    monkeypatch.setattr(state, "physical_memory", lambda: 10_000)
    with pytest.raises(ConfigError, match=r"^population=32 perturbation pairs of 610 parameters need about 39,040 "
                                          r"float32 values, .* more than this machine's 0\.0 GiB of memory; give a "
                                          r"smaller population$"):
        _refine(32)
    _refine(32, method="sgd")  # sgd draws no population: not checked


def test_refine_population_of_numpy_integers_is_checked_without_wrapping_around():
    # 2 * p * 610 parameters * 4 bytes wrapped around int64 to 4,864: the check passed, randn ran out of memory
    with pytest.raises(ConfigError, match=r"population=3,780,070,506,907,696 perturbation pairs"):
        _refine(np.int64(3_780_070_506_907_696))
