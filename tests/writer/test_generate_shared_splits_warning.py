"""generate warns when a task given as any object with ``split`` shares examples between its splits: the candidates
chosen on examples they were written from, or the test accuracy measured on the examples the winner was chosen on
(a data set with only train and test, its ``split("val")`` the test split: best of K on test, reported as its test
accuracy), overstated the network without a word. A Task's splits are disjoint by construction: no check, no word."""

from __future__ import annotations

import warnings

import pytest

import metanet
from metanet import tasks


class _Splits:
    """A task object whose splits are the given digits splits, by name."""

    num_classes = 10

    def __init__(self, which: dict[str, str]) -> None:
        self.which = which
        self.data = {s: tasks.get("digits").split(s) for s in set(which.values())}

    def split(self, name: str):
        return self.data[self.which[name]]


def _shared_warnings(task) -> list[str]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        metanet.generate(task, candidates=2, seed=0)
    return [str(w.message) for w in caught if "shares examples between its splits" in str(w.message)]


def test_a_validation_split_that_is_the_test_split_is_told():
    (msg,) = _shared_warnings(_Splits({"train": "train", "val": "test", "test": "test"}))
    assert "360 of its 360 test examples are in the validation split" in msg
    assert "support set" not in msg


def test_splits_that_are_the_support_are_told():
    (msg,) = _shared_warnings(_Splits({"train": "train", "val": "train", "test": "train"}))
    assert "1077 of its 1077 validation examples are in the support set" in msg
    assert "1077 of its 1077 test examples are in the support set" in msg


@pytest.mark.parametrize("task", [lambda: _Splits({s: s for s in ("train", "val", "test")}), lambda: "digits"])
def test_disjoint_splits_say_nothing(task):
    assert _shared_warnings(task()) == []
