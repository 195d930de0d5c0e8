"""A zoo shared with threads and forked children, and metanet objects copied or pickled whole: the same results as
in the process and thread that made them (the spawn-worker cases are in tests/test_processes.py)."""

from __future__ import annotations

import copy
import os
import pickle
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from process_helpers import in_child
import torch

import metanet
from metanet import tasks
from metanet.errors import ZooError


def _same_state(a: dict, b: dict) -> bool:
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def _index_fds(zoo) -> int:
    """File descriptors of this process open on the zoo's index database."""
    db = str(zoo.path / "index.sqlite")
    n = 0
    for fd in os.listdir("/proc/self/fd"):
        try:
            n += os.readlink(f"/proc/self/fd/{fd}") == db
        except OSError:  # the listing's own descriptor, closed meanwhile
            pass
    return n


def test_a_zoo_opened_in_one_thread_reads_in_others(tiny_zoo):
    # was: ZooError "index.sqlite is not a readable zoo index (SQLite objects created in a thread can only be used in
    # that same thread ...): it was damaged ... rebuild the zoo", for an intact zoo
    ids = list(range(0, 384, 9))
    with metanet.Zoo(tiny_zoo) as ref:
        want = [ref.state_dict(i) for i in ids]
        summary = ref.summary()
    with metanet.Zoo(tiny_zoo) as zoo:  # nothing read yet: the first read of the index is in a worker thread
        with ThreadPoolExecutor(4) as pool:
            got = list(pool.map(zoo.state_dict, ids))
            assert all(_same_state(a, b) for a, b in zip(got, want))
            assert pool.submit(zoo.summary).result() == summary
            assert pool.submit(zoo.check).result().ok
            zoo.refresh()
            ds = pool.submit(zoo.dataset, "test").result()
            assert pool.submit(lambda: ds.ids).result() == zoo.dataset("test").ids
        assert _same_state(zoo.state_dict(ids[1]), want[1])  # and still in its own thread


def test_threads_that_ended_leave_no_index_open_and_close_closes_all(tiny_zoo):
    zoo = metanet.Zoo(tiny_zoo)
    len(zoo)
    for _ in range(6):  # one short-lived thread after another, each reading the index
        t = threading.Thread(target=lambda: (zoo.refresh(), len(zoo)))
        t.start()
        t.join()
    assert _index_fds(zoo) <= 2  # this thread's and the last one's; not one per thread that ever read
    with ThreadPoolExecutor(2) as pool:
        pool.submit(lambda: (zoo.refresh(), len(zoo))).result()
        zoo.close()
        assert _index_fds(zoo) == 0
        zoo.refresh()
        with pytest.raises(ZooError, match="closed"):  # closed for every thread, as before
            pool.submit(len, zoo).result()


def test_a_child_forked_while_the_parent_reads_the_index_reads_the_zoo(tiny_zoo):
    # SQLite forbids using a connection opened before fork() in the child: forked while the parent was inside a read
    # (another thread listing the zoo as a DataLoader forks its workers), the child's first read of the index failed
    # ("cannot start a transaction within a transaction": the parent's transaction came with the connection)
    with metanet.Zoo(tiny_zoo) as zoo:
        first = zoo.state_dict(5)
        with zoo._store.snapshot():  # what Zoo._all holds while reading the rows
            got = in_child(lambda: (zoo.refresh(), len(zoo), _same_state(zoo.state_dict(5), first),
                                     zoo.summary()["networks"]))
        assert got == repr((None, 384, True, 384))
        zoo.refresh()
        assert len(zoo) == 384  # the parent's connection is untouched


def test_fork_workers_with_persistent_workers_give_every_epoch_the_parents_batches(tiny_zoo):
    from torch_geometric.loader import DataLoader

    with metanet.Zoo(tiny_zoo) as zoo:
        ds = zoo.dataset("train", target=["task", "lr"])[:24]
        ref = list(DataLoader(ds, batch_size=8))
        loader = DataLoader(ds, batch_size=8, num_workers=2, persistent_workers=True)
        for _ in range(2):  # the second epoch reuses the workers (their open shards and index connection)
            got = list(loader)
            assert len(got) == len(ref) == 3
            for a, b in zip(ref, got):
                assert all(torch.equal(a[k], b[k]) for k in ("x", "edge_index", "edge_attr", "y", "zoo_id", "batch"))


def test_result_objects_copy_and_pickle_whole():
    gen = metanet.generate("digits", candidates=1, seed=0)
    db = metanet.inspect.inspect(gen.model, "digits")
    edit = metanet.edit.remove(gen.model, "1:0", "digits")
    x, y = tasks.get("digits").split("test")
    xt = torch.as_tensor(x, dtype=torch.float32) / 255.0
    for back in (copy.deepcopy, lambda o: pickle.loads(pickle.dumps(o))):
        g2 = back(gen)
        assert g2.report.to_dict() == gen.report.to_dict()
        assert torch.equal(g2.model(xt), gen.model(xt))
        d2 = back(db)
        assert d2.rows == db.rows and d2.meta == db.meta and d2[(1, 3)] == db[(1, 3)]
        d2[(1, 3)]["idx"] = -1  # a copy of its own
        assert db[(1, 3)]["idx"] == 3
        assert back(edit.report).to_dict() == edit.report.to_dict()
    for name in ("digits", "digits[0-4]+permute(3)"):
        t = tasks.get(name)
        for t2 in (copy.deepcopy(t), pickle.loads(pickle.dumps(t))):
            a, b = t.split("val"), t2.split("val")
            assert t2.name == t.name and (a[0] == b[0]).all() and (a[1] == b[1]).all()
