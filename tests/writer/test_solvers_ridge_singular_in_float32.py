"""``ridge`` of float32 features that are rank-deficient (duplicated examples, a rank-one support set) with a tiny
lambda: the regulariser falls below the gram's float32 precision and the system is singular there. That raised
``torch.linalg.LinAlgError`` (about 1 random support set in 50 of the degenerate-support test's, so it failed by the
random state earlier tests left); now such a system gets the minimum-norm least-squares solution, and every system
that is not singular still gets ``torch.linalg.solve``'s solution bit for bit."""

from __future__ import annotations

import pytest
import torch

from metanet.writer import solvers as S


def _duplicates(seed: int) -> torch.Tensor:
    torch.manual_seed(seed)
    return torch.randn(1, 1, 5).expand(2, 6, 5)  # one example six times


@pytest.mark.parametrize("threads", [1, 2])
def test_a_singular_float32_ridge_gives_a_finite_least_squares_solution(threads):
    a, t = _duplicates(129), S.targets(torch.arange(6) % 3, 3)
    reg = (1e-12 * a.pow(2).sum(dim=(1, 2)) / 5 + 1e-6).view(2, 1, 1)
    gram = a.transpose(1, 2) @ a + reg * torch.eye(5)  # the system ridge solves at lambda 1e-12
    with pytest.raises(torch.linalg.LinAlgError):
        torch.linalg.solve(gram, a.transpose(1, 2) @ t)
    before = torch.get_num_threads()
    torch.set_num_threads(threads)  # one batched solve, or one system at a time
    try:
        r = S.ridge(a, t, 1e-12)
    finally:
        torch.set_num_threads(before)
    assert r.shape == (2, 5, 3) and torch.isfinite(r).all()
    want = torch.linalg.pinv(gram.double()) @ (a.transpose(1, 2) @ t).double()
    torch.testing.assert_close(a.double() @ r.double(), a.double() @ want, atol=1e-4, rtol=1e-4)


def test_a_system_that_is_not_singular_is_solved_as_torch_linalg_solve_does():
    g = torch.Generator().manual_seed(0)
    a = torch.randn(3, 40, 40, generator=g)
    a = a @ a.transpose(1, 2) + torch.eye(40)
    b = torch.randn(3, 40, 4, generator=g)
    assert torch.equal(S.solve(a, b), torch.linalg.solve(a, b))
