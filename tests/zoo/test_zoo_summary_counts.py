"""The figures ``metanet zoo build`` and ``metanet zoo merge`` print are the ones their results hold: the build's
rate is networks per second (not units), merge's "already present" is the units skipped (not those copied)."""

from __future__ import annotations

import argparse
import sys

from metanet.zoo.build import BuildSummary


def test_the_build_rate_is_networks_per_second():
    text = str(BuildSummary(path="z", units_planned=4, units_in_shard=4, units_built=2, units_skipped=2,
                            nets_written=12, seconds=4.0))
    assert "built 2 units (12 networks) in 4.0 s (3.0 nets/s" in text
    assert "skipped 2 already done" in text and "4 of 4 units belong to this shard" in text


def test_zoo_merge_prints_copied_and_skipped_units_apart(tmp_path, monkeypatch, capsys):
    from metanet.zoo.cli import _merge

    zoo_build = sys.modules["metanet.zoo.build"]  # metanet.zoo.build the attribute is the build function
    monkeypatch.setattr(zoo_build, "merge", lambda out, sources: {"units_copied": 2, "nets_copied": 6,
                                                                  "units_skipped": 3, "units_repaired": 0})
    assert _merge(argparse.Namespace(out=tmp_path / "m", sources=[])) == 0
    out = capsys.readouterr().out
    assert "copied 2 units (6 networks), 3 already present" in out and "replaced" not in out


def test_a_shard_resumed_in_a_whole_zoo_counts_only_its_own_units_as_skipped(small_recipe, small_zoo, tmp_path):
    import shutil

    from metanet.zoo import build

    out = tmp_path / "zoo"
    shutil.copytree(small_zoo, out)  # every unit built: shard 0/2 has nothing left to do
    summary = build(small_recipe, out, shard=(0, 2), progress=False)
    assert summary.units_planned > summary.units_in_shard > 0
    assert summary.units_built == 0 and summary.units_skipped == summary.units_in_shard
    assert f"skipped {summary.units_in_shard} already done" in str(summary)
