"""A forward that reduces the batch dimension away (``x.mean(0)`` without ``keepdim``: logits of shape ``(classes,)``)
is named as dropping the batch dimension, as the keepdim form is; the check looked only at outputs of two or more
dimensions would call it 'outputs shape () per example', sending the user to the classes instead of the batch."""

import pytest
import torch
from torch import nn

import metanet
from metanet.errors import ArchError
from metanet.verify import check_fits


class _MeanOverBatch(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(64, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(x.flatten(1)).mean(0)  # shape (10,): the batch dimension is gone


BATCH = r"maps a batch of 2 examples to outputs of shape \(10,\); its forward must keep the batch dimension"


def test_a_forward_that_reduces_the_batch_away_is_named_as_dropping_it() -> None:
    torch.manual_seed(0)
    with pytest.raises(ArchError, match=BATCH):
        check_fits(_MeanOverBatch(), (1, 8, 8), 10)
    with pytest.raises(ArchError, match=BATCH):
        metanet.verify(_MeanOverBatch(), "digits")


def test_one_number_per_example_keeps_the_batch_and_is_named_by_its_classes() -> None:
    class PerExample(nn.Module):  # (N,): the batch is kept, the classes are missing
        def __init__(self) -> None:
            super().__init__()
            self.fc = nn.Linear(64, 1)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.fc(x.flatten(1)).squeeze(1)

    with pytest.raises(ArchError, match=r"outputs shape \(\) per example, but the data has 10 classes"):
        check_fits(PerExample(), (1, 8, 8), 10)
