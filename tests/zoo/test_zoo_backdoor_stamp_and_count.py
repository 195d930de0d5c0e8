"""Backdoor triggers as `metanet/zoo/backdoor.py` documents them: the patch is stamped on every channel of (C, H, W)
images at ``location`` = [row, col] (the other pixels untouched), and a poisoned run stamps ``round(rate * n)``
examples, not the floor of it."""

from __future__ import annotations

import torch

from metanet.zoo.backdoor import apply_trigger, poison_indices, trigger_tensors

_TRIGGER = {"kind": "square", "size": 2, "location": [1, 3], "pattern": [[1, 0], [0, 1]], "target": 0,
            "poison_rate": 0.1}


def test_the_trigger_covers_every_channel_at_its_row_and_column():
    values, mask = trigger_tensors(_TRIGGER, (3, 6, 6))
    want = torch.zeros(6, 6, dtype=torch.bool)
    want[1:3, 3:5] = True
    assert torch.equal(mask, want.expand(3, 6, 6))
    patch = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
    assert all(torch.equal(values[c, 1:3, 3:5], patch) for c in range(3))


def test_apply_trigger_stamps_rgb_images_on_all_channels_and_leaves_the_rest():
    x = torch.full((4, 3, 6, 6), 0.5)
    out = apply_trigger(x, _TRIGGER)
    assert torch.equal(out[:, :, 1:3, 3:5], torch.tensor([[1.0, 0.0], [0.0, 1.0]]).expand(4, 3, 2, 2))
    out[:, :, 1:3, 3:5] = 0.5
    assert torch.equal(out, x)


def test_poison_indices_rounds_the_poisoned_count():
    g = torch.Generator().manual_seed(0)
    idx = poison_indices(10, 0.29, g)  # round(2.9) = 3 (the floor gave 2)
    assert len(idx) == 3 and len(set(idx.tolist())) == 3
    assert len(poison_indices(10, 0.21, torch.Generator().manual_seed(0))) == 2
