"""A population member equals the same run trained alone by a plain loop written here from scratch.

The existing equivalence tests compare against :func:`metanet.zoo.train_one`, which shares its setup (label noise,
poisoning, dropout masks, initialisation) and its evaluation with the population code, so a bug in those helpers
would show on both sides. The reference below uses only the documented contract: the run's seeds
(:func:`metanet.zoo.recipe.derived_seeds`: ``init`` builds the network, ``setup`` draws label noise then poisoned
examples, ``data`` draws each epoch's order then that epoch's dropout masks, step by step, layer by layer), an
``nn.Module`` from :func:`metanet.nets.build`, ``torch.optim`` and ``F.cross_entropy``.

Tolerance: the population computes in float32 with batched matmuls and fused optimizer kernels, which round
differently from ``nn.Linear`` and the for-loop ``torch.optim`` in the last bits (~1e-7 relative per operation);
over the few dozen steps here the observed worst weight difference is ~3e-6, so ``atol=2e-5`` leaves a margin
while a wrong mask, label, trigger, hyperparameter or step (differences of 1e-3 and more) fails. Metrics are
computed on the same stored weights: accuracies must agree to one example (an argmax tie may round either way),
the mean test loss to 1e-5 relative.
"""

from __future__ import annotations

import copy
import json
import sqlite3
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F

from metanet.nets import build as build_net
from metanet.zoo import Zoo, build, load_recipe, train_population
from metanet.zoo.data import load_task_data
from metanet.zoo.recipe import RunSpec, derived_seeds

ATOL = 2e-5


# ---------------------------------------------------------------------------------------------------------------
# the plain reference
# ---------------------------------------------------------------------------------------------------------------
def _trigger(b: dict, shape) -> tuple[torch.Tensor, torch.Tensor]:
    values, mask = torch.zeros(shape), torch.zeros(shape, dtype=torch.bool)
    r, c = b["location"]
    for i, row in enumerate(b["pattern"]):
        for j, v in enumerate(row):
            values[:, r + i, c + j] = float(v)
            mask[:, r + i, c + j] = True
    return values, mask


def _forward(model, arch, x, masks):
    """``model(x)`` with dropout masks: MLP after each hidden activation (before a residual add), CNN on the pooled
    features."""
    if arch.family == "mlp":
        h, skips = x.flatten(1), set(arch.skip_layers())
        for i, layer in enumerate(model.layers[:-1]):
            z = model.act(layer(h))
            z = z * masks[i] if masks else z
            h = h + z if i in skips else z
        return model.layers[-1](h)
    h = x
    for conv in model.layers[:-1]:
        h = model.act(conv(h))
    f = h.mean(dim=(2, 3))
    return model.layers[-1](f * masks[0] if masks else f)


