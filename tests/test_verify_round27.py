"""verify(): lists mixing modes / frozen parameters, graphs, Generated results, state_dicts (round 27)."""

import copy

import pytest
import torch
from torch import nn

import metanet
from metanet.errors import ArchError
from metanet.tasks import from_examples


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
