"""metanet's public API from several threads, and the caller's torch globals after a call that failed.

torch's default dtype and global RNG belong to the process: metanet's sections that change them hold one lock
(``metanet._state._LOCK``). The races are forced deterministically: a thread pauses inside a section on an Event
until the other thread is inside too or waits at the lock (an instrumented lock says so); no sleeps, no timing.
"""

from __future__ import annotations

import threading

import pytest
import torch

import metanet
from metanet import _state
from metanet.errors import MetanetError, TaskError

WAIT = 120  # seconds: only so that a broken lock fails the test instead of hanging it; never reached when it works


def _state_now() -> tuple:
    return (torch.get_default_dtype(), torch.is_grad_enabled(), torch.get_num_threads(),
            torch.are_deterministic_algorithms_enabled(), torch.random.get_rng_state())


def _same_state(a: tuple, b: tuple) -> bool:
    return a[:4] == b[:4] and torch.equal(a[4], b[4])


class _SignallingLock:
    """metanet's re-entrant lock that sets ``waiting`` when the thread named ``who`` asks for it: the other thread
    then knows ``who`` is at the lock (blocked on the fixed code) and may go on."""

    def __init__(self, who: str, waiting: threading.Event):
        self._lock, self._who, self._waiting = threading.RLock(), who, waiting

    def __enter__(self):
        if threading.current_thread().name == self._who:
            self._waiting.set()
        return self._lock.__enter__()

    def __exit__(self, *exc):
        return self._lock.__exit__(*exc)


def _run(target, name: str, errors: list) -> threading.Thread:
    def body():
        try:
            target()
        except BaseException as e:  # reported by the test, not lost in the thread
            errors.append(e)

    t = threading.Thread(target=body, name=name, daemon=True)
    t.start()
    return t


@pytest.fixture
def float64_caller():
    """The caller's default dtype is float64 (process-wide) for the test; float32 again after it."""
    torch.set_default_dtype(torch.float64)
    yield
    torch.set_default_dtype(torch.float32)


def test_two_threads_default_dtype_save_and_restore_do_not_interleave(float64_caller, monkeypatch):
    # A enters (float64 saved, float32 set) and waits until B is inside or at the lock; B then waits until A has
    # left. Unlocked, B saved A's float32, computed under the float64 A gave back, and left float32 for good.
    b_at, a_out = threading.Event(), threading.Event()
    monkeypatch.setattr(_state, "_LOCK", _SignallingLock("B", b_at), raising=False)
    seen: dict[str, torch.dtype] = {}
    errors: list = []

    def a():
        with _state.metanet_defaults():
            assert b_at.wait(WAIT)
            seen["A"] = torch.get_default_dtype()
        a_out.set()

    def b():
        assert threading.current_thread().name == "B"
        with _state.metanet_defaults():
            b_at.set()
            assert a_out.wait(WAIT)
            seen["B"] = torch.get_default_dtype()

    ta = _run(a, "A", errors)
    tb = _run(b, "B", errors)
    ta.join(WAIT), tb.join(WAIT)
    assert not errors and not ta.is_alive() and not tb.is_alive()
    assert seen == {"A": torch.float32, "B": torch.float32}  # B computed under metanet's float32
    assert torch.get_default_dtype() == torch.float64  # the caller's default, not B's stale float32


