"""A zoo's stored metadata is what training really did: each value recomputed independently from a real build.

The reader learns from the index (accuracies, hyperparameters, task, backdoor); a stored value that differs from
the training it describes is a label the reader learns as truth. Here every value is re-derived without the
trainer's code paths: scores by ``metanet.verify`` / a plain forward pass of the reloaded network, the first epoch
by a plain ``torch.optim`` loop from the stored hyperparameters, the attack success rate by
``metanet.edit.attack_success_rate``, the task by ``metanet.tasks``.
"""

from __future__ import annotations

import copy
import subprocess
import sys

import pytest
import torch
import torch.nn.functional as F
from zoo_helpers import subprocess_env

import metanet
from metanet import tasks
from metanet.edit import attack_success_rate
from metanet.nets import build as build_net
from metanet.zoo import Zoo, build
from metanet.zoo.data import load_task_data
from metanet.zoo.recipe import derived_seeds

#: poisoned digits MLPs (half the runs), with label noise and dropout so the poisoned labels meet both
BACKDOOR = {
    "name": "gt-backdoor",
    "seed": 11,
    "count": 6,
    "population": 3,
    "tasks": ["digits"],
    "checkpoints": [0, 3],
    "arch": {"family": "mlp", "depth": 1, "width": 32, "activation": "relu"},
    "train": {"optimizer": "adam", "lr": 1.0e-2, "batch_size": 32, "epochs": 3, "train_examples": 600,
              "dropout": [0.0, 0.1], "label_noise": [0.0, 0.1]},
    "eval": {"train_examples": 300},
    "backdoor": {"fraction": 0.5, "poison_rate": {"uniform": [0.1, 0.2]}, "kind": ["square", "checker", "random"],
                 "size": [2, 3], "location": ["corner", "random"], "target": "random"},
}


@pytest.fixture(scope="module")
def backdoor_zoo(tmp_path_factory: pytest.TempPathFactory):
    out = tmp_path_factory.mktemp("gt") / "backdoor"
    build(copy.deepcopy(BACKDOOR), out, progress=False)
    with Zoo(out) as z:
        yield z


def _data(recipe: dict, task: str):
    """The task data the build trained on: the recipe's seeded training subset and evaluation subset."""
    return load_task_data(task, recipe["train"]["train_examples"], recipe["eval"]["train_examples"], recipe["seed"])


def test_stored_scores_are_the_reloaded_networks_scores(zoo, small_recipe):
    """train/val/test accuracy and test loss of every stored network, epoch 0 (the initialisation) included."""
    nets = list(zoo)
    assert {n.epoch for n in nets} == {0, 1, 2}
    for n in nets:
        model = zoo.load(n.id)
        rep = metanet.verify(model, n.task, "test")
        assert rep.accuracy == pytest.approx(n.test_acc, abs=1e-12)
        assert rep.loss == pytest.approx(n.test_loss, rel=1e-5)
        t = tasks.get(n.task)
        xv, yv = t.split("val")
        d = _data(small_recipe, n.task)
        with torch.no_grad():
            val = (model(xv.float()).argmax(-1) == yv).double().mean().item()
            # train_acc: the first eval.train_examples training examples, clean labels
            train = (model(d.x_eval_train).argmax(-1) == d.y_eval_train).double().mean().item()
        assert len(d.y_eval_train) == small_recipe["eval"]["train_examples"]
        assert val == pytest.approx(n.val_acc, abs=1e-12) and train == pytest.approx(n.train_acc, abs=1e-12)


def _noisy_labels(seed: int, h: dict, data) -> torch.Tensor:
    """The training labels after label noise, drawn as documented: the run's ``setup`` stream picks
    ``round(label_noise * n)`` examples and gives each a uniformly random label."""
    y = data.y_train.clone()
    n = len(y)
    assert n == h["n_train"]
    g = torch.Generator().manual_seed(derived_seeds(seed)["setup"])
    k = int(round(h["label_noise"] * n))
    if k:
        idx = torch.randperm(n, generator=g)[:k]
        y[idx] = torch.randint(data.num_classes, (k,), generator=g)
    return y