def plain_train(run: RunSpec, data) -> dict[int, dict[str, torch.Tensor]]:
    """``{epoch: state_dict}`` at the run's checkpoint epochs, trained alone with nn.Module + torch.optim."""
    h, seeds = run.hparams, derived_seeds(run.seed)
    model = build_net(run.arch, seed=seeds["init"])
    with torch.no_grad():
        for p in model.parameters():
            p.mul_(h.get("init_scale", 1.0))
    kw = {"lr": h["lr"], "weight_decay": h.get("weight_decay", 0.0)}
    opt = {"sgd": lambda: torch.optim.SGD(model.parameters(), momentum=h.get("momentum", 0.0), **kw),
           "adam": lambda: torch.optim.Adam(model.parameters(), **kw),
           "adamw": lambda: torch.optim.AdamW(model.parameters(), **kw)}[h["optimizer"]]()
    # label noise, then poisoned examples, from the setup stream
    g = torch.Generator().manual_seed(seeds["setup"])
    y = data.y_train.clone()
    n = len(y)
    if h.get("label_noise", 0.0) > 0:
        k = int(round(h["label_noise"] * n))
        idx = torch.randperm(n, generator=g)[:k]
        y[idx] = torch.randint(data.num_classes, (k,), generator=g)
    stamp = None
    if run.backdoor is not None:
        idx = torch.randperm(n, generator=g)[: int(round(run.backdoor["poison_rate"] * n))]
        stamp = torch.zeros(n, dtype=torch.bool)
        stamp[idx] = True
        y[idx] = int(run.backdoor["target"])
        values, mask = _trigger(run.backdoor, data.input_shape)
    gen = torch.Generator().manual_seed(seeds["data"])
    p = h.get("dropout", 0.0)
    widths = list(run.arch.widths[1:-1]) if run.arch.family == "mlp" else [run.arch.widths[-2]]
    out = {}
    snap = lambda: {k: v.detach().clone() for k, v in model.state_dict().items()}  # noqa: E731
    if 0 in run.checkpoints:
        out[0] = snap()
    for epoch in range(1, h["epochs"] + 1):
        order = torch.randperm(n, generator=gen)
        for a in range(0, n, h["batch_size"]):
            idx = order[a : a + h["batch_size"]]
            xb, yb = data.x_train[idx], y[idx]
            if stamp is not None:
                xb = torch.where(stamp[idx].view(-1, 1, 1, 1) & mask, values, xb)
            masks = [(torch.rand(len(idx), w, generator=gen) >= p).float() / (1 - p) for w in widths] if p else None
            loss = F.cross_entropy(_forward(model, run.arch, xb, masks), yb)
            opt.zero_grad()
            loss.backward()
            opt.step()
        if epoch in run.checkpoints:
            out[epoch] = snap()
    return out


@torch.no_grad()
def plain_eval(run: RunSpec, state: dict, data) -> dict[str, float]:
    """The documented metrics of a network, computed with ``model(x)``."""
    model = build_net(run.arch, seed=None)
    model.load_state_dict(state)
    model.eval()
    acc = lambda x, y: (model(x).argmax(1) == y).double().mean().item()  # noqa: E731
    m = {"train_acc": acc(data.x_eval_train, data.y_eval_train), "val_acc": acc(data.x_val, data.y_val),
         "test_acc": acc(data.x_test, data.y_test),
         "test_loss": F.cross_entropy(model(data.x_test), data.y_test).item()}
    b = run.backdoor
    if b is not None:  # attack success: triggered test images of other classes classified as the target
        values, mask = _trigger(b, data.input_shape)
        keep = data.y_test != b["target"]
        m["asr"] = acc(torch.where(mask, values, data.x_test[keep]), torch.full((int(keep.sum()),), b["target"]))
    return m


def _assert_state_close(got: dict, want: dict, what: str, atol: float = ATOL) -> None:
    assert got.keys() == want.keys(), what
    worst = max((got[k] - want[k]).abs().max().item() for k in got)
    assert worst <= atol, f"{what}: max abs weight difference {worst:.3g} > {atol}"


def _assert_metrics_match(got: dict, want: dict, data, what: str) -> None:
    sizes = {"train_acc": len(data.y_eval_train), "val_acc": len(data.y_val), "test_acc": len(data.y_test),
             "asr": max(1, len(data.y_test))}
    for k, v in want.items():
        if k == "test_loss":
            assert got[k] == pytest.approx(v, rel=1e-5, abs=1e-6), f"{what}: {k}"
        else:
            assert abs(got[k] - v) <= 1 / sizes[k] + 1e-12, f"{what}: {k} {got[k]} vs plain {v}"


def _check_members(runs: list[RunSpec], data: dict) -> list:
    pop = train_population(runs, data)
    for j, run in enumerate(runs):
        d = data[run.task]
        ref = plain_train(run, d)
        assert [c.epoch for c in pop[j].checkpoints] == list(ref) == run.checkpoints
        for c in pop[j].checkpoints:
            _assert_state_close(c.state, ref[c.epoch], f"member {j} epoch {c.epoch}")
            _assert_metrics_match(c.metrics, plain_eval(run, c.state, d), d, f"member {j} epoch {c.epoch}")
            assert c.metrics["diverged"] is False
    return pop


