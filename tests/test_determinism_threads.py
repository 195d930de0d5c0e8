"""Determinism within one process as the thread count changes: results depend on torch's thread count at the
time of the call only (not on the counts used before, nor on ``OMP_NUM_THREADS`` once ``torch.set_num_threads`` is
called); and loading a reader leaves the caller's random stream where it was (its docstring's promise, which
``tests/test_determinism.py`` does not check).

Measured across fresh processes (``OMP_NUM_THREADS=1`` vs ``2``): ``generate("digits", seed=0)`` differs by up to
3.5e-6 per weight (mnist1d 2.9e-5), the same test accuracy; ``improve`` 1 round 6.7e-8; a 3-step reader fit 9.7e-7,
a 3-step writer fit 9.8e-4; ``read`` and ``refine`` are bit-identical; ``zoo build`` is (it runs ``--threads``,
default 1, whatever the process's count).
"""

from __future__ import annotations

import pytest
import torch

import metanet


def _generate() -> list[torch.Tensor]:
    g = metanet.generate("digits", seed=0, candidates=2, shots=10)
    return [t.clone() for t in g.model.state_dict().values()] + [torch.tensor(g.report.test.accuracy)]


@pytest.mark.slow  # the call at 2 threads waits for its OpenMP threads on a loaded 2-core machine (1-5 s)
def test_results_at_one_thread_are_the_same_after_a_call_at_two():
    # the writer's solver takes another path at more than one thread (metanet.writer.solvers.solve), and MKL and
    # oneDNN keep per-process state: a call at 2 threads must not change what a later call at 1 thread computes
    old = torch.get_num_threads()
    try:
        torch.set_num_threads(1)
        first = _generate()
        torch.set_num_threads(2)
        _generate()
        torch.set_num_threads(1)
        again = _generate()
    finally:
        torch.set_num_threads(old)
    assert all(torch.equal(a, b) for a, b in zip(first, again))


def test_loading_a_reader_leaves_the_callers_random_stream(tmp_path, monkeypatch):
    import metanet.checkpoints
    from metanet.reader import Reader

    monkeypatch.setattr(metanet.checkpoints, "_SHIPPED", {})  # as the first load of a process
    small = tmp_path / "reader.safetensors"
    with torch.random.fork_rng(devices=[]):
        Reader(tasks=["digits"], hidden=8, layers=1, probes=2).save(small)
    for path in (None, small):
        torch.manual_seed(0)
        before = torch.random.get_rng_state()
        Reader.load(path)
        assert torch.equal(torch.random.get_rng_state(), before), path
