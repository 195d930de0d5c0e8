"""read()'s ``input_shape`` of a CNN is (C, H, W): a non-square (1, 8, 12) is read as 8x12 images, not 12x8."""

from __future__ import annotations

from reader_helpers import needs_shipped

import metanet
from metanet.nets import build

pytestmark = needs_shipped


def test_a_non_square_input_shape_is_height_then_width():
    reading = metanet.read(build("cnn:1-4-8-10:relu", seed=2), input_shape=(1, 8, 12))
    assert "8x12 images" in reading["trigger_scan_skipped"]
    assert "12x8" not in reading["trigger_scan_skipped"]
