"""metanet.read on networks in the forms a PyTorch user has them (half precision, meta device, parametrize), and with
a Reader of one's own in train mode or another dtype; a float64 network reads exactly as its float32 copy (same
values, same readings)."""

from __future__ import annotations

import copy

import pytest
import torch
from torch import nn

import metanet
from metanet.errors import ConfigError, GraphError
from metanet.graph import to_graph
from metanet.reader import Reader


@pytest.fixture(scope="module")
def net():
    return metanet.nets.build("mlp:64-16-10:relu", seed=0).eval()


@pytest.fixture(scope="module")
def reader():
    return Reader.load()


@pytest.mark.parametrize("dtype", [torch.float64, torch.float16, torch.bfloat16])
def test_read_a_float64_or_half_network_as_its_float32_twin(net, reader, dtype):
    want = metanet.read(net, reader=reader, scan=False)
    got = metanet.read(copy.deepcopy(net).to(dtype), reader=reader, scan=False)
    assert got["task"] == want["task"]
    assert got["accuracy"] == pytest.approx(want["accuracy"], abs=0.01)


def test_read_a_meta_device_network_is_a_graph_error(net, reader):
    """It was a raw RuntimeError ('Tensor.item() cannot be called on meta tensors')."""
    with pytest.raises(GraphError, match="'meta' device"):
        metanet.read(copy.deepcopy(net).to("meta"), reader=reader, scan=False)


def test_read_a_parametrized_network_says_how_to_read_it(net, reader):
    """It was 'parameters do not match mlp:...: unexpected [layers.0.parametrizations.weight.original]'."""
    from torch.nn.utils import parametrize

    class Same(nn.Module):
        def forward(self, w):
            return w

    m = copy.deepcopy(net)
    parametrize.register_parametrization(m.layers[0], "weight", Same())
    with pytest.raises(GraphError, match="parametrize.*remove_parametrizations"):
        metanet.read(m, reader=reader, scan=False)


def test_read_gives_a_reader_in_train_mode_back_in_train_mode(net, reader):
    """read() switched the caller's reader to eval mode for good (a reader being trained lost its dropout)."""
    r = copy.deepcopy(reader).train()
    want = metanet.read(net, reader=reader, scan=False)
    assert metanet.read(net, reader=r, scan=False)["accuracy"] == want["accuracy"]
    assert r.training and all(m.training for m in r.modules())


@pytest.mark.parametrize("change", [lambda r: r.double(), lambda r: r.half(), lambda r: r.to("meta")])
def test_read_with_a_reader_in_another_dtype_or_on_meta_is_a_config_error(net, reader, change):
    """Raw dtype / device mismatches from inside the reader's layers."""
    with pytest.raises(ConfigError, match="float32|'meta' device"):
        metanet.read(net, reader=change(copy.deepcopy(reader)), scan=False)


@pytest.mark.parametrize("arch", ["mlp:784-32-10:relu", "mlp:64-16-16-10:tanh:skip"])
def test_a_float64_network_reads_bit_identically_to_its_float32_copy(arch):
    torch.manual_seed(0)
    reader = Reader(tasks=["mnist", "digits"], hidden=8, layers=1, probes=2).eval()
    m32 = metanet.nets.build(arch, seed=0)
    g32, g64 = to_graph(m32), to_graph(copy.deepcopy(m32).double())
    assert g64.x.dtype == torch.float64
    # the bias statistics summed a strided float32 view of one and a contiguous copy of the other: ulps apart
    assert torch.equal(reader.weight_stats(g32), reader.weight_stats(g64))
    with torch.no_grad():
        a, b = reader(g32), reader(g64)
    for k in a:
        assert torch.equal(a[k], b[k]), k
    assert metanet.read(m32, reader=reader) == metanet.read(copy.deepcopy(m32).double(), reader=reader)
