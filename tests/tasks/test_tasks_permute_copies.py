"""``+permute(SEED)`` tasks: a split's permuted inputs come out row-major, so they reach torch without another full
copy (``x[:, perm]`` laid them out column-major and every split copied all of them again, element by element across
rows), and they are still the documented permutation of the base inputs."""

from __future__ import annotations

import numpy as np
import pytest

from metanet import tasks
from metanet.tasks.transforms import seeded_permutation


@pytest.fixture
def copies(monkeypatch):
    """The arrays ``np.ascontiguousarray`` had to copy (those not row-major already)."""
    seen: list[tuple[int, ...]] = []
    real = np.ascontiguousarray

    def counting(a, *args, **kwargs):
        if isinstance(a, np.ndarray) and not a.flags["C_CONTIGUOUS"]:
            seen.append(a.shape)
        return real(a, *args, **kwargs)

    monkeypatch.setattr(np, "ascontiguousarray", counting)
    return seen


@pytest.mark.parametrize("name", ["digits+permute(3)", "digits[2-7]+permute(5)+invert"])
def test_a_permuted_split_is_not_copied_again_for_torch(name, copies):
    x, _ = tasks.get(name).split("train")
    assert copies == [] and x.is_contiguous()


def test_a_permuted_split_is_the_documented_permutation_of_the_base_inputs():
    base, permuted = tasks.get("digits"), tasks.get("digits+permute(3)+invert")
    perm = seeded_permutation(3, 64)
    for split in ("train", "val", "test"):
        (x0, y0), (x1, y1) = base.split(split), permuted.split(split)
        want = 1 - x0.reshape(len(x0), -1)[:, perm].reshape(x0.shape)
        assert x1.shape == x0.shape and x1.dtype == x0.dtype
        assert np.array_equal(x1.numpy(), want.numpy()) and np.array_equal(y1.numpy(), y0.numpy())
