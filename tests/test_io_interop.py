"""Networks from metanet.load and metanet.generate behave as any PyTorch module: scripted, pickled, fine-tuned,
saved again; their weights are their own (not the file's, another candidate's or the writer's)."""

from __future__ import annotations

import copy
import pickle

import pytest
import torch
from torch import nn

import metanet
from metanet.nets import build

# torch.jit is deprecated in recent torch, yet users still script and trace networks to deploy them
pytestmark = pytest.mark.filterwarnings("ignore:.*torch.jit.*:DeprecationWarning")

ARCHS = ["mlp:64-32-32-10:tanh:skip", "cnn:1-8-8-10:relu:k3:s2"]


def _input(arch: str) -> torch.Tensor:
    g = torch.Generator().manual_seed(0)
    return torch.randn((3, 64) if arch.startswith("mlp") else (3, 1, 8, 8), generator=g)


def _sgd_step(m: nn.Module, x: torch.Tensor) -> None:
    m.train()
    opt = torch.optim.SGD(m.parameters(), lr=0.1)
    nn.functional.cross_entropy(m(x), torch.arange(len(x)) % 10).backward()
    opt.step()


@pytest.mark.parametrize("arch", ARCHS)
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64, torch.float16, torch.bfloat16])
def test_loaded_network_is_bit_identical_and_a_plain_module(tmp_path, arch, dtype):
    m = build(arch, seed=0).to(dtype).eval()
    x = _input(arch).to(dtype)
    path = metanet.save(m, tmp_path / "net.safetensors", note="interop")
    loaded = metanet.load(path)
    assert type(loaded) is type(m) and loaded.arch == m.arch and not loaded.training
    assert all(p.dtype == dtype and p.is_leaf and p.requires_grad for p in loaded.parameters())
    assert torch.equal(loaded(x), m(x))
    assert metanet.load_meta(path) == {"note": "interop"}
    assert torch.equal(torch.jit.script(loaded)(x), m(x))  # was a RuntimeError from torch.jit.script
    assert torch.equal(pickle.loads(pickle.dumps(loaded))(x), m(x))
    # one unbatched example: was an IndexError. Equal up to rounding only: a single vector's matmul kernel may round
    # by its operands' memory alignment (seen on AMD EPYC: same values at other addresses, another last bit)
    torch.testing.assert_close(loaded(x[0]), m(x[:1])[0])


def test_fine_tuning_a_loaded_network_leaves_the_file_as_it_was(tmp_path):
    m = build("mlp:64-32-10:relu", seed=0)
    path = metanet.save(m, tmp_path / "net.safetensors")
    loaded = metanet.load(path)
    _sgd_step(loaded, _input("mlp:64-32-10:relu"))
    assert not torch.equal(loaded.layers[0].weight, m.layers[0].weight)
    assert torch.equal(metanet.load(path).layers[0].weight, m.layers[0].weight)


def test_a_scripted_network_cannot_be_saved_and_the_error_says_what_to_pass(tmp_path):
    with pytest.raises(metanet.errors.ArchError, match="pass the nn.Module it was scripted from"):
        metanet.save(torch.jit.script(build("mlp:64-32-10:relu")), tmp_path / "net.safetensors")


def test_generated_candidates_are_independent_and_edited_networks_round_trip(tmp_path):
    g = metanet.generate("digits", seed=0, candidates=2)
    x = torch.rand(4, 64)
    assert g.model is g.candidates[g.report.chosen] and not g.model.training
    other = 1 - g.report.chosen
    kept = copy.deepcopy(g.candidates[other].state_dict())
    _sgd_step(g.model, x)
    assert all(torch.equal(v, kept[k]) for k, v in g.candidates[other].state_dict().items())
    # nor the writer's cached state: the same call writes the same networks again
    again = metanet.generate("digits", seed=0, candidates=2)
    assert torch.equal(again.candidates[other].layers[0].weight, kept["layers.0.weight"])
    assert not torch.equal(again.model.layers[0].weight, g.model.layers[0].weight)
    assert torch.equal(pickle.loads(pickle.dumps(again.model))(x), again.model(x))

    for name, result in (("pruned", metanet.edit.prune(again, 0.5, "digits")),
                         ("int8", metanet.edit.precision(again, "*=int8", "digits"))):
        path = result.save(tmp_path / f"{name}.safetensors")
        loaded = metanet.load(path)
        assert torch.equal(loaded(x), result.model.eval()(x)), name
        assert "edits" in metanet.load_meta(path), name
