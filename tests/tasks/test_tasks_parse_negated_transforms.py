"""A transform said not to be wanted is not applied: "mnist 3 and 8, not inverted" was mnist[3,8]+invert, and "not
permuted" a question about which permutation was meant."""

from __future__ import annotations

import pytest

from metanet.tasks.parse import text_to_spec


@pytest.mark.parametrize("text,spec", [
    ("mnist 3 and 8, not inverted", "mnist[3,8]"),
    ("mnist 3 and 8 without inversion", "mnist[3,8]"),
    ("mnist 3 and 8 non-inverted", "mnist[3,8]"),
    ("mnist 3 and 8, no inverted colours", "mnist[3,8]"),
    ("mnist 3 and 8, not permuted", "mnist[3,8]"),
    ("mnist 3 and 8 neither inverted nor permuted", "mnist[3,8]"),
    ("mnist 3 and 8 inverted, not permuted", "mnist[3,8]+invert"),
    ("mnist 3 and 8 with permuted pixels seed 2, not inverted", "mnist[3,8]+permute(2)"),
    # a negation of classes stays one
    ("inverted mnist without 3", "mnist[0-2,4-9]+invert"),
    ("mnist, not 3, inverted", "mnist[0-2,4-9]+invert"),
])
def test_a_negated_transform_is_not_applied(text, spec):
    assert text_to_spec(text) == spec
