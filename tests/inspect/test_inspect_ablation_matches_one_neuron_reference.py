"""inspect's per-neuron ablation (every neuron of a layer in one vectorised pass, mask ``1 - eye(H)``, in chunks of
examples) gives what zeroing one neuron at a time gives: the neuron's incoming weights and bias set to 0 (its output
``act(0) = 0``), the network's own forward on all examples, then accuracy, per-class accuracy and loss. Every
ablation number of the database is pinned against that reference, on a plain and a residual MLP."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

import metanet
from metanet.inspect import measure
from metanet.inspect.measure import ablate_layer
from metanet.inspect.netview import NetView
from metanet.nets import build
from metanet.tasks import from_examples

C = 10


def _task():
    g = torch.Generator().manual_seed(3)
    x = torch.rand(500, 1, 8, 8, generator=g)
    y = torch.randint(0, C, (500,), generator=g)
    y[:300] = (x[:300].flatten(1)[:, :C].argmax(1))  # a learnable part: some neurons matter for some classes
    return from_examples(x, y, name="ablation-reference")


def _train(model, x, y):
    opt = torch.optim.Adam(model.parameters(), lr=0.02)
    for _ in range(60):
        opt.zero_grad()
        F.cross_entropy(model(x), y).backward()
        opt.step()
    return model.eval()


@torch.no_grad()
def _reference(model, x, y):
    """(accuracy, per-class accuracy, loss) of the whole network and of each hidden neuron zeroed, one at a time."""
    def score(m):
        logits = m(x)
        correct = (logits.argmax(1) == y).double()
        per_class = torch.stack([correct[y == c].mean() for c in range(C)])
        return correct.mean(), per_class, F.cross_entropy(logits, y)

    out = {"base": score(model)}
    for i, lin in enumerate(model.layers[:-1]):
        for j in range(lin.out_features):
            w, b = lin.weight[j].clone(), lin.bias[j].clone()
            lin.weight[j], lin.bias[j] = 0.0, 0.0  # act(0) = 0 for tanh and relu: the neuron outputs 0
            out[(i + 1, j)] = score(model)
            lin.weight[j], lin.bias[j] = w, b
    return out


@pytest.mark.parametrize("arch", ["mlp:64-12-9-10:relu", "mlp:64-12-12-10:tanh:skip"])
def test_database_ablations_equal_zeroing_one_neuron_at_a_time(arch, monkeypatch):
    task = _task()
    x, y = task.split("test")
    assert bool((torch.bincount(y, minlength=C) > 0).all())
    tx, ty = task.split("train")
    model = _train(build(arch, seed=0), tx.flatten(1), ty)
    monkeypatch.setattr(measure, "CHUNK_FLOATS", 64 * 40 * 12)  # several chunks of examples per masked pass
    db = metanet.inspect(model, task, reader=None, support_threshold=0.05)
    ref = _reference(model, x.flatten(1), y)
    base_acc, base_pc, base_loss = ref["base"]
    assert len(db) == 12 + (9 if "relu" in arch else 12)
    moved = 0
    for row in db:
        acc, pc, loss = ref[(row["layer"], row["idx"])]
        assert row["ablation_acc"] == pytest.approx(float(acc - base_acc), abs=1e-12), (row["layer"], row["idx"])
        torch.testing.assert_close(torch.tensor(row["ablation_per_class"]), (pc - base_pc).float())
        # the loss change: float32 sums in other chunks, within float32 rounding
        torch.testing.assert_close(torch.tensor(row["ablation_loss"], dtype=torch.float32), (loss - base_loss),
                                   atol=2e-6, rtol=1.3e-6)
        expected = [c for c in range(C) if float(pc[c] - base_pc[c]) <= -max(0.05, 2 / int((y == c).sum())) + 1e-12]
        assert row["supports"] == expected
        moved += row["ablation_acc"] != 0
    assert moved >= 3  # the comparison is not of zeros only


def test_ablate_layer_zeroes_exactly_the_one_neuron_of_each_variant():
    """The measure itself, per variant, on a layer whose neurons differ: variant j's scores are neuron j's."""
    task = _task()
    x, y = task.split("test")
    model = _train(build("mlp:64-12-9-10:relu", seed=1), *[t for t in (task.split("train")[0].flatten(1),
                                                                        task.split("train")[1])])
    got = ablate_layer(NetView(model), 2, x, y, C)
    ref = _reference(model, x.flatten(1), y)
    want_acc = torch.stack([ref[(2, j)][0] for j in range(9)])
    want_loss = torch.stack([ref[(2, j)][2] for j in range(9)])
    torch.testing.assert_close(got.accuracy, want_acc)
    torch.testing.assert_close(got.loss.float(), want_loss)
    assert len(set(got.loss.tolist())) > 1  # variants really differ: a swapped or shared mask shows
