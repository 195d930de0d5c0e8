"""A task spec as a PyTorch user holds it: a map-style ``torch.utils.data.Dataset`` of ``(input, label)`` pairs (a
TensorDataset, a Subset or ConcatDataset, a torchvision-style dataset of ``(tensor, int)`` or PIL images) is read
once into ``(x, y)`` and is then exactly those examples, for generate, verify, refine, improve and tasks.resolve
(was "a task spec must be ..."); items of the wrong kind name the item and what was expected; a DataLoader or an
IterableDataset is refused with what to pass instead."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn
from torch.utils.data import ConcatDataset, DataLoader, Dataset, IterableDataset, Subset, TensorDataset

import metanet
from metanet import tasks
from metanet.errors import TaskError
from metanet.loop import as_loop_tasks


@pytest.fixture(scope="module")
def digits():
    x, y = tasks.get("digits").split("train")
    return x[:300], y[:300]


class Pairs(Dataset):
    """A torchvision-style dataset: ``item(i)`` is what ``ds[i]`` gives; counts the items read."""

    def __init__(self, n, item):
        self.n, self.item, self.reads = n, item, 0

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        self.reads += 1
        return self.item(i)


def _same_task(a, b):
    assert a.name == b.name and a.num_classes == b.num_classes
    for s in tasks.SPLITS:
        assert all(torch.equal(u, v) for u, v in zip(a.split(s), b.split(s)))


def test_every_kind_of_dataset_is_the_examples_it_holds(digits):
    x, y = digits
    want = tasks.from_examples(x, y)
    ds = TensorDataset(x, y)
    _same_task(tasks.resolve(ds), want)
    _same_task(tasks.resolve(Pairs(len(y), lambda i: (x[i], int(y[i])))), want)  # (tensor, int)
    _same_task(tasks.resolve(Pairs(len(y), lambda i: (x[i].numpy(), np.int32(y[i])))), want)  # numpy items
    _same_task(tasks.resolve(Subset(ds, range(len(y)))), want)
    rows = [5, 2, 7] + list(range(20, 300))
    _same_task(tasks.resolve(Subset(ds, rows)), tasks.from_examples(x[rows], y[rows]))
    _same_task(tasks.resolve(Subset(Subset(ds, rows), torch.arange(100))), tasks.from_examples(x[rows[:100]],
                                                                                               y[rows[:100]]))
    _same_task(tasks.resolve(ConcatDataset([Subset(ds, range(100)), TensorDataset(x[100:], y[100:])])), want)


def test_a_dataset_is_read_once_item_by_item(digits):
    x, y = digits
    ds = Pairs(len(y), lambda i: (x[i], torch.tensor(int(y[i]))))  # 0-d tensor labels
    tasks.resolve(ds)
    assert ds.reads == len(y)


def test_pil_images_are_uint8_inputs_divided_by_255(digits):
    Image = pytest.importorskip("PIL.Image")
    x, y = digits
    u8 = (x[:, 0] * 255 / 16).round().to(torch.uint8)  # (n, 8, 8) images, as torchvision gives them without ToTensor
    ds = Pairs(len(y), lambda i: (Image.fromarray(u8[i].numpy()), int(y[i])))
    _same_task(tasks.resolve(ds), tasks.from_examples(u8, y))


def test_a_dataset_with_a_split_name_and_num_classes_is_still_a_dataset(digits):
    """torchvision-style datasets keep ``split = "train"`` (and often ``num_classes``): not a task's split()."""
    x, y = digits
    ds = TensorDataset(x, y)
    ds.split, ds.num_classes = "train", 10
    _same_task(tasks.resolve(ds), tasks.from_examples(x, y))


def test_generate_on_a_dataset_is_bit_identical_to_its_examples(digits):
    x, y = digits
    a = metanet.generate(TensorDataset(x, y), candidates=2, seed=3)
    b = metanet.generate((x, y), candidates=2, seed=3)
    assert a.report.task == b.report.task and a.report.test.accuracy == b.report.test.accuracy
    sa, sb = a.model.state_dict(), b.model.state_dict()
    assert sa.keys() == sb.keys() and all(torch.equal(sa[k], sb[k]) for k in sa)


def test_verify_reads_a_dataset_of_some_classes_as_examples(digits):
    """As (x, y): labels may be some of the network's classes (not made a Task, which needs all of them)."""
    x, y = digits
    keep = (y == 3) | (y == 8)
    torch.manual_seed(0)
    m = nn.Sequential(nn.Flatten(), nn.Linear(64, 10))
    ds = Pairs(int(keep.sum()), lambda i: (x[keep][i], int(y[keep][i])))
    got, want = metanet.verify(m, ds), metanet.verify(m, (x[keep], y[keep]))
    assert (got.task, got.n, got.accuracy, got.loss) == (want.task, want.n, want.accuracy, want.loss)
    assert np.array_equal(got.per_class, want.per_class, equal_nan=True)
    both = metanet.verify([m, m], Subset(TensorDataset(x, y), keep.nonzero().flatten()))  # a list: one reading
    assert [r.accuracy for r in both] == [want.accuracy] * 2


def test_refine_on_a_dataset_is_refine_on_its_examples(digits):
    x, y = digits
    m = nn.Sequential(nn.Flatten(), nn.Linear(64, 10))
    torch.manual_seed(0)
    m2 = nn.Sequential(nn.Flatten(), nn.Linear(64, 10))
    m2.load_state_dict(m.state_dict())
    ds = TensorDataset(x, y)
    a = metanet.refine(m, ds, steps=2, seed=1, verify_on=TensorDataset(x[:50], y[:50]))
    b = metanet.refine(m2, (x, y), steps=2, seed=1, verify_on=(x[:50], y[:50]))
    assert a.history == b.history and a.after.accuracy == b.after.accuracy
    assert all(torch.equal(p, q) for p, q in zip(a.model.parameters(), b.model.parameters()))


