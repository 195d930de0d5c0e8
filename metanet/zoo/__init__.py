"""Model zoos: populations of small trained networks, the meta-network's training data.

A YAML recipe (:func:`load_recipe`) describes tasks, architecture and hyperparameter distributions, backdoors and
checkpoint epochs; :func:`build` trains its runs as vectorised populations and stores them as safetensors shards
plus an SQLite index (crash-safe, resumable, shardable, optionally on Ray); :class:`Zoo` reads the result.

>>> from metanet.zoo import Zoo, build
>>> summary = build("tiny", "zoos/tiny-slice", limit=8, progress=False)  # the first 8 runs of zoo/tiny.yaml
>>> zoo = Zoo("zoos/tiny-slice"); zoo.summary()["networks"]   # 4 checkpoints per run
32
"""

from typing import Any

from metanet.zoo.build import BuildSummary, Unit, build, merge, plan
from metanet.zoo.recipe import Dist, Recipe, RunSpec, load_recipe
from metanet.zoo.store import CheckReport, Store, tensor_sha256
from metanet.zoo.train import PopulationOptimizer, population_forward, train_one, train_population
from metanet.zoo.zoo import NetInfo, Zoo

__all__ = [
    "Zoo",
    "NetInfo",
    "ZooDataset",
    "Recipe",
    "RunSpec",
    "Dist",
    "load_recipe",
    "build",
    "merge",
    "plan",
    "Unit",
    "BuildSummary",
    "Store",
    "CheckReport",
    "tensor_sha256",
    "train_population",
    "train_one",
    "population_forward",
    "PopulationOptimizer",
]


def __getattr__(name: str) -> Any:
    # the PyG dataset view imports torch_geometric: only when asked for
    if name == "ZooDataset":
        from metanet.zoo.dataset import ZooDataset

        return ZooDataset
    raise AttributeError(f"module 'metanet.zoo' has no attribute {name!r}")
