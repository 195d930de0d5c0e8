"""Round 27c: the reader's zoo splits are Zoo.dataset's split; over a partial zoo they warn the same way (the split
moves when the build completes, so a run now in val/test can later land in train)."""

from __future__ import annotations

import warnings

import pytest

from metanet.reader.data import zoo_graphs
from metanet.zoo import Zoo


def test_reader_graphs_of_a_partial_zoo_warn_that_the_split_will_change(partial_tiny_zoo):
    with Zoo(partial_tiny_zoo) as zoo:
        with pytest.warns(UserWarning, match=r"4 of its recipe's 96 runs \(92 missing.*will change"):
            graphs = zoo_graphs(zoo, split="train", max_nets=2)
        assert 1 <= len(graphs) <= 2


def test_reader_graphs_of_a_complete_zoo_do_not_warn(tiny_zoo):
    with Zoo(tiny_zoo) as zoo, warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        assert len(zoo_graphs(zoo, split="val", max_nets=2)) == 2
