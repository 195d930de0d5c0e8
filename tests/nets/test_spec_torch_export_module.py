"""A torch.export program's module (ExportedProgram.module()) is named as such, with the module to pass instead."""

import pytest
import torch
from torch import nn

import metanet
from metanet.errors import ArchError, GraphError
from metanet.graph import to_graph
from metanet.nets.spec import is_wrapper, spec


def _net() -> nn.Sequential:
    torch.manual_seed(0)
    return nn.Sequential(nn.Flatten(), nn.Linear(64, 8), nn.ReLU(), nn.Linear(8, 10))


def test_an_exported_module_is_named_by_verify_to_graph_and_spec():
    net = _net()
    exported = torch.export.export(net, (torch.rand(2, 1, 8, 8),)).module()
    assert is_wrapper(exported)
    x, y = torch.rand(40, 1, 8, 8), torch.arange(40) % 10
    # verify said "network does not accept inputs of shape (1, 8, 8) ...: Calling eval() is not supported yet."
    with pytest.raises(ArchError, match=r"torch\.export program's module.*pass the nn\.Module you exported") as info:
        metanet.verify(exported, (x, y))
    assert "does not accept inputs" not in str(info.value)
    with pytest.raises(GraphError, match=r"torch\.export program's module"):
        to_graph(exported)
    with pytest.raises(ArchError, match=r"torch\.export program's module"):
        spec(exported)
    assert metanet.verify(net, (x, y)).n > 0  # the module it was exported from runs


def test_a_symbolically_traced_module_is_no_wrapper():
    traced = torch.fx.symbolic_trace(_net())  # a GraphModule too, whose eval() works
    assert not is_wrapper(traced)
