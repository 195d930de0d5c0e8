"""Tasks from labelled examples: the happy path, the split policy, and every rejected input (huge unsigned labels
reported as they are)."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
import torch

from metanet import tasks
from metanet.errors import TaskError


def data(n_per_class=(30, 30, 40), shape=(1, 4, 4), seed=0):
    g = torch.Generator().manual_seed(seed)
    y = torch.cat([torch.full((n,), c) for c, n in enumerate(n_per_class)])
    y = y[torch.randperm(len(y), generator=g)]
    x = torch.rand(len(y), *shape, generator=g)
    return x, y


def test_happy_path_stratified_partition():
    x, y = data()
    t = tasks.from_examples(x, y)
    assert t.input_shape == (1, 4, 4) and t.num_classes == 3 and t.class_names == ["0", "1", "2"]
    assert t.source == "examples" and "100 labelled examples" in t.description
    assert t.name.startswith("examples-") and t.name == tasks.from_examples(x, y).name
    assert t.sizes() == {"train": 60, "val": 20, "test": 20}
    seen = []
    for split in tasks.SPLITS:
        xs, ys = t.split(split)
        assert xs.dtype == torch.float32 and ys.dtype == torch.int64
        assert set(ys.tolist()) == {0, 1, 2}  # every class in every split
        seen += [(tuple(r.flatten().tolist()), int(l)) for r, l in zip(xs, ys)]
    original = [(tuple(r.flatten().tolist()), int(l)) for r, l in zip(x, y)]
    assert sorted(seen) == sorted(original)  # an exact partition, labels kept
    counts = torch.bincount(t.split("test")[1]).tolist()
    assert counts == [6, 6, 8]  # round(n_c * 0.2) per class


def test_seed_changes_the_split_and_fixes_it():
    x, y = data()
    a = tasks.from_examples(x, y, seed=0).split("test")[0]
    assert torch.equal(a, tasks.from_examples(x, y, seed=0).split("test")[0])
    assert not torch.equal(a, tasks.from_examples(x, y, seed=1).split("test")[0])


def test_numpy_uint8_inputs_and_class_names():
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, size=(40, 28, 28), dtype=np.uint8)
    y = np.repeat([0, 1], 20)
    t = tasks.from_examples(x, y, name="mine", class_names=["cat", "dog"])
    assert t.name == "mine" and t.class_names == ["cat", "dog"] and t.input_shape == (28, 28)
    xs = torch.cat([t.split(s)[0] for s in tasks.SPLITS])
    assert float(xs.max()) <= 1.0 and torch.allclose(torch.sort(xs.flatten())[0],
                                                     torch.sort(torch.from_numpy(x / 255).float().flatten())[0])


def test_tiny_classes_go_to_train_and_zero_fractions_mean_no_split():
    x, y = data((2, 1, 5))
    t = tasks.from_examples(x, y)
    assert t.sizes() == {"train": 6, "val": 1, "test": 1}  # only class 2 has >= 3 examples
    assert set(t.split("train")[1].tolist()) == {0, 1, 2}
    t0 = tasks.from_examples(x, y, val_fraction=0.0, test_fraction=0.0)
    assert t0.sizes() == {"train": 8, "val": 0, "test": 0}
    assert t0.split("val")[0].shape == (0, 1, 4, 4)


def test_small_fractions_still_give_each_class_one_val_and_test_example():
    x, y = data((4, 4))
    t = tasks.from_examples(x, y, val_fraction=0.1, test_fraction=0.1)  # round(0.4) would be 0
    assert t.sizes() == {"train": 4, "val": 2, "test": 2}
    assert sorted(t.split("val")[1].tolist()) == [0, 1] == sorted(t.split("test")[1].tolist())


def test_the_task_does_not_share_memory_with_the_inputs():
    x, y = data()
    t = tasks.from_examples(x, y, val_fraction=0.0, test_fraction=0.0)
    before = t.split("train")[0].clone()
    x.fill_(0.0)
    y.fill_(0)
    assert torch.equal(t.split("train")[0], before)


def test_example_tasks_pickle_with_their_data():
    x, y = data()
    t = tasks.from_examples(x, y)
    t2 = pickle.loads(pickle.dumps(t))
    assert t2.name == t.name and torch.equal(t2.split("val")[0], t.split("val")[0])


@pytest.mark.parametrize(
    "x, y, kwargs, problem",
    [
        (torch.rand(0, 4), torch.zeros(0, dtype=torch.long), {}, "x is empty"),
        (torch.rand(10, 4), torch.zeros(10, dtype=torch.long), {}, "single class"),
        (torch.rand(10, 4), torch.arange(9) % 2, {}, "10 examples but y has 9 labels"),
        (torch.full((4, 2), float("nan")), torch.tensor([0, 1, 0, 1]), {}, "NaN or infinite"),
        (torch.full((4, 2), float("inf")), torch.tensor([0, 1, 0, 1]), {}, "NaN or infinite"),
        (torch.rand(4, 2) * 255, torch.tensor([0, 1, 0, 1]), {}, r"must lie in \[0, 1\]"),
        (torch.rand(4, 2) - 1.5, torch.tensor([0, 1, 0, 1]), {}, r"must lie in \[0, 1\]"),  # all < 0, whatever the RNG
        (torch.rand(4), torch.tensor([0, 1, 0, 1]), {}, "at least 2 dimensions"),
        (torch.randint(0, 255, (4, 2)), torch.tensor([0, 1, 0, 1]), {}, "dtype torch.int64|dtype int64"),
        (torch.rand(4, 2), torch.tensor([0.0, 1.0, 0.0, 1.0]), {}, "integer class ids"),
        (torch.rand(4, 2), torch.tensor([0, -1, 0, 1]), {}, "negative label"),
        (torch.rand(4, 2), torch.tensor([0, 2, 0, 2]), {}, r"classes \[1\]"),
        (torch.rand(4, 2), torch.tensor([[0, 1, 0, 1]]), {}, "1-D array"),
        (torch.rand(4, 2), torch.tensor([0, 1, 0, 1]), {"val_fraction": 0.6, "test_fraction": 0.5}, "sum to less than 1"),
        (torch.rand(4, 2), torch.tensor([0, 1, 0, 1]), {"class_names": ["a"]}, "class_names has 1"),
        (torch.rand(4, 2), torch.tensor([0, 1, 0, 1]), {"name": "mnist[3,8]"}, "built-in task name"),
        (torch.rand(4, 2), torch.tensor([0, 1, 0, 1]), {"name": "  "}, "non-empty string"),
    ],
)
def test_rejected_inputs_name_the_problem(x, y, kwargs, problem):
    with pytest.raises(TaskError, match=problem):
        tasks.from_examples(x, y, **kwargs)


def test_bfloat16_inputs_are_accepted_like_other_floats():
    # numpy has no bfloat16: converting such a tensor used to fail with a raw TypeError
    x, y = data()
    xb = x.bfloat16()
    t = tasks.from_examples(xb, y)
    assert t.split("train")[0].dtype == torch.float32
    ref = tasks.from_examples(xb.float(), y)
    assert t.name == ref.name and torch.equal(t.split("test")[0], ref.split("test")[0])


def test_huge_unsigned_labels_are_not_reported_as_negative():
    import numpy as np

    x = np.random.default_rng(0).random((4, 2))
    y = np.array([0, 1, 0, 2**63 + 5], dtype=np.uint64)  # wrapped to -9223372036854775803 by the int64 cast
    with pytest.raises(TaskError, match=f"largest label is {2**63 + 5} for only 4 examples"):
        tasks.from_examples(x, y)
    assert tasks.from_examples(x, np.array([0, 1, 0, 1], dtype=np.uint64)).num_classes == 2
