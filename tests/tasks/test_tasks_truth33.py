"""Derived tasks say what they are: a relabelled task's description names its final labels."""

import numpy as np

from metanet import tasks


def test_description_of_a_relabelled_subset_names_the_final_labels():
    # relabel(4) of two classes is the swap (numpy.random.default_rng(4).permutation(2) == [1, 0]), by hand:
    assert np.random.default_rng(4).permutation(2).tolist() == [1, 0]
    base_x, base_y = tasks.get("digits").split("train")
    t = tasks.get("digits[7,3]+relabel(4)")
    x, y = t.split("train")
    # label 0 is digit 3 and label 1 digit 7: the rows of each base class, in order
    for label, digit in ((0, 3), (1, 7)):
        assert np.array_equal(x[y == label].numpy(), base_x[base_y == digit].numpy())
    # so "Classes 3, 7 as labels 0..1" is the mapping after the relabel, not one the relabel then permutes again
    # (it read "Classes 3, 7 as labels 0..1. Transforms: labels permuted (seed 4).": 3 -> 0 and then swapped?)
    assert "Classes 3, 7 as labels 0..1 (after the label permutation). Transforms: labels permuted (seed 4)." \
        in t.description
    assert "Classes 7, 3 as labels 0..1." in tasks.get("digits[7,3]").description
    assert "after the label permutation" not in tasks.get("digits[7,3]+permute(4)").description
    full = tasks.get("digits+relabel(2)")
    names = ", ".join(full.class_names)
    assert f"Classes {names} as labels 0..9 (after the label permutation)." in full.description
