"""``--shard I/N`` takes I from 0 to N-1: ``N/N`` (a 1-based count, "the 4th of 4") matches no unit (u % N is never N),
so a build with it would train nothing and report success. It is refused as out of range, as text and as a tuple."""

import pytest

from metanet.errors import ZooError
from metanet.zoo.build import parse_shard


@pytest.mark.parametrize("shard", ["4/4", "1/1", "5/4", (2, 2), (3, 2)])
def test_a_shard_index_of_n_or_more_is_out_of_range(shard):
    with pytest.raises(ZooError, match=r"out of range; expected I/N with 0 <= I < N"):
        parse_shard(shard)


@pytest.mark.parametrize("shard, want", [("3/4", (3, 4)), ("0/1", (0, 1)), ((1, 2), (1, 2))])
def test_the_last_shard_index_is_n_minus_one(shard, want):
    assert parse_shard(shard) == want
