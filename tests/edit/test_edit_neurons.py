"""metanet.edit: removing, scaling and clamping neurons, exactly and verified; the figures a removal reports are
true (a neuron removed twice counts once), and attack_success_rate of an empty list of networks is refused."""

from __future__ import annotations

import re

import numpy as np
import pytest
import torch
from inspect_helpers import PLANTED, PLANTED_CLASS, planted_mlp, planted_task
from torch import nn

from metanet import edit, tasks
from metanet.errors import ArchError
from metanet.inspect.netview import NetView
from metanet.nets import ACTIVATIONS, MLP, Arch, build

TRIGGER = {"size": 3, "location": [0, 0], "kind": "square", "target": 0}


def test_removing_the_planted_neuron_drops_exactly_its_class():
    model = planted_mlp()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    edited, report = edit.remove(model, f"1:{PLANTED}", planted_task())
    assert report.before.per_class == [1.0, 1.0, 1.0, 1.0]
    assert report.after.per_class == [0.0 if c == PLANTED_CLASS else 1.0 for c in range(4)]
    assert report.accuracy_change == pytest.approx(-0.25)
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())  # the original is untouched
    assert edited.layers[0].weight[PLANTED].abs().sum() == 0 and edited.layers[0].bias[PLANTED] == 0
    assert edited.layers[1].weight[:, PLANTED].abs().sum() == 0
    assert "class 1" in str(report) and "-100.00 pts" in str(report)
    # a redundant carrier can go at no cost
    _, r2 = edit.remove(model, [(1, 0)], planted_task())
    assert r2.after.per_class == r2.before.per_class


def _digits_x(n=64):
    return tasks.get("digits").split("test")[0][:n]


@pytest.mark.parametrize(
    "arch, layer, idx",
    [
        ("mlp:64-16-10:relu", 1, [3, 7]),
        ("mlp:64-12-12-12-10:sigmoid:skip", 2, [0, 5]),  # act(0) = 0.5 into the residual stream: folded out
        ("mlp:64-12-12-12-10:sigmoid:skip", 1, [2]),  # read by the residual layers after it
        ("mlp:64-12-12-10:tanh:skip", 2, [4]),
        ("cnn:1-4-6-10:sigmoid:k3:s2", 1, [1]),
        ("cnn:1-4-6-10:relu:k3:s2", 2, [0, 5]),
    ],
)
def test_weight_removal_equals_masked_ablation(arch, layer, idx):
    model = build(arch, seed=3)
    x = _digits_x()
    v = NetView(model)
    mask = torch.ones(1, v.layer(layer).width)
    mask[0, idx] = 0
    with torch.no_grad():
        masked = v.forward(x, {layer: mask})[0][0]
    edited, _ = edit.remove(model, {layer: idx}, "digits")
    with torch.no_grad():
        assert torch.allclose(edited(x), masked, atol=1e-5)
        assert not torch.allclose(model(x), masked, atol=1e-4)


