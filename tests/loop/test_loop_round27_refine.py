"""refine(): seed / num_classes checks, verify_on=(x, y) with a Task, bad verification labels (round 27)."""

import pytest
import torch

from metanet.errors import ConfigError, TaskError
from metanet.loop import refine
from metanet.nets import build
from metanet.tasks import resolve


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
