"""The Ray backend when things go wrong on a cluster, without starting Ray: a stand-in ``ray`` module replays what
Ray does (checked by hand against Ray 2.60 on a local instance with 2 CPUs).

- an address where no cluster runs (``--ray-address`` or ``$RAY_ADDRESS``): ray.init retried a ``host:port`` for
  ~14 minutes, printing a warning every 40 s, then raised a ConnectionError traceback; now one ZooError in seconds,
  and no zoo directory is made (nor without Ray installed: the error names the extra ``metanet[ray]``);
- a worker that dies for good (SIGKILL after Ray's retries, out of memory): Ray's WorkerCrashedError traceback, and
  the other units kept training on a cluster the caller had connected to; now a ZooError as the ``--workers`` pool
  says it, the units in flight are cancelled, the finished ones are kept and a rerun completes the same zoo;
- any other stop (Ctrl-C, a failed write) cancels the units in flight too.
"""

from __future__ import annotations

import copy
import importlib
import socket
import sys
import types

import pytest

from metanet.cli import main
from metanet.errors import ZooError
from metanet.zoo import build
from zoo_helpers import rows, shard_bytes

B = importlib.import_module("metanet.zoo.build")  # metanet.zoo.build is the function there

#: four units of one tiny MLP each on digits: well under a second in-process
FOUR = {
    "name": "four", "seed": 5, "count": 4, "population": 1, "tasks": ["digits"], "checkpoints": [0, 1],
    "arch": {"family": "mlp", "depth": 1, "width": 4},
    "train": {"optimizer": "adam", "lr": 0.01, "batch_size": 32, "epochs": 1, "train_examples": 100},
    "eval": {"train_examples": 50},
}


class WorkerCrashedError(Exception):
    """Ray's error for a task whose worker died (named as Ray names it: the build looks it up by name)."""


class RayTaskError(Exception):
    cause: BaseException | None = None


class FakeRay(types.SimpleNamespace):
    """Two CPUs; task refs are unit indices; ``get`` trains the unit in this process unless told otherwise."""

    def __init__(self, init_error: BaseException | None = None, crash: int | None = None,
                 interrupt_wait: int | None = None) -> None:
        super().__init__(exceptions=types.SimpleNamespace(RayTaskError=RayTaskError,
                                                          WorkerCrashedError=WorkerCrashedError))
        self.init_error, self.crash, self.interrupt_wait = init_error, crash, interrupt_wait
        self.inits: list[dict] = []
        self.cancelled: list[int] = []
        self.jobs: dict[int, tuple] = {}
        self.waits = 0

    def is_initialized(self) -> bool:
        return False

    def init(self, **kwargs) -> None:
        self.inits.append(kwargs)
        if self.init_error is not None:
            raise self.init_error

    def shutdown(self) -> None:
        pass

    def cluster_resources(self) -> dict:
        return {"CPU": 2.0}

    def remote(self, **kwargs):
        ray = self

        class Job:
            def remote(self, payload, ctx, threads):
                ray.jobs[payload["index"]] = (payload, ctx, threads)
                return payload["index"]

        return lambda fn: Job()

    def wait(self, refs, num_returns=1):
        self.waits += 1
        if self.waits == self.interrupt_wait:
            raise KeyboardInterrupt
        return [min(refs)], []

    def get(self, ref):
        if ref == self.crash:
            raise WorkerCrashedError("The worker died unexpectedly while executing this task.")
        return B._unit_job(*self.jobs[ref])

    def cancel(self, ref, force=False):
        assert force
        self.cancelled.append(ref)


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_an_address_where_no_cluster_runs_is_one_error_in_seconds_and_no_zoo_is_made(tmp_path, monkeypatch):
    # what ray.init raised after its ~14 minutes of retries
    ray = FakeRay(init_error=ConnectionError("Failed to connect to Ray cluster at 192.0.2.2:1"))
    monkeypatch.setitem(sys.modules, "ray", ray)
    monkeypatch.delenv("RAY_ADDRESS", raising=False)
    address = f"127.0.0.1:{_closed_port()}"
    for given, env, src in ((address, None, "--ray-address"), (f"ray://{address}", None, "--ray-address"),
                            (None, address, "$RAY_ADDRESS")):
        if env is not None:
            monkeypatch.setenv("RAY_ADDRESS", env)
        out = tmp_path / f"z{len(ray.inits)}-{src[1:]}"
        with pytest.raises(ZooError) as e:
            build(copy.deepcopy(FOUR), out, backend="ray", ray_address=given, progress=False)
        assert str(e.value).startswith(f"no Ray cluster answers at {given or env} (from {src}: Connection refused); ")
        assert "or neither --ray-address nor $RAY_ADDRESS to start a local Ray instance" in str(e.value)
        assert ray.inits == [] and not out.exists()  # refused before ray.init, and before the zoo was made

    # "auto" with no cluster on this machine: Ray's own lookup says so at once; its ConnectionError, one line
    monkeypatch.delenv("RAY_ADDRESS")
    ray.init_error = ConnectionError("Could not find any running Ray instance. Please specify the one to connect to "
                                     "by setting `--address` flag or `RAY_ADDRESS` environment variable.")
    with pytest.raises(ZooError, match=r"^no Ray cluster answers at auto \(from --ray-address: Could not find any "):
        build(copy.deepcopy(FOUR), tmp_path / "auto", backend="ray", ray_address="auto", progress=False)
    assert [i["address"] for i in ray.inits] == ["auto"]


