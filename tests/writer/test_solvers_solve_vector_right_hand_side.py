"""``solve`` reads a right-hand side as ``torch.linalg.solve`` does: ``b`` of shape ``(d,)``, or ``a``'s shape
without its last dimension, is a (batch of) vector(s). Read as a matrix, a batch with a singular member returned
the wrong shape (``(1, d)`` for one system, ``(B, B, d)`` for a batch) or raised a matmul error, and two threads
raised a broadcasting error on a batch of vectors with two batch dimensions."""

from __future__ import annotations

import pytest
import torch

from writer_helpers import solve_with_threads

from metanet.writer import solvers as S


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("a_shape, b_shape", [((4, 4), (4,)), ((3, 4, 4), (3, 4)), ((3, 4, 4), (4,)),
                                              ((2, 3, 4, 4), (2, 3, 4))])
def test_vectors_are_solved_bit_for_bit_and_a_singular_one_keeps_the_shape(threads, a_shape, b_shape):
    g = torch.Generator().manual_seed(0)
    a = torch.randn(*a_shape, generator=g, dtype=torch.float64)
    b = torch.randn(*b_shape, generator=g, dtype=torch.float64)
    expected = torch.linalg.solve(a, b)
    assert torch.equal(solve_with_threads(a, b, threads), expected)  # bit for bit, the vector shape kept
    a = a.clone()
    singular = (0,) * (a.dim() - 2)  # the first system: rank one
    a[singular] = 1.0
    x = solve_with_threads(a, b, threads)
    assert x.shape == expected.shape
    bb = b.expand(*a.shape[:-1])
    torch.testing.assert_close(x[singular], torch.linalg.pinv(a[singular]) @ bb[singular])
    rest = torch.ones(a.shape[:-2], dtype=torch.bool)
    rest[singular] = False
    assert torch.equal(x[rest], torch.linalg.solve(a[rest], bb[rest]))


def test_a_matrix_right_hand_side_is_not_read_as_vectors():
    a = torch.eye(3, dtype=torch.float64).expand(3, 3, 3).clone()
    b = torch.arange(9.0, dtype=torch.float64).view(3, 3)  # (3, 3): a's shape without its last dim: vectors
    assert torch.equal(S.solve(a, b), b)
    b = torch.arange(6.0, dtype=torch.float64).view(3, 2)  # (d, K) for every system: a matrix
    assert torch.equal(S.solve(a, b), b.expand(3, 3, 2))
