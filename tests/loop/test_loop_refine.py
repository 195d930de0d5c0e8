"""Gradient-free refinement: weight and activity perturbation repair a deliberately weakened network; the activity
rule's gradient estimate agrees with backprop's (padded convolutions included); its options (seed, num_classes,
verify_on, population and sigma, which sgd ignores) are checked; the caller's network and its mode are left alone;
examples that use only some outputs are refined on; a layer forward does not call is skipped and one applied twice
is refused. The history's first reward is the unchanged network's, alike for every method; a network given as a
path (str or bytes) is read by refine and verify as read() / to_graph read it, an empty path named as they name
it; a bad seed gets the loop helpers' own error."""

from __future__ import annotations

import copy
import math
import os

import pytest
import torch
import torch.nn.functional as F
from torch import nn

import metanet
from metanet.errors import ArchError, ConfigError, FileFormatError, MetanetError, TaskError
from metanet.loop import refine
from metanet.nets import Arch, build
from metanet.tasks import from_examples, resolve


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


def test_refine_on_examples_that_use_only_some_of_the_outputs(digits_pool):
    # labels 0..4 for a 10-output network: refine accepted it, then its before/after reports raised ArchError
    x, y = digits_pool
    sub = y < 5
    torch.manual_seed(0)
    net = nn.Sequential(nn.Flatten(), nn.Linear(64, 10))
    res = refine(net, (x[sub], y[sub]), steps=2, population=2)
    assert len(res.after.per_class) == 10 and res.after.n == int(sub.sum())
    # measured on the examples refined on: was labelled "test"
    assert res.before.split == "train" and res.after.split == "train"
    held = refine(net, (x[sub], y[sub]), method="activity", steps=2, population=2, verify_on=(x, y))
    assert held.after.split == "examples" and held.after.n == len(y)


def _conv_net(**conv):
    torch.manual_seed(0)
    c = nn.Conv2d(1, 4, 3, **conv)
    return nn.Sequential(c, nn.Tanh(), nn.Flatten(), nn.Linear(c(torch.zeros(1, 1, 3, 3)).numel(), 3))


@pytest.mark.parametrize("conv", [dict(padding=1, padding_mode="reflect"), dict(padding=2, padding_mode="circular"),
                                  dict(padding="same"), dict(padding="valid")])
def test_activity_perturbation_estimates_the_gradient_of_padded_convolutions(conv):
    # reflect / circular padding: the estimate was correlated with zero-padded inputs (cosine to the true gradient
    # -0.1 / 0.5); padding "same" / "valid": a raw RuntimeError from convolution_backward
    from metanet.loop.refine import _activity_step

    g = torch.Generator().manual_seed(0)
    # centred inputs on a 3x3 image: the padded border carries much of the gradient
    x, y = torch.rand(8, 1, 3, 3, generator=g) - 0.5, torch.randint(0, 3, (8,), generator=g)
    net = _conv_net(**conv).eval()
    F.cross_entropy(net(x), y).backward()
    true = net[0].weight.grad.clone()
    _activity_step(net, [net[0]], x, y, 2000, 1e-3, g, "loss")
    assert F.cosine_similarity(true.flatten(), net[0].weight.grad.flatten(), 0) > 0.95
    res = refine(_conv_net(**conv), (x, y), method="activity", steps=2, population=2, verify_on=None)
    assert not torch.equal(res.model[0].weight, _conv_net(**conv)[0].weight)


def test_activity_refinement_refuses_a_layer_applied_twice():
    """A shared layer's estimate covered only its last use: a silently wrong gradient."""
    shared = nn.Linear(64, 64)
    net = nn.Sequential(nn.Flatten(), shared, nn.ReLU(), shared, nn.ReLU(), nn.Linear(64, 10))
    with pytest.raises(ArchError, match="layer '1' .* applied more than once"):
        refine(net, "digits", method="activity", steps=1, population=2, verify_on=None)
    refine(net, "digits", method="perturbation", steps=1, population=2, verify_on=None)  # the other methods work


@pytest.fixture(scope="module")
def net():
    return build("mlp:64-16-10:relu", seed=0)


@pytest.mark.parametrize("seed", [1.5, None, "3"])
def test_seed_that_is_not_an_integer_is_a_config_error(net, seed):
    with pytest.raises(ConfigError, match="seed"):
        refine(net, "digits", steps=1, seed=seed)


@pytest.mark.parametrize("k", [0, -2, "10", 2.5])
def test_num_classes_is_checked(net, k):
    with pytest.raises(ConfigError, match="num_classes"):
        refine(net, "digits", steps=1, num_classes=k)


