"""'neither 3 nor 8' leaves the classes out: "neither 3 nor 8 from mnist" was mnist[3, 8], what it says it is not."""

from __future__ import annotations

import pytest

from metanet.tasks.parse import text_to_spec


@pytest.mark.parametrize("text,spec", [
    ("neither 3 nor 8 from mnist", "mnist[0-2,4-7,9]"),
    ("mnist, neither 3 nor 8", "mnist[0-2,4-7,9]"),
    ("mnist digits neither three nor eight", "mnist[0-2,4-7,9]"),
    ("fashion-mnist neither bags nor boots", "fashion-mnist[0-7]"),
    ("mnist 0 to 4, neither 2 nor 3", "mnist[0,1,4]"),
    ("a network for mnist 3 vs 8 that is neither slow nor big", "mnist[3,8]"),  # no classes after it: none left out
])
def test_neither_nor_leaves_the_classes_out(text, spec):
    assert text_to_spec(text) == spec