# ---------------------------------------------------------------------------------------------------------------
# populations of members with different settings
# ---------------------------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def digits() -> dict:
    return {"digits": load_task_data("digits", 300, 200, 7)}


def _members(recipe: dict, arch: dict, per_member: list[dict], checkpoints: list[int], **train) -> list[RunSpec]:
    """One population: the recipe's first runs (own seeds) forced onto ``arch`` and ``train``, then member j's
    own settings ``per_member[j]`` (so members differ where cross-talk would show)."""
    recipe = copy.deepcopy(recipe)
    recipe.update(count=max(8, len(per_member)), tasks=["digits"], checkpoints=checkpoints)
    recipe["arch"] = arch
    recipe["train"].update({"dropout": 0.0, "label_noise": 0.0, "weight_decay": 0.0, "train_examples": 300, **train})
    runs = load_recipe(recipe).runs()[: len(per_member)]
    for r, own in zip(runs, per_member):
        r.arch = runs[0].arch
        r.hparams["optimizer"] = runs[0].hparams["optimizer"]
        r.hparams.update(own)
    assert len({r.group_key() for r in runs}) == 1 and len({r.seed for r in runs}) == len(runs)
    return runs


MLP = {"family": "mlp", "depth": 2, "width": 12, "activation": "relu"}


@pytest.mark.parametrize("per_member_kernels", [False, True])
@pytest.mark.parametrize("optimizer", ["sgd", "adam", "adamw"])
def test_every_optimizer_member_matches_torch_optim(small_recipe, digits, monkeypatch, optimizer, per_member_kernels):
    # both optimizer strategies (whole-population passes; one fused call per member, used by members of >= 4096
    # parameters such as the mnist zoos'), with lr, weight decay and momentum different in every member
    from metanet.zoo import train as T

    monkeypatch.setattr(T, "_PER_MEMBER_MIN", 0 if per_member_kernels else 10**9)
    lr = 0.1 if optimizer == "sgd" else 0.01
    own = [{"lr": lr, "weight_decay": 0.0, "momentum": 0.9}, {"lr": lr / 3, "weight_decay": 0.05, "momentum": 0.0},
           {"lr": lr * 2, "weight_decay": 0.3, "momentum": 0.5}]
    if optimizer != "sgd":
        for o in own:
            o["momentum"] = 0.0
    runs = _members(small_recipe, MLP, own, optimizer=optimizer, epochs=2, batch_size=50, checkpoints=[1, 2])
    assert {r.hparams["optimizer"] for r in runs} == {optimizer}
    _check_members(runs, digits)


def test_adamw_decay_is_decoupled_and_adam_decay_is_l2(small_recipe, digits):
    # the documented semantics: AdamW shrinks the weights by lr * wd outside the adaptive step, Adam adds wd * w
    # to the gradient; with a large decay the two give clearly different networks, each equal to its torch class
    own = [{"lr": 0.01, "weight_decay": 0.5}, {"lr": 0.02, "weight_decay": 0.0}, {"lr": 0.005, "weight_decay": 0.1}]
    finals = {}
    for kind in ("adam", "adamw"):
        runs = _members(small_recipe, MLP, own, optimizer=kind, epochs=1, batch_size=50, checkpoints=[1])
        finals[kind] = [p.checkpoints[-1].state for p in _check_members(runs, digits)]
    gap = lambda a, b: max((a[k] - b[k]).abs().max().item() for k in a)  # noqa: E731
    assert gap(finals["adam"][0], finals["adamw"][0]) > 1e-3  # decayed member: the semantics differ
    assert gap(finals["adam"][1], finals["adamw"][1]) <= ATOL  # no decay: Adam and AdamW are one optimizer