def test_sequential_conv_to_linear_removal_and_scale():
    seq = nn.Sequential(nn.Conv2d(1, 3, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                        nn.Linear(3 * 16, 10))
    x = _digits_x()
    v = NetView(seq)
    assert [c.group for c in v.layers[0].consumers] == [16]
    mask = torch.tensor([[1.0, 0.25, 1.0]])
    with torch.no_grad():
        masked = v.forward(x, {1: mask})[0][0]
    scaled, rep = edit.scale(seq, "1:1", 0.25, "digits")
    assert rep.details["via"] == "outgoing"
    with torch.no_grad():
        assert torch.allclose(scaled(x), masked, atol=1e-5)
    removed, _ = edit.remove(seq, "1:1", "digits")
    assert removed[4].weight[:, 16:32].abs().sum() == 0 and removed[4].weight[:, :16].abs().sum() > 0


@pytest.mark.parametrize("arch, via", [("mlp:64-16-10:tanh", "outgoing"), ("mlp:64-12-12-10:relu:skip", "incoming")])
def test_scale_is_exact(arch, via):
    model = build(arch, seed=0)
    layer = 2 if "skip" in arch else 1
    x = _digits_x()
    v = NetView(model)
    mask = torch.ones(1, v.layer(layer).width)
    mask[0, 2] = 1.7
    with torch.no_grad():
        masked = v.forward(x, {layer: mask})[0][0]
    edited, rep = edit.scale(model, {layer: [2]}, 1.7, "digits")
    assert rep.details["via"] == via
    with torch.no_grad():
        assert torch.allclose(edited(x), masked, atol=1e-5)


def test_scale_refuses_what_it_cannot_do_exactly():
    with pytest.raises(ArchError, match="residual stream.*valid: factors >= 0 with relu"):
        edit.scale(build("mlp:64-12-12-10:tanh:skip"), "2:0", 0.5, "digits")
    with pytest.raises(ArchError, match="not finite"):
        edit.scale(build("mlp:64-12-10:relu"), "1:0", float("inf"), "digits")


@pytest.mark.parametrize("pool", [nn.MaxPool2d(2), nn.AvgPool2d(2)], ids=["max", "avg"])
def test_negative_scale_through_pooling_is_exact_or_refused(pool):
    """A negative factor passes through average pooling but not max pooling (max(-x) != -max(x)): scaling the
    weights that read the pooled channel is exact for the first and refused for the second."""
    torch.manual_seed(0)
    seq = nn.Sequential(nn.Conv2d(1, 3, 3, padding=1), nn.Tanh(), pool, nn.Flatten(), nn.Linear(3 * 16, 10))
    x = _digits_x()
    mask = torch.tensor([[1.0, -0.5, 1.0]])
    with torch.no_grad():
        masked = NetView(seq).forward(x, {1: mask})[0][0]
    if isinstance(pool, nn.MaxPool2d):
        with pytest.raises(ArchError, match="max pool"):
            edit.scale(seq, "1:1", -0.5, "digits")
        scaled, rep = edit.scale(seq, "1:1", 0.5, "digits")  # a positive factor still passes through
        assert rep.details["via"] == "outgoing"
        return
    scaled, rep = edit.scale(seq, "1:1", -0.5, "digits")
    assert rep.details["via"] == "outgoing"
    with torch.no_grad():
        assert torch.allclose(scaled(x), masked, atol=1e-5)


@pytest.mark.parametrize("act, value", [("relu", 0.7), ("tanh", -0.3), ("sigmoid", 0.2), ("gelu", -0.1), ("silu", 1.5)])
def test_clamp_fixes_the_output(act, value):
    model = build(f"mlp:64-10-10:{act}", seed=0)
    edited, _ = edit.clamp(model, "1:4", "digits", value)
    x = _digits_x()
    with torch.no_grad():
        h = edited.act(edited.layers[0](x.flatten(1)))
    assert torch.allclose(h[:, 4], torch.full((len(x),), value), atol=1e-5)


def test_clamp_to_the_mean_and_value_errors():
    model = planted_mlp()
    task = planted_task()
    edited, rep = edit.clamp(model, f"1:{PLANTED}", task)  # no value: mean on the train split
    x, y = task.split("train")
    mean = float(torch.relu(x.flatten(1)[:, PLANTED_CLASS] - 0.5).mean())
    assert rep.params["neurons"]["1:5"] == pytest.approx(mean, abs=1e-5)
    with pytest.raises(ArchError, match=r"relu neuron cannot output -1; valid clamp values for relu: \[0, inf\)"):
        edit.clamp(model, "1:1=-1", task)
    with pytest.raises(ArchError, match="no bias"):
        edit.clamp(build("mlp:8-9-4:relu:nobias"), "1:1=0", task)


@pytest.mark.parametrize(
    "neurons, message",
    [
        ("1:0-8", "would leave it with no working unit"),
        ("2:1", "layer '2' is not a hidden layer .*valid hidden layers \\(input = layer 0\\): 1 \\(9 units\\)"),
        ("1:9", "neuron 9 of layer 1 does not exist: layer 1 has 9 units \\(0..8\\)"),
        ("0;1", "malformed neuron selection"),
        ([], "no neurons selected"),
        # a range is cut at the layer's width before it is built (was OverflowError / a list of 10^8 indices)
        ("1:0-99999999999999999999", "neuron 9 of layer 1 does not exist: layer 1 has 9 units \\(0..8\\)"),
        ("1:12-99999999", "neuron 12 of layer 1 does not exist"),
    ],
)
def test_remove_errors_change_nothing(neurons, message):
    model = planted_mlp()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    with pytest.raises(ArchError, match=message):
        edit.remove(model, neurons, planted_task(), inplace=True)
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())


