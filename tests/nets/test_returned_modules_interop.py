"""The networks metanet hands back (generate, load, from_graph, an edit's and refine's ``.model``) as a PyTorch user
then uses them: independent trainable leaves in eval mode, TorchScript / export / ``torch.compile`` capture, a
whole-module ``torch.save`` read in a fresh process, and a CNN's state dict in the ``nn.Sequential`` its Arch
describes. :mod:`tests.nets.test_nets_interop` covers ``nets.build``'s networks."""

from __future__ import annotations


import pytest
import torch
from torch import nn

import metanet
from metanet import edit
from metanet.graph import from_graph, to_graph
from metanet.nets import build

pytestmark = pytest.mark.filterwarnings("ignore:.*torch.jit.*:DeprecationWarning")


@pytest.fixture(scope="module")
def returned(tmp_path_factory):
    """Each entry point's network of one generated digits MLP, and the Generated result itself."""
    g = metanet.generate("digits", seed=0, candidates=2)
    path = metanet.save(g.model, tmp_path_factory.mktemp("nets") / "g.safetensors")
    nets = {
        "generate": g.model,
        "load": metanet.load(path),
        "from_graph": from_graph(to_graph(g.model)),
        "edit": edit.remove(g.model, "1:3", "digits").model,
        "refine": metanet.refine(g.model, "digits", steps=1, population=2).model,
    }
    return g, nets


def _storages(m: nn.Module) -> set[int]:
    return {p.untyped_storage().data_ptr() for p in m.parameters()}


def test_every_returned_network_is_an_eval_mode_float32_network_of_trainable_leaves(returned):
    _, nets = returned
    for name, m in nets.items():
        assert not any(s.training for s in m.modules()), name
        ps = list(m.parameters())
        assert all(p.is_leaf and p.requires_grad and p.dtype == torch.float32 for p in ps), name
        assert len(_storages(m)) == len(ps), name  # no two parameters on one storage


def test_returned_networks_share_no_memory_with_each_other_or_the_other_candidates(returned):
    g, nets = returned
    mods = [*nets.values(), *(c for c in g.candidates if c is not g.model)]
    seen: set[int] = set()
    for m in mods:
        assert not (_storages(m) & seen)
        seen |= _storages(m)


def test_fine_tuning_a_generated_network_leaves_the_next_generate_call_as_it_was(returned):
    g, _ = returned
    want = {k: v.clone() for k, v in g.model.state_dict().items()}
    net = g.model
    try:
        opt = torch.optim.SGD(net.parameters(), lr=0.5)
        net.train()
        x = torch.randn(8, 64, generator=torch.Generator().manual_seed(0))
        nn.functional.cross_entropy(net(x), torch.arange(8)).backward()
        opt.step()
        again = metanet.generate("digits", seed=0, candidates=2)
        assert all(torch.equal(want[k], v) for k, v in again.model.state_dict().items())
    finally:  # the module fixture's network as it was, for the other tests
        net.eval().load_state_dict(want)
        net.zero_grad(set_to_none=True)


def test_returned_networks_script_trace_export_and_compile_to_the_same_logits(returned):
    _, nets = returned
    x = torch.randn(5, 64, generator=torch.Generator().manual_seed(1))
    for name, m in nets.items():
        ref = m(x)
        assert torch.equal(torch.jit.script(m)(x), ref), name
        assert torch.equal(torch.jit.trace(m, x)(x), ref), name
        assert torch.equal(torch.export.export(m, (x,)).module()(x), ref), name
        assert torch.equal(torch.func.functional_call(m, dict(m.named_parameters()), (x,)), ref), name
    # one graph without breaks (fullgraph); the eager backend: inductor's code generation is torch's, and slow
    for m in (nets["load"], build("mlp:64-32-32-10:tanh:skip").eval(), build("cnn:1-8-8-10:relu:k3:s2").eval()):
        xi = x if isinstance(m, metanet.nets.MLP) else x.view(5, 1, 8, 8)
        assert torch.equal(torch.compile(m, backend="eager", fullgraph=True)(xi), m(xi))


_FRESH = """
import sys, torch
net, x, want = torch.load(sys.argv[1], weights_only=False)
print(type(net).__module__, type(net).__name__, net.arch, torch.equal(net(x), want))
"""


@pytest.mark.parametrize("arch", ["cnn:1-8-8-10:relu:k3:s2", "cnn:3-8-4-5:silu:k5:s1:nobias", "cnn:1-4-6-3:tanh:k2:s2"])
def test_a_cnn_state_dict_loads_into_the_sequential_its_arch_describes(arch):
    # the Arch docstring: Conv(in, out, k, stride s, padding k // 2) act, ..., global average pool, Linear
    m = build(arch, seed=0).eval()
    a = m.arch
    layers: list[nn.Module] = []
    for cin, cout in zip(a.widths[:-2], a.widths[1:-1]):
        layers += [nn.Conv2d(cin, cout, a.kernel, stride=a.stride, padding=a.kernel // 2, bias=a.bias),
                   type(m.act)()]
    seq = nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(a.widths[-2], a.widths[-1], bias=a.bias))
    weighted = [i for i, layer in enumerate(seq) if isinstance(layer, (nn.Conv2d, nn.Linear))]
    sd = m.state_dict()
    seq.load_state_dict({k.replace(f"layers.{i}.", f"{j}.", 1): v for i, j in enumerate(weighted)
                         for k, v in sd.items() if k.startswith(f"layers.{i}.")}, strict=True)
    x = torch.randn(4, a.in_size, 9, 9, generator=torch.Generator().manual_seed(2))
    torch.testing.assert_close(seq.eval()(x), m(x), rtol=1e-6, atol=1e-6)
