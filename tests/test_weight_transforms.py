"""PyTorch's own weight transforms on users' networks through verify, save, inspect and refine: dynamic
quantization (``torch.ao.quantization.quantize_dynamic``), ``torch.nn.utils.prune`` and the hook-based
``weight_norm``. Each network is run on the weights its forward pass uses, or refused naming the transform."""

from __future__ import annotations

import warnings

import pytest
import torch
from nets_helpers import transformed_mlp
from torch import nn

import metanet
from metanet.errors import ArchError
from metanet.nets import build


def _quantized(kind: str) -> nn.Module:
    torch.manual_seed(0)
    net = (build("mlp:64-12-10:relu", seed=0) if kind == "mlp"
           else nn.Sequential(nn.Flatten(), nn.Linear(64, 12), nn.ReLU(), nn.Linear(12, 10)))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch.ao.quantization is deprecated, yet in users' code
        return torch.ao.quantization.quantize_dynamic(net.eval(), {nn.Linear}, dtype=torch.qint8)


@pytest.mark.filterwarnings("ignore::UserWarning")
@pytest.mark.parametrize("kind", ["mlp", "sequential"])
def test_a_dynamically_quantized_network_is_verified_as_it_runs(kind):
    """verify() died on a raw AttributeError ("'torch.dtype' object has no attribute 'shape'"): a quantized layer's
    state dict holds its dtype and packed weights, which are not tensors."""
    q = _quantized(kind)
    task = metanet.tasks.resolve("digits")
    x, y = task.split("test")
    with torch.no_grad():
        want = (q(x).argmax(1) == y).float().mean().item()
    assert metanet.verify(q, "digits").accuracy == pytest.approx(want)
    assert [r.accuracy for r in metanet.verify([q, q], "digits")] == pytest.approx([want, want])


@pytest.mark.filterwarnings("ignore::UserWarning")
@pytest.mark.parametrize("kind", ["mlp", "sequential"])
def test_a_dynamically_quantized_network_is_refused_by_name_where_weights_are_read(kind, tmp_path):
    """save was a raw AttributeError; for metanet's MLP (whose arch still names float layers) inspect was a raw
    StopIteration and the edits raw KeyErrors 'layers.0.weight'."""
    q = _quantized(kind)
    with pytest.raises(ArchError, match=r"are quantized \(torch\.ao\.quantization.*pass the float network"):
        metanet.save(q, tmp_path / "q.safetensors")
    with pytest.raises(ArchError, match=r"cannot inspect or edit.*quantized"):
        metanet.inspect(q, "digits")
    assert not (tmp_path / "q.safetensors").exists()


@pytest.mark.filterwarnings("ignore:There is a performance drop")  # torch: no vmap rule for _weight_norm
@pytest.mark.parametrize("kind", ["prune", "weight_norm"])
def test_refine_takes_a_freshly_pruned_or_weight_normed_network(kind):
    """refine died on torch's raw RuntimeError 'Only Tensors created explicitly by the user (graph leaves) support
    the deepcopy protocol': prune / weight_norm leave the weight they computed (with grad) in an attribute. The
    refined copy keeps the transform: a pruned weight stays zero where its mask is."""
    net = transformed_mlp(kind)
    before = {k: v.clone() for k, v in net.state_dict().items()}
    out = metanet.refine(net, "digits", steps=2, population=2).model
    assert all(torch.equal(v, before[k]) for k, v in net.state_dict().items())  # the caller's network is left alone
    x = torch.rand(3, 1, 8, 8)
    with torch.no_grad():
        out(x)  # the hook sets the weight forward uses
    w = out.layers[0].weight
    if kind == "prune":
        assert torch.equal(out.layers[0].weight_mask, before["layers.0.weight_mask"])
        assert (w[before["layers.0.weight_mask"] == 0] == 0).all()
    else:
        assert not torch.equal(out.layers[0].weight_v, before["layers.0.weight_v"])  # it was refined
