"""A transform seed past the largest one (2**63 - 1) is refused naming that limit: the message said only "needs a
non-negative integer seed" of a non-negative integer."""

import pytest

from metanet.errors import TaskError
from metanet.tasks.grammar import parse_spec
from metanet.tasks.transforms import MAX_SEED


@pytest.mark.parametrize("kind", ["permute", "relabel"])
def test_a_seed_past_the_largest_names_the_limit(kind):
    with pytest.raises(TaskError, match=rf"{kind} needs a non-negative integer seed of at most {MAX_SEED}"):
        parse_spec(f"digits+{kind}({MAX_SEED + 1})")
    assert parse_spec(f"digits+{kind}({MAX_SEED})").transforms[0].seed == MAX_SEED
