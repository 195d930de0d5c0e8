"""Random networks for the neural-graph tests: hypothesis strategies over every supported kind of network.

Every strategy draws a ``Case``: the module (weights from a drawn seed) and a function giving a random input
batch of the right shape. Also small fixed networks (``_mlp``, a meta-device ``_meta_mlp``) and ``_same``, graph
equality (arch, node and edge values, edges), shared by several test files.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import torch
from hypothesis import strategies as st
from torch import Tensor, nn

from metanet.nets import ACTIVATIONS, Arch, build

ACT_NAMES = list(ACTIVATIONS)
MLP, CNN = "mlp:4-3-2:relu", "cnn:1-2-3:relu:k3"  # small fixed architectures of tests in several files


@dataclass
class Case:
    module: nn.Module
    input_shape: tuple[int, ...]

    def inputs(self, n: int = 4, seed: int = 0) -> Tensor:
        g = torch.Generator().manual_seed(seed)
        dtype = next(self.module.parameters()).dtype
        return torch.randn(n, *self.input_shape, generator=g, dtype=torch.float64).to(dtype)


def _seeded(seed: int, make: Callable[[], nn.Module]) -> nn.Module:
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        m = make()
        # make biases clearly non-zero and weights of both signs
        with torch.no_grad():
            for p in m.parameters():
                p.add_(torch.randn_like(p) * 0.1)
    return m


@st.composite
def mlp_family(draw) -> Case:
    depth = draw(st.integers(1, 4))
    widths = [draw(st.integers(1, 12))]
    hidden = draw(st.integers(1, 10))
    for _ in range(depth - 1):  # equal hidden widths now and then so skips appear
        widths.append(hidden if draw(st.booleans()) else draw(st.integers(1, 10)))
    widths.append(draw(st.integers(1, 6)))
    arch = Arch("mlp", tuple(widths), activation=draw(st.sampled_from(ACT_NAMES)), bias=draw(st.booleans()),
                skips=draw(st.booleans()))
    return Case(build(arch, seed=draw(st.integers(0, 2**16))), (widths[0],))


@st.composite
def cnn_family(draw) -> Case:
    convs = draw(st.integers(1, 3))
    widths = [draw(st.integers(1, 4))] + [draw(st.integers(1, 6)) for _ in range(convs)] + [draw(st.integers(1, 5))]
    arch = Arch("cnn", tuple(widths), activation=draw(st.sampled_from(ACT_NAMES)), bias=draw(st.booleans()),
                kernel=draw(st.integers(1, 5)), stride=draw(st.integers(1, 2)))
    size = draw(st.integers(4, 10))
    return Case(build(arch, seed=draw(st.integers(0, 2**16))), (widths[0], size, size))


def _act(draw) -> nn.Module:
    return ACTIVATIONS[draw(st.sampled_from(ACT_NAMES))]()


@st.composite
def sequential_mlp(draw) -> Case:
    """nn.Sequential([Flatten], Linear, act..., Linear [, act]) with per-layer bias choices."""
    depth = draw(st.integers(1, 4))
    widths = [draw(st.integers(1, 10)) for _ in range(depth + 1)]
    image = draw(st.booleans())
    spec = []
    if image:
        spec.append(lambda: nn.Flatten())
    for i in range(depth):
        a, b, bias = widths[i], widths[i + 1], draw(st.booleans())
        spec.append(lambda a=a, b=b, bias=bias: nn.Linear(a, b, bias=bias))
        n_acts = draw(st.integers(0 if i == depth - 1 else 1, 2 if i < depth - 1 else 1))
        for _ in range(n_acts):
            act = _act(draw)
            spec.append(lambda act=act: act)
    seed = draw(st.integers(0, 2**16))
    module = _seeded(seed, lambda: nn.Sequential(*(f() for f in spec)))
    shape = (1, 1, widths[0]) if image else (widths[0],)
    return Case(module, shape)


@st.composite
def sequential_cnn(draw) -> Case:
    """nn.Sequential of Conv2d (any kernel / stride / padding), activations, pooling, then either global average
    pooling or a Flatten of a spatial map, then Linear layers."""
    size = draw(st.integers(5, 10))
    chans = draw(st.integers(1, 3))
    layers: list[Callable[[], nn.Module]] = []
    hw = [size, size]
    c = chans
    for _ in range(draw(st.integers(1, 3))):
        kh, kw = draw(st.integers(1, 3)), draw(st.integers(1, 3))
        stride = draw(st.integers(1, 2))
        out = draw(st.integers(1, 5))
        bias = draw(st.booleans())
        layers.append(lambda c=c, out=out, kh=kh, kw=kw, stride=stride, bias=bias: nn.Conv2d(
            c, out, (kh, kw), stride=stride, padding=(kh // 2, kw // 2), bias=bias))
        hw = [(hw[0] + 2 * (kh // 2) - kh) // stride + 1, (hw[1] + 2 * (kw // 2) - kw) // stride + 1]
        c = out
        act = _act(draw)
        layers.append(lambda act=act: act)
        if min(hw) >= 2 and draw(st.booleans()):
            pool = draw(st.sampled_from(["max", "avg"]))
            layers.append((lambda: nn.MaxPool2d(2)) if pool == "max" else (lambda: nn.AvgPool2d(2)))
            hw = [hw[0] // 2, hw[1] // 2]
    if draw(st.booleans()):
        layers += [lambda: nn.AdaptiveAvgPool2d(1), lambda: nn.Flatten()]
        feats = c
    else:
        layers.append(lambda: nn.Flatten())  # spatial size may be > 1: one edge per (class, channel) holding S weights
        feats = c * hw[0] * hw[1]
    for _ in range(draw(st.integers(1, 2))):
        out = draw(st.integers(1, 5))
        bias = draw(st.booleans())
        layers.append(lambda feats=feats, out=out, bias=bias: nn.Linear(feats, out, bias=bias))
        feats = out
        if draw(st.booleans()):
            act = _act(draw)
            layers.append(lambda act=act: act)
    seed = draw(st.integers(0, 2**16))
    module = _seeded(seed, lambda: nn.Sequential(*(f() for f in layers)))
    return Case(module, (chans, size, size))


any_network = st.one_of(mlp_family(), cnn_family(), sequential_mlp(), sequential_cnn())


def hand_built() -> tuple[nn.Module, tuple[int, ...]]:
    """A network written in plain torch that metanet has never seen: convs, pools, Flatten of a 3x3 map, MLP head."""
    torch.manual_seed(1234)
    net = nn.Sequential(
        nn.Conv2d(3, 8, kernel_size=3, padding=1),
        nn.SiLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(8, 6, kernel_size=(3, 5), stride=1, padding=(1, 2), bias=False),
        nn.LeakyReLU(),
        nn.AvgPool2d(2),
        nn.Flatten(),
        nn.Linear(6 * 3 * 3, 16),
        nn.GELU(),
        nn.Linear(16, 10),
    )
    return net, (3, 12, 12)


MIXED_ARCHS = [
    "mlp:6-5-3:relu",
    "mlp:6-4-4-4-3:tanh:skip",
    "mlp:10-3:sigmoid:nobias",
    "cnn:1-3-4-5:gelu:k3:s2",
    "cnn:2-4-3:silu:k5:s1",
]


def mixed_zoo() -> list[tuple[nn.Module, tuple[int, ...]]]:
    """Networks of six architectures (MLPs with and without skips or biases, CNNs, a plain Sequential)."""
    nets = []
    for i, a in enumerate(MIXED_ARCHS):
        m = build(a, seed=i)
        shape = (m.arch.widths[0],) if m.arch.family == "mlp" else (m.arch.widths[0], 7, 7)
        nets.append((m, shape))
    torch.manual_seed(5)
    plain = nn.Sequential(nn.Conv2d(2, 3, 3), nn.ReLU(), nn.Flatten(), nn.Linear(3 * 5 * 5, 4))
    nets.append((plain, (2, 7, 7)))
    return nets


def _mlp() -> nn.Sequential:
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(6, 4), nn.ReLU(), nn.Linear(4, 3))


def _meta_mlp() -> nn.Sequential:
    with torch.device("meta"):
        return nn.Sequential(nn.Linear(6, 4), nn.ReLU(), nn.Linear(4, 3))


def _same(a, b) -> bool:
    return a.arch == b.arch and torch.equal(a.x, b.x) and torch.equal(a.edge_attr, b.edge_attr) and torch.equal(
        a.edge_index, b.edge_index)
