"""Reader model: shapes, permutation equivariance, mixed architectures, no metadata shortcuts, save/load (loading
leaves torch's global RNG alone; a Lightning checkpoint's unfitted scan head is warned about). Awkward but legitimate
inputs (lists mixing zoo and fresh graphs, MLPs and CNNs; a Batch for fit_normalisation) read as each graph alone;
what is not a graph, or is on the meta device, is a GraphError; a task list given as a string is a ConfigError."""

from __future__ import annotations

import copy
import math
import re
import warnings

import pytest
import torch
from torch import nn
from torch_geometric.data import Batch

from metanet.errors import ConfigError, GraphError
from metanet.graph import permute_hidden, to_graph
from metanet.nets import build
from metanet.reader import Reader
from metanet.reader.lightning import ReaderDataModule, ReaderModule
from metanet.reader.model import batch_graphs
from reader_helpers import fresh_graphs, tiny_reader


def _reader(**kw):
    torch.manual_seed(0)
    return Reader(tasks=["digits", "mnist"], hidden=16, layers=2, **kw).eval()


@pytest.mark.parametrize("kind", ["plain", "data_probes+saliency"])
@pytest.mark.parametrize("arch", ["mlp:20-8-6-3:relu", "mlp:20-8-8-3:tanh:skip", "cnn:1-4-6-3:relu"])
def test_hidden_permutation_equivariance(arch, kind):
    torch.manual_seed(1)
    model = build(arch, seed=3)
    reader = _reader() if kind == "plain" else _data_probed()  # the data probes have the MLPs' 20 inputs
    g = to_graph(model, edge_dim=9)
    with torch.no_grad():
        out = reader(g)
    lay = g.layout
    for layer in range(1, lay.num_layers):
        n = lay.sizes[layer]
        perm = torch.randperm(n)
        permuted = permute_hidden(model, layer, perm)
        gp = to_graph(permuted, edge_dim=9)
        with torch.no_grad():
            outp = reader(gp)
        for k in ("accuracy", "task", "backdoor", "log_lr", "log_epoch", "activation", "optimizer", "embedding"):
            assert torch.allclose(out[k], outp[k], atol=1e-5), (k, (out[k] - outp[k]).abs().max())
        # node-level predictions are permuted the same way (tied residual layers move together)
        from metanet.graph import tied_layers

        index = torch.arange(lay.num_nodes)
        for l in tied_layers(lay, layer):
            s = lay.nodes(l)
            index[s] = index[s][perm]
        assert torch.allclose(out["role"][index], outp["role"], atol=1e-5)


def test_mixed_architectures_in_one_batch():
    reader = _reader()
    archs = ["mlp:20-8-3:relu", "mlp:20-16-16-3:gelu", "cnn:1-4-6-3:relu", "mlp:64-32-10:tanh"]
    graphs = [to_graph(build(a, seed=i), edge_dim=9) for i, a in enumerate(archs)]
    with torch.no_grad():
        out = reader(Batch.from_data_list(graphs))
        single = [reader(g) for g in graphs]
    assert out["accuracy"].shape == (4,) and out["task"].shape == (4, 2)
    assert out["role"].shape == (sum(g.num_nodes for g in graphs), 12)
    for i, s in enumerate(single):
        assert torch.allclose(out["accuracy"][i], s["accuracy"][0], atol=1e-5)
        assert torch.allclose(out["task"][i], s["task"][0], atol=1e-5)


def test_metadata_shuffle_does_not_change_predictions(tiny_graphs):
    """The reader sees weights and architecture only: shuffling every recorded attribute changes nothing."""
    reader = _reader().fit_normalisation(tiny_graphs["train"][:20])
    graphs = [g.clone() for g in tiny_graphs["val"][:8]]
    with torch.no_grad():
        before = reader(Batch.from_data_list(graphs))
    perm = torch.randperm(len(graphs))
    keys = ["y_acc", "y_task", "y_backdoor", "y_log_lr", "y_log_epoch", "y_act", "y_opt", "zoo_id", "run"]
    shuffled = [g.clone() for g in graphs]
    for i, g in enumerate(shuffled):
        for k in keys:
            setattr(g, k, getattr(graphs[int(perm[i])], k))
        g.y_role = g.y_role[torch.randperm(len(g.y_role))]
    with torch.no_grad():
        after = reader(Batch.from_data_list(shuffled))
    for k in ("accuracy", "task", "backdoor", "role"):
        assert torch.equal(before[k], after[k]), k


