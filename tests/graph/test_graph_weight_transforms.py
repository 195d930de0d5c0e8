"""Neural graphs of networks that carried PyTorch's own weight transforms: permute_hidden names a transform still
in place (as to_graph does), and the plain layers the transforms leave behind (prune.remove,
remove_parametrizations, fuse_conv_bn_eval) encode exactly."""

from __future__ import annotations

import warnings

import pytest
import torch
import torch.nn.utils.prune as prune
from torch import nn
from torch.nn.utils import parametrizations, parametrize
from torch.nn.utils.fusion import fuse_conv_bn_eval

import metanet
from metanet.errors import GraphError
from metanet.graph import from_graph, permute_hidden, to_graph
from metanet.nets import build

X = torch.randn(5, 1, 8, 8, generator=torch.Generator().manual_seed(0))


@pytest.mark.parametrize("arch", ["mlp:64-12-10:relu", "cnn:1-4-10:relu:k3:s2"])
@pytest.mark.parametrize("kind, says", [
    ("prune", r"layers\.0\.weight \(prune\)'.*prune\.remove"),
    ("weight_norm", r"layers\.0\.weight \(weight_norm\)'.*remove_weight_norm"),
    ("parametrizations.weight_norm", r"torch\.nn\.utils\.parametrize.*remove_parametrizations"),
    ("quantize_dynamic", r"quantized \(torch\.ao\.quantization"),
], ids=["prune", "weight_norm", "parametrizations.weight_norm", "quantize_dynamic"])
def test_permute_hidden_of_a_transformed_family_network_names_the_transform(arch, kind, says):
    """metanet's MLP / CNN: the message was 'parameters do not match ...: missing ['layers.0.weight'], unexpected
    ['layers.0.weight_orig']', not the transform nor the way out (a Sequential's named it)."""
    net = build(arch, seed=0).eval()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the hook-based weight_norm and torch.ao.quantization are deprecated
        if kind == "prune":
            prune.l1_unstructured(net.layers[0], "weight", 0.5)
        elif kind == "weight_norm":
            nn.utils.weight_norm(net.layers[0])
        elif kind == "parametrizations.weight_norm":
            parametrizations.weight_norm(net.layers[0])
        else:
            net = torch.ao.quantization.quantize_dynamic(net, {nn.Linear}, dtype=torch.qint8)
    with pytest.raises(GraphError, match=rf"cannot permute this {type(net).__name__}: .*{says}"):
        permute_hidden(net, 1, list(range(12 if arch.startswith("mlp") else 4))[::-1])


@pytest.mark.parametrize("undo", ["prune.remove", "remove_parametrizations"])
def test_a_bias_free_layer_after_the_transform_is_undone_round_trips_exactly(undo, tmp_path):
    torch.manual_seed(0)
    net = nn.Sequential(nn.Flatten(), nn.Linear(64, 12, bias=False), nn.ReLU(), nn.Linear(12, 10)).eval()
    if undo == "prune.remove":
        prune.random_structured(net[1], "weight", 0.5, dim=0)
        prune.remove(net[1], "weight")
    else:
        parametrizations.orthogonal(net[1])
        parametrize.remove_parametrizations(net[1], "weight")
    with torch.no_grad():
        want = net(X)
    graph = to_graph(net)
    if undo == "prune.remove":  # the graph holds the zeros of the pruned rows
        assert (graph.edge_attr == 0).sum() >= 6 * 64
    with torch.no_grad():
        assert torch.equal(from_graph(graph)(X), want)
        assert torch.equal(metanet.load(metanet.save(net, tmp_path / "n.safetensors"))(X), want)


def test_a_conv_fused_with_its_batch_norm_round_trips_exactly():
    torch.manual_seed(0)
    conv, bn = nn.Conv2d(1, 4, 3, padding=1, bias=False), nn.BatchNorm2d(4)
    bn.running_mean.uniform_(-1, 1), bn.running_var.uniform_(0.5, 2)
    net = nn.Sequential(fuse_conv_bn_eval(conv.eval(), bn.eval()), nn.ReLU(), nn.Flatten(), nn.Linear(256, 10)).eval()
    with torch.no_grad():
        assert torch.equal(from_graph(to_graph(net))(X), net(X))
