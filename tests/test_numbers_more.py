"""Numbers in every form a user passes them, part 2 (after tests/test_numbers.py): improve, repair_backdoor, the zoo
split, the Reader and Writer constructors, prune / inspect thresholds, and the one rule of integer sizes
(:func:`metanet.errors.check_whole`: Python, numpy and one-element torch integers, never bools or floats)."""

from __future__ import annotations

import json
import math
from fractions import Fraction

import numpy as np
import pytest
import torch

import metanet
from metanet.errors import ArchError, ConfigError, TaskError, ZooError, check_whole
from metanet.loop import LoopConfig
from metanet.reader import Reader
from metanet.zoo.dataset import split_runs

ARCH = "mlp:64-8-10:relu"


@pytest.fixture(scope="module")
def net() -> torch.nn.Module:
    return metanet.nets.build(ARCH, seed=0)


# ------------------------------------------------------------------------------------------- check_whole
@pytest.mark.parametrize("form", [np.int64(3), np.int32(3), np.array(3), torch.tensor(3), torch.tensor([3]), 3])
def test_check_whole_takes_integers_of_any_library_as_python_ints(form) -> None:
    # np.int64 was refused here while generate / verify took it
    got = check_whole("batch_size", form, 1)
    assert got == 3 and type(got) is int


@pytest.mark.parametrize("bad", [True, np.bool_(True), torch.tensor(True), 3.0, np.float32(3), torch.tensor(3.0),
                                 "3", Fraction(3), None, math.nan, np.int64(0)])
def test_check_whole_refuses_flags_floats_and_text(bad) -> None:
    with pytest.raises(ConfigError, match=r"batch_size must be a whole number >= 1, got"):
        check_whole("batch_size", bad, 1)


# ------------------------------------------------------------------------------------------- repair_backdoor
def _repair(net, **kw):
    return metanet.edit.repair_backdoor(net, "digits", blind=True, **{"max_rounds": 1, "max_examples": 50, **kw})


def test_repair_backdoor_numpy_and_fraction_forms_repair_as_the_plain_numbers(net) -> None:
    # a numpy float32 max_asr (a numpy / torch integer max_rounds, max_examples) was refused as "not valid", a numpy
    # float32 alpha a raw TypeError when written into the network
    plain = _repair(net, max_asr=0.25, alphas=(0.0, 0.5), seed=3)
    forms = _repair(net, max_asr=np.float32(0.25), alphas=(Fraction(0), np.float32(0.5)), seed=np.int64(3),
                    max_rounds=np.int64(1), max_examples=torch.tensor(50))
    a, b = plain.model.state_dict(), forms.model.state_dict()
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert type(forms.report.details["goal"]["max_asr"]) is float


@pytest.mark.parametrize("seed", [1.5, True, None, "1"])
def test_repair_backdoor_refuses_a_bad_seed_up_front(net, seed) -> None:
    # was a raw RuntimeError from manual_seed, after the task had been loaded
    with pytest.raises(ConfigError, match="seed"):
        _repair(net, seed=seed)


@pytest.mark.parametrize("kw, name", [({"max_asr": math.nan}, "max_asr"), ({"max_asr": True}, "max_asr"),
                                      ({"max_rounds": True}, "max_rounds"), ({"max_examples": 2.0}, "max_examples")])
def test_repair_backdoor_still_refuses_flags_and_floats(net, kw, name) -> None:
    with pytest.raises(ArchError, match=name):
        _repair(net, **kw)


# ------------------------------------------------------------------------------------------- zoo split
def test_zoo_split_of_fractions_is_the_split_of_the_floats() -> None:
    # Fractions were summed exactly: with 15 runs the cumulative 9/10 * 15 = 13.5 rounded to 14, the floats' to 13,
    # so one run landed in another split than with (0.7, 0.2, 0.1)
    want = split_runs(range(15), (0.7, 0.2, 0.1), 0)
    assert split_runs(range(15), (Fraction(7, 10), Fraction(2, 10), Fraction(1, 10)), 0) == want
    assert split_runs(range(15), (0.7, 0.2, 0.1), torch.tensor(0)) == want  # was refused, as np.int64 was not


@pytest.mark.parametrize("seed", [True, 1.0, -1, "0"])
def test_zoo_split_refuses_bad_seeds(seed) -> None:
    with pytest.raises(ZooError, match="split seed"):
        split_runs(range(15), (0.7, 0.2, 0.1), seed)


