"""Writer.write / Writer.forward / Writer.save / Writer.load on awkward but legitimate inputs, and bad ones."""

from __future__ import annotations

import warnings

import pytest
import torch

from metanet.errors import ArchError, CheckpointError, ConfigError, GraphError, TaskError
from metanet.nets import build
from metanet.writer import Writer

ARCH = "mlp:64-12-3:relu"


def _support(n: int = 30):
    g = torch.Generator().manual_seed(0)
    return torch.rand(n, 1, 8, 8, generator=g), torch.arange(n) % 3


def _same(a, b) -> bool:
    return a.edge_index.equal(b.edge_index) and a.edge_attr.equal(b.edge_attr) and a.x.equal(b.x)


def test_forward_reads_a_graph_whose_edges_come_in_another_order():
    """from_graph accepts edges in any order (by edge_kind); forward read the starting weights by position, so the
    same network with its edges shuffled was written from other (scrambled) starting weights."""
    from metanet.graph import from_graph, to_graph

    x, y = _support()
    graph = to_graph(build(ARCH, seed=3))
    perm = torch.randperm(graph.num_edges, generator=torch.Generator().manual_seed(0))
    shuffled = graph.clone()
    shuffled.edge_index, shuffled.edge_attr = graph.edge_index[:, perm], graph.edge_attr[perm]
    shuffled.edge_kind = graph.edge_kind[perm]
    assert from_graph(shuffled)(x).equal(from_graph(graph)(x))  # the same network
    w = Writer().eval()
    assert _same(w(shuffled, x, y, seed=1), w(graph, x, y, seed=1))


def test_forward_takes_a_one_graph_batch_and_names_other_inputs():
    from torch_geometric.data import Batch

    from metanet.graph import to_graph

    x, y = _support()
    graph = to_graph(build(ARCH, seed=3))
    w = Writer().eval()
    assert _same(w(Batch.from_data_list([graph]), x, y), w(graph, x, y))  # was an AttributeError (arch is a list)
    with pytest.raises(GraphError, match="one network per call, got a Batch of 2 graphs"):
        w(Batch.from_data_list([graph, graph]), x, y)
    with pytest.raises(GraphError, match="expected a NeuralGraph .*got MLP"):
        w(build(ARCH, seed=3), x, y)


def test_forward_of_a_float64_graph_and_refusal_of_a_meta_graph():
    from metanet.graph import to_graph

    x, y = _support()
    w = Writer().eval()
    # the graph of a .double() network: 'expected scalar type Float but found Double'
    assert _same(w(to_graph(build(ARCH, seed=3).double()), x, y), w(to_graph(build(ARCH, seed=3)), x, y))
    with pytest.raises(GraphError, match="'meta' device"):
        w(to_graph(build(ARCH, seed=3)).to("meta"), x, y)


def test_write_refuses_meta_support_and_bad_starting_weights():
    x, y = _support()
    w = Writer().eval()
    with pytest.raises(TaskError, match="support inputs are on the 'meta' device"):
        w.write(ARCH, x.to("meta"), y)
    with pytest.raises(TaskError, match="support labels are on the 'meta' device"):
        w.write(ARCH, x, y.to("meta"))
    start = {k: v.unsqueeze(0) for k, v in build(ARCH, seed=3).state_dict().items()}
    with pytest.raises(ArchError, match="layers.0.weight .* floating-point tensor with values, got one of dtype"):
        w.write(ARCH, x, y, start={k: v.long() for k, v in start.items()})
    with pytest.raises(ArchError, match="'meta' device"):
        w.write(ARCH, x, y, start={k: v.to("meta") for k, v in start.items()})
    # float64 starting weights are the same starting weights
    a = w.write(ARCH, x, y, start={k: v.double() for k, v in start.items()})
    b = w.write(ARCH, x, y, start=start)
    assert all(a[k].dtype == torch.float32 and a[k].equal(b[k]) for k in b)


def test_write_refuses_one_class_and_overflowing_inputs():
    x, y = _support()
    w = Writer().eval()
    # one output: the normalised first layer came out ~1e6 and the head zero
    with pytest.raises(ArchError, match="1 output; the writer writes classifiers of at least 2 classes"):
        w.write("mlp:64-12-1:relu", x, y * 0)
    # float32 second moments overflow: a raw ValueError from scipy's assignment solver
    with pytest.raises(TaskError, match=r"support inputs reach 1e\+20.*scale them"):
        w.write(ARCH, x * 1e20, y)
    p = w.write(ARCH, x * 1e6, y)  # large but representable: written
    assert all(bool(v.isfinite().all()) for v in p.values())


def test_write_with_grad_requiring_support_does_not_warn():
    x, y = _support()
    x.requires_grad_(True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # float() of a grad-requiring tensor in the augmentation's check
        p = Writer().eval().write(ARCH, x, y)
    assert p["layers.0.weight"].requires_grad  # still differentiable in the support set


def test_write_ignores_torch_default_device():
    x, y = _support()
    w = Writer().eval()
    ref = w.write(ARCH, x, y, candidates=2, seed=4)
    torch.set_default_device("meta")
    try:
        got = w.write(ARCH, x, y, candidates=2, seed=4)
    finally:
        torch.set_default_device(None)
    assert all(got[k].device.type == "cpu" and got[k].equal(ref[k]) for k in ref)


def test_writer_load_names_a_non_path_and_save_a_meta_writer(tmp_path):
    with pytest.raises(CheckpointError, match="a writer checkpoint is a path .* got int 3"):
        Writer.load(3)
    with pytest.raises(ConfigError, match="'meta' device .* cannot be saved"):
        Writer().to("meta").save(tmp_path / "w.safetensors")
    assert not list(tmp_path.iterdir())
    w = Writer(hidden=8, message=4, augment="none")
    p = w.save(tmp_path / "a dir" / "w 1.safetensors")
    back = Writer.load(str(p).encode())  # bytes paths, as os.fsdecode takes them
    assert back.config() == w.config()
    assert all(torch.equal(v, back.state_dict()[k]) for k, v in w.state_dict().items())
