"""The edits on networks carrying PyTorch's own weight transforms: a dynamically quantized network is refused by
name (not a raw KeyError), and reconstruct_trigger copies a freshly pruned or weight-normed network."""

from __future__ import annotations

import warnings

import pytest
import torch
from nets_helpers import transformed_mlp
from torch import nn

from metanet import edit
from metanet.errors import ArchError
from metanet.nets import build


@pytest.mark.filterwarnings("ignore::UserWarning")
@pytest.mark.parametrize("arch", ["mlp:64-12-10:relu", "cnn:1-4-10:relu:k3:s2"])
@pytest.mark.parametrize("name", ["remove", "scale", "clamp", "prune", "precision"])
def test_edits_of_a_dynamically_quantized_family_network_name_the_quantization(arch, name):
    """metanet's MLP / CNN after quantize_dynamic: its arch still names float layers, so the edits met raw
    KeyErrors ('layers.0.weight'), StopIteration or AttributeErrors."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch.ao.quantization is deprecated, yet in users' code
        q = torch.ao.quantization.quantize_dynamic(build(arch, seed=0).eval(), {nn.Linear}, dtype=torch.qint8)
    run = {
        "remove": lambda: edit.remove(q, "1:0", "digits"),
        "scale": lambda: edit.scale(q, "1:0", 0.5, "digits"),
        "clamp": lambda: edit.clamp(q, "1:0", "digits"),
        "prune": lambda: edit.prune(q, 0.5, "digits"),
        "precision": lambda: edit.precision(q, "*=int8", "digits"),
    }[name]
    with pytest.raises(ArchError, match=r"layers \['layers\.\d'.*\] are quantized.*quantize_dynamic"):
        run()


@pytest.mark.parametrize("kind", ["prune", "weight_norm"])
def test_reconstruct_trigger_takes_a_freshly_pruned_or_weight_normed_network(kind):
    """A raw RuntimeError from copy.deepcopy ('Only Tensors created explicitly by the user (graph leaves)
    support the deepcopy protocol'): the transform leaves the weight it computed in a plain attribute."""
    net = transformed_mlp(kind)
    before = {k: v.clone() for k, v in net.state_dict().items()}
    trigger, info = edit.reconstruct_trigger(net, torch.rand(8, 1, 8, 8, generator=torch.Generator().manual_seed(0)),
                                             10, steps=2)
    assert len(info["mask_l1"]) == 10 and (trigger is None) == (not info["found"])  # a search of every class ran
    assert all(torch.equal(v, before[k]) for k, v in net.state_dict().items())  # on a copy: the network is untouched