def test_two_threads_building_seeded_networks_do_not_draw_each_others_streams(monkeypatch):
    # A seeds 0 and waits until B has seeded 1 (or waits at the lock); B then waits until A has built. Unlocked,
    # A's network was drawn from seed 1's stream and the global RNG given back was B's saved state.
    want = {s: metanet.nets.build("mlp:8-4-3:relu", seed=s).state_dict() for s in (0, 1)}
    before = torch.random.get_rng_state()
    b_at, a_out = threading.Event(), threading.Event()
    monkeypatch.setattr(_state, "_LOCK", _SignallingLock("B", b_at), raising=False)
    seed = torch.manual_seed

    def paused_seed(n):
        out = seed(n)
        name = threading.current_thread().name
        if name == "A":
            assert b_at.wait(WAIT)
        elif name == "B":
            b_at.set()
            assert a_out.wait(WAIT)
        return out

    monkeypatch.setattr(torch, "manual_seed", paused_seed)
    got: dict[int, dict] = {}
    errors: list = []

    def a():
        got[0] = metanet.nets.build("mlp:8-4-3:relu", seed=0).state_dict()
        a_out.set()

    def b():
        got[1] = metanet.nets.build("mlp:8-4-3:relu", seed=1).state_dict()

    ta = _run(a, "A", errors)
    tb = _run(b, "B", errors)
    ta.join(WAIT), tb.join(WAIT)
    assert not errors and not ta.is_alive() and not tb.is_alive()
    for s in (0, 1):
        assert all(torch.equal(got[s][k], want[s][k]) for k in want[s]), f"seed {s}"
    assert torch.equal(torch.random.get_rng_state(), before)


def test_concurrent_generate_and_read_match_single_threaded_results(float64_caller):
    torch.set_default_dtype(torch.float32)
    ref = metanet.generate("digits", seed=0)
    ref_read = metanet.read(ref.model)
    torch.set_default_dtype(torch.float64)  # the program's own threads use float64 meanwhile
    torch.manual_seed(123)
    before = _state_now()
    results: dict[str, object] = {}
    errors: list = []
    start = threading.Barrier(3)

    def gen(i):
        def body():
            start.wait(WAIT)
            results[f"g{i}"] = metanet.generate("digits", seed=0)
        return body

    def rd():
        start.wait(WAIT)
        results["r"] = metanet.read(ref.model)

    threads = [_run(gen(0), "g0", errors), _run(gen(1), "g1", errors), _run(rd, "r", errors)]
    for t in threads:
        t.join(WAIT)
    assert not errors and not any(t.is_alive() for t in threads)
    want = ref.model.state_dict()
    for i in (0, 1):
        g = results[f"g{i}"]
        assert g.report.test.accuracy == ref.report.test.accuracy
        assert all(torch.equal(g.model.state_dict()[k], want[k]) for k in want)
        assert g.model.layers[0].weight.dtype == torch.float32
    assert results["r"] == ref_read
    assert _same_state(_state_now(), before)


class _Interrupt(BaseException):
    """Stands for a KeyboardInterrupt (a real one would also reach pytest's handler)."""


@pytest.mark.parametrize("exc", [_Interrupt, KeyboardInterrupt])
def test_an_interrupted_generate_leaves_the_callers_globals_and_the_lock(exc, float64_caller, monkeypatch):
    import importlib

    gen_mod = importlib.import_module("metanet.writer.generate")  # the module (the package's attribute: the function)

    def interrupted(*args, **kwargs):
        torch.rand(3)  # metanet drew from the global RNG and switched its globals before the interrupt
        torch.manual_seed(7)
        raise exc()

    monkeypatch.setattr(gen_mod, "_generate", interrupted)
    torch.manual_seed(5)
    with torch.no_grad():
        before = _state_now()
        with pytest.raises(exc):
            metanet.generate("digits", seed=0)
        assert _same_state(_state_now(), before)
    assert _lock_free()


def test_failing_calls_leave_the_callers_globals_and_the_lock(float64_caller):
    small, digits = torch.nn.Linear(3, 2).float(), torch.nn.Linear(64, 10).float()  # their init draws come first
    torch.manual_seed(5)
    before = _state_now()
    with pytest.raises(TaskError):
        metanet.generate("no such task at all", seed=0)
    with pytest.raises(MetanetError):
        metanet.generate("digits", arch="mlp:1-1:relu", seed=0)
    with pytest.raises(MetanetError):
        metanet.read(small, scan="yes")
    with pytest.raises(MetanetError):
        metanet.refine(digits, "digits", steps=-1)
    assert _same_state(_state_now(), before)
    assert _lock_free()