def test_members_keep_their_own_dropout_masks_label_noise_and_data_order(small_recipe, digits):
    # residual gelu MLP, a batch size that leaves a partial last batch (37 into 300), three epochs with the
    # middle one not stored: dropout masks are cut per step from each member's own stream
    own = [{"dropout": 0.0, "label_noise": 0.0}, {"dropout": 0.1, "label_noise": 0.4},
           {"dropout": 0.5, "label_noise": 0.0}, {"dropout": 0.3, "label_noise": 0.1, "lr": 0.02}]
    arch = {**MLP, "activation": "gelu", "skip": 1.0}
    runs = _members(small_recipe, arch, own, optimizer="adam", epochs=3, batch_size=37, checkpoints=[0, 1, 3])
    assert runs[0].arch.skip_layers() and runs[0].checkpoints == [0, 1, 3]
    _check_members(runs, digits)


def test_members_keep_their_own_backdoor(small_recipe, digits):
    # a clean member among poisoned ones with different triggers, placements, targets and rates
    own = [{}, {}, {}, {}]
    runs = _members(small_recipe, MLP, own, optimizer="adam", lr=0.01, epochs=2, batch_size=32, checkpoints=[0, 2])
    triggers = [None,
                {"kind": "square", "size": 3, "location": [4, 4], "target": 0, "poison_rate": 0.2,
                 "pattern": [[1] * 3] * 3},
                {"kind": "checker", "size": 2, "location": [0, 1], "target": 7, "poison_rate": 0.05,
                 "pattern": [[0, 1], [1, 0]]},
                {"kind": "random", "size": 4, "location": [2, 0], "target": 3, "poison_rate": 0.3,
                 "pattern": [[1, 0, 0, 1], [0, 1, 1, 1], [1, 1, 0, 0], [0, 0, 1, 0]]}]
    for r, t in zip(runs, triggers):
        r.backdoor = t
    pop = _check_members(runs, digits)
    assert "asr" not in pop[0].checkpoints[-1].metrics
    assert all("asr" in p.checkpoints[-1].metrics for p in pop[1:])


def test_cnn_members_with_momentum_dropout_noise_and_backdoor(small_recipe, digits):
    # the mnist-cnn shape (strided convolutions, dropout on the pooled features, SGD with momentum)
    own = [{"lr": 0.1, "momentum": 0.9, "dropout": 0.2, "label_noise": 0.1},
           {"lr": 0.05, "momentum": 0.0, "dropout": 0.0, "weight_decay": 1e-3},
           {"lr": 0.2, "momentum": 0.5, "dropout": 0.5, "label_noise": 0.3}]
    arch = {"family": "cnn", "depth": 2, "width": 6, "activation": "gelu", "kernel": 3, "stride": 2}
    runs = _members(small_recipe, arch, own, optimizer="sgd", epochs=2, batch_size=64, checkpoints=[1, 2])
    runs[2].backdoor = {"kind": "square", "size": 2, "location": [5, 5], "target": 1, "poison_rate": 0.1,
                        "pattern": [[1, 1], [1, 1]]}
    _check_members(runs, digits)


def test_members_of_different_tasks_in_one_population(small_recipe):
    # a multitask population (the multitask-mlp zoo): members gather their inputs and labels from their own task
    tasks = ["digits", "digits+permute(1)", "digits+relabel(1)", "digits+invert"]
    data = {t: load_task_data(t, 300, 200, 7) for t in tasks}
    runs = _members(small_recipe, MLP, [{"dropout": 0.1 * j} for j in range(4)], optimizer="adam", epochs=1,
                    batch_size=64, checkpoints=[1])
    for r, t in zip(runs, tasks):
        r.task = t
    _check_members(runs, data)


