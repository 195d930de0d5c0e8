"""Edge cases of the writer's closed-form solvers (metanet.writer.solvers): float64, empty batches and rows, huge
lambdas, degenerate support sets, any thread count."""

from __future__ import annotations

import pytest
import torch

from metanet.errors import ConfigError
from metanet.writer import solvers as S
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


@pytest.fixture
def two_threads():
    n = torch.get_num_threads()
    torch.set_num_threads(2)
    yield
    torch.set_num_threads(n)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_ridge_on_no_rows_is_the_zero_solution(two_threads, dtype):
    # torch's batched solve is bypassed above one thread; its 0 x 0 systems failed to reshape
    out = S.ridge(torch.randn(2, 0, 5, dtype=dtype), torch.zeros(0, 3), 1.0)
    assert out.shape == (2, 5, 3) and out.dtype == dtype and not out.any()
    lams = torch.tensor([0.1, 1.0], dtype=dtype)
    assert not S.loo_ridge(torch.randn(2, 0, 5, dtype=dtype), torch.zeros(0, 3), lams).any()


@pytest.mark.parametrize("lam", [1e39, float("inf")])
def test_a_huge_lambda_gives_the_near_zero_ridge_solution(lam):
    a = torch.randn(2, 6, 4)
    y = S.targets(torch.arange(6) % 3, 3)
    out = S.ridge(a, y, lam)  # float32: the regulariser overflowed to inf and the solution was NaN
    assert torch.isfinite(out).all() and out.abs().max() < 1e-30
    assert torch.isfinite(S.ridge(a.double(), y, lam)).all()


def test_logistic_with_a_huge_lambda_keeps_its_start_in_float32():
    # documented: "with a large lambda the solution stays the ridge one"; in float32 it became NaN
    a = torch.randn(2, 9, 4)
    y = torch.arange(9) % 3
    w0 = S.ridge(a, S.targets(y, 3), 1.0)
    out = S.logistic(a, y, 3, w0, 1e300)
    assert torch.isfinite(out).all() and torch.allclose(out, w0, atol=1e-6)


def test_loo_ridge_needs_a_lambda_grid_and_subclasses_a_cluster():
    a, y = torch.randn(1, 6, 4), torch.arange(6) % 3
    with pytest.raises(ConfigError, match="at least one lambda"):
        S.loo_ridge(a, S.targets(y, 3), torch.tensor([]))
    with pytest.raises(ConfigError, match="per_class must be a whole number >= 1"):
        S.subclasses(a, y, 3, 0, torch.rand(1, 6))


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_solvers_stay_finite_on_degenerate_support_sets(dtype):
    k = 3
    lams = torch.tensor([0.01, 0.1, 1.0], dtype=dtype)
    cases = {
        "one per class": (torch.randn(2, k, 5, dtype=dtype), torch.arange(k)),
        "duplicates": (torch.randn(1, 1, 5, dtype=dtype).expand(2, 6, 5), torch.arange(6) % k),
        "constant": (torch.ones(2, 6, 5, dtype=dtype), torch.arange(6) % k),
        "zeros": (torch.zeros(2, 6, 5, dtype=dtype), torch.arange(6) % k),
        "rank one": (torch.randn(2, 6, 1, dtype=dtype) @ torch.randn(2, 1, 5, dtype=dtype), torch.arange(6) % k),
    }
    for name, (a, y) in cases.items():
        t = S.targets(y, k)
        for out in (S.ridge(a, t, 1e-12), S.ridge(a, t, 1.0), S.loo_ridge(a, t, lams), S.support_stats(a, y, k, 1.0).ridge,
                    S.logistic(a, y, k, S.ridge(a, t, 1.0), 1.0)):
            assert out.dtype == dtype and torch.isfinite(out).all(), name
        labels = S.subclasses(a, y, k, 2, torch.rand(2, a.shape[1]))
        assert ((labels // 2) == y).all(), name
