"""Round 28: neural graphs through PyG's own persistence and odd-but-supported shapes and dtypes."""

from __future__ import annotations

import warnings

import pytest
import torch
from torch import nn
from torch_geometric.data import Batch, InMemoryDataset

from metanet.graph import NeuralGraph, from_graph, to_graph
from metanet.nets import build


class _Saved(InMemoryDataset):
    def __init__(self, path: str) -> None:
        super().__init__(None)
        self.load(path, data_cls=NeuralGraph)


def _same(a: nn.Module, b: nn.Module) -> bool:
    sa, sb = a.state_dict(), b.state_dict()
    return list(sa) == list(sb) and all(torch.equal(sa[k], sb[k]) and sa[k].dtype == sb[k].dtype for k in sa)


def test_in_memory_dataset_save_load_is_a_safe_weights_only_load(tmp_path):
    # PyG's InMemoryDataset.load reads with torch.load(weights_only=True) and falls back to a full (unsafe) unpickle
    # with a warning for classes nobody allowlisted; NeuralGraph must load like PyG's own Data does
    nets = [build("mlp:3-2-2-1:tanh:skip", seed=i).double() for i in range(3)]
    path = str(tmp_path / "neural graphs.pt")
    InMemoryDataset.save([to_graph(m) for m in nets], path)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the fallback's "Weights only load failed" warning would fail the test
        ds = _Saved(path)
    assert len(ds) == 3
    for i, m in enumerate(nets):
        assert type(ds[i]) is NeuralGraph and _same(from_graph(ds[i]), m)


ODD = {
    "width-1": lambda: nn.Sequential(nn.Linear(1, 1), nn.ReLU(), nn.Linear(1, 1)),
    "no-bias": lambda: nn.Sequential(nn.Linear(3, 2, bias=False), nn.Tanh(), nn.Linear(2, 1, bias=False)),
    "conv-stride-pad": lambda: nn.Sequential(nn.Conv2d(2, 4, (3, 5), stride=(2, 1), padding=(1, 2)), nn.GELU(),
                                             nn.Conv2d(4, 3, 1, bias=False), nn.Flatten(), nn.Linear(3 * 16, 2)),
    "skip-all-widths-1": lambda: build("mlp:1-1-1-1:silu:skip:nobias", seed=1),
}


@pytest.mark.parametrize("dtype", [torch.float64, torch.float16, torch.bfloat16])
@pytest.mark.parametrize("make", list(ODD.values()), ids=list(ODD))
def test_odd_shapes_and_dtypes_round_trip_through_batches(make, dtype):
    m = make().to(dtype)
    g = to_graph(m)
    assert g.x.dtype == g.edge_attr.dtype == dtype
    assert _same(from_graph(g), m)
    b = Batch.from_data_list([g, to_graph(m)])
    assert all(_same(from_graph(h), m) for h in (*b.to_data_list(), b[1], b[0:1][0]))
