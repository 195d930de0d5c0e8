"""A "not" / "no" / "without" leaves out the classes that follow it only when a class follows it: "an mlp, not a
transformer, for mnist 3 vs 8", "not a cnn: mnist 3 vs 8" and "not too big a network for mnist 3 vs 8" were
mnist[0-2,4-7,9]. "rather than" / "instead of" leave classes out too ("mnist 3 vs 8 rather than 4 vs 9" was
mnist[3,8,4,9])."""

from __future__ import annotations

import pytest

from metanet.tasks.parse import text_to_spec


@pytest.mark.parametrize("text, spec", [
    ("an mlp, not a transformer, for mnist 3 vs 8", "mnist[3,8]"),
    ("not a cnn: mnist 3 vs 8", "mnist[3,8]"),
    ("not too big a network for mnist 3 vs 8", "mnist[3,8]"),
    ("an mlp but not a cnn, for mnist 3 vs 8", "mnist[3,8]"),
    ("a network other than a cnn for mnist 3 vs 8", "mnist[3,8]"),
    ("any network but a cnn for mnist 3 vs 8", "mnist[3,8]"),
    ("without a hidden layer, mnist 3 vs 8", "mnist[3,8]"),
    ("mnist 3 vs 8 rather than 4 vs 9", "mnist[3,8]"),
    ("mnist 3 vs 8 instead of 4 vs 9", "mnist[3,8]"),
])
def test_a_negation_before_no_class_leaves_no_class_out(text: str, spec: str) -> None:
    assert text_to_spec(text) == spec


@pytest.mark.parametrize("text, spec", [
    ("mnist, not 3 or 8", "mnist[0-2,4-7,9]"),
    ("mnist, no 3s and no 8s", "mnist[0-2,4-7,9]"),
    ("mnist without the digit three", "mnist[0-2,4-9]"),
    ("mnist, not the even digits", "mnist[1,3,5,7,9]"),
    ("mnist, no more than 5", "mnist[0-5]"),
    ("mnist excluding anything above 5", "mnist[0-5]"),
    ("fashion mnist, not sneakers", "fashion-mnist[0-6,8,9]"),
    ("clothing without any bags", "fashion-mnist[0-7,9]"),
    ("all digits but 7", "mnist[0-6,8,9]"),
    ("mnist 0 to 4, not 2", "mnist[0,1,3,4]"),
])
def test_a_negation_before_classes_still_leaves_them_out(text: str, spec: str) -> None:
    assert text_to_spec(text) == spec
