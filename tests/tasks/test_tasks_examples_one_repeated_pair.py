"""One input given twice, and nothing else repeated, is still grouped: both copies land in one split of
tasks.from_examples (the smallest repeat, one row fewer distinct inputs than rows, is still a repeat)."""

import numpy as np
import pytest

import metanet.tasks.examples as E
from metanet.tasks import from_examples


def _inputs_with_one_pair(n: int = 40) -> tuple[np.ndarray, np.ndarray]:
    x = np.random.default_rng(3).random((n, 4), dtype=np.float32)
    x[7] = x[2]  # the only repeat: rows 2 and 7, both of class 2
    return x, np.arange(n) % 5


def test_repeats_finds_a_single_pair():
    x, _ = _inputs_with_one_pair()
    gid = E._repeats(x)
    assert gid is not None
    assert gid[7] == 2 and (np.delete(gid, 7) == np.delete(np.arange(len(x)), 7)).all()


@pytest.mark.parametrize("seed", range(8))
def test_a_single_repeated_input_goes_to_one_split(seed):
    x, y = _inputs_with_one_pair()
    task = from_examples(x, y, seed=seed)
    key = x[2].tobytes()
    where = [s for s in ("train", "val", "test") for r in task.split(s)[0].numpy() if r.tobytes() == key]
    assert len(where) == 2 and where[0] == where[1], where
