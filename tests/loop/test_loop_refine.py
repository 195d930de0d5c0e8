"""Gradient-free refinement: weight and activity perturbation repair a deliberately weakened network; the activity
rule's gradient estimate agrees with backprop's."""

from __future__ import annotations

import copy
import math

import pytest
import torch

from metanet.errors import MetanetError
from metanet.loop import refine
from metanet.nets import build


@pytest.fixture(scope="module")
def weakened(digits_pool):
    """A trained digits MLP whose weights are then disturbed by noise (its accuracy drops)."""
    x, y = digits_pool
    torch.manual_seed(0)
    net = build("mlp:64-16-10:relu", seed=0)
    opt = torch.optim.Adam(net.parameters(), lr=1e-2)
    for _ in range(150):
        opt.zero_grad()
        torch.nn.functional.cross_entropy(net(x), y).backward()
        opt.step()
    g = torch.Generator().manual_seed(1)
    with torch.no_grad():
        for p in net.parameters():
            p.add_(0.6 * p.abs().mean() * torch.randn(p.shape, generator=g))
    return net.eval()


def test_perturbation_refinement_improves_a_weakened_network(weakened):
    before_w = {k: v.clone() for k, v in weakened.state_dict().items()}
    res = refine(weakened, "digits", method="perturbation", steps=60, population=32, sigma=0.02, lr=3e-3, seed=0)
    assert res.before.split == "val" and res.after.split == "val"
    assert res.after.accuracy > res.before.accuracy + 0.03, (res.before.accuracy, res.after.accuracy)
    assert all(torch.equal(v, weakened.state_dict()[k]) for k, v in before_w.items())  # input untouched
    again = refine(weakened, "digits", method="perturbation", steps=60, population=32, sigma=0.02, lr=3e-3, seed=0)
    assert again.after.accuracy == res.after.accuracy  # deterministic


def test_perturbation_with_one_pair_is_finite_and_still_learns(weakened):
    """One antithetic pair has no spread to normalise by (its std is NaN): the step follows its sign."""
    res = refine(weakened, "digits", method="perturbation", steps=60, population=1, sigma=0.02, lr=3e-3, seed=0)
    assert all(torch.isfinite(p).all() for p in res.model.parameters())
    assert res.after.accuracy > res.before.accuracy, (res.before.accuracy, res.after.accuracy)


def _estimate_vs_backprop(net, x, y, population: int, sigma: float) -> dict[str, tuple[float, float]]:
    """Per parameter: cosine and norm ratio of the activity-perturbation gradient against autograd's."""
    from metanet.loop.refine import _activity_step, _layers

    net = copy.deepcopy(net)
    torch.nn.functional.cross_entropy(net(x), y).backward()
    true = {n: p.grad.clone() for n, p in net.named_parameters()}
    net.zero_grad(set_to_none=True)
    _activity_step(net, _layers(net), x, y, population, sigma, torch.Generator().manual_seed(0), "loss")
    return {n: (torch.nn.functional.cosine_similarity(p.grad.flatten(), true[n].flatten(), dim=0).item(),
                (p.grad.norm() / true[n].norm()).item()) for n, p in net.named_parameters()}


def test_activity_perturbation_estimates_the_backprop_gradient(weakened, digits_pool):
    x, y = digits_pool[0][:256], digits_pool[1][:256]
    for n, (cos, ratio) in _estimate_vs_backprop(weakened, x, y, population=32, sigma=0.02).items():
        assert cos > 0.95, (n, cos)
        assert 0.8 < ratio < 1.25, (n, ratio)  # unbiased: the estimate's norm is the true one's, within noise


def test_activity_perturbation_estimates_conv_gradients():
    """The convolution path (``conv2d_weight`` of the estimated output gradients). Small maps: the estimate's
    variance grows with the units of a layer (channels x positions), so large early maps need many more draws."""
    torch.manual_seed(0)
    net = build("cnn:1-4-3:relu:k3:s2")
    x, y = torch.rand(64, 1, 4, 4), torch.randint(0, 3, (64,))
    for n, (cos, _) in _estimate_vs_backprop(net, x, y, population=1024, sigma=0.05).items():
        assert cos > 0.9, (n, cos)


def test_activity_refinement_improves_a_weakened_network(weakened):
    res = refine(weakened, "digits", method="activity", steps=60, population=32, sigma=0.02, lr=3e-3, seed=0)
    assert res.after.accuracy > res.before.accuracy + 0.1, (res.before.accuracy, res.after.accuracy)
    again = refine(weakened, "digits", method="activity", steps=60, population=32, sigma=0.02, lr=3e-3, seed=0)
    assert again.after.accuracy == res.after.accuracy  # deterministic
    with pytest.raises(MetanetError, match="needs Linear or Conv2d layers"):
        refine(torch.nn.Sequential(torch.nn.Flatten(), torch.nn.PReLU()), "digits", method="activity", steps=1,
               verify_on=None)
    with pytest.raises(MetanetError, match="network with parameters"):
        refine(torch.nn.Sequential(torch.nn.Flatten()), "digits", steps=1, verify_on=None)