def test_normalisation_uses_given_graphs_only(tiny_graphs):
    reader = _reader()
    assert not bool(reader.fitted)
    reader.fit_normalisation(tiny_graphs["train"])
    assert bool(reader.fitted)
    assert (reader.w_norm[:, 1] > 0).all() and (reader.b_norm[:, 1] > 0).all()
    other = _reader().fit_normalisation(tiny_graphs["val"])
    assert not torch.equal(reader.w_norm, other.w_norm)


@pytest.mark.parametrize("make", ["plain", "data_probes"])
def test_save_load_roundtrip(tmp_path, make):
    reader = _reader() if make == "plain" else _data_probed()
    g = to_graph(build("mlp:20-8-3:relu", seed=0))
    path = reader.save(tmp_path / "r.safetensors")
    again = Reader.load(path)
    with torch.no_grad():
        for k in ("task", "accuracy", "backdoor", "role"):
            assert torch.equal(reader(g)[k], again(g)[k]), k
    assert again.tasks == ["digits", "mnist"]


def test_load_errors(tmp_path):
    from metanet.errors import CheckpointError

    with pytest.raises(CheckpointError, match="no reader checkpoint"):
        Reader.load(tmp_path / "missing.safetensors")
    bad = tmp_path / "bad.safetensors"
    bad.write_bytes(b"not a safetensors file")
    with pytest.raises(CheckpointError, match="bad.safetensors is not a readable safetensors checkpoint"):
        Reader.load(bad)


def test_edge_dim_too_large_is_a_clear_error():
    from metanet.errors import GraphError

    reader = _reader()
    model = nn.Sequential(nn.Conv2d(1, 2, 5), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(2, 3))
    with pytest.raises(GraphError, match="at most 9 values per connection"):
        reader(to_graph(model))


def test_probe_queries_are_used_and_backdoor_gradients_reach_them():
    """The learned probe inputs (MNTD-style queries) change the predictions, and the backdoor head's loss
    trains them (only the bank of the network's input size)."""
    reader = _reader()
    g = to_graph(build("mlp:784-16-10:relu", seed=0))
    out = reader(g)
    out["backdoor"].sum().backward()
    grad = reader.queries["784"].grad
    assert grad is not None and float(grad.abs().sum()) > 0
    for name in ("64", "40", "any", "cnn"):
        other = reader.queries[name].grad
        assert other is None or float(other.abs().sum()) == 0, name
    with torch.no_grad():
        before = reader(g)
        reader.queries["784"].add_(torch.randn_like(reader.queries["784"]))
        after = reader(g)
    for k in ("backdoor", "accuracy", "task"):
        assert not torch.allclose(before[k], after[k]), k


def test_probe_runs_the_encoded_network():
    """The probe branch runs the network the graph encodes: its logits on the queries equal the module's own."""
    reader = _reader()
    for arch in ("mlp:20-8-8-3:tanh:skip", "cnn:1-4-6-3:relu"):
        model = build(arch, seed=2).eval()
        groups = Reader._groups(Batch.from_data_list([to_graph(model, edge_dim=9)]))
        x = reader._bank(groups[0].lay)
        with torch.no_grad():
            _, logits = reader._run(groups[0].lay, groups[0].params, x)
            assert torch.allclose(logits[0], model(x), atol=1e-5), arch


