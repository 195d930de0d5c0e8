"""Round 27b: a dataset split of a partial zoo warns that it will change, ``num_classes`` of an empty dataset, a
read-only foreign index (``nets`` table only) names the real problem."""

from __future__ import annotations

import sqlite3
import warnings

import pytest

from zoo_helpers import open_read_only

from metanet.zoo import Zoo
from metanet.zoo.store import SCHEMA


def test_split_of_a_partial_zoo_warns_once_that_it_will_change(partial_tiny_zoo):
    """The split is drawn over the runs present: a partial zoo split silently differently from the finished one
    (a test run could later land in train). Now it warns, once, naming the missing runs."""
    with Zoo(partial_tiny_zoo) as zoo:
        with pytest.warns(UserWarning, match=r"4 of its recipe's 96 runs \(92 missing.*will change when the build "
                                              r"completes"):
            ds = zoo.dataset(split="test")
        assert {n.run for n in ds.nets} <= {0, 1, 2, 3}
        with warnings.catch_warnings():
            warnings.simplefilter("error", UserWarning)  # once per zoo: the other splits do not repeat it
            zoo.dataset(split="train")
            zoo.dataset(split="val", target="backdoor")
            zoo.dataset(split="all")


def test_split_of_a_complete_zoo_does_not_warn(small_zoo):
    with Zoo(small_zoo) as zoo, warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        for split in ("train", "val", "test"):
            zoo.dataset(split=split)


def test_split_of_the_complete_tiny_zoo_is_unchanged(tiny_zoo):
    """The warning must not change how a complete zoo splits (the shipped reader's benchmark depends on it)."""
    from metanet.zoo.dataset import split_runs

    with Zoo(tiny_zoo) as zoo, warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        sides = split_runs([n.run for n in zoo], (0.8, 0.1, 0.1), 0)
        for split in ("train", "val", "test"):
            ds = zoo.dataset(split=split)
            assert ds.ids == [n.id for n in zoo if n.run in sides[split]]
        assert len(zoo.dataset("train").ids) == 308 and len(zoo.dataset("test").ids) == 40


@pytest.mark.parametrize("target", ["test_acc", ["test_acc", "epoch"], "backdoor"])
def test_num_classes_of_an_empty_dataset_is_zero(small_zoo, target):
    """An empty dataset (a filter matching nothing) with a float target raised PyG's bare IndexError ('list index
    out of range'); PyG's value for no labels is 0."""
    with Zoo(small_zoo) as zoo:
        ds = zoo.dataset(split="all", target=target, run=[])
        assert len(ds) == 0 and ds.num_classes == 0
        assert zoo.dataset(split="all", target=target)[:0].num_classes == 0  # an empty subset too
        assert zoo.dataset(split="all", target="task", run=[]).num_classes == 1  # class targets: the label space


def test_read_only_index_with_only_a_nets_table_names_the_foreign_index(tmp_path):
    """An index with a 'nets' table only (another tool's, a partial copy), read-only, was reported as 'cannot write
    the zoo index ... the zoo is read-only: build or merge into a writable directory', though the user only read."""
    z = tmp_path / "foreign zoo"
    (z / "shards").mkdir(parents=True)
    con = sqlite3.connect(str(z / "index.sqlite"))
    con.executescript(SCHEMA.split("CREATE INDEX")[0])  # the nets table alone
    con.close()
    printed = open_read_only(z)
    assert printed.startswith("ZooError:"), printed
    assert "no 'units' and 'meta' tables" in printed and "not written by 'metanet zoo build'" in printed
    assert "build or merge into a writable directory" not in printed
    with Zoo(z) as zoo:  # with write access it opens (the tables are added), empty
        assert len(zoo) == 0