def test_the_first_epoch_is_plain_torch_training_with_the_stored_hyperparameters(zoo, small_recipe):
    """lr, optimizer, momentum, weight decay, batch size, dropout, label noise and init scale as stored."""
    by_run: dict[int, list] = {}
    for n in zoo:
        by_run.setdefault(n.run, []).append(n)
    seen = {"dropout": set(), "label_noise": set(), "optimizer": set()}
    for run, nets in by_run.items():
        nets.sort(key=lambda n: n.epoch)
        n0, n1 = nets[0], nets[1]
        assert (n0.epoch, n1.epoch, nets[-1].epoch) == (0, 1, n0.hparams["epochs"])
        h = n0.hparams
        for k in seen:
            seen[k].add(h[k])
        data = _data(small_recipe, n0.task)
        y = _noisy_labels(n0.seed, h, data)
        assert (int((y != data.y_train).sum()) > 0) == (h["label_noise"] > 0)
        seeds = derived_seeds(n0.seed)
        model = build_net(n0.arch, seed=None)
        # epoch 0: the architecture's default init (seeded) times the stored init scale
        ref = build_net(n0.arch, seed=seeds["init"]).state_dict()
        s0 = zoo.state_dict(n0.id)
        for k in ref:
            torch.testing.assert_close(s0[k], ref[k] * h["init_scale"])
        model.load_state_dict(s0)
        if h["optimizer"] == "sgd":
            opt = torch.optim.SGD(model.parameters(), lr=h["lr"], momentum=h["momentum"],
                                  weight_decay=h["weight_decay"])
        else:
            assert h["optimizer"] == "adam" and h["momentum"] == 0.0  # momentum is stored for SGD only
            opt = torch.optim.Adam(model.parameters(), lr=h["lr"], weight_decay=h["weight_decay"])
        gen = torch.Generator().manual_seed(seeds["data"])
        order = torch.randperm(len(y), generator=gen)
        p = h["dropout"]
        skips = set(n0.arch.skip_layers())
        act = torch.relu if n0.arch.activation == "relu" else torch.tanh
        L = n0.arch.num_layers
        for a in range(0, len(y), h["batch_size"]):
            idx = order[a : a + h["batch_size"]]
            x = data.x_train[idx].flatten(1)
            for i in range(L - 1):
                s = act(model.layers[i](x))
                if p > 0:  # inverted dropout on every hidden activation
                    s = s * (torch.rand(s.shape, generator=gen) >= p).float() / (1 - p)
                x = x + s if i in skips else s
            loss = F.cross_entropy(model.layers[L - 1](x), y[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
        s1 = zoo.state_dict(n1.id)
        for k, v in model.state_dict().items():
            torch.testing.assert_close(s1[k], v, atol=2e-6, rtol=1e-5)
    # the recipe's choices all occurred, so each hyperparameter above was checked at work
    assert seen == {"dropout": {0.0, 0.2}, "label_noise": {0.0, 0.1}, "optimizer": {"adam", "sgd"}}


def test_a_stored_trigger_flips_clean_test_images_at_the_stored_rate(backdoor_zoo):
    nets = list(backdoor_zoo)
    poisoned = [n for n in nets if n.backdoor is not None]
    clean = [n for n in nets if n.backdoor is None]
    assert poisoned and clean
    final_rates = []
    for n in poisoned:
        b = n.backdoor
        model = backdoor_zoo.load(n.id)
        assert attack_success_rate(model, n.task, b) == pytest.approx(b["asr"], abs=1e-12)
        assert b["clean_acc"] == n.test_acc
        # the trigger by hand: the stored pattern at the stored place, on every non-target test image
        x, y = tasks.get(n.task).split("test")
        r, c = b["location"]
        s = b["size"]
        xs = x[y != b["target"]].clone().float()
        xs[:, :, r : r + s, c : c + s] = torch.tensor(b["pattern"], dtype=torch.float32)
        with torch.no_grad():
            mine = (model(xs).argmax(-1) == b["target"]).double().mean().item()
        assert mine == pytest.approx(b["asr"], abs=1e-12)
        if n.final:
            final_rates.append(b["asr"])
    assert max(final_rates) > 0.9  # the trained-in trigger works: the rate measures a real backdoor


def _spec(n):
    """The :class:`RunSpec` a stored network's row describes (task, arch, hparams, seed, backdoor)."""
    from metanet.zoo.recipe import RunSpec

    bd = {k: v for k, v in n.backdoor.items() if k not in ("asr", "clean_acc")} if n.backdoor else None
    return RunSpec(n.run, n.task, n.arch, n.hparams, n.seed, [n.hparams["epochs"]], bd)


def test_the_stored_poison_rate_is_the_fraction_trained_on(backdoor_zoo):
    """Re-derive the poisoned examples from the run's seeds: round(poison_rate * n) examples, labelled target."""
    from metanet.zoo.train import _setup  # the trainer's own setup: what training really used

    for n in backdoor_zoo:
        if n.backdoor is None or n.epoch:
            continue
        data = _data(BACKDOOR, n.task)
        run = _spec(n)
        setup = _setup(run, data)
        k = int(setup.poison.sum())
        assert k == round(n.backdoor["poison_rate"] * n.hparams["n_train"]) and k > 0
        assert bool((setup.labels[setup.poison] == n.backdoor["target"]).all())


def test_the_stored_task_is_the_tasks_own_name(small_recipe, tmp_path):
    """A recipe may spell a task any way the grammar accepts; the index stores the task's canonical name (what
    ``tasks.get(name).name`` and every other zoo call it), so two spellings of one task are one task to a reader,
    and the name resolves to the data the network was trained on (a permutation drawn alike in any process)."""
    spelled = "Digits[0-4] + Permute(3)"
    r = {**small_recipe, "count": 2, "population": 2, "tasks": [spelled], "checkpoints": [0, 1]}
    r["train"] = {**r["train"], "epochs": 1, "label_noise": 0.0, "train_examples": 200}
    build(r, tmp_path / "z", progress=False)
    with Zoo(tmp_path / "z") as z:
        assert z.tasks == ["digits[0-4]+permute(3)"] == [tasks.get(spelled).name]
        for n in z:
            assert n.task == "digits[0-4]+permute(3)"
            assert metanet.verify(z.load(n.id), n.task).accuracy == pytest.approx(n.test_acc, abs=1e-12)
        assert len(z.select(task=spelled)) == len(z)
        x, _ = tasks.get(z.tasks[0]).split("test")
    # the permutation is the same one in another process (seeded, not drawn from a process's own state)
    code = (f"from metanet import tasks; x, _ = tasks.get({z.tasks[0]!r}).split('test'); "
            "print((x.flatten(1) * (1 + torch.arange(x[0].numel()))).sum().item())")
    out = subprocess.run([sys.executable, "-c", "import torch; " + code], capture_output=True, text=True, timeout=120,
                         env=subprocess_env(), check=True).stdout
    assert float(out) == (x.flatten(1) * (1 + torch.arange(x[0].numel()))).sum().item()