def test_weight_stats_hold_statnn_features_and_cache_matches(tiny_graphs):
    """The readout's weight statistics are StatNN's (same layer slots and quantiles), and the ``w_stats`` cache
    that zoo graphs carry equals what the reader computes from the weights."""
    from metanet.reader.statnn import statnn_features

    reader = _reader()
    graphs = tiny_graphs["val"][:6]
    b = Batch.from_data_list(graphs)
    cached = reader.weight_stats(b)
    del b.w_stats
    computed = reader.weight_stats(b)
    assert torch.allclose(cached, computed, atol=1e-5)
    for i, g in enumerate(graphs):
        ref = torch.tensor(statnn_features(g)[:42], dtype=torch.float32)
        assert torch.allclose(computed[i, :42], ref, atol=1e-4), (computed[i, :42] - ref).abs().max()


def test_branches_can_be_switched_off():
    for kw in (dict(probes=0), dict(stats=False), dict(probes=0, stats=False)):
        reader = _reader(**kw)
        out = reader(to_graph(build("mlp:20-8-3:relu", seed=0)))
        assert out["accuracy"].shape == (1,), kw


def test_statnn_features_from_cache_match_direct(tiny_graphs):
    import numpy as np

    from metanet.reader.statnn import StatNN, statnn_features

    graphs = tiny_graphs["val"][:5]
    fast = StatNN.features(graphs)
    slow = np.stack([statnn_features(g) for g in graphs])
    assert fast.shape == (5, 46)
    assert np.allclose(fast, slow, atol=1e-4)


def _data_probed(n_in: int = 20, classes: int = 3, m: int = 24):
    torch.manual_seed(0)
    reader = Reader(tasks=["digits", "mnist"], hidden=16, layers=2, data_probes=32, saliency=True).eval()
    g = torch.Generator().manual_seed(5)
    return reader.set_data_probes("digits", torch.rand(m, n_in, generator=g),
                                  torch.randint(0, classes, (m,), generator=g))


def test_data_probe_features_are_the_networks_accuracy_on_them():
    """The labelled probes are read through the encoded network's own accuracy and confidence on them."""
    reader = _data_probed()
    model = build("mlp:20-8-10:relu", seed=4).eval()
    b = Batch.from_data_list([to_graph(model, edge_dim=9)])
    groups = Reader._groups(b)
    n = b.num_nodes
    new_id = torch.arange(n)  # every node kept (input rows are written nowhere)
    with torch.no_grad():
        gfeat, nfeat = reader._data_probe(groups, new_id, n, 1, torch.device("cpu"))
        x, y = reader.dprobe_x[0, :24, :20], reader.dprobe_y[0, :24]
        logits = model(x)
    width = 4 + reader.num_classes
    f = gfeat[0, :width]
    assert float(f[0]) == 1.0
    assert torch.isclose(f[1], (logits.argmax(1) == y).float().mean())
    assert torch.isclose(f[2], torch.softmax(logits, 1)[torch.arange(24), y].mean(), atol=1e-6)
    assert float(gfeat[0, width:].abs().sum()) == 0  # the other task's probes have another input size
    assert float(nfeat[:20].abs().sum()) == 0 and float(nfeat[20:].abs().sum()) > 0  # inputs get none


def test_data_probe_labels_change_predictions():
    reader = _data_probed()
    g = to_graph(build("mlp:20-8-10:relu", seed=0))
    with torch.no_grad():
        before = reader(g)["accuracy"]
        reader.dprobe_y[0, :24] = (reader.dprobe_y[0, :24] + 1) % 3
        assert not torch.allclose(before, reader(g)["accuracy"])


def test_fill_data_probes_is_class_balanced_from_val():
    reader = Reader(tasks=["digits"], hidden=8, layers=1, data_probes=50).fill_data_probes()
    y = reader.dprobe_y[0]
    assert int(reader.dprobe_n[0]) == 64 and bool((y >= 0).all())
    assert torch.bincount(y, minlength=10).tolist() == [5] * 10
    again = Reader(tasks=["digits"], hidden=8, layers=1, data_probes=50).fill_data_probes()
    assert torch.equal(reader.dprobe_x, again.dprobe_x)