def test_sgd_refinement_for_comparison(weakened, digits_pool):
    res = refine(weakened, digits_pool, method="sgd", steps=30, verify_on=digits_pool, num_classes=10)
    assert res.after.accuracy > res.before.accuracy


def test_refine_errors_name_the_valid_choices(weakened):
    with pytest.raises(MetanetError, match="valid: perturbation, activity, sgd"):
        refine(weakened, "digits", method="annealing")
    with pytest.raises(MetanetError, match="population >= 1"):
        refine(weakened, "digits", population=0)


@pytest.mark.parametrize("kwargs, message", [
    ({"sigma": float("nan")}, "sigma"),  # every perturbed reward was NaN -> -1e6: a meaningless history
    ({"lr": float("nan")}, "lr"),  # raw ValueError from Adam
    ({"lr": float("inf")}, "lr"),  # accepted: the weights blew up
    ({"batch_size": 0}, "batch_size"),  # empty minibatches: NaN losses, the network silently unchanged or wrecked
    ({"steps": 2.5}, "steps"),
    ({"population": 2.5}, "population"),
])
def test_refine_bad_numbers_are_refused(weakened, kwargs, message):
    from metanet.errors import ConfigError

    with pytest.raises(ConfigError, match=message):
        refine(weakened, "digits", **{"steps": 2, **kwargs})


@pytest.mark.parametrize("method", ["perturbation", "activity", "sgd"])
def test_refine_a_network_that_does_not_fit_the_task_is_an_arch_error(weakened, digits_pool, method):
    """Without verification the mismatch surfaced as a raw RuntimeError / IndexError from the first step."""
    from metanet.errors import ArchError

    with pytest.raises(ArchError, match="input"):
        refine(weakened, "mnist1d", method=method, steps=2, verify_on=None)
    with pytest.raises(ArchError, match="2 classes"):
        refine(weakened, "digits[0,1]", method=method, steps=2, verify_on=None)
    x, y = digits_pool
    with pytest.raises(ArchError, match="labels up to 14"):
        refine(weakened, (x, y + 5), method=method, steps=2, verify_on=None)


def test_refine_examples_of_unequal_length_are_refused(weakened, digits_pool):
    from metanet.errors import TaskError

    x, y = digits_pool
    with pytest.raises(TaskError, match=f"{len(x)} inputs but 10 labels"):
        refine(weakened, (x, y[:10]), steps=2, verify_on=None)


@pytest.mark.parametrize("method", ["perturbation", "activity", "sgd"])
def test_refine_a_float64_network(weakened, method):
    """verify() runs float64 networks; refine crashed with a dtype mismatch in every method."""
    net = copy.deepcopy(weakened).double()
    res = refine(net, "digits", method=method, steps=3, population=4)
    assert next(res.model.parameters()).dtype == torch.float64
    assert res.after.accuracy >= 0 and all(math.isfinite(h) for h in res.history)


def test_refine_a_saved_network_or_a_clear_error(weakened, tmp_path):
    import metanet
    from metanet.errors import ArchError

    path = metanet.save(weakened, tmp_path / "net.safetensors")
    res = refine(path, "digits", steps=1)
    assert res.before.accuracy == refine(weakened, "digits", steps=1).before.accuracy
    with pytest.raises(ArchError, match="int"):
        refine(42, "digits", steps=1)


def test_refine_option_and_network_errors_are_config_and_arch_errors(weakened):
    """Were the base MetanetError, which is no ValueError: ``except ValueError`` missed them."""
    from torch import nn

    from metanet.errors import ArchError, ConfigError

    with pytest.raises(ConfigError, match="unknown refine method 'annealing'; valid: perturbation, activity, sgd"):
        refine(weakened, "digits", method="annealing")
    with pytest.raises(ConfigError, match="unknown refine objective 'f1'; valid: loss, accuracy"):
        refine(weakened, "digits", objective="f1")
    with pytest.raises(ArchError, match="refine needs a network with parameters; Sequential has none"):
        refine(nn.Sequential(nn.Flatten()), "digits", steps=1, verify_on=None)
    with pytest.raises(ArchError, match="activity perturbation needs Linear or Conv2d layers"):
        from metanet.loop.refine import _layers

        _layers(nn.Sequential(nn.Flatten()))