# ---------------------------------------------------------------------------------------------------------------
# what a build stores
# ---------------------------------------------------------------------------------------------------------------
def test_built_zoo_stores_the_plain_loops_checkpoints_and_metrics(small_recipe, tmp_path):
    # batch sizes and epochs differ between runs: they never share a population (no padding or masking of
    # steps), and every stored checkpoint at epoch k is the plain loop's network after k epochs, with the
    # index.sqlite figures of a plain evaluation of it
    recipe = copy.deepcopy(small_recipe)
    recipe.update(count=6, population=4, checkpoints=[0, 1, 2])
    recipe["arch"] = {**MLP, "width": [8, 12]}
    recipe["train"].update(optimizer=["adam", "sgd"], batch_size=[40, 64], epochs=[1, 2], train_examples=300,
                           dropout=[0.0, 0.2], label_noise=[0.0, 0.2], lr={"log_uniform": [0.005, 0.05]})
    recipe["eval"] = {"train_examples": 200}
    recipe["backdoor"] = {"fraction": 0.5, "poison_rate": 0.1, "kind": ["checker", "random"], "size": 2,
                          "location": ["corner", "random"]}
    build(recipe, tmp_path / "z", progress=False)
    rec = load_recipe(recipe)
    runs = rec.runs()
    assert len({r.hparams["batch_size"] for r in runs}) > 1 and len({r.hparams["epochs"] for r in runs}) > 1
    data = load_task_data("digits", 300, 200, rec.seed)
    zoo = Zoo(tmp_path / "z")
    con = sqlite3.connect(tmp_path / "z" / "index.sqlite")
    units: dict[int, set] = {}
    for run in runs:
        ref = plain_train(run, data)
        for nid, epoch in zip(run.ids, run.checkpoints):
            row = con.execute("SELECT epoch, train_acc, val_acc, test_acc, test_loss, backdoor, diverged, unit "
                              "FROM nets WHERE id = ?", (nid,)).fetchone()
            assert row[0] == epoch and row[6] == 0
            units.setdefault(row[7], set()).add(run.group_key())
            state = zoo.state_dict(nid)
            _assert_state_close(state, ref[epoch], f"run {run.index} epoch {epoch}")
            stored = dict(zip(("train_acc", "val_acc", "test_acc", "test_loss"), row[1:5]))
            if run.backdoor is not None:
                bd = json.loads(row[5])
                stored["asr"] = bd["asr"]
                assert bd["clean_acc"] == stored["test_acc"]
            else:
                assert row[5] is None
            _assert_metrics_match(stored, plain_eval(run, state, data), data, f"run {run.index} epoch {epoch}")
    con.close()
    assert all(len(keys) == 1 for keys in units.values())  # a unit never mixes batch sizes or epochs
    assert any(r.backdoor for r in runs) and any(r.backdoor is None for r in runs)


def test_shipped_tiny_zoo_networks_are_the_plain_loops(tiny_zoo):
    # runs 0-8 of the shipped zoo: mnist (per-member kernels) and digits (population passes), adam and sgd, dropout,
    # label noise, weight decay; 6 epochs of 47 steps. Run 8 (adam, lr 0.019) is chaotic: a one-ulp change of its
    # initial weights moves the plain loop's own epoch-6 weights by ~0.2, so only its first epoch is compared
    zoo = Zoo(tiny_zoo)
    rec = load_recipe(Path(tiny_zoo) / "recipe.yaml")
    data = {t: load_task_data(t, rec.train_examples, rec.eval_train_examples, rec.seed) for t in rec.tasks}
    for run in rec.runs(9):
        ref = plain_train(run, data[run.task])
        for nid, epoch in zip(run.ids, run.checkpoints):
            info, state = zoo.info(nid), zoo.state_dict(nid)
            assert (info.run, info.epoch) == (run.index, epoch)
            if run.index < 8 or epoch <= 1:
                _assert_state_close(state, ref[epoch], f"tiny run {run.index} epoch {epoch}")
            stored = {k: getattr(info, k) for k in ("train_acc", "val_acc", "test_acc", "test_loss")}
            _assert_metrics_match(stored, plain_eval(run, state, data[run.task]), data[run.task],
                                  f"tiny net {nid}")


