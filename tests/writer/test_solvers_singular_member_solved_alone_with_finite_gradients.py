"""A batch of systems of which only some are singular: each member takes its own route (``torch.linalg.solve`` or
the minimum-norm ``pinv`` solution) and only that route's graph. With both routes run on every member and one
picked by ``torch.where``, the singular member's LU stayed in the graph: its zero pivot made every gradient of that
member NaN, even of a loss that does not read it (the writer trains through ``ridge``), and a non-finite member beside
a singular one raised pinv's SVD error where ``torch.linalg.solve`` gives NaN."""

from __future__ import annotations

import pytest
import torch

from writer_helpers import solve_with_threads

from metanet.writer import solvers as S


def _batch(dtype: torch.dtype) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(0)
    a = torch.randn(3, 4, 4, generator=g, dtype=dtype)
    a = a @ a.transpose(1, 2) + torch.eye(4, dtype=dtype)
    a[1] = 1.0  # rank one: singular in any dtype
    return a, torch.randn(3, 4, 2, generator=g, dtype=dtype)


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_each_member_is_solved_by_its_own_route_with_finite_gradients(threads, dtype):
    a, b = _batch(dtype)
    a.requires_grad_()
    b.requires_grad_()
    x = solve_with_threads(a, b, threads)
    ok = [0, 2]
    assert torch.equal(x[ok], torch.linalg.solve(a[ok], b[ok]))  # bit for bit as before
    torch.testing.assert_close(x[1], torch.linalg.pinv(a[1]) @ b[1])
    x[0].sum().backward()  # a loss of the non-singular member only
    assert torch.isfinite(a.grad).all() and torch.isfinite(b.grad).all()
    assert not a.grad[1:].any() and not b.grad[1:].any()
    a0, b0 = a.detach()[:1].clone().requires_grad_(), b.detach()[:1].clone().requires_grad_()
    torch.linalg.solve(a0, b0).sum().backward()
    assert torch.equal(a.grad[:1], a0.grad) and torch.equal(b.grad[:1], b0.grad)
    a.grad = b.grad = None
    x = solve_with_threads(a, b, threads)
    x[1].sum().backward()  # the singular member's: pinv's gradient, finite
    assert torch.isfinite(a.grad).all() and torch.isfinite(b.grad).all() and a.grad[1].any()


@pytest.mark.parametrize("threads", [1, 2])
def test_a_nan_member_beside_a_singular_one_is_nan_as_torch_linalg_solve_gives(threads):
    a, b = _batch(torch.float64)
    a[0, 0, 0] = float("nan")
    x = solve_with_threads(a, b, threads)
    assert torch.isnan(x[0]).all()
    assert torch.isfinite(x[1:]).all()
    torch.testing.assert_close(x[1], torch.linalg.pinv(a[1]) @ b[1])


def test_a_zero_matrix_gives_the_zero_solution():
    assert torch.equal(S.solve(torch.zeros(2, 3, 3), torch.ones(2, 3, 1)), torch.zeros(2, 3, 1))
