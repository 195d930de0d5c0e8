"""`MLP`, `CNN` and `build`: determinism, residual skips, shapes, parameter counts."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from metanet.nets import CNN, MLP, Arch, build

ARCHS = [
    "mlp:784-64-10:relu",
    "mlp:64-32-32-10:tanh:skip",
    "mlp:64-32-10:gelu:nobias",
    "cnn:1-16-16-10:relu:k3:s2",
    "cnn:3-8-4-5:silu:k5:s1:nobias",
]


def _states_equal(a: nn.Module, b: nn.Module) -> bool:
    sa, sb = a.state_dict(), b.state_dict()
    return sa.keys() == sb.keys() and all(torch.equal(sa[k], sb[k]) for k in sa)


@pytest.mark.parametrize("arch", ARCHS)
def test_same_seed_gives_bit_identical_weights(arch):
    torch.manual_seed(1)
    a = build(arch, seed=5)
    torch.manual_seed(2)  # the global state must not matter
    b = build(arch, seed=5)
    assert _states_equal(a, b)


@pytest.mark.parametrize("arch", ARCHS)
def test_different_seeds_give_different_weights(arch):
    a, b = build(arch, seed=0).state_dict(), build(arch, seed=1).state_dict()
    for k in a:
        if k.endswith("weight"):
            assert not torch.equal(a[k], b[k]), k


def test_build_leaves_the_global_rng_alone():
    torch.manual_seed(123)
    expected = torch.rand(8)
    torch.manual_seed(123)
    build("mlp:784-64-10:relu", seed=0)
    build("cnn:1-16-16-10:relu", seed=9)
    assert torch.equal(torch.rand(8), expected)


def test_build_without_seed_uses_the_global_rng():
    torch.manual_seed(4)
    a = build("mlp:8-4-2", seed=None)
    torch.manual_seed(4)
    b = build("mlp:8-4-2", seed=None)
    c = build("mlp:8-4-2", seed=None)
    assert _states_equal(a, b) and not _states_equal(b, c)


def test_build_accepts_string_dict_and_arch():
    arch = Arch.parse("mlp:64-32-10:tanh")
    models = [build(arch, seed=3), build(str(arch), seed=3), build(arch.to_dict(), seed=3)]
    assert all(isinstance(m, MLP) and m.arch == arch for m in models)
    assert _states_equal(models[0], models[1]) and _states_equal(models[0], models[2])
    assert isinstance(build("cnn:1-4-3", seed=0), CNN)


def test_parameter_names_are_stable():
    assert list(build("mlp:784-64-10").state_dict()) == [
        "layers.0.weight", "layers.0.bias", "layers.1.weight", "layers.1.bias"
    ]
    assert list(build("cnn:1-4-4-3:relu:nobias").state_dict()) == [
        "layers.0.weight", "layers.1.weight", "layers.2.weight"
    ]


@pytest.mark.parametrize("arch", ARCHS + ["mlp:784-10", "cnn:1-4-3:relu:k1:s1", "mlp:16-16-16-16-2:relu:skip:nobias"])
def test_num_parameters_matches_the_module(arch):
    m = build(arch)
    assert Arch.parse(arch).num_parameters() == sum(p.numel() for p in m.parameters())


def _hand_set_skip_mlp(skips: bool, bias1: list[float]) -> MLP:
    """mlp:2-2-2-2:relu; layers 0 and 2 the identity, layer 1 zero weights and bias ``bias1``."""
    m = MLP(Arch("mlp", (2, 2, 2, 2), activation="relu", skips=skips))
    with torch.no_grad():
        for p in m.parameters():
            p.zero_()
        m.layers[0].weight.copy_(torch.eye(2))
        m.layers[2].weight.copy_(torch.eye(2))
        m.layers[1].bias.copy_(torch.tensor(bias1))
    return m


def test_mlp_skip_is_residual():
    x = torch.tensor([[3.0, 5.0]])
    # h0 = relu(x) = [3, 5] (layer 0 is not wrapped); h1 = h0 + relu(0 h0 + [1, 0]) = [4, 5]; logits = h1
    assert torch.equal(_hand_set_skip_mlp(True, [1.0, 0.0])(x), torch.tensor([[4.0, 5.0]]))
    # without the skip the hidden layer forgets its input
    assert torch.equal(_hand_set_skip_mlp(False, [1.0, 0.0])(x), torch.tensor([[1.0, 0.0]]))


def test_mlp_skip_adds_after_the_activation():
    x = torch.tensor([[3.0, 5.0]])
    # h + relu(W h + b) = [3, 5] + relu([-10, 0]) = [3, 5]; relu(h + W h + b) would give [0, 5]
    assert torch.equal(_hand_set_skip_mlp(True, [-10.0, 0.0])(x), torch.tensor([[3.0, 5.0]]))


def test_mlp_flattens_its_input():
    m = build("mlp:784-32-10", seed=0)
    x = torch.rand(5, 1, 28, 28)
    assert torch.equal(m(x), m(x.reshape(5, 784)))


@pytest.mark.parametrize("size", [28, 8])
def test_cnn_output_shape(size):
    m = build("cnn:1-16-16-10:relu:k3:s2", seed=0)
    assert m(torch.rand(4, 1, size, size)).shape == (4, 10)
    assert build("cnn:1-8-3:tanh:k5:s1", seed=0)(torch.rand(2, 1, size, size)).shape == (2, 3)


def test_cnn_downsamples_by_its_stride():
    m = build("cnn:1-16-16-10:relu:k3:s2", seed=0)
    shapes = []
    for conv in m.layers[:-1]:
        conv.register_forward_hook(lambda mod, inp, out: shapes.append(tuple(out.shape)))
    m(torch.rand(1, 1, 28, 28))
    assert shapes == [(1, 16, 14, 14), (1, 16, 7, 7)]


def test_family_mismatch_is_rejected():
    # still a ValueError (as before ArchError existed), and the family check's own: not any ValueError on the way
    with pytest.raises(ValueError, match="MLP needs an mlp architecture, got cnn:1-4-3"):
        MLP("cnn:1-4-3")
    with pytest.raises(ValueError, match="CNN needs a cnn architecture, got mlp:4-3"):
        CNN("mlp:4-3")


def test_family_mismatch_is_an_arch_error():
    # a plain ValueError is not a MetanetError: the CLI would print a traceback instead of one line
    from metanet.errors import ArchError

    with pytest.raises(ArchError, match="MLP needs an mlp architecture, got cnn:1-4-3"):
        MLP("cnn:1-4-3")
    with pytest.raises(ArchError, match="CNN needs a cnn architecture"):
        CNN("mlp:4-3")


@pytest.mark.parametrize("arch", ["mlp:1000000000-1000000-2:relu", "cnn:1-1000000-1000000-2:relu:k5"])
def test_a_network_too_large_for_memory_is_an_arch_error(arch):
    # petabytes of weights (beyond any address space): torch's allocator refuses at once with a RuntimeError,
    # which the CLI printed as a traceback (`metanet generate digits --arch mlp:64-99999999-10`)
    from metanet.errors import ArchError

    n = Arch.parse(arch).num_parameters()
    for make in (build, MLP if arch.startswith("mlp") else CNN):
        with pytest.raises(ArchError, match=rf"not enough memory to build {arch}.*: its {n:,} parameters need .* GiB "
                                            "as float32; give smaller widths"):
            make(arch)
