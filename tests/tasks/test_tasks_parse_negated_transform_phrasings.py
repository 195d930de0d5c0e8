"""More ways to say a transform is not wanted: "i don't want it inverted", "no need to invert", a transform asked
about and answered no ("mnist 3 and 8 inverted? no") were +invert, and "not inverted or permuted" asked which
permutation "permuted" meant (the "or" carries the negation)."""

from __future__ import annotations

import pytest

from metanet.tasks.parse import text_to_spec


@pytest.mark.parametrize("text, spec", [
    ("mnist 3 and 8, i don't want it inverted", "mnist[3,8]"),
    ("mnist 3 and 8, I do not want the images inverted", "mnist[3,8]"),
    ("mnist 3 and 8, no need to invert", "mnist[3,8]"),
    ("mnist 3 and 8, don't invert the images", "mnist[3,8]"),
    ("mnist 3 and 8, I do not want the pixels permuted", "mnist[3,8]"),
    ("mnist 3 and 8, don't shuffle the labels", "mnist[3,8]"),
    ("mnist 3 and 8 inverted? no", "mnist[3,8]"),
    ("mnist 3 and 8, invert? no thanks", "mnist[3,8]"),
    ("mnist 3 and 8, inverted: no", "mnist[3,8]"),
    ("mnist 3 and 8 not inverted or permuted", "mnist[3,8]"),
    ("mnist 3 and 8 not inverted or permuted pixels", "mnist[3,8]"),
    ("mnist 3 and 8 inverted? no, permuted pixels seed 2", "mnist[3,8]+permute(2)"),
])
def test_a_transform_said_not_to_be_wanted_is_not_applied(text: str, spec: str) -> None:
    assert text_to_spec(text) == spec


@pytest.mark.parametrize("text, spec", [
    ("mnist 3 and 8, images should not be inverted", "mnist[3,8]"),
    ("mnist 3 and 8, no inversion or label shuffling", "mnist[3,8]"),
    ("mnist 3 and 8 not permuted but inverted", "mnist[3,8]+invert"),
    ("mnist 3 and 8, no inversion, permuted pixels seed 2", "mnist[3,8]+permute(2)"),  # a comma ends the negation
    ("mnist 3 and 8, inverted but no permuted pixels", "mnist[3,8]+invert"),
    ("mnist 3 and 8 inverted? yes", "mnist[3,8]+invert"),
    ("mnist 3 and 8? no, inverted", "mnist[3,8]+invert"),
])
def test_other_phrasings_are_read_as_before(text: str, spec: str) -> None:
    assert text_to_spec(text) == spec