def _lock_free() -> bool:
    """No thread holds metanet's lock (another thread can take it at once)."""
    got = []
    t = threading.Thread(target=lambda: got.append(_state._LOCK.acquire(blocking=False)) or (
        got[0] and _state._LOCK.release()))
    t.start()
    t.join(WAIT)
    return got == [True]


def test_loading_a_shipped_checkpoint_and_a_read_in_another_thread_do_not_deadlock(monkeypatch):
    # A loads a shipped checkpoint by hand (load_shipped is public), its loader taking metanet's lock as Reader.load
    # does; B is inside read() (holding that lock) and asks load_shipped for the same kind. load_shipped's own
    # per-kind lock, taken before metanet's, was the reverse lock order: A held it waiting for metanet's lock, B
    # held metanet's waiting for it, both for ever. A waits in its loader until B is at (or inside) the lock.
    import metanet.checkpoints as checkpoints

    b_at, a_in = threading.Event(), threading.Event()
    monkeypatch.setattr(_state, "_LOCK", _SignallingLock("B", b_at), raising=False)
    monkeypatch.setattr(checkpoints, "_SHIPPED", {})  # the stand-in module below is not cached for later tests
    loaded = torch.nn.Identity()
    got: dict[str, object] = {}
    errors: list = []

    def loader():
        a_in.set()
        assert b_at.wait(WAIT)
        with _state.metanet_defaults():  # as Reader.load's forked_rng
            return loaded

    def a():
        got["A"] = checkpoints.load_shipped("reader", loader)

    def b():
        assert a_in.wait(WAIT)
        with _state.metanet_defaults():  # as read(), which calls load_shipped under its decorator
            got["B"] = checkpoints.load_shipped("reader", loader)

    ta = _run(a, "A", errors)
    tb = _run(b, "B", errors)
    ta.join(WAIT), tb.join(WAIT)
    assert not ta.is_alive() and not tb.is_alive(), "deadlock"
    assert not errors
    assert got == {"A": loaded, "B": loaded}  # loaded once, B served the cached module


def _fork_child_takes_the_lock() -> None:
    import os

    # exit code 0: the child can take metanet's lock (and give it back), as its first metanet call would
    ok = _state._LOCK.acquire(blocking=False)
    if ok:
        _state._LOCK.release()
    os._exit(0 if ok else 1)


def test_a_process_forked_while_another_thread_is_in_a_metanet_call_can_call_metanet():
    # a DataLoader worker (or any fork) started while another thread of the parent was inside generate(): the lock
    # was copied held by a thread that does not exist in the child, whose first metanet call then waited for ever
    import multiprocessing

    ctx = multiprocessing.get_context("fork")
    inside, leave = threading.Event(), threading.Event()
    errors: list = []

    def holder():
        with _state.metanet_defaults():
            inside.set()
            assert leave.wait(WAIT)

    t = _run(holder, "holder", errors)
    try:
        assert inside.wait(WAIT)
        p = ctx.Process(target=_fork_child_takes_the_lock)
        p.start()
        p.join(WAIT)
        assert p.exitcode == 0
    finally:
        leave.set()
        t.join(WAIT)
    assert not errors
    # the forking thread's own hold is kept in its child: it leaves its `with` there as here
    with _state.metanet_defaults():
        p = ctx.Process(target=_fork_child_releases_its_hold)
        p.start()
        p.join(WAIT)
    assert p.exitcode == 0


def _fork_child_releases_its_hold() -> None:
    import os

    try:
        _state._LOCK.release()  # the hold of the `with` the parent forked in
        code = 0 if _state._LOCK.acquire(blocking=False) else 1
    except RuntimeError:  # the lock was reset under the held `with`: 'cannot release un-acquired lock'
        code = 2
    os._exit(code)
