"""The cnn family's ``arch.kernel`` and ``arch.stride``: integers >= 1, refused at load otherwise (a 0 was only an
ArchError once runs were sampled, a ``uniform`` range silently truncated), and each run's network has the kernel
and the stride it drew (stored in its arch alone: ``hparams`` has neither). Sampling only: nothing is loaded."""

from __future__ import annotations

import pytest

from metanet.errors import RecipeError
from metanet.zoo import load_recipe


def _recipe(**arch) -> dict:
    return {"name": "t", "count": 40, "tasks": ["digits"], "arch": {"family": "cnn", "depth": 1, "width": 4, **arch}}


@pytest.mark.parametrize("key", ["kernel", "stride"])
@pytest.mark.parametrize("value", [0, [1, 0], {"int": [0, 2]}, -1])
def test_a_kernel_or_stride_below_one_is_refused_at_load(key, value):
    with pytest.raises(RecipeError, match=rf"'arch\.{key}': value .* is invalid; valid: integers >= 1"):
        load_recipe(_recipe(**{key: value}), check_tasks=False)


@pytest.mark.parametrize("key", ["batch_size", "epochs", "depth", "width", "kernel", "stride"])
@pytest.mark.parametrize("kind", ["uniform", "log_uniform"])
def test_an_integer_key_refuses_a_continuous_range(key, kind):
    sect = "train" if key in ("batch_size", "epochs") else "arch"
    d = _recipe()
    d.setdefault(sect, {})[key] = {kind: [1, 3]}
    with pytest.raises(RecipeError, match=rf"'{sect}\.{key}' takes integers: use a list or \{{int: \[lo, hi\]\}}"):
        load_recipe(d, check_tasks=False)


def test_each_cnn_run_has_the_kernel_and_stride_it_drew():
    recipe = load_recipe(_recipe(kernel=[3, 5], stride={"int": [1, 2]}), check_tasks=False)
    runs = recipe.runs(task_info=lambda task: ((1, 8, 8), 10, 1077))
    drawn = {(r.arch.kernel, r.arch.stride) for r in runs}
    assert drawn == {(3, 1), (3, 2), (5, 1), (5, 2)}, drawn  # independent draws, every pair met
    assert load_recipe(_recipe(), check_tasks=False).sample_run(0, lambda t: ((1, 8, 8), 10, 1077)).arch.stride == 2
