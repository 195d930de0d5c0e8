"""Helpers of the loop tests (imported by name: pytest puts this folder on sys.path): the architecture of the digits
loop tasks, seeds that are no integer, a fresh tiny writer whose candidates differ, networks' parameters stacked as
the loop's K candidates, a returned key as docstrings name it, a writer whose first candidate is broken, a reward
far below WORST, the loop-math toy task and a writer that returns the same candidates every time."""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch

from metanet.loop import LoopTask
from metanet.loop.rewards import Reward
from metanet.loop.select import SELECTIONS

if TYPE_CHECKING:
    from torch import Tensor, nn

    from metanet.writer import Writer

ARCH = "mlp:64-16-10:relu"

# a fraction, nothing, a bool and text: every seed check must refuse them
BAD_SEEDS = [1.5, None, True, "3"]


def make_diverse_writer() -> Writer:
    """A tiny writer whose first layer mixes in the candidates' random starting weights (``start_mix=1``): its K
    candidates differ and are below what it can write, so the loop has something to choose and learn. Seeded: every
    call gives the same writer."""
    from metanet.writer import Writer

    torch.manual_seed(0)
    return Writer(hidden=8, message=4, start_mix=1.0)


def stack_params(nets: list[nn.Module]) -> dict[str, Tensor]:
    """The networks' parameters stacked as the loop holds K candidates: ``name -> (K, *shape)``, detached."""
    return {k: torch.stack([dict(n.named_parameters())[k].detach() for n in nets]) for k, _ in
            nets[0].named_parameters()}


def as_documented(key: str) -> str:
    """``key`` as the docstrings name it: ``chosen_val`` / ``chosen_crossfit`` -> ``chosen_<selection>``."""
    for sel in SELECTIONS:
        if key.endswith(f"_{sel}"):
            return key[: -len(sel)] + "<selection>"
    return key


class BrokenFirstWriter:
    """A stand-in writer: K different networks of ``arch`` (seeds 0..K-1), candidate 0 with NaN weights."""

    def write(self, arch, x, y, num_classes, candidates=1, seed=0, **kw):
        import math

        from metanet.nets import build

        nets = [build(arch, seed=s) for s in range(candidates)]
        p = {k: torch.stack([dict(n.named_parameters())[k].detach() for n in nets]) for k, _ in
             nets[0].named_parameters()}
        p[next(iter(p))][0] = math.nan
        return p



class SteepReward(Reward):
    """A loss-only reward on a steep scale (-1e4 x loss): every working digits network scores far below WORST."""

    def score(self, reports, params):
        return [-1e4 * r.loss for r in reports]


def toy_task(arch: str) -> LoopTask:
    """A loop task of 12 seeded 4-input examples of 2 classes: 8 support, 4 val (the loop-math tests' task)."""
    g = torch.Generator().manual_seed(3)
    x = torch.randn(12, 4, generator=g)
    y = torch.arange(12) % 2
    return LoopTask("toy", arch, 2, (x[:8], y[:8]), (x[8:], y[8:]))


class FixedWriter:
    """A stand-in writer whose ``write`` returns the same ``k`` random candidates of ``arch`` every time, as the
    differentiable tensors the loop's update takes gradients through."""

    def __init__(self, arch: str, k: int, seed: int = 1) -> None:
        from metanet.nets import build

        g = torch.Generator().manual_seed(seed)
        self.params = {n: torch.randn(k, *v.shape, generator=g).requires_grad_()
                       for n, v in build(arch, seed=0).state_dict().items()}

    def write(self, arch, x, y, num_classes, candidates=1, seed=0):
        return {n: v * 1 for n, v in self.params.items()}
