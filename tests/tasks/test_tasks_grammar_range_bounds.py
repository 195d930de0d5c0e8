"""The bounds of the task-name grammar, inclusive at both ends: a class range ``a-b`` may be one class (``3-3``,
as ``b-a`` is refused only when it runs backwards), and a transform seed may be :data:`MAX_SEED` itself (what
``Transform`` and ``seeded_permutation`` take), but not one more."""

from __future__ import annotations

import pytest

from metanet.errors import TaskError
from metanet.tasks.grammar import canonical_name, parse_spec
from metanet.tasks.transforms import MAX_SEED


def test_a_range_of_one_class_is_that_class():
    spec = parse_spec("digits[3-3,8]")
    assert spec.classes == (3, 8) and spec.canonical == "digits[3-3,8]"
    with pytest.raises(TaskError, match="runs backwards"):
        parse_spec("digits[4-3,8]")


@pytest.mark.parametrize("kind", ["permute", "relabel"])
def test_the_largest_seed_is_valid_and_one_more_is_not(kind):
    name = f"digits+{kind}({MAX_SEED})"
    assert canonical_name(name) == name and parse_spec(name).transforms[0].seed == MAX_SEED
    with pytest.raises(TaskError, match=f"{kind} needs"):
        parse_spec(f"digits+{kind}({MAX_SEED + 1})")
