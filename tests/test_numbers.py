"""Numbers in every form a user passes them to the public API: a valid one gives the result of the plain Python
number, an invalid one is refused up front with the project's error naming the option (never a raw TypeError from
torch or numpy mid-run, never a silent wrong result)."""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest
import torch

import metanet
from metanet.edit import repair as repair_mod
from metanet.errors import ArchError, ConfigError, TaskError
from metanet.loop import LoopConfig, SizePenalty
from metanet.tasks import seeded_permutation

ARCH = "mlp:64-8-10:relu"


@pytest.fixture(scope="module")
def net() -> torch.nn.Module:
    return metanet.nets.build(ARCH, seed=0)


@pytest.fixture(scope="module")
def digits_x() -> torch.Tensor:
    return metanet.tasks.get("digits").split("val")[0][:32]


# ------------------------------------------------------------------------------------------- SizePenalty
STACKED = {"0.weight": torch.linspace(-1, 1, 3 * 4 * 5).reshape(3, 4, 5), "0.bias": torch.zeros(3, 4)}


@pytest.mark.parametrize("form", [Fraction(1, 20), np.float64(0.05), 0.05])
def test_size_penalty_weight_forms_score_as_the_float(form) -> None:
    # a Fraction was a raw TypeError ('Fraction' * 'Tensor') when the first candidate was scored
    got = SizePenalty(weight=form).score([None] * 3, STACKED)
    assert torch.equal(got, SizePenalty(weight=0.05).score([None] * 3, STACKED))
    assert got.dtype == torch.float64


@pytest.mark.parametrize("kw", [{"threshold": Fraction(1, 2)}, {"weight": 10**30}, {"threshold": 10**30}])
def test_size_penalty_fraction_threshold_and_huge_ints_score(kw) -> None:
    got = SizePenalty(**kw).score([None] * 3, STACKED)  # was TypeError / OverflowError
    want = SizePenalty(**{k: float(v) for k, v in kw.items()}).score([None] * 3, STACKED)
    assert torch.equal(got, want)


# ------------------------------------------------------------------------------------------- LoopConfig
@pytest.mark.parametrize("name, form, plain", [
    ("sigma", Fraction(1, 20), 0.05), ("temperature", np.float64(2.0), 2.0), ("beta", 1, 1.0),
    ("ce_weight", Fraction(0), 0.0), ("refine_sigma", np.float32(0.5), 0.5),
    ("mixup", np.int64(2), 2), ("refine_population", np.int64(8), 8), ("folds", np.int64(3), 3),
])
def test_loop_config_keeps_python_numbers(name, form, plain) -> None:
    # a Fraction sigma was kept and crashed the round (Tensor * Fraction); numpy numbers stayed numpy
    value = getattr(LoopConfig(**{name: form}), name)
    assert value == plain and type(value) is type(plain)


@pytest.mark.parametrize("bad", [True, math.nan, math.inf, "0.05", torch.tensor(0.05)])
def test_loop_config_refuses_non_numbers(bad) -> None:
    with pytest.raises(ConfigError, match="sigma"):
        LoopConfig(sigma=bad)


# ------------------------------------------------------------------------------------------- refine
@pytest.mark.parametrize("kw", [{"sigma": Fraction(1, 50)}, {"sigma": 10**30}, {"lr": Fraction(1, 100)}])
def test_refine_fraction_and_huge_sigma_run_as_the_float(net, kw) -> None:
    # a Fraction sigma was a raw TypeError mid-step, a huge int one a raw OverflowError
    def run(**k):
        return metanet.refine(net, "digits", steps=1, population=2, batch_size=32, verify_on=None, **k)

    got = run(**kw).model.state_dict()
    want = run(**{k: float(v) for k, v in kw.items()}).model.state_dict()
    assert all(torch.equal(got[k], want[k]) and got[k].dtype == torch.float32 for k in want)


# ------------------------------------------------------------------------------------------- Writer
@pytest.mark.parametrize("form", [np.float32(0.25), Fraction(1, 4), np.float64(0.25), 0.25])
def test_writer_start_mix_forms(form) -> None:
    # np.float32 / Fraction were a raw "can't assign a numpy.float32 to a torch.FloatTensor"
    got = metanet.Writer(start_mix=form).lin.weight
    assert torch.equal(got, metanet.Writer(start_mix=0.25).lin.weight)


# ------------------------------------------------------------------------------------------- seeded_permutation
@pytest.mark.parametrize("form", [np.int64(3), torch.tensor(3), np.array(3)])
def test_seeded_permutation_integer_forms(form) -> None:
    assert seeded_permutation(form, 7).tolist() == seeded_permutation(3, 7).tolist()
    assert seeded_permutation(0, form).tolist() == seeded_permutation(0, 3).tolist()


@pytest.mark.parametrize("bad", [True, False, 3.0, "3", math.nan, -1, 2**63, Fraction(3)])
def test_seeded_permutation_refuses_non_seeds(bad) -> None:
    # True was silently seed 1 (a different permutation than the user meant), floats a raw numpy TypeError
    with pytest.raises(TaskError, match="seed"):
        seeded_permutation(bad, 5)


@pytest.mark.parametrize("bad", [True, 5.0, -1, math.inf])
def test_seeded_permutation_refuses_bad_sizes(bad) -> None:
    with pytest.raises(TaskError, match="n must be"):
        seeded_permutation(0, bad)


# ------------------------------------------------------------------------------------------- edits
@pytest.mark.parametrize("bad", [True, False, np.bool_(True), torch.tensor(True), torch.tensor([1.0, 2.0])])
def test_scale_and_clamp_refuse_flags(net, bad) -> None:
    # True was a factor / clamp value of 1.0, silently
    with pytest.raises(ArchError, match="scale factor"):
        metanet.edit.scale(net, "1:0-3", bad, "digits")
    with pytest.raises(ArchError, match="clamp value"):
        metanet.edit.clamp(net, "1:0-3", "digits", value=bad)


# ------------------------------------------------------------------------------------------- trigger reconstruction
def _reconstruct(net, x, **kw):
    return repair_mod.reconstruct_trigger(net, x, 10, steps=2, batch=8, **kw)


@pytest.mark.parametrize("kw, name", [
    ({"threshold": math.nan}, "threshold"), ({"threshold": True}, "threshold"),
    ({"threshold": torch.tensor(3.0, requires_grad=True)}, "threshold"),
    ({"compact": math.nan}, "compact"), ({"compact": 1 + 1e-12}, "compact"), ({"compact": -1e-12}, "compact"),
    ({"lr": math.nan}, "lr"), ({"lr": -0.1}, "lr"), ({"lr": 0}, "lr"),
    ({"seed": 3.0}, "seed"), ({"seed": True}, "seed"), ({"seed": torch.tensor(3)}, "seed"),
])
def test_reconstruct_trigger_refuses_bad_numbers(net, digits_x, kw, name) -> None:
    # NaN threshold reported "not found" for any network; NaN / negative lr was a raw ValueError from Adam; a float
    # seed a raw RuntimeError from manual_seed
    with pytest.raises(ConfigError, match=name):
        _reconstruct(net, digits_x, **kw)


def test_reconstruct_trigger_numpy_and_fraction_forms(net, digits_x) -> None:
    # a numpy seed was a raw TypeError from manual_seed; the info holds plain floats, never a tensor
    _, plain = _reconstruct(net, digits_x, seed=3, lr=0.1, threshold=3.0)
    _, forms = _reconstruct(net, digits_x, seed=np.int64(3), lr=np.float64(0.1), threshold=Fraction(3))
    assert forms == plain and type(forms["threshold"]) is float
