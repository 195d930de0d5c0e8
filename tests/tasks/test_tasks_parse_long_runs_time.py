"""Hostile free text: a data set name before a long run of spaces (the lone-number-word rule split the run every way)
and thousands of "hidden = 1" (each width checked against every one read before) took seconds, quadratic in the
length: "mnist" and 10,000 spaces 3 s, "1 hidden = " * 10,000 about 9 s. They take a fraction of a second (no timed
assertion here: the project measures speed in benchmarks; a quadratic reading shows again as a slow test)."""

from __future__ import annotations

from metanet.tasks.arch_text import arch_words
from metanet.tasks.parse import text_to_spec


def test_a_data_set_name_before_a_long_run_of_spaces_is_read_at_once() -> None:
    text = "mnist" + " " * 9_960 + " mnist 3 vs 8"
    assert text_to_spec(text) == "mnist[3,8]"  # 3 s quadratic


def test_thousands_of_widths_are_read_at_once() -> None:
    text = "1 hidden = " * 10_000
    assert arch_words("1 hidden = " * 3) == {"widths": (1,)}
    assert arch_words(text) == {"widths": (1,)}  # about 9 s quadratic
