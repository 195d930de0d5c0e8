"""The loop's iteration counts have an upper bound, :data:`metanet.errors.MAX_ITERATIONS` (10**9), checked
before any work: ``refine(steps=10**30)``, ``improve(rounds=10**30)`` and ``refine_steps=10**30`` were accepted and
never returned. ``mixup`` copies that cannot fit in memory are refused before they are made (``mixup=10**30`` made
copies until memory ran out)."""

from __future__ import annotations

import pytest
import torch
from loop_helpers import ARCH

import metanet._state as state
from metanet.errors import ConfigError
from metanet.loop import LoopConfig, improve, refine
from metanet.errors import MAX_ITERATIONS
from metanet.nets import build

HUGE = [MAX_ITERATIONS + 1, 10**30]


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
