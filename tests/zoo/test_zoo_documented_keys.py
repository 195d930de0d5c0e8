"""The dicts of the zoo's public API have exactly the keys their docstrings name: ``Zoo.summary``, ``merge``,
``CheckReport.to_dict`` and ``NetInfo.to_dict``, and the dataset targets its module docstring lists (a key added or
renamed on one side only fails here)."""

from __future__ import annotations

import dataclasses
import re

from metanet.zoo import CheckReport, NetInfo, Zoo, merge


def _named(text: str) -> set[str]:
    return {t for t in re.findall(r"``([^`]+)``", text) if re.fullmatch(r"\w+", t)}


def test_summary_has_exactly_the_keys_its_returns_section_names(zoo):
    doc = Zoo.summary.__doc__
    assert set(zoo.summary()) == _named(doc[doc.index("Returns:"):])


def test_merge_returns_exactly_the_counts_its_docstring_names(small_zoo, tmp_path):
    doc = merge.__doc__
    documented = set(re.findall(r'"(\w+)":', doc[doc.index("Returns:"):doc.index("Raises:")]))
    assert set(merge(tmp_path / "merged", [small_zoo])) == documented


def test_check_and_netinfo_dicts_are_their_fields_plus_the_documented_extra(zoo):
    assert "``ok``" in CheckReport.to_dict.__doc__
    assert set(zoo.check().to_dict()) == {f.name for f in dataclasses.fields(CheckReport)} | {"ok"}
    assert "``final``" in NetInfo.to_dict.__doc__
    assert set(zoo.select()[0].to_dict()) == {f.name for f in dataclasses.fields(NetInfo)} | {"final"}


def test_dataset_targets_are_the_ones_its_module_docstring_lists():
    from metanet.zoo import dataset

    doc = dataset.__doc__
    assert _named(doc[doc.index("Targets"):doc.index("Every graph")]) == set(dataset.TARGETS)
