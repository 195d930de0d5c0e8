"""``as_trigger`` on a trigger without a pattern: the error names the kinds that have a default one, so a mistyped
kind ('squar') is fixed by spelling it as the message says (it was only told to add a pattern)."""

from __future__ import annotations

import pytest

from metanet.edit import as_trigger
from metanet.errors import TaskError


@pytest.mark.parametrize("kind", ["squar", "checkers", "random"])
def test_a_kind_without_a_default_pattern_names_the_kinds_that_have_one(kind):
    trig = {"size": 3, "location": [0, 0], "target": 1, "kind": kind}
    with pytest.raises(TaskError, match=r"needs its 'pattern' .*; the kinds with a default pattern are square and "
                                        r"checker$"):
        as_trigger(trig, input_shape=(1, 8, 8), num_classes=10)


@pytest.mark.parametrize("kind", ["square", "checker"])
def test_following_the_advice_gives_a_trigger(kind):
    out = as_trigger({"size": 3, "location": [0, 0], "target": 1, "kind": kind}, input_shape=(1, 8, 8),
                     num_classes=10)
    assert len(out["pattern"]) == 3 and all(len(row) == 3 for row in out["pattern"])
    assert {v for row in out["pattern"] for v in row} <= {0.0, 1.0}
