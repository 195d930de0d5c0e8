"""Review of session 31's users'-module refusals, imbalanced writer path and batches of neural graphs: the
defects a real run found."""

from __future__ import annotations

import pytest
import torch
import torch.nn.utils.prune as prune
from torch import nn

import metanet
from metanet import edit
from metanet.errors import ArchError, GraphError
from metanet.graph import from_graph, to_graph

X = torch.randn(5, 1, 8, 8, generator=torch.Generator().manual_seed(0))


def _pruned(structured: bool = False) -> nn.Sequential:
    """An MLP whose first layer is pruned with torch.nn.utils.prune: ``1.weight`` is no parameter but
    ``weight_orig * weight_mask``, set by a forward pre-hook at every call (as the hook-based weight_norm does)."""
    torch.manual_seed(0)
    net = nn.Sequential(nn.Flatten(), nn.Linear(64, 12), nn.ReLU(), nn.Linear(12, 10)).eval()
    prune.l1_unstructured(net[1], "weight", 0.5)
    if structured:  # a second method on the same weight: torch gathers both in one PruningContainer hook
        prune.ln_structured(net[1], "weight", 0.25, n=2, dim=0)
    return net


@pytest.mark.parametrize("structured", [False, True], ids=["one-method", "container"])
def test_a_pruned_layer_is_refused_by_name_with_the_way_out(structured, tmp_path):
    """inspect and every edit died on a raw KeyError '1.weight'; to_graph / save / read said only that the
    parameters did not match ('unexpected 1.weight_orig'), not that pruning's hook computes the weight."""
    net = _pruned(structured)
    with pytest.raises(GraphError, match=r"'1\.weight \(prune\)'.*torch\.nn\.utils\.prune\.remove\(layer, 'weight'\)"):
        to_graph(net)
    with pytest.raises(ArchError, match=r"1\.weight \(prune\)"):
        metanet.save(net, tmp_path / "n.safetensors")
    with pytest.raises(ArchError, match=r"cannot inspect or edit.*1\.weight \(prune\)"):
        edit.remove(net, "1:0", "digits")
    with pytest.raises(ArchError, match=r"1\.weight \(prune\)"):
        metanet.inspect(net, "digits")
    assert not (tmp_path / "n.safetensors").exists()
    # verify runs the module itself, hook included: it still works
    assert metanet.verify(net, "digits").n > 0
    # what the message says to do works: the pruned weight, as a plain parameter, encodes exactly
    with torch.no_grad():
        want = net(X)
    prune.remove(net[1], "weight")
    with torch.no_grad():
        assert torch.equal(from_graph(to_graph(net))(X), want)


def test_weight_norm_and_pruning_together_name_both_ways_out():
    net = _pruned()
    with pytest.warns(FutureWarning):  # the hook-based weight_norm is deprecated, yet in users' code
        nn.utils.weight_norm(net[3])
    with pytest.raises(GraphError) as err:
        to_graph(net)
    msg = str(err.value)
    assert "'1.weight (prune)'" in msg and "'3.weight (weight_norm)'" in msg
    assert "torch.nn.utils.prune.remove(layer, 'weight')" in msg and "torch.nn.utils.remove_weight_norm(layer)" in msg


def test_neural_graph_batch_is_public_in_metanet_graph():
    # it is what Batch.from_data_list of NeuralGraphs gives (isinstance checks); only metanet.graph.data had it
    import metanet.graph
    from metanet.graph import NeuralGraphBatch
    from metanet.graph.data import NeuralGraphBatch as defined
    from torch_geometric.data import Batch

    assert NeuralGraphBatch is defined and "NeuralGraphBatch" in metanet.graph.__all__
    g = metanet.graph.to_graph(torch.nn.Sequential(torch.nn.Linear(3, 2)))
    assert isinstance(Batch.from_data_list([g, g]), NeuralGraphBatch)