def test_data_probe_errors():
    from metanet.errors import GraphError

    with pytest.raises(GraphError, match="no data probes"):
        _reader().set_data_probes("digits", torch.rand(4, 20), torch.zeros(4, dtype=torch.long))
    reader = _data_probed()
    with pytest.raises(GraphError, match=r"per base data set; this reader's are \['digits', 'mnist'\], got 'cifar'"):
        reader.set_data_probes("cifar", torch.rand(4, 20), torch.zeros(4, dtype=torch.long))
    derived = Reader(tasks=["mnist", "mnist[3,8]"], hidden=8, layers=1, data_probes=8)
    with pytest.raises(GraphError, match=r"'mnist\[3,8\]' is a view of 'mnist': set that one's"):
        derived.set_data_probes("mnist[3,8]", torch.rand(4, 20), torch.zeros(4, dtype=torch.long))
    with pytest.raises(GraphError, match="1..32 examples"):
        reader.set_data_probes("digits", torch.rand(40, 20), torch.zeros(40, dtype=torch.long))
    with pytest.raises(GraphError, match="at most 784 input values"):
        reader.set_data_probes("digits", torch.rand(4, 900), torch.zeros(4, dtype=torch.long))
    with pytest.raises(GraphError, match=r"labels must lie in \[0, 10\)"):
        reader.set_data_probes("digits", torch.rand(4, 20), torch.full((4,), 10))


def test_saliency_reads_each_inputs_outgoing_weights():
    """Scaling one input's outgoing weights (a trigger pixel the training lit) changes the saliency features; the
    features ignore the hidden order and the overall weight scale."""
    torch.manual_seed(0)
    reader = Reader(tasks=["digits"], hidden=8, layers=1, probes=0, stats=False, saliency=True,
                    probe_inputs=[20]).eval()
    model = build("mlp:20-8-3:relu", seed=1)

    def feats(m):
        groups = Reader._groups(Batch.from_data_list([to_graph(m, edge_dim=9)]))
        with torch.no_grad():
            return reader._saliency(groups, 1, torch.device("cpu"))

    base = feats(model)
    lit = copy.deepcopy(model)
    with torch.no_grad():
        lit.layers[0].weight[:, 7] *= 10
    assert not torch.allclose(base, feats(lit))
    scaled = copy.deepcopy(model)
    with torch.no_grad():
        scaled.layers[0].weight.mul_(3)
    assert torch.allclose(base, feats(scaled), atol=1e-5)
    assert torch.allclose(base, feats(permute_hidden(model, 1, torch.randperm(8))), atol=1e-5)
    cnn = Reader._groups(Batch.from_data_list([to_graph(build("cnn:1-4-6-3:relu", seed=0), edge_dim=9)]))
    with torch.no_grad():  # a CNN has no saliency map: its features are those of an all-zero map
        got = reader._saliency(cnn, 1, torch.device("cpu"))
        assert torch.equal(got, reader.saliency_mlp(torch.zeros(1, reader.saliency_top.out_features)))


def test_accuracy_head_skip_path_carries_the_probe_accuracy():
    """With the readout's own accuracy term at zero and the gate open, the predicted accuracy is exactly the
    network's accuracy on the labelled probes of the task the task head names."""
    reader = _data_probed()
    with torch.no_grad():
        reader.heads["accuracy"].weight.zero_()
        reader.heads["accuracy"].bias.zero_()
        reader.dprobe_gate.weight.zero_()
        reader.dprobe_gate.bias.fill_(30.0)
        reader.heads["task"].weight.zero_()
        reader.heads["task"].bias.copy_(torch.tensor([30.0, 0.0]))  # "digits", whose probes have 20 inputs
        for seed in (0, 1, 2):
            model = build("mlp:20-8-10:relu", seed=seed).eval()
            x, y = reader.dprobe_x[0, :24, :20], reader.dprobe_y[0, :24]
            acc = (model(x).argmax(1) == y).float().mean().clamp(0.01, 0.99)
            assert torch.isclose(reader(to_graph(model, edge_dim=9))["accuracy"][0], acc, atol=1e-5), seed


