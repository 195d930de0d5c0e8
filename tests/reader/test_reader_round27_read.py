"""`metanet.read` on graphs it cannot read, and the advice given when a reader's trigger scan is unfitted."""

from __future__ import annotations

import pytest
import torch

from metanet.errors import GraphError
from metanet.graph import to_graph
from metanet.nets import build
from metanet.reader import Reader, read


def _reader(**kw) -> Reader:
    torch.manual_seed(0)
    return Reader(tasks=["digits"], hidden=8, layers=1, **kw).eval()


def test_a_meta_device_graph_is_a_graph_error():
    # to_graph encodes a meta-device network (its architecture); read() then died in its value check with
    # "RuntimeError: Tensor.item() cannot be called on meta tensors"
    g = to_graph(build("mlp:64-16-10:relu", seed=0).to("meta"))
    with pytest.raises(GraphError, match=r"the graph's values are on the 'meta' device .*give a graph of a network "
                                         r"with real weights"):
        read(g, reader=_reader(), scan=False)


def test_values_lost_in_float32_are_counted_in_one_check():
    # NaN / inf first, then float64 values beyond float32's range: the same two messages as the two passes gave
    g = to_graph(build("mlp:64-16-10:relu", seed=0).double())
    g.edge_attr[0, 0], g.edge_attr[1, 0], g.x[0, 0] = 1e300, float("nan"), -1e300
    with pytest.raises(GraphError, match=r"the network has 1 NaN or infinite weights or biases"):
        read(g, reader=_reader(), scan=False)
    g.edge_attr[1, 0] = 0.0
    with pytest.raises(GraphError, match=r"the network has 2 weights or biases beyond float32's range"):
        read(g, reader=_reader(), scan=False)


def test_scan_true_on_an_unfitted_scan_head_says_what_to_do(tmp_path):
    from metanet.reader.lightning import ReaderModule

    net = build("mlp:64-16-10:relu", seed=0)
    with pytest.raises(GraphError, match=r"no fitted trigger scan .*built with scan_steps=0: read with scan=False"):
        read(net, reader=_reader(), scan=True)
    # a reader of a Lightning .ckpt (saved before the head is fitted): the error and Reader.load's warning name the
    # export and fit_scan, and the warning no longer says read() would fall back when scan=True raises
    module = ReaderModule(tasks=["digits"], hidden=8, layers=1, probes=2, data_probes=8, scan_steps=2)
    path = tmp_path / "last.ckpt"
    torch.save({"hyper_parameters": dict(module.hparams), "state_dict": module.state_dict()}, path)
    with pytest.warns(UserWarning, match=r"weights-only head \(scan=True is an error\).*exported \.safetensors "
                                         r"\(model\.export\).*fit_scan"):
        r = Reader.load(path)
    with pytest.raises(GraphError, match=r"no fitted trigger scan .*fit's exported \.safetensors or fit it with "
                                         r"metanet\.reader\.scan\.fit_scan, or read with scan=False"):
        read(net, reader=r, scan=True)
    assert read(net, reader=r)["trigger_scan"] is None  # the default reads without it
