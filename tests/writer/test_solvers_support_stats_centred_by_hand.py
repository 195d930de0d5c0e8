"""support_stats on a 3-example support computed by hand: the spread, the ridge directions and the class means are
those of the features minus their support mean (the writer passes raw layer inputs: nothing centres them before)."""

from __future__ import annotations

import math

import torch

from metanet.writer.solvers import support_stats


def test_support_stats_of_three_examples_are_centred():
    # rows (1, 0), (3, 2), (2, 4), one per class: mean (2, 2), centred rows (-1, -2), (1, 0), (0, 2)
    a = torch.tensor([[[1.0, 0.0], [3.0, 2.0], [2.0, 4.0]]], dtype=torch.float64)
    y = torch.tensor([0, 1, 2])
    st = support_stats(a, y, 3, 0.0)
    assert torch.equal(st.mean, torch.tensor([[2.0, 2.0]], dtype=torch.float64))
    # std: sqrt of the mean squared centred value, (1 + 1 + 0) / 3 and (4 + 0 + 4) / 3 (uncentred: 14/3 and 20/3)
    torch.testing.assert_close(st.std, torch.tensor([[math.sqrt(2 / 3), math.sqrt(8 / 3)]], dtype=torch.float64))
    # one example per class: the class means are the centred rows; each class's column (over the features) unit norm:
    # (-1, -2) / sqrt 5, (1, 0), (0, 1)
    r5 = 1 / math.sqrt(5)
    torch.testing.assert_close(st.means, torch.tensor([[[-r5, 1.0, 0.0], [-2 * r5, 0.0, 1.0]]], dtype=torch.float64))
    # centred A has A^T 1 = 0, so A^T Y = A^T (I - 1/3) = A^T and R = (A^T A)^-1 A^T with A^T A = [[2, 2], [2, 8]]:
    # rows (-1/3, 2/3, -1/3) and (-1/6, -1/6, 1/3); columns unit norm: (-2, -1) / sqrt 5, (4, -1) / sqrt 17,
    # (-1, 1) / sqrt 2 (lambda 0 leaves only the 1e-6 ridge)
    r17, r2 = 1 / math.sqrt(17), 1 / math.sqrt(2)
    want = torch.tensor([[[-2 * r5, 4 * r17, -r2], [-r5, -r17, r2]]], dtype=torch.float64)
    torch.testing.assert_close(st.ridge, want, atol=1e-5, rtol=0)


def test_support_stats_do_not_depend_on_a_shift_of_the_features():
    # centred statistics: adding a constant to every example leaves std, ridge and class means as they were
    g = torch.Generator().manual_seed(0)
    a = torch.randn(2, 9, 4, generator=g, dtype=torch.float64)
    y = torch.arange(9) % 3
    base = support_stats(a, y, 3, 0.5)
    shift = torch.tensor([5.0, -3.0, 0.5, 10.0], dtype=torch.float64)
    moved = support_stats(a + shift, y, 3, 0.5)
    torch.testing.assert_close(moved.mean, base.mean + shift)
    for name in ("std", "ridge", "means"):
        torch.testing.assert_close(getattr(moved, name), getattr(base, name), msg=name)
