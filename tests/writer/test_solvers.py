"""Edge cases of the writer's closed-form solvers (metanet.writer.solvers)."""

from __future__ import annotations

import torch

from metanet.writer.solvers import loo_ridge, ridge, solve, subclasses, support_stats, targets


def test_ridge_and_support_stats_accept_float64_inputs():
    # float64 features with the (float32) centred one-hot targets used to fail: "expected scalar type Double"
    g = torch.Generator().manual_seed(0)
    a = torch.randn(2, 12, 5, generator=g, dtype=torch.float64)
    y = torch.arange(12) % 3
    r = ridge(a, targets(y, 3), 0.5)
    assert r.dtype == torch.float64 and r.shape == (2, 5, 3)
    torch.testing.assert_close(r.float(), ridge(a.float(), targets(y, 3), 0.5), rtol=1e-4, atol=1e-5)
    assert support_stats(a, y, 3, 0.5).ridge.dtype == torch.float64
    out = loo_ridge(a, targets(y, 3), torch.tensor([0.1, 1.0]))
    assert out.dtype == torch.float64 and out.shape == (2, 5, 3)


def test_solve_broadcasts_and_handles_empty_batches_at_any_thread_count():
    g = torch.Generator().manual_seed(0)
    a = torch.randn(1, 4, 4, generator=g, dtype=torch.float64) + 4 * torch.eye(4, dtype=torch.float64)
    b = torch.randn(3, 4, 2, generator=g, dtype=torch.float64)
    threads = torch.get_num_threads()
    try:
        for n in (1, 2):
            torch.set_num_threads(n)
            out = solve(a, b)  # one matrix for three right-hand sides: torch.linalg.solve broadcasts
            assert out.shape == (3, 4, 2), n  # the per-matrix loop used to zip them to one system, silently
            torch.testing.assert_close(a @ out, b)
            assert solve(torch.zeros(0, 3, 3), torch.zeros(0, 3, 2)).shape == (0, 3, 2)  # was a torch.stack error
    finally:
        torch.set_num_threads(threads)


def test_subclasses_skips_a_class_without_examples():
    # a label range wider than the labels present used to raise "argmin(): Expected reduction dim 2 ..."
    a = torch.randn(1, 4, 3, generator=torch.Generator().manual_seed(0))
    y = torch.tensor([0, 0, 2, 2])
    labels = subclasses(a, y, 3, 2, torch.rand(2, 4, generator=torch.Generator().manual_seed(1)))
    assert labels.shape == (2, 4)
    assert bool(((labels[:, :2] >= 0) & (labels[:, :2] < 2)).all())
    assert bool(((labels[:, 2:] >= 4) & (labels[:, 2:] < 6)).all())
