"""Users' own ``nn.Module``s through metanet: each is either encoded exactly (the decoded or reloaded network computes
the same outputs) or refused with a metanet error naming the problem, never a raw torch error or a different
function. Covers the old hook-based ``weight_norm`` / ``spectral_norm``, ``nn.DataParallel``, uninitialised lazy
layers and one layer object used twice in a Sequential."""

from __future__ import annotations

import warnings
from collections import OrderedDict

import pytest
import torch
import torch.nn.utils.prune as prune
from torch import nn

import metanet
from metanet import edit
from metanet.errors import ArchError, GraphError
from metanet.graph import from_graph, to_graph

X = torch.randn(5, 1, 8, 8, generator=torch.Generator().manual_seed(0))


def _mlp(*mid: nn.Module) -> nn.Sequential:
    torch.manual_seed(0)
    return nn.Sequential(nn.Flatten(), nn.Linear(64, 12), *mid, nn.Linear(12, 10)).eval()


def _hooked(kind: str) -> nn.Sequential:
    """An MLP whose first layer's weight is recomputed by torch.nn.utils.weight_norm / spectral_norm (not the
    ``parametrizations`` versions): ``1.weight`` is no parameter, a forward pre-hook sets it at every call."""
    net = _mlp(nn.ReLU())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # weight_norm is deprecated, yet in users' code
        getattr(nn.utils, kind)(net[1])
    return net


@pytest.mark.parametrize("kind", ["weight_norm", "spectral_norm"])
def test_hook_based_weight_norm_is_refused_by_name(kind, tmp_path):
    """NetView took it: inspect and every edit then died on a raw KeyError '1.weight' (an edit of 1.weight would
    have been overwritten by the hook anyway), and to_graph / save said only 'parameters do not match'."""
    net = _hooked(kind)
    with pytest.raises(GraphError, match=rf"'1\.weight \({kind}\)'.*torch\.nn\.utils\.remove_{kind}\(layer\)"):
        to_graph(net)
    with pytest.raises(ArchError, match=rf"1\.weight \({kind}\)"):
        metanet.save(net, tmp_path / "n.safetensors")
    with pytest.raises(ArchError, match=rf"cannot inspect or edit.*{kind}"):
        edit.remove(net, "1:0", "digits")
    with pytest.raises(ArchError, match=kind):
        metanet.inspect(net, "digits")
    assert not (tmp_path / "n.safetensors").exists()
    # what the message says to do works: the weight it computed, as a plain parameter, encodes exactly
    with torch.no_grad():
        want = net(X)
    getattr(nn.utils, f"remove_{kind}")(net[1])
    with torch.no_grad():
        assert torch.equal(from_graph(to_graph(net))(X), want)


def test_data_parallel_is_refused_naming_the_wrapped_module():
    """verify() died on torch's raw RuntimeError 'The stateless API can't be used with nn.DataParallel module'."""
    dp = nn.DataParallel(_mlp(nn.ReLU()))
    with pytest.raises(ArchError, match=r"DataParallel is a wrapper.*wrapped\.module"):
        metanet.verify(dp, "digits")
    with pytest.raises(GraphError, match=r"wrapped\.module"):
        to_graph(dp)
    with pytest.raises(ArchError, match=r"wrapped\.module"):
        edit.remove(dp, "1:0", "digits")
    assert metanet.verify(dp.module, "digits").n > 0


def test_uninitialised_lazy_layer_asks_for_a_forward_pass():
    """verify() died on torch's raw RuntimeError "Can't access the shape of an uninitialized parameter"; to_graph
    called LazyLinear unsupported, though after one forward pass it is a Linear and encodes exactly."""
    net = nn.Sequential(nn.Flatten(), nn.LazyLinear(12), nn.ReLU(), nn.Linear(12, 10))
    with pytest.raises(ArchError, match=r"\['1\.weight', '1\.bias'\] are not initialised.*forward pass"):
        metanet.verify(net, "digits")
    with pytest.raises(GraphError, match=r"layer 1 \(LazyLinear\) is not initialised.*becomes a Linear"):
        to_graph(net)
    with pytest.raises(ArchError, match=r"LazyLinear\) is not initialised"):
        metanet.inspect(net, "digits")
    with torch.no_grad():
        ref = net(X)
        assert torch.equal(from_graph(to_graph(net))(X), ref)