def test_removing_the_rest_of_a_layer_counts_earlier_removals():
    model, _ = edit.remove(planted_mlp(), "1:0-4", planted_task())
    with pytest.raises(ArchError, match="5 already removed"):
        edit.remove(model, "1:5-8", planted_task())
    edit.remove(model, "1:5-7", planted_task())  # one working unit stays: allowed


@pytest.mark.parametrize(
    "neurons",
    [
        {1: np.array([3, 4])},  # indices from numpy (e.g. np.flatnonzero of a column of the neuron DB)
        {1: np.int64(3)},
        {1: torch.tensor([3, 4])},  # or from torch (e.g. topk indices)
        [(np.int64(1), np.int64(3))],
        (1, np.int64(3)),
    ],
    ids=["numpy-array", "numpy-scalar", "torch", "numpy-pairs", "numpy-tuple"],
)
def test_numpy_and_torch_indices_are_neurons(neurons):
    model = planted_mlp()
    edited, rep = edit.remove(model, neurons, planted_task())
    assert edited.layers[0].weight[3].abs().sum() == 0
    assert rep.params["neurons"].startswith("1:3")


@pytest.mark.parametrize(
    "neurons, message",
    [
        ({1: True}, "neurons True of layer 1 are neither an index nor a list of indices"),
        ({1: [True]}, "neuron True of layer 1 is not an integer index"),
        ({1: [2.5]}, "neuron 2.5 of layer 1 is not an integer index"),
        ({1.9: [3]}, "layer 1.9 is not a hidden layer"),
    ],
)
def test_non_integer_neurons_and_layers_are_refused(neurons, message):
    with pytest.raises(ArchError, match=message):
        edit.remove(planted_mlp(), neurons, planted_task())


@pytest.mark.parametrize("value", [float("inf"), float("-inf"), float("nan")])
@pytest.mark.parametrize("act", ["relu", "identity"])
def test_clamp_refuses_values_that_are_not_finite(act, value):
    model = build(f"mlp:8-9-4:{act}", seed=0)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    with pytest.raises(ArchError, match="not finite"):
        edit.clamp(model, "1:1", planted_task(), value, inplace=True)
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())


@pytest.mark.parametrize("dtype, value", [(torch.float32, 1e39), (torch.float16, 1e5)])
def test_clamp_refuses_a_value_the_network_dtype_cannot_hold(dtype, value):
    # finite as a Python float, but no float32 (float16) bias holds it: torch raised a RuntimeError
    # ("value cannot be converted to type float without overflow")
    model = build("mlp:8-9-4:relu", seed=0).to(dtype)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    v = re.escape(f"{value:g}")
    with pytest.raises(ArchError, match=rf"clamp value {v} of neuron 1:1 needs a bias of {v}, more than the "
                                        rf"network's {str(dtype)[6:]} parameters can hold .*valid: a smaller value"):
        edit.clamp(model, "1:1", planted_task(), value, inplace=True)
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())


