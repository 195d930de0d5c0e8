"""The StatNN baseline (`metanet.reader.statnn`) on PyG batches, single graphs, modules, generators and bad inputs:
networks without finite weights, bad options, and complex targets are named (a GraphError / ConfigError) instead of
failing inside scikit-learn (a tensor, array or plain Data where a graph belongs is a ConfigError naming what was
given); its features on CNNs, skip and sequential networks are the layers' statistics, slot by slot as computed by
hand on a hand-built network."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from torch import nn
from torch_geometric.data import Batch

from metanet.errors import ConfigError, GraphError
from metanet.graph import permute_hidden, to_graph
from metanet.nets import build
from metanet.reader.statnn import StatNN, statnn_features


def _graphs(n: int = 6) -> list:
    return [to_graph(build("mlp:64-16-10:relu", seed=s)) for s in range(n)]


def test_a_batch_a_graph_a_module_and_a_generator_are_networks():
    # a PyG Batch was iterated as its (key, value) pairs ("got a sequence of tuple"), a single graph likewise, a
    # generator had no len(), and statnn_features(module) was an AttributeError
    gs = _graphs()
    ref = StatNN.features(gs)
    assert np.array_equal(StatNN.features(Batch.from_data_list(gs)), ref)
    assert np.array_equal(StatNN.features(gs[2]), ref[2:3])
    assert np.array_equal(StatNN.features(g for g in gs), ref)
    assert np.array_equal(statnn_features(build("mlp:64-16-10:relu", seed=1)), ref[1])
    y = np.linspace(0.1, 0.9, 6)
    a = StatNN(max_iter=5).fit(Batch.from_data_list(gs), y).predict(Batch.from_data_list(gs))
    assert np.array_equal(a, StatNN(max_iter=5).fit(gs, y).predict(gs))
    with pytest.raises(ConfigError, match=r"StatNN reads NeuralGraphs .*; got str"):
        statnn_features("net.safetensors")
    with pytest.raises(ConfigError, match=r"StatNN reads NeuralGraphs .*; got int"):
        StatNN.features(5)


def test_networks_without_finite_weights_are_named():
    # a meta-device module died in "Tensor.item() cannot be called on meta tensors"; NaN weights were predicted
    # silently (scikit-learn reads NaN as missing) or failed in fit with "window shape cannot be larger ..."
    s = StatNN(max_iter=5).fit(_graphs(), np.linspace(0.1, 0.9, 6))
    with pytest.raises(GraphError, match=r"StatNN cannot read this MLP: .*'meta' device"):
        s.predict([build("mlp:64-16-10:relu", seed=9).to("meta")])
    with pytest.raises(GraphError, match=r"'meta' device"):
        s.predict([to_graph(build("mlp:64-16-10:relu", seed=9).to("meta"))])
    net = build("mlp:64-16-10:relu", seed=9)
    with torch.no_grad():
        net.layers[0].weight[0, 0] = float("nan")
    with pytest.raises(ConfigError, match=r"StatNN.predict: network\(s\) \[1\] \(of 2\) have NaN or infinite"):
        s.predict([build("mlp:64-16-10:relu", seed=8), net])
    with pytest.raises(ConfigError, match=r"StatNN.fit: network\(s\) \[0, 1, 2\] \(of 3\) have NaN"):
        StatNN(max_iter=5).fit(np.full((3, 46), np.nan), [0.1, 0.2, 0.3])


@pytest.mark.parametrize("kw, match", [
    ({"seed": -1}, r"StatNN seed >= 0"),  # scikit-learn's InvalidParameterError, from fit()
    ({"seed": 1.5}, r"StatNN seed"),
    ({"classifier": "no"}, r"StatNN classifier must be True or False, got 'no'"),  # "no" made a classifier
])
def test_bad_options_are_named_when_made(kw, match):
    with pytest.raises(ConfigError, match=match):
        StatNN(**kw)


def test_cnn_skip_and_sequential_features_are_the_layers_statistics():
    # the documented features on the architectures the docstring names: first-slot weight mean / var / min / max
    # of the real parameters, the bias slot zero without bias, and the four architecture features
    for net in (build("cnn:3-8-8-10:relu:k5", seed=0), build("mlp:64-16-16-16-10:relu:skip", seed=0),
                build("mlp:64-16-16-10:relu:nobias", seed=0),
                nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(4, 10))):
        ws = [p.detach().double() for n, p in net.named_parameters() if n.endswith("weight")]
        f = statnn_features(net)
        assert np.allclose(f[[0, 1, 2, 6]], [ws[0].mean(), ws[0].var(unbiased=False), ws[0].min(), ws[0].max()])
        assert np.allclose(f[28:30], [ws[-1].mean(), ws[-1].var(unbiased=False)])
        hidden = len(ws) - 1
        mid = [w.shape[0] for w in ws[1:-1]]
        assert np.allclose(f[42:], [np.log(ws[0].shape[0]), np.log1p(np.mean(mid)) if mid else 0.0,
                                    np.log(ws[0].shape[1]), hidden])
    nobias = statnn_features(build("mlp:64-16-16-10:relu:nobias", seed=0))
    assert not nobias[7:14].any() and not nobias[21:28].any() and not nobias[35:42].any()


def test_complex_targets_are_a_config_error():
    X = np.random.default_rng(0).normal(size=(4, 46))
    with pytest.raises(ConfigError, match="numeric targets, got complex128"):  # was scikit-learn's ValueError
        StatNN(max_iter=2).fit(X, np.array([1j, 2, 3, 4]))
    # real targets as complex numbers are refused too (their imaginary part would be dropped silently)
    with pytest.raises(ConfigError, match="numeric targets"):
        StatNN(max_iter=2).fit(X, np.array([1, 2, 3, 4], dtype=complex))
    assert StatNN(max_iter=2).fit(X, np.array([1.0, 2, 3, 4])).predict(X).shape == (4,)


def test_statnn_refuses_a_tensor_in_a_sequence_clearly():
    """A tensor has a ``layout`` attribute, so it passed as a graph: a raw AttributeError 'Tensor' object has no
    attribute 'x'."""
    import numpy as np

    from metanet.errors import ConfigError
    from metanet.reader.statnn import StatNN, statnn_features

    with pytest.raises(ConfigError, match=r"got a sequence of Tensor of 46 values .*\(networks, 46\) matrix"):
        StatNN().fit([torch.zeros(46)], [1])
    with pytest.raises(ConfigError, match="got ndarray"):
        statnn_features(np.zeros(46))
    with pytest.raises(ConfigError, match="got Data that is not a NeuralGraph"):
        statnn_features(__import__("torch_geometric").data.Data(x=torch.zeros(2, 6)))


def test_statnn_of_a_graph_and_of_a_batch_as_before(graph):
    from torch_geometric.data import Batch

    from metanet.errors import GraphError
    from metanet.reader.statnn import statnn_features

    assert statnn_features(graph).shape == (46,)
    with pytest.raises(GraphError, match="batch of 2 graphs"):
        statnn_features(Batch.from_data_list([graph, graph]))


def test_statnn_features_of_a_hand_built_network_slot_by_slot():
    # 2 -> 3 -> 4 -> 5 -> 2: first slot, the mean of the two middle layers, last slot, then the architecture
    net = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 4, bias=False), nn.Tanh(), nn.Linear(4, 5), nn.ReLU(),
                        nn.Linear(5, 2))
    with torch.no_grad():
        net[0].weight.copy_(torch.arange(6.0).view(3, 2))  # 0..5: mean 2.5, var 35/12, quartiles 0 1.25 2.5 3.75 5
        net[0].bias.copy_(torch.tensor([1.0, 2.0, 3.0]))  # mean 2, var 2/3, quartiles 1 1.5 2 2.5 3
        net[2].weight.fill_(2.0)  # no bias: zeros
        net[4].weight.fill_(-1.0)
        net[4].bias.fill_(4.0)
        net[6].weight.copy_(-torch.arange(10.0).view(2, 5))  # -9..0
        net[6].bias.copy_(torch.tensor([4.0, 8.0]))
    f = statnn_features(net)
    first = [2.5, 35 / 12, 0, 1.25, 2.5, 3.75, 5, 2, 2 / 3, 1, 1.5, 2, 2.5, 3]
    middle = [0.5, 0, 0.5, 0.5, 0.5, 0.5, 0.5, 2, 0, 2, 2, 2, 2, 2]  # (2 and -1; bias 0 and 4) averaged
    last = [-4.5, 99 / 12, -9, -6.75, -4.5, -2.25, 0, 6, 4, 4, 5, 6, 7, 8]
    arch = [math.log(3), math.log1p(4.5), math.log(2), 3]
    assert f.shape == (46,) and np.allclose(f, first + middle + last + arch, atol=1e-12)
    # the reader's batched statistics (the cache zoo graphs carry) are the same 46 features, in float32
    g = to_graph(net)
    from torch_geometric.data import Batch

    from metanet.reader.model import Reader

    b = Batch.from_data_list([g])
    g.w_stats = Reader._raw_stats(Reader._groups(b), 1)
    assert np.allclose(StatNN.features([g])[0], f, atol=1e-5)
    # statistics of a layer do not depend on the order of its neurons: a permuted network has the same features
    assert np.allclose(statnn_features(permute_hidden(net, 2, [3, 1, 0, 2])), f, atol=1e-12)
