"""``split_runs`` as :mod:`metanet.zoo.dataset` documents it: a permutation of the sorted run ids drawn from the
split seed, cut at ``round(cumulative fraction * n)``. The reader's split and the shipped benchmarks depend on this
exact assignment, so the sizes, the seed and the order of the runs are pinned here (without a zoo)."""

from __future__ import annotations

import numpy as np

from metanet.zoo.dataset import split_runs


def test_sizes_are_rounded_cumulative_fractions():
    # 10 runs at (0.66, 0.17, 0.17): train round(6.6) = 7 (the floor gave 6), val round(8.3) - 7 = 1 (rounding the
    # val fraction alone gave round(1.7) = 2), test the remaining 2
    sides = split_runs(range(10), (0.66, 0.17, 0.17), 0)
    assert [len(sides[s]) for s in ("train", "val", "test")] == [7, 1, 2]
    assert set().union(*sides.values()) == set(range(10))


def test_the_seed_chooses_the_permutation():
    runs = list(range(20))
    splits = [split_runs(runs, (0.5, 0.25, 0.25), seed) for seed in range(4)]
    assert split_runs(runs, (0.5, 0.25, 0.25), 2) == splits[2]  # seeded: the same seed, the same split
    assert len({frozenset(s["train"]) for s in splits}) == 4  # another seed, another split


def test_the_permutation_indexes_the_sorted_run_ids():
    """Run ids given in any order (duplicates included) are sorted first, then permuted by the seed's generator."""
    runs = [41, 7, 19, 3, 88, 7, 60, 25, 12, 99, 5, 70]
    ids = sorted(set(runs))
    order = np.random.default_rng(3).permutation(len(ids))
    want = {"train": {ids[i] for i in order[:6]}, "val": {ids[i] for i in order[6:8]},
            "test": {ids[i] for i in order[8:]}}
    assert split_runs(runs, (0.55, 0.2, 0.25), 3) == want  # 11 ids: cuts at round(6.05) = 6 and round(8.25) = 8
