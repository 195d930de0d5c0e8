"""Round 27d: ``--shard`` takes exactly ``I/N`` in plain decimal digits; build output counts in good English."""

import pytest

from metanet.errors import ZooError
from metanet.zoo.build import BuildSummary, parse_shard


@pytest.mark.parametrize("text", ["1_0/20", "1/2_0", "+1/2", "1/+2", "-0/2", "1 /2", "1/ 2", "0x1/2", "１/2",
                                  "1.0/2", "1/2/3", "", "/", "1/", "/2", "0/" + "9" * 5000])
def test_a_shard_that_is_not_plain_decimal_i_slash_n_is_malformed(text):
    with pytest.raises(ZooError) as info:
        parse_shard(text)
    message = str(info.value)
    assert "malformed" in message and "I/N" in message and "0/4" in message
    assert repr(text)[:30] in message and len(message) < 300  # names the text, a long one cut short


@pytest.mark.parametrize("text, want", [("1/20", (1, 20)), (" 1/2", (1, 2)), ("0/4\n", (0, 4)), ("03/10", (3, 10))])
def test_plain_i_slash_n_with_surrounding_whitespace_is_accepted(text, want):
    assert parse_shard(text) == want


def test_the_build_summary_says_one_unit_and_one_network_in_the_singular():
    text = str(BuildSummary(path="z", units_planned=1, units_in_shard=1, units_built=1, units_skipped=0,
                            nets_written=1, seconds=1.0))
    assert "built 1 unit (1 network)" in text and "1 of 1 unit belongs to this shard" in text
    many = str(BuildSummary(path="z", units_planned=4, units_in_shard=2, units_built=2, units_skipped=0,
                            nets_written=6, seconds=1.0))
    assert "built 2 units (6 networks)" in many and "2 of 4 units belong to this shard" in many


def test_zoo_merge_output_says_one_unit_and_one_network_in_the_singular(tmp_path, monkeypatch, capsys):
    import argparse
    import sys

    from metanet.zoo.cli import _merge

    zoo_build = sys.modules["metanet.zoo.build"]  # metanet.zoo.build the attribute is the build function

    monkeypatch.setattr(zoo_build, "merge", lambda out, sources: {"units_copied": 1, "nets_copied": 1,
                                                                  "units_skipped": 1, "units_repaired": 1})
    assert _merge(argparse.Namespace(out=tmp_path / "m", sources=[])) == 0
    out = capsys.readouterr().out
    assert "copied 1 unit (1 network), 1 already present" in out and "1 replaced a missing" in out
