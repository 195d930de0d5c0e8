"""Free text: a known data set asked about and answered no by naming another after a lead-in ("mnist? no, I mean
fashion-mnist 3 vs 8", "no, use mnist", "no, it's fashion"). Only an answer that started with the data set's name
counted, so the question's data set stayed and its "no" excluded the answer's classes: fashion-mnist[0-2,4-7,9]."""

from __future__ import annotations

import pytest

from metanet.tasks.parse import text_to_spec


@pytest.mark.parametrize("text, spec", [
    ("mnist? no, I mean fashion-mnist 3 vs 8", "fashion-mnist[3,8]"),
    ("mnist? no, I want the fashion one: shirts vs coats", "fashion-mnist[6,4]"),
    ("fashion-mnist 3 vs 8? no, use mnist", "mnist[3,8]"),
    ("mnist? no, it is fashion-mnist 3 vs 8", "fashion-mnist[3,8]"),
    ("mnist? no, it's fashion 3 vs 8", "fashion-mnist[3,8]"),
    ("mnist? no, make it fashion 0 to 4", "fashion-mnist[0-4]"),
])
def test_an_answer_after_a_lead_in_names_the_data_set(text: str, spec: str) -> None:
    assert text_to_spec(text) == spec


def test_a_class_list_after_a_lead_in_is_read_as_before() -> None:
    # no data set in the answer: its classes replace the question's, with or without a lead-in
    assert text_to_spec("mnist 3 vs 8? no, I mean 4 and 9") == text_to_spec("mnist 3 vs 8? no, 4 and 9")