@pytest.mark.parametrize("neurons, via", [("1:1", "outgoing"), ("1:1;2:0", "incoming")])
def test_scale_refuses_a_factor_that_makes_weights_infinite(neurons, via):
    # a finite factor whose product with a weight overflows float32 wrote a network with inf weights
    model = build("mlp:8-9-9-4:relu:skip", seed=0) if via == "incoming" else build("mlp:8-9-4:tanh", seed=0)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    with pytest.raises(ArchError, match=r"scaling neuron 1:1 by 1e\+40 makes a parameter of size .*, more than the "
                                        r"network's float32 parameters can hold .*valid: a smaller factor"):
        edit.scale(model, neurons, 1e40, planted_task(), inplace=True)
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())  # nothing changed, even 2:0
    edited, _ = edit.scale(model, neurons, 1e30, planted_task())  # large but representable: still allowed
    assert all(torch.isfinite(p).all() for p in edited.parameters())


def test_scale_and_clamp_name_a_value_that_is_not_a_number():
    with pytest.raises(ArchError, match="scale factor 'x' is not a number"):
        edit.scale(planted_mlp(), "1:1", "x", planted_task())
    with pytest.raises(ArchError, match="clamp value 'x' is not a number"):
        edit.clamp(planted_mlp(), "1:1", planted_task(), "x")


@pytest.mark.parametrize("name, call", [
    ("remove", lambda m, t: edit.remove(m, "1:1", t)),
    ("scale", lambda m, t: edit.scale(m, "1:1", 0.5, t)),
    ("clamp", lambda m, t: edit.clamp(m, "1:1", t)),
])
def test_edits_leave_the_callers_training_mode_alone(name, call):
    model = planted_mlp().train()
    edited, _ = call(model, planted_task())
    assert model.training and all(m.training for m in model.modules())
    assert not edited.training


def test_edits_of_a_float64_network():
    model = build("mlp:64-8-10:relu", seed=0).double()
    edited, rep = edit.clamp(model, "1:1", "digits")  # mean ablation runs the network on the train split
    assert edited.layers[0].weight.dtype == torch.float64
    assert rep.after.n == rep.before.n


def test_clamp_takes_per_neuron_values_as_a_dict():
    model = build("mlp:64-10-10:tanh", seed=0)
    edited, rep = edit.clamp(model, {(1, 4): 0.25, (1, 6): -0.5}, "digits")
    x = _digits_x()
    with torch.no_grad():
        h = edited.act(edited.layers[0](x.flatten(1)))
    assert torch.allclose(h[:, 4], torch.full((len(x),), 0.25), atol=1e-5)
    assert torch.allclose(h[:, 6], torch.full((len(x),), -0.5), atol=1e-5)
    assert rep.params["neurons"] == {"1:4": 0.25, "1:6": -0.5}
    with pytest.raises(ArchError, match="value 'x' is not a number"):
        edit.clamp(model, {(1, 4): "x"}, "digits")


def test_a_sequential_with_named_layers_is_inspected_and_edited():
    """nn.Sequential(OrderedDict(...)) names its parameters 'fc1.weight', not '1.weight'."""
    from collections import OrderedDict

    import metanet

    torch.manual_seed(0)
    m = nn.Sequential(OrderedDict([("flat", nn.Flatten()), ("fc1", nn.Linear(64, 16)), ("act", nn.ReLU()),
                                   ("fc2", nn.Linear(16, 10))]))
    assert [r.weight for r in NetView(m).regions] == ["fc1.weight", "fc2.weight"]
    assert len(metanet.inspect(m, "digits", max_examples=100).rows) == 16
    out = edit.remove(m, {1: [3]}, "digits")
    assert out.model.fc1.weight[3].abs().sum() == 0 and out.model.fc2.weight[:, 3].abs().sum() == 0
    assert m.fc1.weight[3].abs().sum() > 0  # the caller's model is untouched
    assert float(edit.prune(m, 0.5, "digits").model.fc1.weight.eq(0).float().mean()) == 0.5