def test_verify_on_examples_with_a_task(net):
    """The docstring: verify_on is a split of the Task, or (x, y), or None; (x, y) with a Task was a TaskError."""
    x, y = resolve("digits").split("test")
    res = refine(net, "digits", steps=0, verify_on=(x[:100], y[:100]))
    assert res.before.split == "examples" and res.before.n == 100
    want = (net(x[:100]).argmax(-1) == y[:100]).double().mean().item()
    assert res.before.accuracy == pytest.approx(want) and res.after.accuracy == res.before.accuracy


@pytest.mark.parametrize("task", ["digits", "examples"])
def test_verify_on_labels_out_of_range_is_a_task_error(net, task):
    x, y = resolve("digits").split("test")
    data = resolve("digits").split("train") if task == "examples" else task
    with pytest.raises(TaskError, match="labels"):
        refine(net, data, steps=0, verify_on=(x, y + 5))


def test_verify_on_not_a_pair_is_a_task_error(net):
    x, y = resolve("digits").split("test")
    with pytest.raises(TaskError, match="pair"):
        refine(net, "digits", steps=0, verify_on=(x, y, y))


def test_verify_stacked_refuses_labels_past_its_classes(net):
    from metanet.verify import verify_stacked

    x, y = resolve("digits").split("test")
    params = {k: v.detach()[None] for k, v in net.named_parameters()}
    with pytest.raises(TaskError, match="labels -1..8"):
        verify_stacked(net, params, "digits", data=(x, y - 1))


@pytest.mark.parametrize("method", ["perturbation", "activity", "sgd"])
def test_refine_leaves_the_model_and_its_mode_alone(method):
    net = build("mlp:64-16-10:relu", seed=1).train()
    before = {k: v.clone() for k, v in net.state_dict().items()}
    a = refine(net, "digits", method=method, steps=2, population=4, seed=5, verify_on=None)
    b = refine(net, "digits", method=method, steps=2, population=4, seed=5, verify_on=None)
    assert net.training and all(torch.equal(before[k], v) for k, v in net.state_dict().items())
    assert all(torch.equal(p, q) for p, q in zip(a.model.parameters(), b.model.parameters()))
    assert not all(torch.equal(p, q) for p, q in zip(a.model.parameters(), net.parameters()))


def _net() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(nn.Flatten(), nn.Linear(64, 16), nn.ReLU(), nn.Linear(16, 10))


@pytest.mark.parametrize("kwargs", [{"population": 0}, {"population": -3}, {"sigma": 0.0}, {"sigma": -1.0}])
def test_sgd_ignores_perturbation_settings_out_of_their_range(digits_pool, kwargs):
    x, y = digits_pool
    res = refine(_net(), (x[:64], y[:64]), method="sgd", steps=2, verify_on=None, **kwargs)
    plain = refine(_net(), (x[:64], y[:64]), method="sgd", steps=2, verify_on=None)
    assert res.history == plain.history  # ignored: the same steps as with the defaults
    for a, b in zip(res.model.parameters(), plain.model.parameters()):
        assert torch.equal(a, b)


@pytest.mark.parametrize("method", ["perturbation", "activity"])
@pytest.mark.parametrize("kwargs, message", [({"population": 0}, "population >= 1"), ({"sigma": 0.0}, "sigma > 0")])
def test_the_perturbation_methods_still_refuse_them(digits_pool, method, kwargs, message):
    x, y = digits_pool
    with pytest.raises(ConfigError, match=message):
        refine(_net(), (x[:64], y[:64]), method=method, steps=2, verify_on=None, **kwargs)


@pytest.mark.parametrize("kwargs, message", [({"population": "32"}, "population"), ({"population": 2.5}, "population"),
                                             ({"population": True}, "population"), ({"sigma": "0.02"}, "sigma"),
                                             ({"sigma": float("nan")}, "sigma")])
def test_sgd_still_refuses_values_of_the_wrong_kind(digits_pool, kwargs, message):
    x, y = digits_pool
    with pytest.raises(ConfigError, match=message):
        refine(_net(), (x[:64], y[:64]), method="sgd", steps=2, verify_on=None, **kwargs)


class _AuxHead(nn.Module):
    """A classifier with an auxiliary head that ``forward`` does not use."""

    def __init__(self) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.body = nn.Linear(8, 3)
        self.aux = nn.Linear(8, 5)

    def forward(self, x):
        return self.body(x)


