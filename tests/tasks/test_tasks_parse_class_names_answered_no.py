"""Free text: a data set asked about and answered "no" with fashion class names alone ("cifar10? no sneakers and
boots", "mnist? no, sneakers and boots") asks for those classes of fashion-mnist. cifar10 was refused (a "no" without
a mark after it answered only with a data set's words) and mnist's "no" left out classes it does not have: all of
mnist. A "no" before anything else ("no top-1 accuracy", "no bags please") is read as before."""

from __future__ import annotations

import pytest

from metanet.errors import TaskError
from metanet.tasks.parse import text_to_spec


@pytest.mark.parametrize("text, spec", [
    ("cifar10? no sneakers and boots", "fashion-mnist[7,9]"),
    ("cifar10? no, sneakers and boots", "fashion-mnist[7,9]"),  # as before
    ("cifar10? no sneakers, boots and bags", "fashion-mnist[7,9,8]"),
    ("cifar10? no only sneakers and boots", "fashion-mnist[7,9]"),
    ("cifar10? no sneakers and boots, inverted", "fashion-mnist[7,9]+invert"),
    ("cifar10 3 vs 8? no sneakers and boots", "fashion-mnist[7,9]"),
    ("emnist letters? no shirts vs coats", "fashion-mnist[6,4]"),
    ("mnist? no sneakers and boots", "fashion-mnist[7,9]"),
    ("mnist? no, sneakers and boots", "fashion-mnist[7,9]"),
    ("mnist 3 vs 8? no sneakers and boots", "fashion-mnist[7,9]"),
    ("digits? no, sneakers vs boots", "fashion-mnist[7,9]"),
    ("mnist? no t-shirts and ankle boots", "fashion-mnist[0,9]"),
])
def test_class_names_answering_no_are_fashion_classes(text: str, spec: str) -> None:
    assert text_to_spec(text) == spec


@pytest.mark.parametrize("text, spec", [
    ("mnist? no top-1 accuracy", "mnist"),
    ("mnist 3 vs 8? no top-1 accuracy needed", "mnist[3,8]"),
    ("fashion-mnist? no sneakers and boots", "fashion-mnist[0-6,8]"),  # its own classes: left out, as before
    ("fashion mnist? no bags", "fashion-mnist[0-7,9]"),
])
def test_other_phrases_after_no_are_read_as_before(text: str, spec: str) -> None:
    assert text_to_spec(text) == spec


@pytest.mark.parametrize("text, message", [
    ("cifar10? no top-1 accuracy", "unknown data set 'cifar10'"),
    ("cifar10 3 vs 8? no top-1 accuracy needed", "unknown data set 'cifar10'"),
    ("cifar10? no bags please", "unknown data set 'cifar10'"),
    ("cifar10? no preprocessing", "unknown data set 'cifar10'"),
    ("cifar10? no shirts", r"names only one class \(Shirt\)"),
    ("mnist? no shirts, hats and boots", "'hats' is not a class of fashion-mnist"),
])
def test_no_before_anything_else_is_still_refused(text: str, message: str) -> None:
    with pytest.raises(TaskError, match=message):
        text_to_spec(text)