def test_derived_task_probes_are_views_of_the_base_probes():
    """A derived task's probes are its base's probe images with the task's class subset, labels, permutation and
    inversion, exactly as ``Task.split`` makes them; a relabelling shares its view's forward pass, and
    ``derived_probes`` caps the views that need inputs of their own."""
    from metanet import tasks

    names = ["mnist", "mnist+permute(1)+invert", "mnist[3,8]+relabel(2)", "mnist+relabel(1)"]
    reader = Reader(tasks=names, hidden=8, layers=1, data_probes=200)
    x, y = tasks.get("mnist").split("val")
    reader.set_data_probes("mnist", x[:200], y[:200])
    views = reader._task_views()
    for name, v in zip(names, views):
        xt, yt = tasks.get(name).split("val")  # the task's val images, in the base's order
        m = len(v.rows)
        got = reader.dprobe_x[v.base, v.rows, :784]
        got = got[:, v.perm] if v.perm is not None else got
        got = 1 - got if v.invert else got
        assert torch.equal(got, xt[:m].flatten(1)), name
        assert torch.equal(v.labels, yt[:m]), name
        assert v.num_classes == tasks.get(name).num_classes
    assert len(views[2].rows) == int(((y[:200] == 3) | (y[:200] == 8)).sum())
    assert views[3].key == views[0].key and views[1].key != views[0].key
    capped = Reader(tasks=names, hidden=8, layers=1, data_probes=200, derived_probes=30)
    capped.set_data_probes("mnist", x[:200], y[:200])
    assert [len(v.rows) for v in capped._task_views()] == [200, 30, 30, 200]


def test_networks_are_read_on_the_probes_of_tasks_of_their_shape():
    """A network gets the features of the tasks with its input size and class count only: a two-class network
    the accuracy on the two-class task's probes, and nothing from the ten-class task's."""
    from metanet import tasks

    reader = Reader(tasks=["mnist", "mnist[3,8]+relabel(2)"], hidden=8, layers=1, data_probes=100).eval()
    x, y = tasks.get("mnist").split("val")
    reader.set_data_probes("mnist", x[:100], y[:100])
    model = build("mlp:784-8-2:relu", seed=0).eval()
    b = Batch.from_data_list([to_graph(model, edge_dim=9)])
    with torch.no_grad():
        gfeat, _ = reader._data_probe(Reader._groups(b), torch.arange(b.num_nodes), b.num_nodes, 1,
                                      torch.device("cpu"))
        xt, yt = tasks.get("mnist[3,8]+relabel(2)").split("val")
        m = len(reader._task_views()[1].rows)
        acc = (model(xt[:m].flatten(1)).argmax(1) == yt[:m]).float().mean()
    width = 4 + reader.num_classes
    assert float(gfeat[0, :width].abs().sum()) == 0
    assert float(gfeat[0, width]) == 1.0 and torch.isclose(gfeat[0, width + 1], acc)


def _mnist_ncm():
    """A nearest-class-mean classifier of mnist as a Linear layer, its graph, and the mnist val split."""
    from metanet import tasks

    x, y = tasks.get("mnist").split("val")
    means = torch.stack([x[y == c].flatten(1).mean(0) for c in range(10)])
    ncm = nn.Sequential(nn.Linear(784, 10))
    with torch.no_grad():
        ncm[0].weight.copy_(means)
        ncm[0].bias.copy_(-0.5 * means.pow(2).sum(1))
    return ncm, to_graph(ncm, edge_dim=9), x, y