def test_without_ray_the_error_names_the_extra_and_no_zoo_is_made(tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "ray", None)  # `import ray` raises ImportError, as when it is not installed
    out = tmp_path / "z"
    assert main(["zoo", "build", "tiny", "--out", str(out), "--backend", "ray", "--limit", "1"]) == 2
    err = capsys.readouterr().err
    assert err == "metanet: error: the ray backend needs Ray: pip install 'metanet[ray]' (or \"ray[default]\")\n"
    assert not out.exists()


def test_a_worker_that_dies_is_a_zoo_error_the_units_in_flight_are_cancelled_and_a_rerun_completes(
        tmp_path, monkeypatch):
    ray = FakeRay(crash=1)  # unit 1's worker dies for good: Ray's retries used up
    monkeypatch.setitem(sys.modules, "ray", ray)
    monkeypatch.delenv("RAY_ADDRESS", raising=False)
    zoo, local = tmp_path / "ray", tmp_path / "local"
    with pytest.raises(ZooError) as e:
        build(copy.deepcopy(FOUR), zoo, backend="ray", progress=False)
    # 2 CPUs: units 0, 1, 2 in flight; 0 done and stored, 3 sent; then 1's worker died
    assert str(e.value) == ("a Ray worker of the build died (WorkerCrashedError: killed, out of memory, or its node "
                            "lost) while units 1, 2, 3 were being trained; the units stored so far are kept: run "
                            "the same build again to resume it")
    assert sorted(ray.cancelled) == [2, 3]  # not left training for nothing on the caller's cluster
    assert sorted(p.name for p in (zoo / "shards").iterdir()) == ["00000.safetensors"]

    ray.crash = None
    s = build(copy.deepcopy(FOUR), zoo, backend="ray", progress=False)
    assert (s.units_built, s.units_skipped) == (3, 1)
    build(copy.deepcopy(FOUR), local, progress=False)
    assert rows(zoo) == rows(local) and shard_bytes(zoo) == shard_bytes(local)  # no network lost or duplicated


def test_ctrl_c_while_units_train_cancels_them(tmp_path, monkeypatch):
    ray = FakeRay(interrupt_wait=2)  # Ctrl-C in the driver after the first unit is stored
    monkeypatch.setitem(sys.modules, "ray", ray)
    monkeypatch.delenv("RAY_ADDRESS", raising=False)
    with pytest.raises(KeyboardInterrupt):
        build(copy.deepcopy(FOUR), tmp_path / "z", backend="ray", progress=False)
    assert sorted(ray.cancelled) == [1, 2, 3]
    assert sorted(p.name for p in (tmp_path / "z" / "shards").iterdir()) == ["00000.safetensors"]


def test_the_died_errors_are_rays_own():
    ray = pytest.importorskip("ray")
    assert ray.exceptions.WorkerCrashedError in B._ray_died(ray)
    assert ray.exceptions.OutOfMemoryError in B._ray_died(ray)
    assert not any(issubclass(ray.exceptions.RayTaskError, c) for c in B._ray_died(ray))
