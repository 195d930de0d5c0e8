"""metanet's networks are plain ``nn.Module``s: TorchScript, unbatched inputs, copies, dtypes, fine-tuning."""

from __future__ import annotations

import copy
import io
import pickle

import pytest
import torch
from torch import nn

from metanet.nets import build

# torch.jit is deprecated in recent torch, yet users still script and trace networks to deploy them
pytestmark = pytest.mark.filterwarnings("ignore:.*torch.jit.*:DeprecationWarning")

ARCHS = [
    "mlp:64-32-10:relu",
    "mlp:64-32-32-10:tanh:skip",
    "mlp:64-32-10:gelu:nobias",
    "cnn:1-8-8-10:relu:k3:s2",
    "cnn:3-8-4-5:silu:k5:s1:nobias",
]


def _input(arch: str, n: int = 4) -> torch.Tensor:
    g = torch.Generator().manual_seed(0)
    shape = (n, 64) if arch.startswith("mlp") else (n, int(arch.split(":")[1].split("-")[0]), 8, 8)
    return torch.randn(shape, generator=g)


@pytest.mark.parametrize("arch", ARCHS)
def test_torch_jit_script_compiles_and_computes_the_same(arch):
    # forward sliced its ModuleList (layers[:-1], layers[-1]) and kept the skips in a frozenset: script refused both
    m = build(arch, seed=0).eval()
    x = _input(arch)
    scripted = torch.jit.script(m)
    assert torch.equal(scripted(x), m(x))
    assert torch.equal(scripted(x[0]), m(x[0]))


@pytest.mark.parametrize("arch", ARCHS)
def test_one_unbatched_example_gives_unbatched_logits(arch):
    # as nn.Linear / nn.Conv2d take one example without the batch dimension; was an IndexError ("Dimension out of
    # range") from flatten(1) / mean(dim=(2, 3))
    m = build(arch, seed=0).eval()
    x = _input(arch)
    out = m(x[0])
    assert out.shape == (m.arch.num_classes,)
    torch.testing.assert_close(out, m(x[:1])[0])


def test_mlp_still_flattens_batched_images():
    m = build("mlp:64-32-10:relu", seed=0).eval()
    x = _input("mlp:64-32-10:relu")
    assert torch.equal(m(x.view(4, 1, 8, 8)), m(x))
    assert m(x[:1].view(1, 8, 8)).shape == (1, 10)  # (N, *): a leading 1 is the batch, as documented


def test_mlp_unbatched_input_of_the_wrong_size_is_an_error():
    m = build("mlp:64-32-10:relu", seed=0)
    with pytest.raises(RuntimeError, match="cannot be multiplied"):
        m(torch.zeros(63))


@pytest.mark.parametrize("arch", ARCHS)
def test_deepcopy_pickle_and_state_dict_round_trips(arch):
    m = build(arch, seed=0).eval()
    x = _input(arch)
    ref = m(x)
    assert torch.equal(copy.deepcopy(m)(x), ref)
    assert torch.equal(pickle.loads(pickle.dumps(m))(x), ref)
    buf = io.BytesIO()
    torch.save(m.state_dict(), buf)
    buf.seek(0)
    fresh = build(arch, seed=1).eval()
    fresh.load_state_dict(torch.load(buf, weights_only=True), strict=True)
    assert torch.equal(fresh(x), ref)


def test_state_dict_loads_into_the_hand_written_sequential():
    m = build("mlp:64-32-10:relu", seed=0).eval()
    seq = nn.Sequential(nn.Flatten(), nn.Linear(64, 32), nn.ReLU(), nn.Linear(32, 10))
    sd = m.state_dict()
    seq.load_state_dict({f"{j}.{p}": sd[f"layers.{i}.{p}"] for i, j in ((0, 1), (1, 3)) for p in ("weight", "bias")})
    x = _input("mlp:64-32-10:relu")
    assert torch.equal(seq(x), m(x))


@pytest.mark.parametrize("arch", ARCHS)
@pytest.mark.parametrize("dtype", [torch.float64, torch.float16, torch.bfloat16])
def test_cast_networks_run_in_their_dtype(arch, dtype):
    m = build(arch, seed=0).to(dtype)
    assert m(_input(arch).to(dtype)).dtype == dtype


@pytest.mark.parametrize("arch", ARCHS)
def test_trace_export_and_functional_call(arch):
    m = build(arch, seed=0).eval()
    x = _input(arch)
    ref = m(x)
    assert torch.equal(torch.jit.trace(m, x)(x), ref)
    assert torch.equal(torch.func.functional_call(m, dict(m.named_parameters()), (x,)), ref)
    assert torch.equal(torch.export.export(m, (x,)).module()(x), ref)


@pytest.mark.parametrize("arch", ARCHS)
def test_sgd_fine_tuning_changes_every_parameter(arch):
    m = build(arch, seed=0).train()
    assert all(p.is_leaf and p.requires_grad for p in m.parameters())
    before = [p.detach().clone() for p in m.parameters()]
    opt = torch.optim.SGD(m.parameters(), lr=0.1)
    x = _input(arch)
    nn.functional.cross_entropy(m(x), torch.arange(4) % m.arch.num_classes).backward()
    opt.step()
    assert all(not torch.equal(a, p) for a, p in zip(before, m.parameters()))