# ------------------------------------------------------------------------------------------- Reader
def test_reader_sizes_of_any_integer_library_give_a_plain_config() -> None:
    # numpy sizes were refused; a numpy size that got through would be no JSON for the checkpoint header
    kw = dict(tasks=["digits"], hidden=8, layers=1, probes=2, probe_inputs=[64], data_probes=4)
    forms = Reader(**{**kw, "hidden": np.int64(8), "layers": torch.tensor(1), "probes": np.int32(2),
                      "probe_inputs": [np.int64(64)], "data_probes": np.array(4), "task_evidence": Fraction(1, 2),
                      "task_cap": np.float32(4)})
    plain = Reader(**kw, task_evidence=0.5, task_cap=4.0)
    assert forms.config == plain.config and json.dumps(forms.config) == json.dumps(plain.config)
    assert {k: v.shape for k, v in forms.state_dict().items()} == {k: v.shape for k, v in plain.state_dict().items()}


@pytest.mark.parametrize("kw, message", [
    ({"hidden": 10**30}, "more than this machine's"),  # a raw TypeError from torch.empty
    ({"layers": 10**30}, "more than this machine's"),  # built layers until memory ran out
    ({"edge_dim": -3}, "Reader edge_dim must be a whole number >= 1"),  # a raw error from nn.Linear
    ({"task_cap": math.inf}, r"task_cap must be >= 0"),  # NaN task logits (inf * tanh(0))
    ({"task_evidence": math.nan}, "task_evidence must be a finite number"),
    ({"task_evidence": True}, "task_evidence must be a finite number"),
    ({"probe_inputs": [True]}, "probe_inputs size must be a whole number >= 1"),  # was input size 1
    ({"probe_inputs": [2.5]}, "probe_inputs size must be a whole number >= 1"),  # was input size 2
])
def test_reader_refuses_sizes_it_cannot_build(kw, message) -> None:
    with pytest.raises(ConfigError, match=message):
        Reader(**{"tasks": ["digits"], **kw})


# ------------------------------------------------------------------------------------------- Writer
def test_writer_sizes_of_any_integer_library_and_sizes_beyond_memory() -> None:
    got = metanet.Writer(hidden=np.int64(8), message=torch.tensor(4), steps=np.int32(2), augment_below=np.int64(5))
    want = metanet.Writer(hidden=8, message=4, steps=2, augment_below=5)
    assert got.config() == want.config() and json.dumps(got.config()) == json.dumps(want.config())
    for kw in ({"hidden": 10**30}, {"message": 10**30}):  # a raw TypeError from torch.empty
        with pytest.raises(ConfigError, match="more than this machine's"):
            metanet.Writer(**kw)
    with pytest.raises(ConfigError, match="Writer hidden must be >= 1"):
        metanet.Writer(hidden=True)


# ------------------------------------------------------------------------------------------- prune, inspect
@pytest.mark.parametrize("kw, name", [({"sparsity": False}, "sparsity"), ({"tolerance": True}, "tolerance"),
                                      ({"sparsity": np.bool_(False)}, "sparsity"),
                                      ({"tolerance": torch.tensor(True)}, "tolerance")])
def test_prune_refuses_flags_as_numbers(net, kw, name) -> None:
    # False was sparsity 0 (nothing pruned), True a tolerance of any accuracy drop
    with pytest.raises(ArchError, match=name):
        metanet.edit.prune(net, **{"sparsity": 0.5, **kw}, task="digits")


def test_inspect_refuses_a_flag_support_threshold(net) -> None:
    # True was a threshold of 1.0: no neuron supports any class
    with pytest.raises(TaskError, match="support_threshold"):
        metanet.inspect.inspect(net, "digits", support_threshold=True, max_examples=32)


# ------------------------------------------------------------------------------------------- improve
def _improve(**kw):
    torch.manual_seed(0)  # the writer's initial weights
    return metanet.improve(metanet.Writer(), ["digits"], **{"rounds": 1, "candidates": 2, "track": False, **kw})


def test_improve_numpy_and_fraction_forms_run_as_the_plain_numbers() -> None:
    # a numpy rounds was a raw TypeError from set_grad_enabled, numpy candidates were refused by LoopConfig, and a
    # Fraction / numpy lr or clip left History.config without a JSON form
    w1, h1 = _improve(rounds=np.int64(1), candidates=np.int64(2), tasks_per_round=np.int64(1), lr=Fraction(1, 1000),
                      clip=np.float32(1.0))
    w2, h2 = _improve(rounds=1, candidates=2, tasks_per_round=1, lr=0.001, clip=1.0)
    assert all(torch.equal(a, b) for a, b in zip(w1.state_dict().values(), w2.state_dict().values()))
    assert json.dumps(h1.config, sort_keys=True) == json.dumps(h2.config, sort_keys=True)


def test_loop_config_integer_counts_are_python_ints() -> None:
    cfg = LoopConfig(candidates=np.int64(4), keep=torch.tensor(2))
    assert (cfg.candidates, cfg.keep) == (4, 2) and type(cfg.candidates) is int and type(cfg.keep) is int
    with pytest.raises(ConfigError, match="candidates"):
        LoopConfig(candidates=True)
