"""StatNN features and zoo-graph targets against their docstrings, with answers computed by hand (session 33)."""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import nn

from metanet.graph import permute_hidden, to_graph
from metanet.reader.statnn import StatNN, statnn_features


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


def test_zoo_graphs_splits_and_targets_follow_the_zoo_rows(tiny_zoo):
    from metanet.reader.data import zoo_graphs
    from metanet.zoo import Zoo

    zoo = Zoo(tiny_zoo)
    rows = {n.id: n for n in zoo.select()}
    held = "mlp:64-16-10:relu"
    kw = dict(tasks=["mnist", "digits"], exclude_archs=[held], roles=False)
    ids = {s: [int(g.zoo_id) for g in zoo_graphs(zoo, s, **kw)] for s in ("train", "val", "test", "heldout", "all")}
    runs = {s: {rows[i].run for i in v} for s, v in ids.items()}
    # train / val / test split by run and together are "all"; heldout is every network of the excluded architecture
    assert not (runs["train"] & runs["val"] or runs["train"] & runs["test"] or runs["val"] & runs["test"])
    assert sorted(ids["train"] + ids["val"] + ids["test"]) == sorted(ids["all"])
    assert sorted(ids["heldout"]) == sorted(i for i, n in rows.items() if str(n.arch) == held)
    assert len(ids["all"]) + len(ids["heldout"]) == len(rows)
    # the targets are the rows' own values, and the weights the checkpoint's
    graphs = zoo_graphs(zoo, "test", **kw)
    for g in graphs[::7]:
        n = rows[int(g.zoo_id)]
        assert float(g.y_acc) == np.float32(n.test_acc) and int(g.run) == n.run
        assert int(g.y_task) == ["mnist", "digits"].index(n.task) and float(g.y_backdoor) == 0.0
        assert math.isclose(float(g.y_log_epoch), math.log1p(n.epoch), rel_tol=1e-6)
        assert math.isclose(float(g.y_log_lr), math.log10(n.hparams["lr"]), rel_tol=1e-6)
        module, params = zoo.stacked([n.id])
        assert torch.equal(g.edge_attr[: params["layers.0.weight"].numel(), 0], params["layers.0.weight"].flatten())
