"""`metanet.verify`: exact scores on hand-built models, batched == one by one, clear errors; networks without
parameters (buffers only), and lists whose models differ in a layer's settings, mix train / eval mode or frozen /
trainable parameters; graphs, ``Generated`` results and state_dicts given as the network.
"""

from __future__ import annotations

import copy
import json
import subprocess
import sys
import math

import pytest
import torch
from torch import nn

import metanet
from metanet.errors import ArchError, MetanetError
from metanet.nets import build
from metanet.tasks import from_examples
from metanet.verify import Report, verify, verify_stacked


# labels of the hand-made task: class 0 x3, class 1 x2, class 2 x5
Y = torch.tensor([0, 1, 2, 2, 2, 0, 1, 2, 2, 0])


def constant(label: int, num_classes: int = 3, in_features: int = 4) -> nn.Sequential:
    """A network that always outputs logits (0, ..., 0, 1 at ``label``, 0, ...)."""
    model = nn.Sequential(nn.Flatten(), nn.Linear(in_features, num_classes))
    with torch.no_grad():
        model[1].weight.zero_()
        model[1].bias.zero_()
        model[1].bias[label] = 1.0
    return model


@pytest.fixture
def task3(stub_task):
    x = torch.rand(len(Y), 4, generator=torch.Generator().manual_seed(0))
    return stub_task(x, Y, num_classes=3, name="three")


def test_constant_model_scores_exactly(task3):
    r = verify(constant(2), task3)
    assert isinstance(r, Report)
    assert r.accuracy == 0.5 and r.n == 10
    assert r.per_class == [0.0, 0.0, 1.0]
    # logits (0, 0, 1): cross-entropy is log(2 + e) - [label == 2]
    assert r.loss == pytest.approx(math.log(2 + math.e) - 0.5, abs=1e-6)
    assert (r.task, r.split) == ("three", "test") and task3.asked == ["test"]
    assert r.seconds >= 0


def test_model_that_reads_its_input(stub_task):
    model = build("mlp:2-2:relu")  # one Linear layer: logits = x
    with torch.no_grad():
        model.layers[0].weight.copy_(torch.eye(2))
        model.layers[0].bias.zero_()
    x = torch.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 0.0], [0.0, 1.0], [2.0, 1.0]])
    y = torch.tensor([0, 1, 1, 1, 0])  # predictions 0 1 0 1 0: the third is wrong
    r = verify(model, stub_task(x, y, num_classes=2))
    assert r.accuracy == 0.8 and r.n == 5
    assert r.per_class == [1.0, pytest.approx(2 / 3)]


def test_absent_class_has_nan_accuracy(stub_task):
    x = torch.rand(len(Y), 4)
    r = verify(constant(0, num_classes=4), stub_task(x, Y, num_classes=4))
    assert r.per_class[:3] == [1.0, 0.0, 0.0] and math.isnan(r.per_class[3])
    assert r.accuracy == 0.3


def test_split_is_passed_on(stub_task):
    t = stub_task(torch.rand(len(Y), 4), Y, num_classes=3, split="val")
    r = verify(constant(1), t, split="val")
    assert t.asked == ["val"] and r.split == "val" and r.accuracy == 0.2


def test_small_batches_give_the_same_scores(task3):
    model = nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 3))
    whole, chunked = verify(model, task3), verify(model, task3, batch_size=3)
    assert whole.accuracy == chunked.accuracy and whole.per_class == chunked.per_class and chunked.n == 10
    assert chunked.loss == pytest.approx(whole.loss, abs=1e-6)


def test_list_keeps_order(task3):
    reports = verify([constant(0), constant(1), constant(2)], task3)
    assert [r.accuracy for r in reports] == [0.3, 0.2, 0.5]
    assert [r.per_class for r in reports] == [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]]
    assert verify([constant(1)], task3)[0].accuracy == 0.2  # a list of one gives a list


def _population(kind: str, k: int) -> list[nn.Module]:
    if kind == "sequential":
        out = []
        for seed in range(k):
            torch.manual_seed(seed)
            out.append(nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                                     nn.Linear(4 * 4 * 4, 10)))
        return out
    arch = {"mlp": "mlp:64-32-10:relu", "skip": "mlp:64-16-16-10:tanh:skip", "cnn": "cnn:1-8-8-10:relu:k3:s2"}[kind]
    return [build(arch, seed=s) for s in range(k)]