def test_task_evidence_points_the_task_head_at_the_task_a_network_solves():
    r"""``task_evidence`` adds :math:`\kappa\,\mathrm{logit}(\mathrm{acc}_t)` to the task logits: with the head
    silenced, a nearest-class-mean classifier of mnist is read as mnist, not as a permutation of it; tasks whose
    probes it cannot be run on (another class count) are masked out whatever ``task_evidence`` is."""
    names = ["mnist+permute(1)", "mnist", "mnist[3,8]"]
    ncm, g, x, y = _mnist_ncm()
    out = {}
    for kappa in (0.0, 3.0):
        torch.manual_seed(0)
        reader = Reader(tasks=names, hidden=8, layers=1, data_probes=200, task_evidence=kappa).eval()
        reader.set_data_probes("mnist", x[:200], y[:200])
        with torch.no_grad():
            reader.heads["task"].weight.zero_()
            reader.heads["task"].bias.zero_()
            out[kappa] = reader(g)["task"][0]
    acc = (ncm(x[:200].flatten(1)).argmax(1) == y[:200]).float().mean()
    assert acc > 0.7
    assert out[0.0][2] == out[3.0][2] == -1e4  # two-class task, ten-class network
    assert out[0.0][0] == out[0.0][1] == 0  # no evidence: the (silenced) head cannot tell them apart
    assert int(out[3.0].argmax()) == 1
    assert torch.isclose(out[3.0][1], 3 * torch.logit(acc.clamp(0.01, 0.99)), atol=1e-4)


def test_task_cap_bounds_the_head_so_strong_probe_evidence_decides():
    r"""With ``task_cap`` :math:`c` the head's task logits become :math:`c \tanh(\ell / c)`: a head that puts a
    wrong task 40 logits ahead (as the uncapped head did on generated networks, by 14-17) is out-voted by the
    probe evidence of an mnist classifier; without the cap it wins. Negative caps are rejected."""
    names = ["mnist+permute(1)", "mnist"]
    ncm, g, x, y = _mnist_ncm()
    out = {}
    for cap in (0.0, 4.0):
        torch.manual_seed(0)
        reader = Reader(tasks=names, hidden=8, layers=1, data_probes=200, task_evidence=3.0, task_cap=cap).eval()
        reader.set_data_probes("mnist", x[:200], y[:200])
        with torch.no_grad():
            reader.heads["task"].weight.zero_()
            reader.heads["task"].bias.copy_(torch.tensor([40.0, 0.0]))  # the head insists on the permuted task
            out[cap] = reader(g)["task"][0]
    assert int(out[0.0].argmax()) == 0 and int(out[4.0].argmax()) == 1
    # the same evidence is added either way: only the head's part changed, from 40 to 4 tanh(10)
    assert torch.isclose(out[0.0][0] - out[4.0][0], torch.tensor(40.0 - 4.0 * math.tanh(10.0)), atol=1e-3)
    assert torch.isclose(out[0.0][1], out[4.0][1])
    assert reader.config["task_cap"] == 4.0 and "task_cap" not in Reader(tasks=names).config
    with pytest.raises(ValueError, match="task_cap"):
        Reader(tasks=names, task_cap=-1.0)


@pytest.mark.parametrize("kw, message", [
    ({"hidden": 0}, "Reader hidden must be a whole number >= 1, got 0"),
    ({"num_classes": 1}, "num_classes must be a whole number >= 2"),
    ({"probes": -1}, "probes must be a whole number >= 0"),
    ({"data_probes": 2.5}, "data_probes must be a whole number >= 0, got 2.5"),
    ({"tasks": []}, "at least one task name"),
    # a negative scan_steps built a scan head of -1 Neural Cleanse steps; a NaN task_cap passed `task_cap < 0`
    ({"scan_steps": -1}, "Reader scan_steps must be a whole number >= 0, got -1"),
    ({"scan_steps": 2.5}, "Reader scan_steps must be a whole number >= 0, got 2.5"),
    ({"task_cap": float("nan")}, r"task_cap must be >= 0 \(0: no cap\), got nan"),
])
def test_reader_size_errors_name_the_option(kw, message):
    from metanet.errors import ConfigError

    with pytest.raises(ConfigError, match=message):
        Reader(**{"tasks": ["digits"], **kw})


