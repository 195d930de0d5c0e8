"""robust_z's median and MAD are the true ones, as numpy computes them: for an even count the mean of the two middle
values (torch.median, which it used, gives the lower one)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from metanet.inspect.analyze import robust_z


def _numpy_z(a: np.ndarray) -> np.ndarray:
    med = np.median(a)
    return (a - med) / (np.median(np.abs(a - med)) * 1.4826)


@pytest.mark.parametrize("n", [6, 7, 50, 51])
@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
def test_robust_z_is_numpys_median_and_mad(n, dtype):
    x = torch.randn(n, generator=torch.Generator().manual_seed(n), dtype=torch.float64).to(dtype)
    want = _numpy_z(x.numpy())
    got = robust_z(x)
    assert got.dtype == dtype
    np.testing.assert_allclose(got.numpy(), want, rtol=1e-12 if dtype == torch.float64 else 1e-5)


def test_an_even_count_takes_the_mean_of_the_middle_two():
    x = torch.tensor([0.0, 1.0, 3.0, 10.0], dtype=torch.float64)  # median 2 (torch: 1); deviations 2, 1, 1, 8: MAD 1.5
    assert robust_z(x).tolist() == pytest.approx([-2 / (1.5 * 1.4826), -1 / (1.5 * 1.4826), 1 / (1.5 * 1.4826),
                                                  8 / (1.5 * 1.4826)], rel=1e-12)


def test_the_median_of_the_finite_values_ignores_nan_and_inf():
    x = torch.tensor([0.0, 1.0, 3.0, 10.0, math.nan, math.inf], dtype=torch.float64)
    z = robust_z(x)
    assert z[:4].tolist() == pytest.approx(_numpy_z(x[:4].numpy()).tolist(), rel=1e-12)
    assert math.isnan(z[4]) and z[5] == math.inf


def test_huge_values_do_not_overflow_the_mean_of_the_middle_two():
    x = torch.tensor([3e38, 3.2e38, 3.3e38, 3.4e38], dtype=torch.float32)  # 3.2e38 + 3.3e38 overflows float32
    z = robust_z(x)
    assert torch.isfinite(z).all() and z[1] < 0 < z[2]
