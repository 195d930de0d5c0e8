"""tasks.from_examples / examples_split keep equal inputs in one split: digits given twice put 78 of 119 val and 84
of 119 test examples in the support set too, so generate's and verify's scores counted examples written from."""

import numpy as np
import pytest
import torch
from sklearn.datasets import load_digits

import metanet.tasks.examples as E
from metanet.tasks import from_examples
from metanet.tasks.examples import examples_split


def _keys(x: torch.Tensor) -> list[bytes]:
    return [r.tobytes() for r in x.reshape(len(x), -1).numpy()]


def _assert_disjoint(task) -> None:
    train, val, test = (set(_keys(task.split(s)[0])) for s in ("train", "val", "test"))
    assert not train & val and not train & test and not val & test


@pytest.fixture(scope="module")
def digits_twice():
    d = load_digits()
    x = (d.data[:400] / 16).astype(np.float32)
    return np.concatenate([x, x]), np.concatenate([d.target[:400]] * 2)


def test_digits_given_twice_share_no_input_between_splits(digits_twice):
    x, y = digits_twice
    task = from_examples(x, y)
    _assert_disjoint(task)
    sizes = task.sizes()
    assert sizes["val"] > 0 and sizes["test"] > 0 and sum(sizes.values()) == len(y)
    assert sizes["val"] % 2 == 0 and sizes["test"] % 2 == 0  # both copies of each input, together


def test_examples_split_keeps_test_inputs_out_of_train(digits_twice):
    x, y = digits_twice
    train, test = (set(_keys(examples_split(x, y, s)[1])) for s in ("train", "test"))
    assert test and not train & test


def test_an_input_given_with_two_labels_goes_to_train():
    rng = np.random.default_rng(0)
    x = rng.random((60, 5), dtype=np.float32)
    y = np.arange(60) % 3
    x[1:12] = x[0]  # labels 0, 1, 2, 0, ...: one input, conflicting labels, 12 times
    task = from_examples(x, y)
    _assert_disjoint(task)
    tx, ty = task.split("train")
    same = [k == x[0].tobytes() for k in _keys(tx)]
    assert sorted(ty[same].tolist()) == [0] * 4 + [1] * 4 + [2] * 4
    assert task.sizes()["val"] > 0 and task.sizes()["test"] > 0


def test_zero_and_negative_zero_are_one_input():
    x = np.random.default_rng(1).random((30, 3), dtype=np.float32)
    x[:, 0] = 0.0
    y = np.arange(30) % 2
    x[15], x[16] = x[0], x[0]  # labels 1, 0: conflicting, wherever the sign of the zero
    x[15, 0] = -0.0
    rows = E._split_indices(y, 0.2, 0.2, 0, E._inputs(x))
    assert {0, 15, 16} <= set(rows["train"].tolist())


def test_rows_of_one_hash_are_told_apart_by_their_values(monkeypatch, digits_twice):
    x, y = digits_twice
    monkeypatch.setattr(E, "hash", lambda b: 0, raising=False)  # every row collides: the exact grouping decides
    _assert_disjoint(from_examples(x, y))
    z = np.random.default_rng(2).random((20, 4), dtype=np.float32)
    assert E._repeats(z) is None or (E._repeats(z) == np.arange(20)).all()


def test_without_repeats_the_split_is_unchanged():
    # the rows as the committed split gave them before repeats were grouped
    rng = np.random.default_rng(5)
    y = rng.integers(0, 3, 20)
    x = rng.random((20, 4), dtype=np.float32)
    task = from_examples(x, y)
    where = {k: i for i, k in enumerate(_keys(torch.from_numpy(x)))}
    got = {s: sorted(where[k] for k in _keys(task.split(s)[0])) for s in ("train", "val", "test")}
    assert got == {"train": [0, 1, 2, 4, 5, 7, 8, 10, 12, 13, 17, 18], "val": [3, 6, 9, 16], "test": [11, 14, 15, 19]}
