"""Follow-ups of session 32's reviews: read()'s hook warning names the user's line; generate chooses candidates by
the same imbalance decision that balances the writer's head; the loop's and the Writer's size and number checks are
the shared ones (10**400 and numpy counts included)."""

from __future__ import annotations

import importlib
import warnings

import numpy as np
import pytest
import torch
from torch import nn

import metanet
import metanet._state as state
from metanet.errors import ConfigError

refine_module = importlib.import_module("metanet.loop.refine")  # metanet.loop.refine is also the function's name
loop_core = importlib.import_module("metanet.loop.core")


# --- read(): the hook warning points at the caller ------------------------------------------------------------
def _hooked() -> nn.Module:
    m = nn.Sequential(nn.Linear(64, 8), nn.ReLU(), nn.Linear(8, 10))
    m[0].register_forward_hook(lambda *args: None)
    return m


@pytest.mark.parametrize("call", ["read", "to_graph", "save"])
def test_the_hook_warning_names_the_users_line(call, tmp_path):
    m = _hooked()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        if call == "read":  # read encodes through to_graph: the warning pointed at metanet/reader/predict.py
            metanet.read(m, scan=False)
        elif call == "to_graph":
            metanet.graph.to_graph(m)
        else:
            metanet.save(m, tmp_path / "m.safetensors")
    hooks = [w for w in caught if "forward hooks or pre-hooks" in str(w.message)]
    assert len(hooks) == 1
    assert hooks[0].filename == __file__, hooks[0].filename


# --- generate(): one imbalance decision for the head and the candidates' choice ---------------------------------
def _pair(few: int, many: int, seed: int = 0):
    d = metanet.tasks.get("digits")
    x, y = d.split("train")
    g = torch.Generator().manual_seed(seed)
    a, b = (torch.nonzero(y == c).flatten() for c in (2, 3))
    a, b = a[torch.randperm(len(a), generator=g)[:few]], b[torch.randperm(len(b), generator=g)[:many]]
    return metanet.tasks.from_examples(torch.cat([x[a], x[b]]), torch.cat([torch.zeros(few), torch.ones(many)]).long())


def _spy(monkeypatch) -> list:
    gen = importlib.import_module("metanet.writer.generate")  # the package exports the function generate too
    calls: list = []
    real = gen._balanced_accuracy
    monkeypatch.setattr(gen, "_balanced_accuracy", lambda r: calls.append(r) or real(r))
    return calls


def test_an_imbalanced_support_is_chosen_among_by_balanced_accuracy_even_if_the_small_val_split_looks_balanced(
        monkeypatch):
    from metanet.writer.generate import _balanced_accuracy, support_set
    from metanet.writer.model import imbalanced

    task = _pair(3, 20)  # fit 1 against 12 (a class-balanced head), val 1 against 4 (not past the ratio)
    _, y = support_set(task, 1000, 0)
    assert imbalanced(y) and not imbalanced(task.split("val")[1])
    calls = _spy(monkeypatch)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a constant-classifier warning is not this test's concern
        g = metanet.generate(task, candidates=4, seed=0)
    assert len(calls) == 4  # every candidate scored by balanced accuracy (was: plain accuracy)
    reports = [metanet.verify(m, task, split="val") for m in g.candidates]
    best = max(range(4), key=lambda i: (_balanced_accuracy(reports[i]), -reports[i].loss))
    assert g.report.chosen == best


def test_a_balanced_support_keeps_plain_accuracy(monkeypatch):
    from metanet.writer.generate import support_set
    from metanet.writer.model import imbalanced

    task = _pair(10, 60)  # val about 2 against 12: imbalanced; shots=5 make the support (and its head) balanced
    assert imbalanced(task.split("val")[1]) and not imbalanced(support_set(task, 5, 0)[1])
    calls = _spy(monkeypatch)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        metanet.generate(task, candidates=2, seed=0, shots=5)
    assert calls == []
    metanet.generate(_pair(12, 12), candidates=2, seed=0)
    assert calls == []


# --- the shared checks ---------------------------------------------------------------------------------------
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
    else:  # stored as a float32 logarithm: up to 1e30 (tests/test_leftovers32.py has the range)
        Writer(**{name: 10**30})
        with pytest.raises(ConfigError, match=rf"^Writer {name} must be from 1e-30 to 1e\+30"):
            Writer(**{name: 10**300})
