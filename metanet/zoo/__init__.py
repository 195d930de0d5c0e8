"""Model zoos: populations of small trained networks, the meta-network's training data.

A YAML recipe (:func:`load_recipe`) describes tasks, architecture and hyperparameter distributions, backdoors and
checkpoint epochs; :func:`build` trains its runs as vectorised populations and stores them as safetensors shards
plus an SQLite index (crash-safe, resumable, shardable, optionally on Ray); :class:`Zoo` reads the result.

>>> from metanet.zoo import Zoo, build
>>> summary = build("tiny", "zoos/tiny-slice", limit=8, progress=False)  # the first 8 runs of zoo/tiny.yaml
>>> zoo = Zoo("zoos/tiny-slice"); zoo.summary()["networks"]   # 4 checkpoints per run
32
"""

import sys
from typing import TYPE_CHECKING

from metanet._lazy import LazyPackage, lazy_attributes

# public name -> submodule defining it, imported on first use: the `metanet` command imports metanet.zoo.cli (and so
# this package) to build its parser, which then loaded PyTorch (and the PyG dataset view only when asked for)
_LAZY = {
    **dict.fromkeys(["BuildSummary", "Unit", "build", "merge", "plan"], "build"),
    **dict.fromkeys(["Dist", "Recipe", "RunSpec", "load_recipe"], "recipe"),
    **dict.fromkeys(["CheckReport", "Store", "tensor_sha256"], "store"),
    **dict.fromkeys(["PopulationOptimizer", "population_forward", "train_one", "train_population"], "train"),
    **dict.fromkeys(["NetInfo", "Zoo"], "zoo"),
    "ZooDataset": "dataset",
}

if TYPE_CHECKING:  # pragma: no cover - for type checkers and IDEs
    from metanet.zoo.build import BuildSummary, Unit, build, merge, plan
    from metanet.zoo.dataset import ZooDataset
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


__getattr__ = lazy_attributes(__name__, _LAZY, submodules=True)


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


# `import metanet.zoo.build` binds the submodule as metanet.zoo.build: the function stays bound instead
sys.modules[__name__].__class__ = LazyPackage
