"""A class list asked about and answered no by another asks for the answer's classes, whatever data set was asked
about: "mnist 3 vs 8? no, 4 and 9" was mnist[3,8] (its "no" excluded 4 and 9) while "svhn 3 vs 8? no, 4 and 9" was
mnist[4,9]. An answer that leaves classes out refines the question; one naming no class changes nothing."""

from __future__ import annotations

import importlib

import pytest

from metanet.tasks.parse import text_to_spec


@pytest.mark.parametrize("text, spec", [
    ("mnist 3 vs 8? no, 4 and 9", "mnist[4,9]"),
    ("svhn 3 vs 8? no, 4 and 9", "mnist[4,9]"),  # as before
    ("mnist 3 vs 8? no, I mean 4 and 9", "mnist[4,9]"),
    ("mnist 3 vs 8? no: 4 and 9", "mnist[4,9]"),
    ("mnist 3 vs 8, no, 4 and 9", "mnist[4,9]"),
    ("fashion sneakers vs boots? no, bags and coats", "fashion-mnist[8,4]"),
    ("mnist 3 vs 8? no, above 5", "mnist[6-9]"),
    ("mnist 3 vs 8? no, all digits but 2", "mnist[0,1,3-9]"),
    ("mnist 3 and 8 inverted? no, 4 and 9", "mnist[4,9]"),
])
def test_the_answers_classes_are_asked_for(text: str, spec: str) -> None:
    assert text_to_spec(text) == spec


@pytest.mark.parametrize("text, spec", [
    ("mnist 0 to 4? no, not 2", "mnist[0,1,3,4]"),  # the answer leaves a class out of the question's
    ("mnist 0 to 4? no", "mnist[0-4]"),
    ("mnist 3 vs 8? no, inverted", "mnist[3,8]+invert"),
    ("mnist 3 vs 8? no, with 2 layers", "mnist[3,8]"),
    ("mnist? no 4s", "mnist[0-3,5-9]"),  # no mark after the "no": an exclusion
    ("mnist 3 vs 8? no, fashion-mnist 4 and 9", "fashion-mnist[4,9]"),  # as before
])
def test_other_answers_are_read_as_before(text: str, spec: str) -> None:
    assert text_to_spec(text) == spec


def test_many_answers_are_read_at_once(monkeypatch) -> None:
    # the characters of the questions and answers looked at, counted (not timed): each answer's question was the whole
    # text before it, quadratic in its length (35 s here)
    parse = importlib.import_module("metanet.tasks.parse")  # the module: the package's `parse` is a function
    read = []
    blank, mentions = parse._without_asked_classes, parse._class_mentions

    def counted_blank(s: str, start: int, end: int, answer: str) -> str:
        read.append(end - start + len(answer))
        return blank(s, start, end, answer)

    def counted_mentions(part: str) -> list:
        read.append(len(part))
        return mentions(part)

    monkeypatch.setattr(parse, "_without_asked_classes", counted_blank)
    monkeypatch.setattr(parse, "_class_mentions", counted_mentions)
    text = "mnist 3 vs 8" + ", no, 4" * 1400 + " and 9"
    assert text_to_spec(text) == "mnist[4,9]"
    assert len(read) >= 1400 and sum(read) <= 2 * len(text), (len(read), sum(read), len(text))
