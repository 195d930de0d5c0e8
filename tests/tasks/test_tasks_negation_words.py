"""Free text: the words that say a thing is not wanted are one list (``arch_text.negation``), read the same before a
network word, a task's transform and a transform no task has. "neither noisy nor rotated", "i don't want noise",
"rather than blurred" were errors naming the transform ("'noisy' is no task transform") while "neither inverted nor
permuted", "i don't want a cnn" already asked for nothing."""

from __future__ import annotations

import time

import pytest

from metanet.errors import ArchError, TaskError
from metanet.tasks.arch_text import arch_words
from metanet.tasks.parse import text_to_spec

NEGATIONS = ["no", "not", "non-", "without", "never", "neither", "nor", "rather than", "instead of", "i don't want",
             "cannot be"]


def _text(negation: str, thing: str) -> str:
    return f"mnist 3 and 8, {negation} {thing}".replace("- ", "-")


@pytest.mark.parametrize("negation", NEGATIONS)
@pytest.mark.parametrize("thing", ["rotated", "noisy labels", "augmentation", "blurred"])
def test_a_negated_transform_no_task_has_asks_for_nothing(negation: str, thing: str) -> None:
    assert text_to_spec(_text(negation, thing)) == "mnist[3,8]"


@pytest.mark.parametrize("negation", NEGATIONS)
def test_every_negation_word_refuses_a_transform_and_a_network_word_alike(negation: str) -> None:
    assert text_to_spec(_text(negation, "inverted")) == "mnist[3,8]"
    assert arch_words(_text(negation, "a cnn")) == {"not_family": "cnn"}


@pytest.mark.parametrize("text", ["mnist 3 and 8, neither noisy nor rotated", "mnist 3 and 8, i don't want noise",
                                  "mnist 3 and 8, rather than blurred images"])
def test_sentences(text: str) -> None:
    assert text_to_spec(text) == "mnist[3,8]"


@pytest.mark.parametrize("text", ["mnist 3 and 8, rotated", "mnist 3 and 8, nothing rotated? yes rotated",
                                  "neither mnist 3 and 8 nor rotated, just rotated"])
def test_a_transform_asked_for_is_still_refused(text: str) -> None:
    with pytest.raises(TaskError, match="'rotated' is no task transform"):
        text_to_spec(text)


@pytest.mark.parametrize("unit", ["neither ", "n't ", "rather than ", "cannot be "])
def test_long_runs_of_negations_stay_fast(unit: str) -> None:
    text = ("mnist 3 and 8 " + unit * 10_000)[:10_000] + " rotated"
    start = time.perf_counter()
    for f in (text_to_spec, arch_words):
        try:
            f(text)
        except (ArchError, TaskError):
            pass
    assert time.perf_counter() - start < 3
