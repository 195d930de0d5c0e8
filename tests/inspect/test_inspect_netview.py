"""NetView and the measurements (metanet/inspect/netview.py, measure.py): masking a neuron is zeroing its
consumers' columns on awkward Sequentials; no variants or no examples give empty results (or NaN scores); the
neuron outputs NetView records are a plain eval-mode forward pass, written out here by hand (a training-mode
Dropout made them random draws), and the caller's train/eval modes are given back."""

from __future__ import annotations

import copy

import numpy as np
import pytest
import torch
from torch import nn

from metanet import tasks
from metanet.inspect import inspect
from metanet.inspect import measure
from metanet.inspect.measure import activations
from metanet.inspect.netview import NetView
from metanet.nets import build

SEQUENTIALS = {
    "dropout everywhere": (lambda: nn.Sequential(nn.Flatten(), nn.Dropout(0.2), nn.Linear(64, 8), nn.Dropout(0.1),
                                                 nn.ReLU(), nn.Dropout(), nn.Linear(8, 3)), (1, 8, 8)),
    "pool stride padding": (lambda: nn.Sequential(
        nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(4, 5, (3, 2), stride=(2, 1), padding=(1, 0)),
        nn.Tanh(), nn.AvgPool2d(2), nn.Flatten(), nn.Linear(10, 3)), (1, 16, 8)),
    "pool before act": (lambda: nn.Sequential(nn.Conv2d(1, 4, 3), nn.MaxPool2d(2), nn.ReLU(), nn.Conv2d(4, 2, 3),
                                              nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(2, 3)),
                        (1, 12, 12)),
    "dropout around flatten": (lambda: nn.Sequential(nn.Conv2d(1, 2, 3), nn.ReLU(), nn.Dropout(), nn.Flatten(),
                                                     nn.Dropout(), nn.Linear(72, 4), nn.GELU(), nn.Linear(4, 3)),
                               (1, 8, 8)),
    "linear into linear": (lambda: nn.Sequential(nn.Flatten(), nn.Linear(64, 8), nn.Linear(8, 6), nn.ReLU(),
                                                 nn.Linear(6, 3)), (1, 8, 8)),
    "rgb global pool": (lambda: nn.Sequential(nn.Conv2d(3, 4, 3), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(),
                                              nn.Linear(4, 3)), (3, 9, 7)),
}

X = torch.rand(24, 1, 8, 8, generator=torch.Generator().manual_seed(0))


@pytest.mark.parametrize("name", sorted(SEQUENTIALS))
def test_masking_a_neuron_is_zeroing_its_consumer_columns(name):
    make, shape = SEQUENTIALS[name]
    torch.manual_seed(0)
    model = make().eval()
    x = torch.rand(5, *shape)
    v = NetView(model)
    assert torch.allclose(v.forward(x)[0], model(x), atol=1e-6)
    for L in v.layers:
        j = L.width - 1
        mask = torch.ones(1, L.width)
        mask[0, j] = 0
        masked = v.forward(x, {L.index: mask})[0][0]
        zeroed = copy.deepcopy(model)
        p = dict(zeroed.named_parameters())
        with torch.no_grad():
            for c in L.consumers:
                c.columns(p[c.weight], j).zero_()
        assert torch.allclose(masked, zeroed(x), atol=1e-5)


@pytest.mark.parametrize("arch", ["mlp:64-8-4:relu", "cnn:1-3-4-4:relu:k3:s2"])
def test_zero_variants_give_empty_results(arch):
    # masks of shape (0, width) were a raw RuntimeError (view with -1 of an empty tensor)
    v = NetView(build(arch, seed=0))
    x, y = torch.rand(3, 1, 8, 8), torch.tensor([0, 1, 2])
    w = v.layers[0].width
    assert v.forward(x, {1: torch.ones(0, w)})[0].shape == (0, 3, 4)
    assert measure.predictions(v, x, {1: torch.ones(0, w)}).shape == (0, 3)
    s = measure.evaluate_masks(v, x, y, 4, {1: torch.ones(0, w)})
    assert s.accuracy.shape == (0,) and s.per_class.shape == (0, 4) and s.loss.shape == (0,)


def test_measurements_on_no_examples_are_empty_or_nan():
    # activations / predictions of no examples were a raw "torch.cat(): expected a non-empty list"; the scores of
    # no examples were accuracy 0 and loss 0 (a perfect loss), not undefined
    v = NetView(build("cnn:1-3-4-4:relu:k3:s2", seed=0))
    x, y = torch.rand(0, 1, 8, 8), torch.zeros(0, dtype=torch.long)
    assert {k: tuple(a.shape) for k, a in measure.activations(v, x).items()} == {1: (0, 3), 2: (0, 4)}
    assert measure.predictions(v, x).shape == (0,)
    assert measure.predictions(v, x, {1: torch.ones(2, 3)}).shape == (2, 0)
    s = measure.evaluate_masks(v, x, y, 4, {})
    assert torch.isnan(s.accuracy).all() and torch.isnan(s.loss).all()