def _net(spec: str) -> MLP:
    torch.manual_seed(0)
    return MLP(Arch.parse(spec))


def test_removing_a_residual_sigmoid_neuron_twice_leaves_the_network_as_it_was():
    # the second removal folded act(0) = 0.5 out of the biases again: the output moved while the report said
    # "removed: 1" of a neuron that was long gone
    first = edit.remove(_net("mlp:64-16-16-16-10:sigmoid:skip"), "2:5", "digits")
    again = edit.remove(first.model, "2:5", "digits")
    x = torch.rand(16, 1, 8, 8)
    with torch.no_grad():
        assert torch.equal(again.model(x), first.model(x))
    assert again.report.details["removed"] == 0
    assert again.report.details["already_removed"] == ["2:5"]
    assert again.report.after.accuracy == again.report.before.accuracy


def test_removed_counts_only_the_neurons_this_edit_removed():
    first = edit.remove(_net("mlp:64-16-16-10:relu"), "1:3", "digits")
    assert first.report.details == {"removed": 1}  # nothing already removed: no extra key
    both = edit.remove(first.model, "1:3,4", "digits")
    assert both.report.details == {"removed": 1, "already_removed": ["1:3"]}
    assert "already_removed: 1:3" in str(both.report)


def test_a_sigmoid_neuron_with_zero_inputs_still_read_by_the_next_layer_is_removed_and_counted():
    # zero incoming weights and bias is not "removed" for sigmoid: it still sends 0.5 through its columns
    m = _net("mlp:64-16-16-10:sigmoid")
    with torch.no_grad():
        m.layers[0].weight[2].zero_()
        m.layers[0].bias[2] = 0
    r = edit.remove(m, "1:2", "digits")
    assert r.report.details == {"removed": 1}
    assert not r.model.layers[1].weight[:, 2].any()


def test_attack_success_rate_of_an_empty_list_is_an_arch_error():
    for empty in ([], ()):
        with pytest.raises(ArchError, match="empty list of networks"):
            edit.attack_success_rate(empty, "digits", TRIGGER)
    m = _net("mlp:64-16-10:relu")  # a list of one still gives a list of one rate
    rates = edit.attack_success_rate([m], "digits", TRIGGER)
    assert isinstance(rates, list) and len(rates) == 1 and 0 <= rates[0] <= 1


def _without(model, layer: int, j: int):
    """The network of ``model``'s architecture with one neuron fewer in hidden ``layer``, every other weight kept."""
    a = model.arch
    widths = list(a.widths)
    widths[layer] -= 1
    small = build(Arch(a.family, tuple(widths), a.activation, a.bias, a.skips, a.kernel, a.stride), seed=0)
    keep = [i for i in range(a.widths[layer]) if i != j]
    with torch.no_grad():
        for i, (big, sm) in enumerate(zip(model.layers, small.layers)):
            w = big.weight[keep] if i == layer - 1 else big.weight
            sm.weight.copy_(w[:, keep] if i == layer else w)
            if a.bias:
                sm.bias.copy_(big.bias[keep] if i == layer - 1 else big.bias)
    return small


@pytest.mark.parametrize("act", list(ACTIVATIONS))
@pytest.mark.parametrize("arch", ["mlp:64-7-5-10:{}", "mlp:64-7-5-10:{}:nobias", "cnn:1-4-3-10:{}:k3:s2",
                                  "cnn:1-4-3-10:{}:k3:s2:nobias"])
def test_a_removed_neuron_computes_what_the_network_without_it_computes(arch, act):
    model = build(arch.format(act), seed=1)
    x = tasks.get("digits").split("test")[0][:32]
    for layer in (1, 2):
        for j in (0, model.arch.widths[layer] - 1):
            edited = edit.remove(model, (layer, j), "digits").model
            with torch.no_grad():
                assert torch.allclose(edited(x), _without(model, layer, j)(x), atol=1e-5), (layer, j)
