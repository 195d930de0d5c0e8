"""``Writer.write``'s seed reaches the candidates' starting weights (the writer's noise input, with the clustering
seed): two seeds give two different networks even where no clustering happens (a hidden layer narrower than the
class count has no sub-class clusters, so the starting weights are the only noise).

The seed tests used layers wide enough for k-means, whose seeded centres alone made the seeds' networks differ: a
seeded init that ignored the seed (every seed drawing the starts of seed 0) passed them, and such a network came
out the same for every seed."""

from __future__ import annotations

import torch

from metanet import tasks
from metanet.writer import Writer


def test_two_seeds_write_two_networks_without_clustering():
    x, y = tasks.get("digits").split("train")
    x, y = x[:200], y[:200]
    w = Writer.load()
    a = w.write("mlp:64-4-10:relu", x, y, seed=0)  # 4 hidden units < 10 classes: no sub-class clusters
    b = w.write("mlp:64-4-10:relu", x, y, seed=1)
    again = w.write("mlp:64-4-10:relu", x, y, seed=1)
    assert all(torch.equal(b[k], again[k]) for k in b)  # a seed is deterministic
    assert not torch.equal(a["layers.0.weight"], b["layers.0.weight"])
