"""Networks carrying PyTorch's own weight transforms, for the tests of every folder that takes users' networks
(imported by name: tests/ is on sys.path)."""

from __future__ import annotations

import warnings

import torch.nn.utils.prune as prune
from torch import nn

from metanet.nets import build

TRANSFORMED_ARCH = "mlp:64-12-10:relu"


def transformed_mlp(kind: str) -> nn.Module:
    """:data:`TRANSFORMED_ARCH` (seed 0) with its first layer freshly pruned (``kind="prune"``: L1, half the
    weights) or weight-normed (``kind="weight_norm"``, the hook-based one): the weight it computes sits in a plain
    attribute, which ``copy.deepcopy`` refuses."""
    if kind not in ("prune", "weight_norm"):
        raise ValueError(f"unknown transform {kind!r}; valid: prune, weight_norm")
    net = build(TRANSFORMED_ARCH, seed=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # the hook-based weight_norm is deprecated
        if kind == "prune":
            prune.l1_unstructured(net.layers[0], "weight", 0.5)
        else:
            nn.utils.weight_norm(net.layers[0])
    return net
