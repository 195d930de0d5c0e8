"""Tasks from labelled examples: the happy path, the split policy, and every rejected input (huge unsigned labels
reported as they are). Float inputs on a 0..255 scale from a task of one's own (anything with ``split`` and
``num_classes``) or given as ``data`` to verify are warned about (they were used as they are, without a word, and a
network made for [0, 1] inputs collapsed); float 0..255 examples stay an error."""

from __future__ import annotations

import pickle
import warnings

import numpy as np
import pytest
import torch

import metanet
from metanet import tasks
from metanet.errors import TaskError
from metanet.tasks.resolve import as_examples
from metanet.verify import verify_stacked


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


class OwnTask:
    """A task of one's own: anything with ``split`` and ``num_classes``, giving its splits as they are."""

    def __init__(self, task, scale=1.0, dtype=None):
        self.task, self.scale, self.dtype = task, scale, dtype
        self.num_classes, self.name = task.num_classes, f"own-{task.name}"

    def split(self, name):
        x, y = self.task.split(name)
        x = x * self.scale
        return (x.round().to(self.dtype) if self.dtype is not None else x), y


def test_verify_on_a_task_of_ones_own_with_float_0_255_inputs_warns(digits_net):
    with pytest.warns(UserWarning, match=r"split 'test' of task 'own-digits': float inputs span \[0, 255\], but task "
                      r"inputs are scaled to \[0, 1\]") as record:
        report = metanet.verify(digits_net, OwnTask(tasks.get("digits"), 255.0))
    assert report.accuracy < metanet.verify(digits_net, "digits").accuracy  # why it matters: the net reads [0, 1]
    assert record[0].filename == __file__  # attributed to the caller, not to metanet


@pytest.mark.parametrize("make", [
    lambda t: OwnTask(t),  # already [0, 1]
    lambda t: OwnTask(t, 255.0, torch.uint8),  # uint8 0..255: divided by 255, as ToTensor does
])
def test_no_warning_for_unit_scale_or_uint8(digits_net, make):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        report = metanet.verify(digits_net, make(tasks.get("digits")))
    assert report.accuracy == metanet.verify(digits_net, "digits").accuracy


@pytest.mark.parametrize("spec", ["mnist1d[0,1]+invert", "mnist1d+permute(2)", "digits[3,8]+invert+permute(1)"])
def test_no_warning_for_transformed_tasks_or_mnist1d(spec):
    own = OwnTask(tasks.get(spec))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for split in tasks.SPLITS:
            as_examples(*own.split(split))


@pytest.mark.parametrize("x", [
    torch.randn(50, 1, 8, 8) * 3,  # standardised inputs go negative: another scale, not 0..255 images
    torch.full((50, 1, 8, 8), float("nan")),  # no claim about the scale of NaN
    torch.rand(50, 1, 8, 8) * 2,  # a small overshoot of [0, 1]
    torch.empty(0, 1, 8, 8),
])
def test_no_warning_for_other_scales(x):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        as_examples(x, torch.zeros(len(x), dtype=torch.long))


def test_the_warning_names_the_range_and_keeps_the_inputs():
    x = np.linspace(0, 255, 2 * 64, dtype=np.float64).reshape(2, 1, 8, 8)
    with pytest.warns(UserWarning, match=r"my data: float inputs span \[0, 255\].*divide 0\.\.255 images by 255"):
        got, _ = as_examples(x, np.array([0, 1]), "my data")
    assert got.dtype == torch.float64 and torch.equal(got, torch.from_numpy(x))  # used as they are


def test_verify_data_on_a_0_255_scale_warns(digits_net):
    x, y = tasks.get("digits").split("test")
    params = {k: v.unsqueeze(0) for k, v in digits_net.named_parameters()}
    with pytest.warns(UserWarning, match=r"the data given to verify: float inputs span \[0, 255\]"):
        verify_stacked(digits_net, params, "digits", data=(x * 255, y))


def test_float_0_255_examples_stay_an_error_naming_the_range(digits_net):
    x, y = tasks.get("digits").split("test")
    with pytest.raises(TaskError, match=r"x values span \[0, 255\], but task inputs must lie in \[0, 1\]"):
        metanet.verify(digits_net, (x * 255, y))