@pytest.mark.parametrize("op", ["remove", "scale", "clamp", "inspect"])
def test_a_layer_used_twice_is_refused_by_inspect_and_edits(op):
    """One nn.Linear object at two places of a Sequential: remove / scale / inspect died on a raw KeyError
    '5.weight' (named_parameters names a shared tensor once), and clamp silently edited both uses of the layer."""
    shared = nn.Linear(12, 12)
    net = nn.Sequential(nn.Flatten(), nn.Linear(64, 12), nn.ReLU(), shared, nn.ReLU(), shared, nn.ReLU(),
                        nn.Linear(12, 10)).eval()
    before = {k: v.clone() for k, v in net.state_dict().items()}
    run = {
        "remove": lambda: edit.remove(net, "2:0", "digits"),
        "scale": lambda: edit.scale(net, "2:0", 0.5, "digits"),
        "clamp": lambda: edit.clamp(net, "2:0", "digits", inplace=True),
        "inspect": lambda: metanet.inspect(net, "digits"),
    }[op]
    with pytest.raises(ArchError, match=r"parameter '5\.weight' is the same tensor as '3\.weight'.*own copy"):
        run()
    assert all(torch.equal(v, before[k]) for k, v in net.state_dict().items())
    # the graph holds both uses (two layers of equal values): the decoded network is the same function
    with torch.no_grad():
        assert torch.equal(from_graph(to_graph(net))(X), net(X))


@pytest.mark.parametrize("make", [
    lambda: nn.Sequential(OrderedDict(fl=nn.Flatten(), fc1=nn.Linear(64, 12), act=nn.LeakyReLU(),
                                      fc2=nn.Linear(12, 10))),
    lambda: nn.Sequential(nn.Identity(), nn.Dropout(0.3), nn.Flatten(), nn.Linear(64, 12, bias=False),
                          nn.Dropout(), nn.ReLU(inplace=True), nn.Identity(), nn.Linear(12, 10), nn.Identity()),
    lambda: nn.Sequential(nn.Conv2d(1, 3, 4, padding="same"), nn.SiLU(), nn.MaxPool2d(2, 1, dilation=2),
                          nn.AvgPool2d(3, 2, 1, ceil_mode=True, count_include_pad=False), nn.Flatten(),
                          nn.Linear(48, 10)),
], ids=["ordered-dict", "identity-dropout", "conv-same-pools"])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float16, torch.float64])
@pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel")  # torch's note on its asymmetric padding
def test_supported_user_modules_round_trip_exactly(make, dtype, tmp_path):
    torch.manual_seed(0)
    net = make().to(dtype).requires_grad_(False).train()
    x = X.to(dtype)
    with torch.no_grad():
        want = net.eval()(x)
    net.train()
    back = from_graph(to_graph(net))
    loaded = metanet.load(metanet.save(net, tmp_path / "n.safetensors"))
    assert net.training and all(m.training for m in net.modules())  # the caller's mode is left alone
    with torch.no_grad():
        assert torch.equal(back(x), want) and torch.equal(loaded(x), want)


@pytest.mark.parametrize("layer", [nn.LeakyReLU(0.2), nn.ELU(alpha=0.5), nn.Softplus(beta=2), nn.PReLU(),
                                   nn.GELU("tanh"), nn.BatchNorm1d(12), nn.Dropout1d(0.2)],
                         ids=lambda m: type(m).__name__)
def test_layers_of_other_functions_are_refused_by_name(layer):
    net = _mlp(layer)
    with pytest.raises(GraphError, match=rf"layer 2 \(.*{type(layer).__name__}.*supported"):
        to_graph(net)


# --- layers pruned with torch.nn.utils.prune --------------------------------------------------------------------------


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
