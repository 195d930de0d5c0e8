"""Resource hygiene of a long-running process (a notebook, a service) calling the public API again and again: file
descriptors are released when the objects holding them are dropped, not at some later full garbage collection, and
per-process caches keyed by what the user names stay bounded."""

from __future__ import annotations

import gc
import os
import threading
from contextlib import contextmanager

import pytest

pytestmark = pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="counts /proc/self/fd (Linux)")


def _fds() -> int:
    return len(os.listdir("/proc/self/fd"))


@contextmanager
def _no_cyclic_gc():
    """Only reference counting frees objects inside: what a dropped object holds must be released at once (a
    full collection comes rarely in a process holding PyTorch's hundreds of thousands of objects)."""
    gc.collect()
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()
        gc.collect()


def test_a_zoo_dropped_without_close_releases_its_index_at_once(tiny_zoo):
    # Store._tx / snapshot made a class per call whose methods closed over the store (a class is in a reference
    # cycle of its own), and CPython's sqlite3 connection is in a cycle of its own too: every Zoo used and dropped
    # kept the index's descriptor open until a full collection (hundreds in a loop of `len(metanet.Zoo(path))`)
    import metanet

    def use() -> None:
        zoo = metanet.Zoo(tiny_zoo)
        ids = [n.id for n in zoo.select(task="digits")]
        assert len(zoo) == 384 and zoo.summary()["networks"] == 384
        zoo.load(ids[0])
        zoo.graph(ids[1])
        zoo.dataset("train")[0]
        zoo.check()

    use()  # imports and caches warmed up
    with _no_cyclic_gc():
        before = _fds()
        for _ in range(8):  # a leak keeps at least the index open per Zoo: 8 or more, well past the slack of 2
            use()
        after = _fds()
    assert after - before <= 2, f"{after - before} descriptors left open by 8 dropped Zoo objects"


def test_closing_a_zoo_and_dropping_it_after_close_are_both_fine(tiny_zoo):
    import metanet

    with _no_cyclic_gc():
        before = _fds()
        for _ in range(10):
            with metanet.Zoo(tiny_zoo) as zoo:
                assert len(zoo) == 384
            zoo = metanet.Zoo(tiny_zoo)
            zoo.close()
            del zoo  # the finaliser closes the closed connection again: harmless
        assert _fds() - before <= 2


def test_repeated_public_calls_leave_no_descriptors_or_threads(tmp_path):
    import metanet
    from metanet.nets import build

    net = build("mlp:64-16-10:relu", seed=0)
    path = tmp_path / "net.safetensors"

    def use() -> None:
        metanet.read(net)
        metanet.verify(net, "digits")
        metanet.save(net, path, note="x")
        metanet.load(path)
        metanet.load_meta(path)
        db = metanet.inspect(net, "digits")
        db.save(tmp_path / "db")
        metanet.NeuronDB.load(tmp_path / "db").query("SELECT layer, idx FROM neurons LIMIT 2")

    use()
    threads = {t.ident for t in threading.enumerate()}
    with _no_cyclic_gc():
        before = _fds()
        for _ in range(8):
            use()
        after = _fds()
    assert after - before <= 2
    assert {t.ident for t in threading.enumerate()} <= threads


@pytest.fixture
def _task_cache():
    """The task caches as they were before the test (it fills them with throwaway tasks)."""
    from metanet.tasks import registry

    saved = dict(registry._TASKS)
    yield registry
    registry._TASKS.clear()
    registry._TASKS.update(saved)


def test_the_task_cache_is_bounded(_task_cache):
    # every task name ever asked for was kept, with its row indices (about 0.5 MB for a fashion-mnist subset): a
    # service verifying on "...+permute(SEED)" for every SEED grew without bound
    from metanet import tasks
    from metanet.tasks import Task, sources

    base = tasks.get("digits")._data
    names = [f"digits[0-8]+permute({i})" for i in range(200)]
    for name in names:
        tasks.get(name)
    gc.collect()
    alive = sum(type(o) is Task and o.name in names for o in gc.get_objects())
    assert alive <= 64, f"{alive} of the 200 tasks named are still alive"
    # the recently named ones are still the same objects, and the base data set was loaded once
    assert tasks.get(names[-1]) is tasks.get(names[-1].replace("+", " + "))
    assert tasks.get(names[-1])._data is base is sources.load_base("digits")
    # one dropped from the cache comes back equal
    again = tasks.get(names[0])
    assert again.name == names[0] and again.num_classes == 9
    x0, y0 = again.split("test")
    x1, y1 = Task(names[0], base, range(9), tasks.get(names[0])._transforms).split("test")
    assert (x0 == x1).all() and (y0 == y1).all()
