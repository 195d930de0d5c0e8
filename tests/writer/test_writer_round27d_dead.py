"""Writer round 27d: a support set too small for the learned unit shift (two examples) gave a constant network."""

from __future__ import annotations

import torch

from metanet import tasks
from metanet.nets import Arch, build
from metanet.writer.generate import support_set


def _two_examples():
    # mnist1d, one example per class: not augmented (too few examples to measure smoothness), and the learned
    # shift put every ReLU unit's threshold beyond the support's standardised range (at most 1 on two examples)
    x, y = support_set(tasks.resolve("mnist1d[0,1]"), 1, 0)
    return x, y


def test_generate_one_shot_mnist1d_is_not_a_constant_network(trained):
    # every hidden unit was dead on both support examples, the head wrote zeros: val accuracy 0.5, loss ln 2
    import metanet

    g = metanet.generate("mnist1d[0,1]", shots=1, candidates=2, seed=0, writer=trained)
    task = tasks.resolve("mnist1d[0,1]")
    x, _ = task.split("test")
    for net in g.candidates:
        with torch.no_grad():
            assert len(net(x).argmax(1).unique()) == 2
        assert float(net.layers[-1].weight.detach().abs().max()) > 0
    assert g.report.candidates[g.report.chosen]["val_accuracy"] > 0.55


def test_write_keeps_some_unit_of_every_hidden_layer_active_on_the_support(trained):
    x, y = _two_examples()
    arch = Arch.coerce("mlp:40-32-32-2:relu")
    with torch.no_grad():
        p = trained.write(arch, x, y, 2, candidates=2, seed=1)
    for i in range(2):
        net = build(arch, seed=None)
        net.load_state_dict({k: v[i] for k, v in p.items()})
        h = x.flatten(1)
        for layer in net.layers[:-1]:
            h = torch.relu(layer(h))
            assert bool((h > 0).any()), "a hidden layer is dead on the whole support set"
        with torch.no_grad():
            out = net(x)
        assert out.argmax(1).tolist() == y.tolist()  # it fits its own two examples


def test_write_cnn_layer_dead_on_the_support_is_revived(trained):
    # the convolution path: 1x1 images with 40 channels and k=1 are the same two rows as the MLP's
    x, y = _two_examples()
    x = x.reshape(2, 40, 1, 1)
    arch = Arch.coerce("cnn:40-16-2:relu:k1:s1")
    with torch.no_grad():
        p = trained.write(arch, x, y, 2, candidates=2, seed=0)
        for i in range(2):
            net = build(arch, seed=None)
            net.load_state_dict({k: v[i] for k, v in p.items()})
            out = net(x)
            assert not torch.equal(out[0], out[1])
            assert out.argmax(1).tolist() == y.tolist()


def test_generate_warns_when_the_chosen_network_predicts_one_class(trained):
    # a constant network scored 0.5 on two balanced classes and looked like a (bad) working one: now it is named
    import importlib
    import warnings

    import pytest

    import metanet
    from metanet.nets import MLP

    class Constant(MLP):
        def forward(self, x):
            return torch.zeros(len(x), 2) + torch.tensor([0.0, 1.0])

    task = tasks.resolve("mnist1d[0,1]")
    g = metanet.generate(task, shots=1, candidates=1, writer=trained)
    gen = importlib.import_module("metanet.writer.generate")  # the module (metanet.writer.generate is the function)

    with pytest.warns(UserWarning, match=r"predicts class 1 on every validation example: a constant classifier"):
        gen._warn_if_constant(Constant(g.model.arch), task, "mnist1d[0,1]", 0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        gen._warn_if_constant(g.model, task, "mnist1d[0,1]", 0)  # the written network is not constant
