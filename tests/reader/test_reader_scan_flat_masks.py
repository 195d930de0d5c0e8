"""The scan's ``concentration`` feature of an MLP: its masks are flat, and a flat mask of a square image
(64 = 8x8 inputs) is read as that image, as the module docstring says (square inputs only, else 0)."""

from __future__ import annotations

import math

import torch

from metanet.edit.repair import concentration
from metanet.reader.scan import SCAN_FEATURES, _features

CONC = SCAN_FEATURES.index("concentration")


def test_a_flat_mask_of_a_square_image_is_read_as_the_image():
    m = torch.full((1, 3, 8, 8), 0.1)
    m[:, 1] = 0.0
    m[:, 1, :3, :3] = 1.0  # the smallest mask: a 3x3 patch in a corner
    l1 = torch.tensor([[90.0, 9.0, 80.0]])
    flat = _features(l1, m.reshape(1, 3, 64))[0, CONC]
    assert math.isclose(float(flat), concentration(m[0, 1]), rel_tol=1e-6) and float(flat) > 0.99
    assert float(_features(l1, torch.rand(1, 3, 60))[0, CONC]) == 0.0  # 60 inputs: not a square image
