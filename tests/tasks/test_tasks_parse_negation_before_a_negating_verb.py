"""Free text: a negation followed by a word that negates again ("don't forget noise", "can't skip rotation", "wouldn't
mind noise") asks for the transform, which no task has: refused like "noisy mnist". The negation words added to the
transform check ("n't", "cannot", ...) had these read as "no noise", silently giving the clean task."""

from __future__ import annotations

import pytest

from metanet.errors import TaskError
from metanet.tasks.parse import text_to_spec


@pytest.mark.parametrize("text, word", [
    ("mnist 3 and 8, don't forget noise", "noise"),
    ("mnist 3 and 8, can't skip noise", "noise"),
    ("mnist 3 and 8, don't remove noise", "noise"),
    ("mnist 3 and 8, wouldn't mind rotation", "rotation"),
    ("mnist 3 and 8 cannot lack noise", "noise"),
    ("mnist 3 and 8, not forgetting noise", "noise"),
])
def test_a_negated_negating_verb_asks_for_the_transform(text: str, word: str) -> None:
    with pytest.raises(TaskError, match=f"'{word}' is no task transform"):
        text_to_spec(text)


@pytest.mark.parametrize("text", [
    "mnist 3 and 8, i don't want noise",
    "mnist 3 and 8 without label noise",
    "mnist 3 and 8 neither noisy nor rotated",
    "mnist 3 and 8 isn't noisy",
    "mnist 3 and 8, no missing pixels",
])
def test_negated_transforms_still_ask_for_nothing(text: str) -> None:
    assert text_to_spec(text) == "mnist[3,8]"
