"""A network whose forward does not keep the batch dimension (it averages over the batch, or views the batch as one
row) cannot be scored one row of logits per example: verify, refine and check_fits name that, where scoring it was a
raw ValueError from the loss ("Expected input batch_size (1) to match target batch_size (360)"). The two-example shape
probe sees it; the one-example probe could not."""

import pytest
import torch
from torch import nn

import metanet
from metanet.errors import ArchError
from metanet.verify import check_fits


class _BatchMean(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(64, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(x.flatten(1)).mean(0, keepdim=True)  # one row for the whole batch


class _OneRow(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(64, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(x.reshape(1, -1)[:, :64])  # written for batches of one


BATCH = r"maps a batch of 2 examples to outputs of shape \(1, 10\); its forward must keep the batch dimension"


@pytest.mark.parametrize("net", [_BatchMean, _OneRow])
def test_a_network_that_drops_the_batch_dimension_is_named(net) -> None:
    torch.manual_seed(0)
    with pytest.raises(ArchError, match=BATCH):
        check_fits(net(), (1, 8, 8), 10)
    with pytest.raises(ArchError, match=BATCH):
        metanet.verify(net(), "digits")
    with pytest.raises(ArchError, match=BATCH):
        metanet.verify([net(), net()], "digits")
    with pytest.raises(ArchError, match=BATCH):
        metanet.refine(net(), "digits", steps=1, population=2)


def test_a_network_that_keeps_the_batch_dimension_still_fits() -> None:
    torch.manual_seed(0)
    net = nn.Sequential(nn.Flatten(), nn.Linear(64, 10))
    check_fits(net, (1, 8, 8), 10)
    assert metanet.verify(net, "digits").n == 360
