"""NetView and measure on tiny networks whose numbers are worked out by hand here: the layers' fan-ins and the
regions' sizes (a conv layer's kernel entries, the head's plain inputs), the neuron outputs taken after the
activation, a channel as the mean of its map over space (and its span over every position of every example), the
scores of masked variants summed over chunks of examples, and the errors for a region past the last one and for
masks of different variant counts."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from metanet.errors import ArchError, ConfigError
from metanet.inspect import measure
from metanet.inspect.measure import activations, channel_spans, evaluate_masks
from metanet.inspect.netview import NetView
from metanet.nets import build


def _mlp() -> NetView:
    """mlp 2-2-2 (relu): hidden z = relu(W x + b) with W = [[1, -1], [-2, 1]], b = [0.5, -0.5]; head = identity."""
    m = build("mlp:2-2-2:relu")
    with torch.no_grad():
        m.layers[0].weight.copy_(torch.tensor([[1.0, -1.0], [-2.0, 1.0]]))
        m.layers[0].bias.copy_(torch.tensor([0.5, -0.5]))
        m.layers[1].weight.copy_(torch.eye(2))
        m.layers[1].bias.zero_()
    return NetView(m)


def _cnn() -> NetView:
    """cnn 1-2-2 (relu, 1x1 kernels): channel c = relu(w_c x + b_c), w = (1, -1), b = (0, 1); head = identity."""
    m = build("cnn:1-2-2:relu:k1:s1")
    with torch.no_grad():
        m.layers[0].weight.copy_(torch.tensor([1.0, -1.0]).view(2, 1, 1, 1))
        m.layers[0].bias.copy_(torch.tensor([0.0, 1.0]))
        m.layers[1].weight.copy_(torch.eye(2))
        m.layers[1].bias.zero_()
    return NetView(m)


def test_fan_ins_and_region_sizes_count_inputs_and_kernel_entries():
    v = NetView(build("mlp:6-5-4-3:relu"))
    assert [(L.index, L.width, L.fan_in) for L in v.layers] == [(1, 5, 6), (2, 4, 5)]
    assert [(r.out_features, r.in_features) for r in v.regions] == [(5, 6), (4, 5), (3, 4)]
    c = NetView(build("cnn:1-4-6-10:relu:k3:s1"))
    assert [(L.index, L.width, L.fan_in, L.kind) for L in c.layers] == [(1, 4, 9, "channel"), (2, 6, 36, "channel")]
    # the head reads the 6 pooled channels, not 6 x 9 kernel entries
    assert [(r.conv, r.out_features, r.in_features) for r in c.regions] == [(True, 4, 9), (True, 6, 36), (False, 10, 6)]


def test_unit_outputs_are_taken_after_the_activation():
    v = _mlp()
    x = torch.tensor([[1.0, 2.0], [3.0, 1.0]])
    # pre-activations: (1 - 2 + .5, -2 + 2 - .5) = (-.5, -.5) and (3 - 1 + .5, -6 + 1 - .5) = (2.5, -5.5)
    assert activations(v, x)[1].tolist() == [[0.0, 0.0], [2.5, 0.0]]
    logits, rec = v.forward(x, record=True)
    assert rec[1].tolist() == logits.tolist() == [[0.0, 0.0], [2.5, 0.0]]


def test_a_channel_is_its_maps_mean_over_space_and_spans_every_position():
    v = _cnn()
    x = torch.tensor([[[[1.0, 2.0], [3.0, 6.0]]], [[[0.0, 0.5], [0.5, 1.0]]]])
    # channel 0: relu(x) -> means 3.0, 0.5; channel 1: relu(1 - x) -> maps [0,0,0,0] and [1,.5,.5,0]: means 0, 0.5
    assert activations(v, x)[1].tolist() == [[3.0, 0.0], [0.5, 0.5]]
    assert activations(v, x, spatial=True)[1].tolist() == [[[[1.0, 2.0], [3.0, 6.0]], [[0.0, 0.0], [0.0, 0.0]]],
                                                           [[[0.0, 0.5], [0.5, 1.0]], [[1.0, 0.5], [0.5, 0.0]]]]
    # over both examples: channel 0 spans 0..6, channel 1 spans 0..1
    assert channel_spans(v, x)[1].tolist() == [6.0, 1.0]


@pytest.mark.parametrize("chunk", [None, 1, 3])
def test_masked_scores_are_summed_over_every_chunk_of_examples(chunk, monkeypatch):
    v = _mlp()
    if chunk is not None:  # CHUNK_FLOATS // (largest hidden tensor 2 x variants 2) examples per chunk
        monkeypatch.setattr(measure, "CHUNK_FLOATS", 4 * chunk)
    x = torch.tensor([[1.0, 2.0], [3.0, 1.0], [-2.0, -1.0], [2.0, 0.0], [-1.0, 0.0]])
    y = torch.tensor([0, 0, 1, 1, 0])
    # hidden outputs: (0, 0), (2.5, 0), (0, 2.5), (2.5, 0), (0, 1.5); the logits are these (identity head)
    masks = {1: torch.tensor([[1.0, 1.0], [1.0, 0.0]])}
    s = evaluate_masks(v, x, y, 2, masks)
    # variant 0: argmax (ties -> 0) is 0, 0, 1, 0, 1: right on examples 0, 1, 2; variant 1: all 0 -> 0, 1, 4
    assert s.accuracy.tolist() == [3 / 5, 3 / 5]
    assert s.per_class.tolist() == [[2 / 3, 1 / 2], [1.0, 0.0]]

    def ce(a: float, b: float, label: int) -> float:
        return math.log(math.exp(a) + math.exp(b)) - (a, b)[label]

    l0 = [ce(0, 0, 0), ce(2.5, 0, 0), ce(0, 2.5, 1), ce(2.5, 0, 1), ce(0, 1.5, 0)]
    l1 = [ce(0, 0, 0), ce(2.5, 0, 0), ce(0, 0, 1), ce(2.5, 0, 1), ce(0, 0, 0)]
    assert s.loss.tolist() == pytest.approx([sum(l0) / 5, sum(l1) / 5], rel=1e-6)


@pytest.mark.parametrize("between, commutes", [
    ([nn.Flatten()], "any"),
    ([nn.AvgPool2d(2), nn.Flatten()], "any"),
    ([nn.MaxPool2d(2), nn.Flatten()], "positive"),
    ([nn.Flatten(), nn.ReLU()], "positive"),
    ([nn.Flatten(), nn.Tanh()], "none"),
])
def test_which_factors_pass_from_a_channel_to_its_consumer(between, commutes):
    """The modules after a conv's ReLU and before the Linear that reads it: scaling a channel by a passes through
    linear ones for any a, through max pooling or a ReLU for a >= 0 only, and through a tanh for none."""
    flat = 2 * (4 if any(isinstance(m, (nn.AvgPool2d, nn.MaxPool2d)) for m in between) else 16)
    v = NetView(nn.Sequential(nn.Conv2d(1, 2, 1), nn.ReLU(), *between, nn.Linear(flat, 3)))
    (c,) = v.layer(1).consumers
    assert (c.weight, c.group, c.exclusive, c.commutes) == (f"{2 + len(between)}.weight", flat // 2, True, commutes)
    x = torch.rand(3, 1, 4, 4)
    assert torch.equal(v.forward(x)[0], v.model.eval()(x))


def test_a_region_past_the_last_weight_layer_is_refused():
    v = NetView(build("mlp:6-5-4-3:relu"))
    assert v.region(2).weight == "layers.2.weight"
    for bad in (3, -1):
        with pytest.raises(ArchError, match=r"region .* does not exist: .* has weight layers 0\.\.2"):
            v.region(bad)


def test_masks_with_different_variant_counts_are_refused():
    v = NetView(build("mlp:6-5-4-3:relu"))
    x = torch.zeros(2, 6)
    ok = v.forward(x, {1: torch.ones(3, 5), 2: torch.ones(3, 4)})[0]
    assert ok.shape == (3, 2, 3)
    with pytest.raises(ConfigError, match=r"same number of variants K .*got \[2, 3\]"):
        v.forward(x, {1: torch.ones(2, 5), 2: torch.ones(3, 4)})
    with pytest.raises(ConfigError, match=r"masks\[2\] must be a \(K, 4\) tensor"):
        v.forward(x, {1: torch.ones(3, 5), 2: torch.ones(3, 5)})


def test_recording_masked_outputs_is_refused():
    v = _mlp()
    with pytest.raises(ConfigError, match=r"record=True is only supported without masks"):
        v.forward(torch.zeros(1, 2), {1: torch.ones(1, 2)}, record=True)


def test_float32_examples_run_through_a_float64_network_in_float64():
    v = _mlp()
    v.model.double()
    logits, rec = v.forward(torch.tensor([[3.0, 1.0]]), record=True)
    assert logits.dtype == rec[1].dtype == torch.float64
    assert logits.tolist() == [[2.5, 0.0]]
