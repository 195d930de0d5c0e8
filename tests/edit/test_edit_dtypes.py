"""Edits of networks in the forms a PyTorch user has them: float64 / half networks, a non-contiguous weight, train
mode with dropout, parametrize, the meta device. Each works like the float32 network or is an ArchError."""

from __future__ import annotations

import copy

import pytest
import torch
from torch import nn

import metanet
from metanet import edit, tasks
from metanet.errors import ArchError

TRIGGER = {"kind": "square", "size": 3, "location": [5, 5], "target": 0}


@pytest.fixture(scope="module")
def net(digits_net):
    return digits_net


def _transposed(net):
    """``net`` with its first weight set to a non-contiguous view of the same values (as ``w.t().contiguous().t()``
    after an export, or a weight tied to a transpose)."""
    m = copy.deepcopy(net)
    w = m.layers[0].weight.detach()
    m.layers[0].weight = nn.Parameter(w.t().contiguous().t())
    assert not m.layers[0].weight.is_contiguous() and torch.equal(m.layers[0].weight, w)
    return m


@pytest.mark.parametrize("kwargs", [{}, {"scope": "global"}, {"method": "necessity", "max_examples": 200}])
def test_prune_a_non_contiguous_weight_as_its_contiguous_twin(net, kwargs):
    """w.view(-1) raised a raw RuntimeError ('view size is not compatible with input tensor's size and stride')."""
    want, _ = edit.prune(net, 0.5, "digits", **kwargs)
    got, report = edit.prune(_transposed(net), 0.5, "digits", **kwargs)
    assert all(torch.equal(a, b) for a, b in zip(want.parameters(), got.parameters()))
    assert report.details["sparsity"] >= 0.5 - 1e-3


@pytest.mark.parametrize("dtype", [torch.float64, torch.float16, torch.bfloat16])
def test_attack_success_rate_of_a_float64_or_half_network(net, dtype):
    """The float32 triggered inputs met the network's weights: a raw dtype-mismatch RuntimeError."""
    want = edit.attack_success_rate(net, "digits", TRIGGER)
    got = edit.attack_success_rate(copy.deepcopy(net).to(dtype), "digits", TRIGGER)
    assert got == pytest.approx(want, abs=0.02)


def test_apply_trigger_to_uint8_images_is_a_task_error():
    """A uint8 image 0..255 got the trigger's value 1 stamped on it (invisible), silently."""
    from metanet.errors import TaskError

    x = tasks.get("digits").split("test")[0][:5]
    trig = edit.as_trigger(TRIGGER, (1, 8, 8), 10)
    assert edit.apply_trigger(x, trig)[:, :, 5:8, 5:8].eq(1).all()
    with pytest.raises(TaskError, match=r"uint8.*/ 255"):
        edit.apply_trigger((x * 255).to(torch.uint8), trig)
    with pytest.raises(TaskError, match="ndarray"):
        edit.apply_trigger(x.numpy(), trig)


def test_attack_success_rate_runs_in_eval_mode_and_gives_the_mode_back(net):
    """A network being trained (dropout on) got a random rate, a different one on every call."""
    m = nn.Sequential(nn.Flatten(), copy.deepcopy(net.layers[0]), nn.ReLU(), nn.Dropout(0.5),
                      copy.deepcopy(net.layers[1]))
    want = edit.attack_success_rate(m.eval(), "digits", TRIGGER)
    m.train()
    assert [edit.attack_success_rate(m, "digits", TRIGGER) for _ in range(3)] == [want] * 3
    assert m.training and m[3].training


@pytest.mark.parametrize("dtype", [torch.float64, torch.float16])
def test_repair_backdoor_of_a_float64_or_half_network(net, dtype):
    """Known trigger and blind: both failed with a dtype mismatch (the attack success rate, the trigger search)."""
    want, rep = edit.repair_backdoor(net, "digits", TRIGGER, max_rounds=1, max_examples=300)
    got, rep2 = edit.repair_backdoor(copy.deepcopy(net).to(dtype), "digits", TRIGGER, max_rounds=1, max_examples=300)
    assert next(got.parameters()).dtype == dtype
    assert rep2.asr_after == pytest.approx(rep.asr_after, abs=0.02)
    blind, _ = edit.repair_backdoor(copy.deepcopy(net).to(dtype), "digits", max_rounds=1, max_examples=200)
    assert next(blind.parameters()).dtype == dtype


def test_reconstruct_trigger_of_a_half_network_matches_float32(net):
    x = tasks.get("digits").split("val")[0][:100]
    _, want = edit.reconstruct_trigger(net, x, 10, steps=20)
    _, got = edit.reconstruct_trigger(copy.deepcopy(net).double(), x, 10, steps=20)
    assert got["mask_l1"] == pytest.approx(want["mask_l1"], rel=1e-4)
    _, half = edit.reconstruct_trigger(copy.deepcopy(net).half(), x, 10, steps=20)
    assert half["suspect"] == want["suspect"]


@pytest.mark.parametrize("dtype, bits", [(torch.float32, 32), (torch.float64, 64), (torch.float16, 16),
                                         (torch.bfloat16, 16)])
def test_precision_counts_memory_in_the_networks_own_dtype(net, dtype, bits):
    """A float16 network 'quantised' to fp16 was reported 2x compressed (memory counted from 32 bits whatever the
    dtype); fp32 on it cannot add bits either."""
    n0, n1 = net.layers[0].weight.numel(), net.layers[1].weight.numel()
    _, rep = edit.precision(copy.deepcopy(net).to(dtype), "0=fp16,1=fp32", "digits")
    d = rep.details
    assert d["weight_bytes_fp32"] == (n0 + n1) * 4 and d["weight_bytes_before"] == (n0 + n1) * bits // 8
    assert d["weight_bytes"] == (n0 * 16 + n1 * min(32, bits)) // 8
    assert d["compression"] == pytest.approx(d["weight_bytes_before"] / d["weight_bytes"])


def test_edits_of_a_parametrized_network_are_arch_errors(net):
    """remove / prune / precision / inspect raised a raw KeyError('layers.0.weight')."""
    from torch.nn.utils import parametrize

    class Same(nn.Module):
        def forward(self, w):
            return w

    m = copy.deepcopy(net)
    parametrize.register_parametrization(m.layers[0], "weight", Same())
    for call in (lambda: edit.remove(m, "1:3", "digits"), lambda: edit.prune(m, 0.5, "digits"),
                 lambda: edit.precision(m, "*=int8", "digits"), lambda: metanet.inspect(m, "digits", reader=None)):
        with pytest.raises(ArchError, match="parametrize"):
            call()


def test_edits_of_a_meta_device_network_name_the_meta_device(net):
    """sparsity was a raw RuntimeError; the edits blamed the data ('does not accept inputs of shape')."""
    m = copy.deepcopy(net).to("meta")
    for call in (lambda: edit.sparsity(m), lambda: edit.prune(m, 0.5, "digits"),
                 lambda: metanet.inspect(m, "digits", reader=None),
                 lambda: edit.attack_success_rate(m, "digits", TRIGGER),
                 lambda: edit.reconstruct_trigger(m, torch.rand(4, 1, 8, 8), 10, steps=1)):
        with pytest.raises(ArchError, match="'meta' device"):
            call()
