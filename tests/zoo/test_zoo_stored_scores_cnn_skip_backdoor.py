"""Stored scores of CNNs, residual MLPs and backdoored runs on subset/transformed tasks, recomputed independently.

``test_zoo_ground_truth.py`` checks plain MLPs; the population evaluator has other paths for CNNs (one grouped
convolution over all members), residual skips, several widths per run and triggers stamped on a ``+permute`` or
class-subset task. Here each stored value is recomputed by a forward pass written from the documented architecture
(``F.conv2d`` / ``F.linear`` in float64, not ``metanet.nets``), on the splits of ``metanet.tasks``.
"""

from __future__ import annotations

import copy

import pytest
import torch
import torch.nn.functional as F

from metanet import tasks
from metanet.nets import build as build_net
from metanet.zoo import Zoo, build
from metanet.zoo.recipe import derived_seeds

ACTS = {"relu": torch.relu, "tanh": torch.tanh, "gelu": F.gelu}

CNN = {
    "name": "scores-cnn", "seed": 8, "count": 4, "population": 4, "tasks": ["digits", "digits[0-4]+permute(2)"],
    "checkpoints": [0, 1],
    "arch": {"family": "cnn", "depth": 2, "width": 4, "activation": "gelu", "kernel": [3, 5], "stride": 2},
    "train": {"optimizer": "adam", "lr": 1.0e-2, "batch_size": 64, "epochs": 1, "train_examples": 300,
              "init_scale": {"uniform": [0.8, 1.2]}, "dropout": [0.0, 0.2]},
    "eval": {"train_examples": 200},
    "backdoor": {"fraction": 0.5, "size": [2, 3], "location": ["corner", "random"], "kind": ["square", "random"]},
}

MLP = {
    "name": "scores-mlp", "seed": 5, "count": 8, "population": 8, "tasks": ["digits[3,8]", "digits+invert"],
    "checkpoints": [0, 1],
    "arch": {"family": "mlp", "depth": [2, 3], "width": [8, 16], "same_width": False, "activation": ["tanh", "gelu"],
             "skip": 1.0},
    "train": {"optimizer": ["adamw", "sgd"], "lr": 1.0e-2, "batch_size": 64, "epochs": 1, "train_examples": 300,
              "label_noise": [0.0, 0.2]},
    "eval": {"train_examples": 200},
    "backdoor": {"fraction": 0.5, "size": 2, "location": "random", "kind": "checker"},
}


def _forward(state: dict, info) -> callable:
    """The network of a row, from the documented architecture: MLP (flatten, linear + activation per hidden layer,
    a residual around each hidden layer whose input and output widths are equal) or CNN (strided 'same'-padded
    convolutions + activation, global average pooling, linear)."""
    arch, act = info.arch, ACTS[info.arch.activation]
    w = {k: v.double() for k, v in state.items()}
    n = len(arch.widths) - 1

    def fwd(x: torch.Tensor) -> torch.Tensor:
        if arch.family == "cnn":
            h = x.double()
            for i in range(n - 1):
                k = w[f"layers.{i}.weight"]
                h = act(F.conv2d(h, k, w[f"layers.{i}.bias"], stride=arch.stride, padding=k.shape[-1] // 2))
            return F.linear(h.mean((2, 3)), w[f"layers.{n - 1}.weight"], w[f"layers.{n - 1}.bias"])
        h = x.double().flatten(1)
        for i in range(n - 1):
            z = act(F.linear(h, w[f"layers.{i}.weight"], w[f"layers.{i}.bias"]))
            h = h + z if arch.skips and i >= 1 and arch.widths[i] == arch.widths[i + 1] else z
        return F.linear(h, w[f"layers.{n - 1}.weight"], w[f"layers.{n - 1}.bias"])

    return fwd


def _stamped(x: torch.Tensor, trigger: dict) -> torch.Tensor:
    """Images with the stored trigger pattern written at its stored [row, col], on every channel."""
    x = x.clone()
    (r, c), s = trigger["location"], trigger["size"]
    x[:, :, r:r + s, c:c + s] = torch.tensor(trigger["pattern"], dtype=x.dtype)
    return x


@pytest.mark.parametrize("recipe", [CNN, MLP], ids=["cnn", "mlp-skip-widths"])
def test_every_stored_score_is_the_stored_networks_own(recipe, tmp_path):
    build(copy.deepcopy(recipe), tmp_path / "z", progress=False)
    with Zoo(tmp_path / "z") as zoo:
        nets = list(zoo)
        assert {n.task for n in nets} == set(recipe["tasks"]) and any(n.backdoor for n in nets)
        if recipe is MLP:
            assert any(n.arch.skip_layers() for n in nets) and any(len(set(n.arch.widths[1:-1])) > 1 for n in nets)
        for n in nets:
            state = zoo.state_dict(n.id)
            fwd = _forward(state, n)
            t = tasks.get(n.task)
            with torch.no_grad():
                for split, acc in (("test", n.test_acc), ("val", n.val_acc)):
                    x, y = t.split(split)
                    logits = fwd(x)
                    assert (logits.argmax(1) == y).double().mean().item() == pytest.approx(acc, abs=1e-12)
                    if split == "test":
                        assert F.cross_entropy(logits, y).item() == pytest.approx(n.test_loss, rel=1e-5)
                # train_acc: the first eval.train_examples of the recipe's seeded training subset, clean labels
                x, y = t.split("train")
                keep = torch.randperm(len(y), generator=torch.Generator().manual_seed(recipe["seed"]))
                keep = keep[:recipe["train"]["train_examples"]].sort().values[:recipe["eval"]["train_examples"]]
                train = (fwd(x[keep]).argmax(1) == y[keep]).double().mean().item()
                assert train == pytest.approx(n.train_acc, abs=1e-12)
                if n.backdoor:
                    b = n.backdoor
                    x, y = t.split("test")
                    other = y != b["target"]  # test images of the other classes, trigger stamped
                    asr = (fwd(_stamped(x[other], b)).argmax(1) == b["target"]).double().mean().item()
                    assert asr == pytest.approx(b["asr"], abs=1e-12)
                    assert b["clean_acc"] == n.test_acc
            if n.epoch == 0:  # the seeded initialisation times init_scale
                init = build_net(n.arch, seed=derived_seeds(n.seed)["init"]).state_dict()
                for k, v in init.items():
                    assert torch.equal(v * n.hparams["init_scale"], state[k]), (n.id, k)
