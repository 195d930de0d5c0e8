"""`metanet.read` and the StatNN baseline on awkward-but-legitimate inputs and bad ones: every refusal is a
MetanetError naming the problem, never a NaN reading or a raw scikit-learn / attribute error."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from metanet.errors import ConfigError, GraphError
from metanet.reader import Reader, read


def _mlp(seed: int = 0, width: int = 8) -> nn.Module:
    from metanet.nets import build

    return build(f"mlp:64-{width}-10:relu", seed=seed)


def test_a_batch_of_several_graphs_is_refused_and_a_batch_of_one_is_read(small_reader):
    # a Batch is a NeuralGraph: read() returned the first network's accuracy with the neurons of both listed as the
    # first's (indices 82.. of a layer of 8)
    from torch_geometric.data import Batch

    from metanet.graph import to_graph

    a, b = _mlp(0), _mlp(1, width=5)
    with pytest.raises(GraphError, match="reads one network; got a Batch of 2 graphs"):
        read(Batch.from_data_list([to_graph(a), to_graph(b)]), reader=small_reader, scan=False)
    one = read(Batch.from_data_list([to_graph(b)]), reader=small_reader, scan=False)
    assert one == read(b, reader=small_reader, scan=False)
    assert [n["index"] for n in one["neurons"]] == list(range(5))


def test_scan_must_be_a_bool_or_none(small_reader):
    with pytest.raises(ConfigError, match=r"scan must be True, False or None.*'no'"):
        read(_mlp(), reader=small_reader, scan="no")  # was read as scan=True
    with pytest.raises(ConfigError, match="scan must be"):
        read(_mlp(), reader=small_reader, scan=2)
    assert read(_mlp(), reader=small_reader, scan=np.bool_(False))["trigger_scan"] is None


def test_scan_0_turns_the_scan_off():
    # only `scan is False` turned it off: scan=0 ran Neural Cleanse
    from metanet import tasks

    torch.manual_seed(0)
    r = Reader(tasks=["digits"], hidden=8, layers=1, probes=0, data_probes=20, scan_steps=2).eval()
    x, y = tasks.get("digits").split("val")
    r.set_data_probes("digits", x[:20], y[:20])
    r.scan_fitted.fill_(True)
    net = _mlp()
    assert read(net, reader=r, scan=0)["trigger_scan"] is None
    assert read(net, reader=r, scan=1)["trigger_scan"] is not None


def test_weights_that_overflow_the_reader_are_refused_not_read_as_nan(small_reader):
    # a diverged network (finite weights ~1e7): every reading (accuracy, backdoor, lr, task probabilities) was NaN
    net = _mlp()
    with torch.no_grad():
        for p in net.parameters():
            p.mul_(1e9)
    with pytest.raises(GraphError, match=r"float32 computation overflowed.*largest \|weight or bias\| \d"):
        read(net, reader=small_reader, scan=False)
    with torch.no_grad():  # still read at a large but representable scale
        for p in net.parameters():
            p.div_(1e7)
    assert 0.0 <= read(net, reader=small_reader, scan=False)["accuracy"] <= 1.0


def test_float64_weights_beyond_float32_are_refused(small_reader):
    # finite in float64, inf in the reader's float32: the NaN check passed and the reading was NaN
    net = _mlp().double()
    with torch.no_grad():
        net.layers[0].weight[0, :3] = 1e300
    with pytest.raises(GraphError, match=r"3 weights or biases beyond float32's range"):
        read(net, reader=small_reader, scan=False)
    assert read(_mlp().double(), reader=small_reader, scan=False) == read(_mlp(), reader=small_reader, scan=False)


def _graphs(n: int = 6) -> list:
    from metanet.graph import to_graph

    return [to_graph(_mlp(seed=i)) for i in range(n)]


def test_statnn_refuses_nan_targets_with_a_clear_error():
    from metanet.reader.statnn import StatNN

    with pytest.raises(ConfigError, match=r"1 NaN or infinite targets \(of 6\)"):  # was sklearn's ValueError
        StatNN(max_iter=5).fit(_graphs(), [0.5] * 5 + [float("nan")])
    with pytest.raises(ConfigError, match="one target per network"):
        StatNN(max_iter=5).fit(_graphs(), np.zeros((6, 2)))
    # a column of targets and a tensor of targets are fine; constant targets predict that constant
    pred = StatNN(max_iter=5).fit(_graphs(), torch.full((6, 1), 0.5)).predict(_graphs(2))
    np.testing.assert_allclose(pred, [0.5, 0.5])


def test_statnn_takes_feature_tensors_and_modules_and_checks_the_width():
    from metanet.reader.statnn import StatNN, statnn_features

    gs = _graphs()
    X = np.stack([statnn_features(g) for g in gs])
    y = np.linspace(0.1, 0.6, 6)
    ref = StatNN(max_iter=5).fit(X, y).predict(X)
    # a torch tensor was iterated as graphs: AttributeError 'torch.layout' object has no attribute 'layers'
    np.testing.assert_allclose(StatNN(max_iter=5).fit(torch.from_numpy(X), y).predict(torch.from_numpy(X)), ref)
    # modules: AttributeError 'MLP' object has no attribute 'layout'
    np.testing.assert_allclose(StatNN.features([_mlp(seed=i) for i in range(6)]), X)
    with pytest.raises(ConfigError, match=r"\(networks, 46\) matrix.*\(6, 10\)"):  # was sklearn's ValueError
        StatNN(max_iter=5).fit(X[:, :10], y)
    with pytest.raises(ConfigError, match=r"\(networks, 46\) matrix.*\(2, 10\)"):
        StatNN(max_iter=5).fit(X, y).predict(np.zeros((2, 10)))
    with pytest.raises(ConfigError, match="StatNN reads NeuralGraphs.*got a sequence of str"):
        StatNN.features(["net.safetensors"])


def test_statnn_options_are_checked_when_it_is_made():
    from metanet.reader.statnn import StatNN

    with pytest.raises(ConfigError, match="max_iter >= 1"):  # was sklearn's InvalidParameterError in fit()
        StatNN(max_iter=0)
    with pytest.raises(ConfigError, match="learning_rate > 0"):
        StatNN(learning_rate=-1.0)


def test_a_graph_with_its_edges_in_another_order_reads_the_same():
    # from_graph accepts any edge order (by edge_kind); read() read the edges in the order given: another reading
    import torch

    import metanet
    from metanet.graph import to_graph
    from metanet.nets import build

    g = to_graph(build("mlp:64-8-10:relu", seed=1))
    p = torch.randperm(g.edge_index.shape[1], generator=torch.Generator().manual_seed(0))
    shuffled = g.clone()
    shuffled.edge_index, shuffled.edge_attr, shuffled.edge_kind = g.edge_index[:, p], g.edge_attr[p], g.edge_kind[p]
    want, got = metanet.read(g, scan=False), metanet.read(shuffled, scan=False)
    assert got["accuracy"] == want["accuracy"] and got["task_probabilities"] == want["task_probabilities"]
    assert got["neurons"] == want["neurons"]