class _NoLayerCalled(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.unused = nn.Linear(8, 3)
        self.scale = nn.Parameter(torch.ones(3))

    def forward(self, x):
        return x[:, :3] * self.scale


def _data():
    g = torch.Generator().manual_seed(0)
    x = torch.randn(60, 8, generator=g)
    return x, x[:, :3].argmax(1)


def test_activity_refinement_skips_a_layer_forward_does_not_call():
    # was a raw KeyError naming the unused layer
    net = _AuxHead()
    res = refine(net, _data(), method="activity", steps=5, population=4, verify_on=None)
    assert torch.equal(res.model.aux.weight, net.aux.weight) and torch.equal(res.model.aux.bias, net.aux.bias)
    assert not torch.equal(res.model.body.weight, net.body.weight)  # the used layer is refined
    assert len(res.history) == 5


def test_activity_refinement_of_a_network_calling_none_of_its_layers_is_an_arch_error():
    with pytest.raises(ArchError, match="calls none of its layers.*'perturbation' or 'sgd'"):
        refine(_NoLayerCalled(), _data(), method="activity", steps=2, population=2, verify_on=None)


@pytest.fixture(scope="module")
def small_net():
    from metanet.nets import build

    torch.manual_seed(0)
    return build("mlp:64-16-10:relu")


@pytest.mark.parametrize("objective", ["loss", "accuracy"])
def test_refine_history_is_the_clean_reward_for_every_method(small_net, objective):
    """perturbation recorded its perturbed population's mean reward, sgd and activity the network's own: the first
    step's reward (the unchanged network on the same batch) now agrees across the gradient-free methods, and with
    sgd's for the loss."""
    import torch.nn.functional as F

    from metanet import tasks
    from metanet.loop import refine

    x, y = tasks.get("digits").split("train")
    x, y = x[:200], y[:200]
    runs = {m: refine(small_net, (x, y), method=m, steps=2, population=3, batch_size=64, objective=objective,
                      verify_on=None, seed=1).history for m in ("perturbation", "activity", "sgd")}
    assert runs["perturbation"][0] == runs["activity"][0]
    if objective == "loss":
        assert runs["perturbation"][0] == runs["sgd"][0]
        idx = torch.randperm(len(y), generator=torch.Generator().manual_seed(1))[:64]
        with torch.no_grad():
            assert runs["perturbation"][0] == -F.cross_entropy(small_net(x[idx]), y[idx]).item()


@pytest.fixture(scope="module")
def task():
    g = torch.Generator().manual_seed(0)
    x = torch.rand(200, 6, generator=g)
    return from_examples(x, (x[:, 0] > 0.5).long(), val_fraction=0, test_fraction=0)


@pytest.fixture(scope="module")
def saved(tmp_path_factory, task):
    path = tmp_path_factory.mktemp("net") / "net.safetensors"
    metanet.save(build(Arch.parse("mlp:6-8-2:relu"), seed=0), path)
    return path


@pytest.mark.parametrize("call", ["verify", "refine"])
@pytest.mark.parametrize("empty", ["", b""])
def test_empty_path_is_named_as_read_and_to_graph_name_it(call, empty, task):
    # verify('') said "'.': is a directory", verify(b'') "got an empty list of models"; read / to_graph name it
    f = {"verify": lambda p: metanet.verify(p, task, split="train"),
         "refine": lambda p: metanet.refine(p, task, steps=1, verify_on=None)}[call]
    with pytest.raises(FileFormatError, match="empty path names no network"):
        f(empty)


def test_bytes_path_verifies_as_its_str(saved, task):
    # a bytes path was iterated as a list of ints ("needs nn.Module networks ..., got int"); read() took it
    want = metanet.verify(str(saved), task, split="train")
    got = metanet.verify(os.fsencode(saved), task, split="train")
    assert (got.accuracy, got.loss, got.n) == (want.accuracy, want.loss, want.n)
    assert metanet.refine(os.fsencode(saved), task, steps=1, verify_on=None).model is not None


def test_bad_seed_same_error_in_improve_refine_and_loop_helpers(task):
    from metanet.errors import ConfigError
    from metanet.loop.tasks import check_seed

    with pytest.raises(ConfigError) as helper:
        check_seed(1.5)
    with pytest.raises(ConfigError) as refine:
        metanet.refine(build(Arch.parse("mlp:6-8-2:relu"), seed=0), task, steps=1, seed=1.5, verify_on=None)
    assert str(refine.value) == str(helper.value)