def _manual_family(model) -> tuple[dict[int, torch.Tensor], torch.Tensor]:
    """Neuron outputs per hidden layer and logits, written out by hand from the family's definition."""
    a, out = model.arch, {}
    if a.family == "mlp":
        h, skips = X.flatten(1), set(a.skip_layers())
        for i, lin in enumerate(model.layers[:-1]):
            z = model.act(lin(h))
            out[i + 1] = z
            h = h + z if i in skips else z
        return out, model.layers[-1](h)
    h = X
    for i, conv in enumerate(model.layers[:-1]):
        h = model.act(conv(h))
        out[i + 1] = h
    return out, model.layers[-1](h.mean((2, 3)))


def _manual_sequential(seq: nn.Sequential, taps: list[int]) -> tuple[dict[int, torch.Tensor], torch.Tensor]:
    """Outputs of modules ``taps`` (the activations ending each hidden layer) in eval mode, by forward hooks."""
    rec: dict[int, torch.Tensor] = {}
    modes = [m.training for m in seq.modules()]
    hooks = [seq[p].register_forward_hook(lambda m, i, o, k=k: rec.__setitem__(k + 1, o)) for k, p in enumerate(taps)]
    try:
        logits = seq.eval()(X)
    finally:
        for h in hooks:
            h.remove()
        for m, t in zip(seq.modules(), modes):
            m.training = t
    return rec, logits


def _nets():
    torch.manual_seed(0)
    mlp_seq = nn.Sequential(nn.Flatten(), nn.Linear(64, 12), nn.ReLU(), nn.Dropout(0.5), nn.Linear(12, 9), nn.Tanh(),
                            nn.Dropout(0.3), nn.Linear(9, 10))
    cnn_seq = nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Dropout(0.5), nn.Conv2d(4, 5, 3, padding=1),
                            nn.ReLU(), nn.Flatten(), nn.Dropout(0.2), nn.Linear(5 * 3 * 3, 10))
    return {"mlp": (build("mlp:64-12-10:tanh", seed=0), None),
            "skip mlp": (build("mlp:64-16-16-16-10:relu:skip", seed=0), None),
            "cnn": (build("cnn:1-4-6-10:relu:k3:s2", seed=0), None),
            "sequential mlp + dropout": (mlp_seq, [2, 5]),
            "sequential cnn + dropout": (cnn_seq, [1, 5])}


@pytest.mark.parametrize("training", [False, True])
@pytest.mark.parametrize("name", list(_nets()))
def test_recorded_outputs_are_a_manual_eval_forward(name, training):
    model, taps = _nets()[name]
    model.train(training)
    if training and taps:
        model[-2].train(False)  # a mix of modes: each module's own mode must come back
    before = [m.training for m in model.modules()]
    ref, logits_ref = _manual_family(model) if taps is None else _manual_sequential(model, taps)
    v = NetView(model)
    for _ in range(2):  # a training-mode Dropout gave another draw on every call
        logits, rec = v.forward(X, record=True)
        assert sorted(rec) == sorted(ref)
        for k in ref:
            assert torch.equal(rec[k], ref[k]), (name, k)
        assert torch.equal(logits, logits_ref)
        # the masked path (all-ones masks, two variants) computes the same logits
        masked, _ = v.forward(X, {L.index: torch.ones(2, L.width) for L in v.layers})
        assert torch.allclose(masked[0], logits_ref, atol=1e-6) and torch.equal(masked[0], masked[1])
    acts = activations(v, X)
    for k in ref:
        want = ref[k] if ref[k].dim() == 2 else ref[k].mean((2, 3))
        assert torch.allclose(acts[k], want, atol=1e-6)
    assert [m.training for m in model.modules()] == before  # the caller's modes are put back


def test_inspect_measures_a_training_mode_network_in_eval_mode_and_gives_it_back():
    model, taps = _nets()["sequential mlp + dropout"]
    x, y = tasks.get("digits").split("test")
    model.train()
    db = inspect(model, "digits", reader=None, max_examples=60)
    assert all(m.training for m in model.modules())
    model.eval()
    want = model[2](model[1](model[0](x[:60]))).detach().double()  # layer 1's outputs, no dropout
    assert np.allclose(db.column("act_mean", 1), want.mean(0).numpy())