@pytest.mark.parametrize("kind", ["mlp", "skip", "cnn", "sequential"])
def test_batched_equals_one_by_one(stub_task, kind):
    g = torch.Generator().manual_seed(1)
    task = stub_task(torch.rand(300, 1, 8, 8, generator=g), torch.randint(0, 10, (300,), generator=g), 10)
    models = _population(kind, 6)
    batched = verify(models, task, batch_size=128)
    alone = [verify(m, task) for m in models]
    assert len(batched) == len(models)
    for b, a in zip(batched, alone):
        assert b.accuracy == a.accuracy and b.per_class == a.per_class and b.n == a.n == 300
        assert b.loss == pytest.approx(a.loss, abs=1e-6)
    assert len({r.loss for r in alone}) == len(models)  # the models really differ


def test_verify_stacked_matches_verify(stub_task):
    g = torch.Generator().manual_seed(2)
    task = stub_task(torch.rand(50, 1, 8, 8, generator=g), torch.randint(0, 10, (50,), generator=g), 10)
    models = _population("mlp", 3)
    params = {k: torch.stack([dict(m.named_parameters())[k].detach() for m in models]) for k, _ in models[0].named_parameters()}
    for s, v in zip(verify_stacked(models[0], params, task), verify(models, task)):
        assert s.accuracy == v.accuracy and s.loss == pytest.approx(v.loss, abs=1e-6)


def _batchnorm_net(seed: int) -> nn.Sequential:
    """A BatchNorm MLP whose running statistics differ per seed (what a list's members must each keep)."""
    torch.manual_seed(seed)
    net = nn.Sequential(nn.Flatten(), nn.Linear(64, 16), nn.BatchNorm1d(16), nn.ReLU(), nn.Dropout(0.5),
                        nn.Linear(16, 10))
    with torch.no_grad():
        net[2].running_mean.normal_(0, 1)
        net[2].running_var.uniform_(0.5, 2.0)
    return net


def test_list_members_keep_their_own_buffers_and_models_run_in_eval_mode(stub_task):
    g = torch.Generator().manual_seed(4)
    task = stub_task(torch.rand(200, 1, 8, 8, generator=g), torch.randint(0, 10, (200,), generator=g), 10)
    models = [_batchnorm_net(s) for s in range(3)]  # left in train mode, as after a training loop
    stats = [m[2].running_mean.clone() for m in models]
    batched = verify(models, task)
    for m, b, st in zip(models, batched, stats):
        assert m.training and torch.equal(m[2].running_mean, st)  # the caller's module is left as it was
        with torch.no_grad():
            expected = (m.eval()(task.split("test")[0]).argmax(1) == task.split("test")[1]).double().mean().item()
        m.train()
        assert b.accuracy == pytest.approx(expected) and verify(m, task).accuracy == b.accuracy
    assert len({r.loss for r in batched}) == 3


def test_float64_network_and_bad_batch_size(task3):
    r = verify(constant(2).double(), task3)
    assert r.accuracy == 0.5
    with pytest.raises(MetanetError, match="batch_size"):
        verify(constant(2), task3, batch_size=0)


@pytest.mark.parametrize("batch_size", [0, -3, 2.5, "8", True, float("nan")])
def test_bad_batch_size_is_a_config_error(task3, batch_size):
    # was the base MetanetError (no ValueError) for 0, a TypeError for '8', and 2.5 / nan passed the check
    from metanet.errors import ConfigError

    with pytest.raises(ConfigError, match=rf"batch_size must be a positive number of examples, got {batch_size!r}"):
        verify(constant(2), task3, batch_size=batch_size)


def test_verify_does_not_touch_the_models(task3):
    models = [constant(0), constant(2)]
    before = [{k: v.clone() for k, v in m.state_dict().items()} for m in models]
    verify(models, task3)
    for m, b in zip(models, before):
        assert all(torch.equal(v, b[k]) for k, v in m.state_dict().items())
        assert all(p.grad is None for p in m.parameters())


@pytest.mark.parametrize(
    "models",
    [
        [build("mlp:64-32-10:relu"), build("mlp:64-32-10:tanh")],
        [build("mlp:64-32-10:relu"), build("mlp:64-16-10:relu")],
        [build("mlp:64-10:relu"), nn.Sequential(nn.Flatten(), nn.Linear(64, 10))],
        [build("mlp:64-32-32-10:relu:skip"), build("mlp:64-32-32-10:relu")],
    ],
    ids=["activation", "width", "family", "skip"],
)
def test_mixed_architectures_are_rejected(stub_task, models):
    task = stub_task(torch.rand(5, 1, 8, 8), torch.arange(5), 10)
    with pytest.raises(ArchError, match="one architecture"):
        verify(models, task)


