"""Writer.write round 27b: the support inputs it takes are the ones generate and the task readers take."""

from __future__ import annotations

import pytest
import torch

from metanet.errors import TaskError
from metanet.tasks.resolve import as_examples


def test_write_reads_uint8_and_bool_images_as_generate_does(trained, digits):
    # write refused uint8 (a TaskError) while generate / tasks.from_examples divide it by 255: the same images must
    # give the same support set, hence the same weights, bit for bit
    x, y = digits.split("train")
    x8 = (x[:120] * 255).round().to(torch.uint8)
    y = y[:120]
    with torch.no_grad():
        want = trained.write("mlp:64-16-10:relu", as_examples(x8, y)[0], y, 10, candidates=2, seed=3)
        got = trained.write("mlp:64-16-10:relu", x8, y, 10, candidates=2, seed=3)
        assert all(torch.equal(want[k], got[k]) for k in want)
        xb = x[:120] > 0.5
        want = trained.write("mlp:64-16-10:relu", xb.float(), y, 10, seed=3)
        got = trained.write("mlp:64-16-10:relu", xb.numpy(), y, 10, seed=3)
        assert all(torch.equal(want[k], got[k]) for k in want)


def test_write_still_refuses_other_integer_inputs_naming_what_is_taken(untrained, digits):
    x, y = digits.split("train")
    with pytest.raises(TaskError,
                       match=r"support inputs have dtype torch\.int16; use floating point .*or uint8 values 0\.\.255"):
        untrained.write("mlp:64-16-10:relu", (x[:50] * 255).to(torch.int16), y[:50], 10)
