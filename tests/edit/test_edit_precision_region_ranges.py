"""A precision plan's region range ``A-B`` includes both ends (as ``*`` covers every region): ``0-1=int8`` on a
three-layer network quantises regions 0 and 1, and the report lists them both."""

from __future__ import annotations

import pytest

from metanet import edit
from metanet.edit.edits import parse_precision
from metanet.inspect.netview import NetView
from metanet.nets import build


@pytest.mark.parametrize("plan, want", [("0-1=int8", {0: "int8", 1: "int8"}), ("1-2=fp16", {1: "fp16", 2: "fp16"}),
                                        ("2-2=int4", {2: "int4"}), ("0-2=int8", {0: "int8", 1: "int8", 2: "int8"})])
def test_a_range_covers_both_ends(plan, want):
    v = NetView(build("mlp:64-16-12-10:relu", seed=0))
    assert parse_precision(plan, v) == want


def test_the_report_names_every_region_of_the_range():
    _, rep = edit.precision(build("mlp:64-16-12-10:relu", seed=0), "0-1=int8", "digits")
    assert sorted(rep.details["regions"]) == ["0", "1"]