def test_refine_takes_a_list_of_input_tensors(digits):
    """``[x for x, _ in ds]`` with its labels: was 'only one element tensors can be converted to Python scalars'."""
    x, y = digits
    m = nn.Sequential(nn.Flatten(), nn.Linear(64, 10))
    a = metanet.refine(m, (list(x), [int(v) for v in y]), steps=2, seed=1)
    b = metanet.refine(m, (x, y), steps=2, seed=1)
    assert a.history == b.history


def test_the_loop_reads_a_dataset_or_a_list_of_them_as_examples(digits):
    x, y = digits
    ds = TensorDataset(x, y)
    (a,), (b,) = as_loop_tasks(ds, shots=5), as_loop_tasks((x, y), shots=5)
    assert a.name == b.name and torch.equal(a.support[0], b.support[0]) and torch.equal(a.val[1], b.val[1])
    two = as_loop_tasks([ds, (x, y)], shots=5)
    assert [t.name for t in two] == [b.name] * 2


def test_float_0_255_inputs_of_a_dataset_meet_what_their_examples_meet(digits):
    x, y = digits
    big = TensorDataset(x * 255, y)
    with pytest.raises(TaskError, match=r"x values span \[0, 255\]"):  # from_examples: a task's inputs are [0, 1]
        tasks.resolve(big)
    m = nn.Sequential(nn.Flatten(), nn.Linear(64, 10))
    with pytest.warns(UserWarning, match=r"float inputs span \[0, 255\]"):  # refine: used as they are, with a word
        metanet.refine(m, big, steps=1, verify_on=None)


def _item_of(i, x):
    return {
        "dict": {"image": x, "label": 1},
        "tensor": x,
        "triple": (x, 1, 0),
        "string input": ("a picture", 1),
        "scalar input": (x.flatten()[0], 1),
        "float label": (x, 1.0 if i == 2 else 1),
        "bool label": (x, True),
        "one-hot label": (x, torch.eye(10)[1]),
        "1-element label": (x, torch.tensor([1])),
        "float tensor label": (x, torch.tensor(1.0)),
        "ragged": (x if i < 2 else x[:, :, :5], 1),
        "mixed dtypes": (x if i < 2 else x.double(), 1),
    }


@pytest.mark.parametrize("kind, match", [
    ("dict", r"item 0 of the Pairs is a dict \(keys 'image', 'label'\); a dataset given as a task must yield "
             r"\(input, label\) pairs"),
    ("tensor", r"item 0 of the Pairs is a Tensor; .*\(input, label\) pairs"),
    ("triple", r"item 0 of the Pairs is a tuple of 3 items"),
    ("string input", r"item 0 of the Pairs: the input is a str; expected a tensor or numpy array"),
    ("scalar input", r"item 0 of the Pairs: the input is a single number"),
    ("float label", r"item 2 of the Pairs: the label is float 1.0; expected an integer class id"),
    ("bool label", r"item 0 of the Pairs: the label is bool True; expected an integer class id"),
    ("one-hot label", r"label is a Tensor of dtype torch.float32 and shape \(10,\); .*\(one-hot\? its argmax\(\)"),
    ("1-element label", r"label is a Tensor of dtype torch.int64 and shape \(1,\); .*\(e.g. label.item\(\)\)"),
    ("float tensor label", r"label is a Tensor of dtype torch.float32 and shape \(\); expected an integer"),
    ("ragged", r"item 2 of the Pairs: an input of shape \(1, 8, 5\), but item 0's has shape \(1, 8, 8\)"),
    ("mixed dtypes", r"item 2 of the Pairs: an input of dtype torch.float64, but item 0's is torch.float32"),
])
def test_items_of_the_wrong_kind_name_the_item_and_what_was_expected(digits, kind, match):
    x, _ = digits
    ds = Pairs(5, lambda i: _item_of(i, x[i])[kind])
    for call in (tasks.resolve, lambda d: metanet.verify(nn.Flatten(), d)):
        with pytest.raises(TaskError, match=match):
            call(ds)


def test_what_is_no_dataset_of_pairs_is_refused_with_what_to_pass(digits):
    x, y = digits
    ds = TensorDataset(x, y)

    class Stream(IterableDataset):
        def __iter__(self):
            return iter(zip(x, y))

    class NoLength(Dataset):
        def __getitem__(self, i):
            return x[i], 1

    m = nn.Sequential(nn.Flatten(), nn.Linear(64, 10))
    for spec, match in [
        (DataLoader(ds, batch_size=32), r"a DataLoader is not read as a task.*pass its map-style dataset "
                                        r"\(loader.dataset\) or the examples \(x, y\)"),
        (Stream(), r"an IterableDataset \(Stream\) is not read as a task.*default_collate"),
        (NoLength(), r"the NoLength has no length \(__len__\)"),
        (TensorDataset(x), r"the TensorDataset holds 1 tensor; a dataset given as a task must hold 2"),
        (TensorDataset(x, y, y), r"the TensorDataset holds 3 tensors"),
        (Pairs(0, None), r"the Pairs is empty; labelled examples need at least one example per class"),
    ]:
        for call in (tasks.resolve, lambda d: metanet.verify(m, d), lambda d: metanet.refine(m, d, steps=1),
                     lambda d: as_loop_tasks(d), lambda d: as_loop_tasks([d])):
            with pytest.raises(TaskError, match=match):
                call(spec)
    with pytest.raises(TaskError, match=r"a Dataset of \(x, y\) pairs, a Task or labelled examples \(x, y\), got "
                                        r"generator"):
        tasks.resolve(p for p in zip(x, y))