def test_empty_list_is_rejected(task3):
    with pytest.raises(ArchError, match="empty"):
        verify([], task3)


def test_wrong_input_size_names_the_shapes(stub_task):
    task = stub_task(torch.rand(5, 1, 8, 8), torch.arange(5), 10, name="tiny")
    with pytest.raises(ArchError) as info:
        verify(build("mlp:784-64-10"), task)
    msg = str(info.value)
    assert "784 input features" in msg and "(1, 8, 8)" in msg and "'tiny'" in msg
    with pytest.raises(ArchError, match=r"3 input channels.*\(1, 8, 8\)"):
        verify(build("cnn:3-8-10"), task)
    with pytest.raises(ArchError, match=r"does not accept inputs of shape \(1, 8, 8\)"):
        verify(nn.Sequential(nn.Flatten(), nn.Linear(784, 10)), task)


def test_wrong_number_of_classes(stub_task):
    task = stub_task(torch.rand(5, 1, 8, 8), torch.arange(5), 10)
    with pytest.raises(ArchError, match=r"outputs shape \(5,\).*10 classes"):
        verify(build("mlp:64-32-5"), task)
    with pytest.raises(ArchError, match="10 classes"):
        verify([build("cnn:1-4-3", seed=s) for s in range(2)], task)


def test_nan_weights_give_infinite_loss(stub_task):
    g = torch.Generator().manual_seed(3)
    task = stub_task(torch.rand(40, 1, 8, 8, generator=g), torch.randint(0, 10, (40,), generator=g), 10)
    healthy, broken = build("mlp:64-32-10", seed=1), build("mlp:64-32-10", seed=2)
    with torch.no_grad():
        broken.layers[0].weight[0, 0] = float("nan")
    r = verify(broken, task)
    assert r.loss == math.inf and 0.0 <= r.accuracy <= 1.0 and r.n == 40
    both = verify([healthy, broken], task)
    assert both[1].loss == math.inf
    alone = verify(healthy, task)
    assert both[0].accuracy == alone.accuracy and both[0].loss == pytest.approx(alone.loss, abs=1e-6)
    assert math.isfinite(alone.loss)