def test_a_list_mixing_zoo_and_fresh_graphs_reads_as_each_graph_alone(tiny_graphs):
    # Batch.from_data_list of a zoo graph then a fresh one raised KeyError: 'w_stats' (and an MLP next to a CNN a
    # size mismatch of edge_attr); the reader itself took no list ('list' object has no attribute 'x')
    zoo = tiny_graphs["val"][:2]
    graphs = zoo + fresh_graphs()
    r = tiny_reader(saliency=True)
    r.fit_normalisation(graphs)  # the statistics are batched: failed on the mix too
    assert bool(r.fitted)
    with torch.no_grad():
        out = r(graphs)
        for i, g in enumerate(graphs):
            alone = r(g)
            assert torch.allclose(out["accuracy"][i], alone["accuracy"][0], atol=1e-5)
            assert torch.allclose(out["embedding"][i], alone["embedding"][0], atol=1e-4)
    assert r.weight_stats(graphs).shape == (4, r.weight_stats(zoo[0]).shape[1])
    assert torch.allclose(r.weight_stats(graphs)[:2], r.weight_stats(zoo), atol=1e-6)  # cache = recomputed
    b = batch_graphs(graphs)
    assert b.num_graphs == 4 and b.edge_attr.shape[1] == 9 and "w_stats" not in b and "y_acc" not in b
    assert "w_stats" in zoo[0] and graphs[2].edge_attr.shape[1] == 1  # the caller's graphs are left as they were
    # graphs that agree are batched as PyG does (the training and bench path is unchanged)
    same = batch_graphs(zoo)
    assert torch.equal(same.w_stats, Batch.from_data_list(zoo).w_stats)


def test_fit_normalisation_takes_a_batch_like_a_list(tiny_graphs):
    gs = tiny_graphs["train"][:4]
    a, b = tiny_reader(), tiny_reader()
    a.fit_normalisation(gs)
    b.fit_normalisation(Batch.from_data_list(gs))  # a Batch iterates as (key, value) pairs: AttributeError
    for k in ("w_norm", "b_norm", "s_norm"):
        assert torch.allclose(getattr(a, k), getattr(b, k)), k


@pytest.mark.parametrize("bad, what", [(lambda: build("mlp:64-16-10:relu"), "to_graph"),
                                       (lambda: torch.zeros(3, 6), "Tensor"), (lambda: [], "at least one"),
                                       (lambda: [torch.zeros(3)], "Tensor")])
def test_what_is_not_a_graph_is_a_graph_error(bad, what):
    r = tiny_reader()
    for call in (r, r.fit_normalisation, r.weight_stats, batch_graphs):
        with pytest.raises(GraphError, match=what):
            call(bad())


def test_a_graph_on_the_meta_device_is_a_graph_error():
    g = fresh_graphs()[0].to("meta")  # NotImplementedError from torch.nonzero deep in forward
    with pytest.raises(GraphError, match="meta"):
        tiny_reader()(g)


def test_a_task_list_given_as_a_string_is_a_config_error(tiny_zoo):
    # list("mnist"): a task head of five one-letter tasks, every network's y_task -1, silently
    from metanet.reader.data import zoo_graphs

    with pytest.raises(ConfigError, match=r"\['mnist'\]"):
        Reader(tasks="mnist")
    with pytest.raises(ConfigError, match="repeated"):
        Reader(tasks=["mnist", "digits", "mnist"])
    with pytest.raises(ConfigError, match=r"\['mnist'\]"):
        ReaderModule(tasks="mnist")
    with pytest.raises(ConfigError, match="tasks"):
        ReaderDataModule(zoos=[str(tiny_zoo)], tasks="mnist")
    with pytest.raises(ConfigError, match="exclude_archs"):
        ReaderDataModule(zoos=[str(tiny_zoo)], exclude_archs="mlp:64-16-10:relu")
    with pytest.raises(ConfigError, match="tasks"):
        zoo_graphs(tiny_zoo, "val", tasks="mnist", roles=False)


