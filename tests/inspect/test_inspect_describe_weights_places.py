"""describe_weights names the 3x3 place of the image where a first-layer neuron puts its weight: the right place
(row, then column), and only a place that holds a fair share of the neuron's weight AND stands out from the layer."""

from __future__ import annotations

import torch

from metanet.inspect.analyze import describe_weights

SHAPE = (1, 9, 9)  # 3x3 blocks of 3x3 pixels


def _neuron(cells: dict[tuple[int, int], float]) -> torch.Tensor:
    """One neuron's weights over a 9x9 image: the value given on each named 3x3 block (row, column), else 0."""
    img = torch.zeros(9, 9)
    for (r, c), v in cells.items():
        img[3 * r : 3 * r + 3, 3 * c : 3 * c + 3] = v
    return img.flatten()


def test_each_place_is_named_by_its_row_then_its_column():
    # nine neurons, neuron k bright on block k only: each stands out from the layer's average (1/9 per place)
    w = torch.stack([_neuron({(k // 3, k % 3): 1.0}) for k in range(9)])
    got = describe_weights(w, SHAPE)
    assert got[2] == "looks for bright pixels at the top right"  # row 0, column 2 (transposed: bottom left)
    assert got[3] == "looks for bright pixels at the middle left"
    assert got[7] == "looks for bright pixels at the bottom centre"
    assert got == [f"looks for bright pixels at the {p}" for p in (
        "top left", "top centre", "top right", "middle left", "centre", "middle right",
        "bottom left", "bottom centre", "bottom right")]


def test_dark_pixels_are_placed_too():
    w = torch.stack([_neuron({(0, 2): -1.0, (2, 0): 1.0}), _neuron({(1, 1): 1.0, (2, 2): -1.0})])
    assert describe_weights(w, SHAPE) == [
        "looks for bright pixels at the bottom left and dark pixels at the top right",
        "looks for bright pixels at the centre and dark pixels at the bottom right"]


def test_a_place_every_neuron_weighs_is_not_news():
    # both neurons hold all their positive weight at the centre: share 1, but only 1x the layer's average share
    w = torch.stack([_neuron({(1, 1): 1.0}), _neuron({(1, 1): 2.0})])
    assert describe_weights(w, SHAPE) == ["", ""]


def test_a_place_with_a_small_share_is_not_named_however_rare():
    # neuron 0 puts 10% of its weight at the top left, where no other neuron has any (ratio 2 >= 1.3, share < 0.2);
    # the rest is spread evenly over the other 8 places, as the other neuron's is
    spread = {(r, c): 1.0 for r in range(3) for c in range(3) if (r, c) != (0, 0)}
    w = torch.stack([_neuron({**spread, (0, 0): 8 / 9}), _neuron(spread)])
    share = 8 / 9 / (8 + 8 / 9)
    assert 0.09 < share < 0.11
    assert describe_weights(w, SHAPE) == ["", ""]