def test_metanet_verify_is_the_function_whatever_was_imported_first():
    # `metanet.verify` names a submodule and its function; importing the submodule first must not shadow it
    code = (
        "import metanet.verify\n"
        "from metanet.verify import Report, verify_stacked\n"
        "import metanet\n"
        "assert callable(metanet.verify) and metanet.verify.__name__ == 'verify', metanet.verify\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_report_serialises():
    r = Report(0.5, 1.25, [1.0, float("nan")], 4, 0.01, "t", "test")
    d = r.to_dict()
    assert d["accuracy"] == 0.5 and d["n"] == 4 and d["task"] == "t"
    json.dumps(d)
    assert "accuracy 0.5000" in str(r) and "n=4" in str(r)


# --- with metanet.tasks --------------------------------------------------------------------------------
tasks = pytest.importorskip("metanet.tasks")


def test_from_examples_task(tmp_path):
    x = torch.rand(len(Y), 4, generator=torch.Generator().manual_seed(0))
    task = tasks.from_examples(x, Y, name="handmade", val_fraction=0.0, test_fraction=0.0)
    r = verify(constant(2), task, split="train")
    assert (r.accuracy, r.n, r.per_class) == (0.5, 10, [0.0, 0.0, 1.0])


def test_task_by_name():
    models = [build("mlp:64-32-10", seed=s) for s in range(3)]
    by_name = metanet.verify(models, "digits")
    by_task = verify(models, tasks.get("digits"))
    assert [r.accuracy for r in by_name] == [r.accuracy for r in by_task]
    assert by_name[0].n == len(tasks.get("digits").split("test")[1]) and by_name[0].task == "digits"


class Prototypes(nn.Module):
    """A nearest-prototype classifier: no parameters, its class prototypes are buffers."""

    def __init__(self, protos: torch.Tensor) -> None:
        super().__init__()
        self.register_buffer("protos", protos)

    def forward(self, x):
        return -torch.cdist(x.flatten(1), self.protos)


def _pooled():
    return nn.Sequential(nn.Flatten(), nn.AdaptiveAvgPool1d(10))


def test_verify_runs_a_network_without_parameters():
    # was a bare StopIteration (the stacked parameters were empty)
    task = tasks.get("digits")
    x, y = task.split("test")
    expected = (_pooled()(x).argmax(1) == y).double().mean().item()
    r = verify(_pooled(), task)
    assert r.n == len(y) and r.accuracy == pytest.approx(expected)
    rs = verify([_pooled(), _pooled()], task)
    assert len(rs) == 2 and all(q.accuracy == pytest.approx(expected) for q in rs)


def test_verify_runs_networks_whose_only_state_is_buffers():
    task = tasks.get("digits")
    x, y = task.split("train")
    means = torch.stack([x[y == c].flatten(1).mean(0) for c in range(10)])
    good, bad = Prototypes(means), Prototypes(means.roll(1, 0))  # bad: every prototype under the wrong class
    rs = verify([good, bad], task)
    assert [r.accuracy for r in rs] == [verify(good, task).accuracy, verify(bad, task).accuracy]
    assert rs[0].accuracy > 0.8 > 0.2 > rs[1].accuracy


def test_verify_list_refuses_models_that_differ_in_a_layer_setting():
    # two LeakyReLU slopes, equal parameter shapes: the list ran both with the first model's slope, silently
    torch.manual_seed(0)
    a = nn.Sequential(nn.Flatten(), nn.Linear(64, 32), nn.LeakyReLU(0.5), nn.Linear(32, 10))
    b = nn.Sequential(nn.Flatten(), nn.Linear(64, 32), nn.LeakyReLU(0.9), nn.Linear(32, 10))
    b.load_state_dict(a.state_dict())
    assert verify(a, "digits").loss != verify(b, "digits").loss
    with pytest.raises(ArchError, match="needs models of one architecture"):
        verify([a, b], "digits")
    same = nn.Sequential(nn.Flatten(), nn.Linear(64, 32), nn.LeakyReLU(0.5), nn.Linear(32, 10))
    assert len(verify([a, same], "digits")) == 2  # the same settings still verify together


@pytest.fixture(scope="module")
def task():
    g = torch.Generator().manual_seed(0)
    x = torch.rand(120, 6, generator=g)
    return from_examples(x, (x[:, 0] > 0.5).long() + (x[:, 1] > 0.5).long(), seed=0)


def _net(seed: int) -> nn.Module:
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(6, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Dropout(0.5), nn.Linear(8, 3))


def test_list_mixing_train_and_eval_mode(task):
    a, b = _net(0).train(), _net(1).eval()
    ra, rb = metanet.verify([a, b], task)
    assert ra.accuracy == metanet.verify(a, task).accuracy and rb.accuracy == metanet.verify(b, task).accuracy
    assert a.training and not b.training  # each module's own mode given back


def test_list_mixing_frozen_and_trainable_parameters(task):
    a, b = _net(0), _net(1)
    b[0].weight.requires_grad_(False)
    reports = metanet.verify([a, b], task)
    assert [r.accuracy for r in reports] == [metanet.verify(a, task).accuracy, metanet.verify(b, task).accuracy]
    assert a[0].weight.requires_grad and not b[0].weight.requires_grad


def test_neural_graph_and_batch_of_graphs(task):
    from torch_geometric.data import Batch

    from metanet.graph import to_graph
    from metanet.nets import build

    nets = [build("mlp:6-8-3", seed=s) for s in (0, 1)]
    want = [r.accuracy for r in metanet.verify(nets, task)]
    assert metanet.verify(to_graph(nets[0]), task).accuracy == want[0]
    reports = metanet.verify(Batch.from_data_list([to_graph(n) for n in nets]), task)
    assert [r.accuracy for r in reports] == want
    assert [r.accuracy for r in metanet.verify([to_graph(nets[0]), nets[1]], task)] == want


def test_generated_result_is_its_model():
    g = metanet.generate("digits", seed=0, candidates=2)
    assert metanet.verify(g, "digits").accuracy == metanet.verify(g.model, "digits").accuracy
    assert metanet.verify([g, g.model], "digits")[0].accuracy == g.report.test.accuracy


def test_state_dict_is_a_clear_error(task):
    with pytest.raises(ArchError, match="state_dict"):
        metanet.verify(_net(0).state_dict(), task)


def test_list_does_not_touch_bn_statistics(task):
    a, b = _net(0).train(), _net(1).train()
    before = copy.deepcopy(a.state_dict())
    metanet.verify([a, b], task)
    assert all(torch.equal(before[k], v) for k, v in a.state_dict().items())