# ---------------------------------------------------------------------------------------------------------------
# PopulationOptimizer used directly (public API)
# ---------------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("per_member_kernels", [False, True])
@pytest.mark.parametrize("kind", ["sgd", "adam", "adamw"])
def test_population_optimizer_on_separate_tensors_matches_torch_optim(monkeypatch, kind, per_member_kernels):
    # several stacked tensors (not one flat buffer), five steps, per-member lr / weight decay / momentum
    from metanet.zoo import PopulationOptimizer
    from metanet.zoo import train as T

    monkeypatch.setattr(T, "_PER_MEMBER_MIN", 0 if per_member_kernels else 10**9)
    gen = torch.Generator().manual_seed(0)
    lr, wd, mom = torch.tensor([0.1, 0.01, 0.05]), torch.tensor([0.0, 0.1, 0.5]), torch.tensor([0.9, 0.0, 0.5])
    params = [torch.randn(3, 7, 8, generator=gen), torch.randn(3, 5, generator=gen)]
    refs = [[p[j].clone().requires_grad_(True) for p in params] for j in range(3)]
    cls = {"sgd": torch.optim.SGD, "adam": torch.optim.Adam, "adamw": torch.optim.AdamW}[kind]
    extra = lambda j: {"momentum": float(mom[j])} if kind == "sgd" else {}  # noqa: E731
    opts = [cls(refs[j], lr=float(lr[j]), weight_decay=float(wd[j]), **extra(j)) for j in range(3)]
    opt = PopulationOptimizer(kind, params, lr, wd, mom)
    assert opt.per_member == (per_member_kernels and T._FUSED)
    for _ in range(5):
        grads = [torch.randn(p.shape, generator=gen) for p in params]
        for j in range(3):
            for r, g in zip(refs[j], grads):
                r.grad = g[j].clone()
            opts[j].step()
        opt.step(params, [g.clone() for g in grads])
    for j in range(3):
        for p, r in zip(params, refs[j]):
            torch.testing.assert_close(p[j], r.detach(), atol=1e-6, rtol=1e-6)


@pytest.mark.parametrize("per_member_kernels", [False, True])
@pytest.mark.parametrize("kind", ["sgd", "adam"])
def test_population_optimizer_refuses_what_it_would_update_wrongly(monkeypatch, kind, per_member_kernels):
    # a transposed (non-contiguous) parameter was updated through raw memory with the wrong elements; a missing
    # gradient left its parameter unchanged (or was a raw RuntimeError); a (P, 1) gradient of a (P, N) parameter
    # was read past its end by the fused SGD kernel
    from metanet.errors import ConfigError
    from metanet.zoo import PopulationOptimizer
    from metanet.zoo import train as T

    monkeypatch.setattr(T, "_PER_MEMBER_MIN", 0 if per_member_kernels else 10**9)
    lr, wd = torch.tensor([0.1, 0.01]), torch.tensor([0.0, 0.1])
    loose = torch.randn(2, 8, 7).transpose(1, 2)
    with pytest.raises(ConfigError, match=r"not contiguous; valid: contiguous \(P, \.\.\.\) tensors"):
        PopulationOptimizer(kind, [loose], lr, wd)
    a, b = torch.randn(2, 6), torch.randn(2, 3)
    before = (a.clone(), b.clone())
    opt = PopulationOptimizer(kind, [a, b], lr, wd)
    bad_steps = [([a, b], [torch.randn(2, 6)], r"2 parameters and 1 gradients; valid: the 2 parameter tensors"),
                 ([a], [torch.randn(2, 6)], r"1 parameters and 1 gradients"),
                 ([a, b], [torch.randn(2, 1), torch.randn(2, 3)], r"parameter 0 of shape \(2, 6\) \(contiguous\) "
                                                                   r"with a gradient of shape \(2, 1\)"),
                 ([a, loose[:, :3, 0]], [torch.randn(2, 6), torch.randn(2, 3)], r"parameter 1 .*not contiguous")]
    for ps, gs, what in bad_steps:
        with pytest.raises(ConfigError, match=r"PopulationOptimizer\.step: " + what):
            opt.step(ps, gs)
    assert torch.equal(a, before[0]) and torch.equal(b, before[1]) and opt.t == 0  # nothing half-done
    opt.step([a, b], [torch.ones(2, 6), torch.ones(2, 3)])
    assert not torch.equal(a, before[0]) and not torch.equal(b, before[1])
