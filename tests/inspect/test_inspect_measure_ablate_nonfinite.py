"""`ablate_layer` on neurons whose outgoing weights hold NaN or inf: each is rescored as removed (its outgoing
columns zeroed). The rescoring shares one pass up to the layer among all such neurons; its scores must be the
bits the one-copy-per-neuron loop gave (kept below as the reference), whatever the family, dtype or damage."""

from __future__ import annotations

import copy
import math

import pytest
import torch
from torch import nn

from metanet.inspect import measure
from metanet.inspect.measure import ablate_layer, evaluate_masks
from metanet.inspect.netview import NetView
from metanet.nets import build


def _reference(view: NetView, layer: int, x, y, num_classes: int) -> measure.Scores:
    """The per-neuron loop ablate_layer ran before (one deep copy and one whole pass per rescored neuron)."""
    L = view.layer(layer)
    mask = 1.0 - torch.eye(L.width)
    scores = evaluate_masks(view, x, y, num_classes, {layer: mask})
    p = view.params()
    cons = [c for c in L.consumers if c.exclusive]
    for j in range(L.width):
        if all(bool(torch.isfinite(c.columns(p[c.weight].detach(), j)).all()) for c in cons):
            continue
        v = NetView(copy.deepcopy(view.model))
        q = v.params()
        for c in cons:
            c.columns(q[c.weight].detach(), j).zero_()
        s = evaluate_masks(v, x, y, num_classes, {L.index: mask[j : j + 1]})
        scores.accuracy[j], scores.per_class[j], scores.loss[j] = s.accuracy[0], s.per_class[0], s.loss[0]
    return scores


def _bits(t: torch.Tensor) -> torch.Tensor:
    return t.contiguous().view(torch.int64)  # the scores are float64: equal bits, NaN payloads and -0.0 included


def _damage(model: nn.Module, how: str, layer: int) -> nn.Module:
    """NaN / inf outgoing weights of a neuron of hidden ``layer`` (all of them: "head"), with a NaN bias or dead.
    One damaged layer: a NaN column read by every later neuron would leave every later score NaN."""
    p = dict(model.named_parameters())
    weights = [n for n in p if n.endswith("weight")]
    w_in, w_out = p[weights[layer - 1]], p[weights[layer]]
    b_in = p[weights[layer - 1].replace("weight", "bias")]
    g = w_out.shape[1] // w_in.shape[0] if w_out.dim() == 2 else 1  # columns per neuron (a Linear after Flatten)
    with torch.no_grad():
        if how == "nan":  # neuron 2: NaN outgoing weights and a NaN bias (its 0 output is NaN * 0 in the masked pass)
            w_out[:, 2 * g : 3 * g] = math.nan
            b_in[2] = math.nan
        elif how == "nan_dead":  # neuron 1: dead (0 output: reads nothing, bias -1), one NaN outgoing weight
            w_in[1].zero_()
            b_in[1] = -1.0
            w_out[0, 1 * g] = math.nan
        elif how == "inf":  # neuron 1: +inf outgoing weights, one of them -inf
            w_out[:, 1 * g : 2 * g] = math.inf
            w_out[3, 1 * g] = -math.inf
        elif how == "head":  # a NaN output layer: every neuron of the last hidden layer is rescored
            p[weights[-1]].fill_(math.nan)
    return model


def _nets(dtype: torch.dtype) -> dict[str, nn.Module]:
    torch.manual_seed(0)
    seq_cnn = nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU(), nn.Conv2d(4, 5, 3, stride=2), nn.Tanh(), nn.Flatten(),
                            nn.Linear(5 * 2 * 2, 10))
    nets = {
        "mlp": build("mlp:64-12-9-10:relu", seed=0),
        "mlp_skip": build("mlp:64-12-12-10:relu:skip", seed=0),  # layer 1 read by the residual layer 2
        "cnn": build("cnn:1-4-5-10:relu:k3:s2", seed=0),
        "seq_mlp": nn.Sequential(nn.Flatten(), nn.Linear(64, 12), nn.ReLU(), nn.Linear(12, 9), nn.Tanh(),
                                 nn.Linear(9, 10)),
        "seq_cnn": seq_cnn,
    }
    return {k: m.to(dtype).eval() for k, m in nets.items()}


def _data(n: int = 37):
    g = torch.Generator().manual_seed(1)
    return torch.rand(n, 1, 8, 8, generator=g), torch.randint(0, 10, (n,), generator=g)


@pytest.mark.parametrize("chunk", [None, 200])  # one chunk, and many (the scores accumulate over chunks)
@pytest.mark.parametrize("how, layer", [("nan", 1), ("nan", 2), ("nan_dead", 1), ("nan_dead", 2), ("inf", 1),
                                        ("inf", 2), ("head", 2)])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64, torch.float16])
def test_rescored_neurons_get_the_bits_of_the_per_neuron_loop(dtype, how, layer, chunk, monkeypatch):
    if chunk is not None:
        monkeypatch.setattr(measure, "CHUNK_FLOATS", chunk)
    x, y = _data()
    for name, model in _nets(dtype).items():
        v = NetView(_damage(model, how, layer))
        before = {k: t.detach().clone() for k, t in v.params().items()}
        for L in v.layers:
            got, want = ablate_layer(v, L.index, x, y, 10), _reference(v, L.index, x, y, 10)
            for field in ("accuracy", "per_class", "loss"):
                assert torch.equal(_bits(getattr(got, field)), _bits(getattr(want, field))), (name, L.index, field)
        # the caller's network is not touched (the zeroed columns live in a copy)
        after = v.params()
        assert all(torch.equal(_bits(before[k].double()), _bits(after[k].detach().double())) for k in before)


def test_rescoring_changes_the_scores_it_should():
    """The rescored neuron differs from a plain masked pass (0 * NaN), the others do not: the test above can fail."""
    x, y = _data()
    v = NetView(_nets(torch.float32)["mlp"])
    with torch.no_grad():
        v.params()["layers.1.weight"][:, 2] = math.nan
    got = ablate_layer(v, 1, x, y, 10)
    plain = evaluate_masks(v, x, y, 10, {1: 1.0 - torch.eye(12)})
    assert not math.isfinite(float(plain.loss[2])) and math.isfinite(float(got.loss[2]))
    assert torch.equal(got.loss[3:], plain.loss[3:]) and not bool(got.loss[3:].isfinite().any())


def test_a_layer_whose_every_neuron_is_rescored_skips_the_masked_pass_with_the_same_bits():
    """One neuron with NaN outgoing weights is the whole layer: its rescored scores alone are the result (finite)."""
    x, y = _data()
    v = NetView(build("mlp:64-1-10:relu", seed=0).eval())
    with torch.no_grad():
        v.params()["layers.1.weight"][3, 0] = math.nan
    got, want = ablate_layer(v, 1, x, y, 10), _reference(v, 1, x, y, 10)
    assert math.isfinite(float(got.loss[0]))
    for field in ("accuracy", "per_class", "loss"):
        assert torch.equal(_bits(getattr(got, field)), _bits(getattr(want, field))), field
