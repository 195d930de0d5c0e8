"""build(backend="ray") given an address where no cluster answers: the error names the Python argument
``ray_address`` as well as the CLI's ``--ray-address`` (a script calling build() was told of a flag alone)."""

from __future__ import annotations

import sys
import types

import pytest

from metanet.errors import ZooError
from metanet.zoo import build

RECIPE = {
    "name": "tiny", "seed": 5, "count": 1, "population": 1, "tasks": ["digits"], "checkpoints": [0],
    "arch": {"family": "mlp", "depth": 1, "width": 4},
    "train": {"optimizer": "adam", "lr": 0.01, "batch_size": 32, "epochs": 1, "train_examples": 100},
    "eval": {"train_examples": 50},
}


def _no_init(**kw):
    raise AssertionError("ray.init must not be reached")


def test_no_cluster_names_the_python_argument_too(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", types.SimpleNamespace(is_initialized=lambda: False, init=_no_init))
    monkeypatch.delenv("RAY_ADDRESS", raising=False)
    with pytest.raises(ZooError) as e:  # port 70000: refused before any connection is tried
        build(dict(RECIPE), tmp_path / "zoo", backend="ray", ray_address="127.0.0.1:70000", progress=False)
    text = str(e.value)
    assert text.startswith("no Ray cluster answers at 127.0.0.1:70000 (from --ray-address: port 70000 is no TCP port")
    assert "as --ray-address, or build()'s ray_address from Python, or neither --ray-address nor $RAY_ADDRESS" in text
    assert "\n" not in text and not (tmp_path / "zoo").exists()
