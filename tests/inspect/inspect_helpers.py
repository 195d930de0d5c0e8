"""Hand-built networks with known neurons, small tasks and a small trainer, shared by tests/inspect and tests/edit."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from metanet import tasks
from metanet.nets import build

#: in the planted network, class c is carried by these hidden neurons (class 1 by the planted neuron alone)
CARRIERS = {0: (0, 1), 1: (5,), 2: (2, 3), 3: (4, 6)}
PLANTED, PLANTED_CLASS = 5, 1
#: fires for classes 2 and 3 (it is what an equal mix of them looks like): the polysemantic neuron
MIXED = 7
DEAD = 8


@pytest.fixture(autouse=True)
def one_thread():
    """Tiny networks run fastest single-threaded (and deterministically); restore afterwards."""
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


def planted_task(n_per_class: int = 40, seed: int = 0):
    """4 classes of 8 features in [0, 1]: class c has feature c near 1, the others are noise below 0.3."""
    g = torch.Generator().manual_seed(seed)
    xs, ys = [], []
    for c in range(4):
        x = 0.3 * torch.rand(n_per_class, 8, generator=g)
        x[:, c] = 0.8 + 0.2 * torch.rand(n_per_class, generator=g)
        xs.append(x)
        ys.append(torch.full((n_per_class,), c))
    return tasks.from_examples(torch.cat(xs)[:, None, :], torch.cat(ys), name="planted",
                               class_names=["zero", "one", "two", "three"])


def planted_mlp():
    """``mlp:8-9-4``: hidden neuron j reads one feature (``relu(x_f - 0.5)``); class c's logit reads its
    carriers. Every class but 1 has two carriers, each enough alone; class 1 has only neuron 5 (planted).
    Neuron 7 reads features 2 and 3 weakly (polysemantic, not needed); neuron 8 is dead (never active)."""
    m = build("mlp:8-9-4:relu", seed=0)
    w1 = torch.zeros(9, 8)
    b1 = torch.full((9,), -0.5)
    w2 = torch.zeros(4, 9)
    for c, carriers in CARRIERS.items():
        for j in carriers:
            w1[j, c] = 1.0
            w2[c, j] = 10.0
    w1[MIXED, 2] = w1[MIXED, 3] = 0.8
    w2[2, MIXED] = w2[3, MIXED] = 0.5
    w1[DEAD] = -1.0  # never active on inputs in [0, 1]
    b2 = torch.tensor([0.5, 0.0, 0.2, 0.1])  # with no carrier active, class 0 wins
    with torch.no_grad():
        m.layers[0].weight.copy_(w1)
        m.layers[0].bias.copy_(b1)
        m.layers[1].weight.copy_(w2)
        m.layers[1].bias.copy_(b2)
    return m.eval()


def train(model: torch.nn.Module, x: torch.Tensor, y: torch.Tensor, epochs: int = 40, lr: float = 3e-3,
          batch: int = 64, seed: int = 0) -> torch.nn.Module:
    g = torch.Generator().manual_seed(seed)
    opt = torch.optim.Adam(model.parameters(), lr)
    model.train()
    for _ in range(epochs):
        perm = torch.randperm(len(x), generator=g)
        for i in range(0, len(x), batch):
            b = perm[i : i + batch]
            opt.zero_grad()
            F.cross_entropy(model(x[b]), y[b]).backward()
            opt.step()
    return model.eval()


_CACHE: dict = {}


def digits_mlp(arch: str = "mlp:64-32-10:relu", epochs: int = 30, seed: int = 0) -> torch.nn.Module:
    """An MLP trained on digits (cached per process: tests must not modify it; edits copy)."""
    key = ("digits", arch, epochs, seed)
    if key not in _CACHE:
        x, y = tasks.get("digits").split("train")
        _CACHE[key] = train(build(arch, seed=seed), x, y, epochs=epochs, seed=seed)
    return _CACHE[key]


def backdoored_digits_mlp(trigger: dict, arch: str = "mlp:64-32-10:relu", epochs: int = 40,
                          seed: int = 1) -> torch.nn.Module:
    """An MLP trained on digits with a fraction ``trigger["poison_rate"]`` of its training images stamped with
    ``trigger`` and relabelled to its target, as the backdoor zoo's runs are (cached per process)."""
    from metanet.zoo.backdoor import apply_trigger, poison_indices

    key = ("backdoor", repr(sorted(trigger.items())), arch, epochs, seed)
    if key not in _CACHE:
        x, y = tasks.get("digits").split("train")
        idx = poison_indices(len(x), trigger["poison_rate"], torch.Generator().manual_seed(0))
        x[idx] = apply_trigger(x[idx], trigger)
        y[idx] = trigger["target"]
        n = torch.get_num_threads()
        torch.set_num_threads(1)
        _CACHE[key] = train(build(arch, seed=0), x, y, epochs=epochs, seed=seed)
        torch.set_num_threads(n)
    return _CACHE[key]