def test_a_reader_from_a_lightning_checkpoint_warns_its_scan_head_is_unfitted(tmp_path):
    # the scan head is fitted when the fit ends, after last.ckpt: Reader.load(last.ckpt) read without the scan,
    # silently
    module = ReaderModule(tasks=["digits", "mnist"], hidden=8, layers=1, probes=2, data_probes=8, scan_steps=3)
    path = tmp_path / "run dir" / "last.ckpt"
    path.parent.mkdir()
    torch.save({"hyper_parameters": dict(module.hparams), "state_dict": module.state_dict()}, path)
    with pytest.warns(UserWarning, match="trigger-scan head is not fitted"):
        r = Reader.load(path)
    assert r.scan_steps == 3 and not bool(r.scan_fitted)
    module.reader.scan_fitted.fill_(True)
    torch.save({"hyper_parameters": dict(module.hparams), "state_dict": module.state_dict()}, path)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert bool(Reader.load(path).scan_fitted)


def _saved(tmp_path):
    path = tmp_path / "my reader.safetensors"  # a path with a space
    Reader(tasks=["digits"], hidden=8, layers=1, probes=2, probe_inputs=(64,)).save(path)
    return path


def test_loading_a_reader_does_not_draw_from_the_global_rng(tmp_path):
    path = _saved(tmp_path)
    torch.manual_seed(0)
    want = torch.rand(3)
    torch.manual_seed(0)
    a = Reader.load(path)
    got = torch.rand(3)
    assert torch.equal(got, want)  # was another stream: the build's throwaway init consumed it
    b = Reader.load(path)
    sa, sb = a.state_dict(), b.state_dict()
    assert sa.keys() == sb.keys() and all(torch.equal(sa[k], sb[k]) for k in sa)


# --- task_cap and task_evidence within what float32 logits take -------------------------------------------------------


_AVAIL = torch.tensor([[True, True, False]])  # the third task's probes do not fit the network: masked out


@pytest.mark.parametrize("cap", [1e300, 1e39, 10**40, 1e-300, 1e-31])
def test_reader_task_cap_beyond_float32_is_a_config_error(cap):
    # 1e300 was inf * tanh(0) = NaN task logits; 1e-300 became 0 in float32: 0 * tanh(0 / 0) = NaN
    with pytest.raises(ConfigError, match=rf"^Reader task_cap must be 0 \(no cap\) or from 1e-30 to 1e\+30 \(it "
                                          rf"bounds float32 logits\), got {re.escape(f'{cap!r:.40}')}$"):
        Reader(tasks=["a", "b", "c"], probes=0, task_cap=cap)


@pytest.mark.parametrize("cap", [1e30, 1e-30, 4.0])
def test_reader_task_cap_in_range_gives_finite_logits(cap):
    r = Reader(tasks=["a", "b", "c"], probes=0, task_cap=cap)
    out = r._task_logits(_AVAIL, torch.tensor([[0.5, 0.5, 0.5]]), torch.tensor([[0.0, 3.0, -2.0]]))
    assert torch.isfinite(out).all()


@pytest.mark.parametrize("kappa", [1000.5, -3000, 1e300])
def test_reader_task_evidence_beyond_the_mask_is_a_config_error(kappa):
    # task_evidence=3000 put the available tasks at -13,785 on probes at 1 % accuracy, below the -1e4 of the masked
    # task: the network was read as the one task whose probes it cannot even run
    got = re.escape(f"{kappa!r:.40}")
    with pytest.raises(ConfigError, match=rf"^Reader task_evidence must be within ±1000 .*, got {got}$"):
        Reader(tasks=["a", "b", "c"], probes=0, task_evidence=kappa)


@pytest.mark.parametrize("kappa", [1000, -1000, 3.0])
def test_reader_task_evidence_in_range_never_picks_a_masked_task(kappa):
    r = Reader(tasks=["a", "b", "c"], probes=0, task_evidence=kappa)
    for acc in (0.01, 0.99):
        out = r._task_logits(_AVAIL, torch.full((1, 3), acc), torch.zeros(1, 3))
        assert out.argmax(-1).item() != 2, (acc, out)
