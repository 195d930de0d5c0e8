"""verify (and everything that checks a network against a task first) names the layer of the user's network that
cannot take the task's inputs, and the shape that reached it: torch's "mat1 and mat2 shapes cannot be multiplied
(1x36 and 16x10)" named no layer of the network."""

import pytest
import torch
from torch import nn

import metanet
from metanet.errors import ArchError


def _task() -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(0)
    return torch.rand(12, 1, 8, 8, generator=g), torch.arange(12) % 10


@pytest.mark.parametrize("model, message", [
    # a Linear sized for another image: 4 channels x 3 x 3 positions reach it, not 16 features
    (nn.Sequential(nn.Conv2d(1, 4, 3, stride=2), nn.ReLU(), nn.Flatten(), nn.Linear(16, 10)),
     r", at module 3 \(Linear\(in_features=16, out_features=10, bias=True\)\), which gets inputs of shape \(36,\) "
     r"per example: mat1 and mat2"),
    # an image too small for the third convolution
    (nn.Sequential(nn.Conv2d(1, 4, 3), nn.Conv2d(4, 4, 3), nn.Conv2d(4, 4, 5), nn.Flatten(), nn.Linear(4, 10)),
     r", at module 2 \(Conv2d\(4, 4, kernel_size=\(5, 5\).*\)\), which gets inputs of shape \(4, 4, 4\) per example: "),
])
def test_the_layer_that_cannot_take_the_inputs_is_named(model, message):
    start = r"network does not accept inputs of shape \(1, 8, 8\) from task 'examples-\w+'"
    with pytest.raises(ArchError, match=start + message):
        metanet.verify(model, _task(), split="train")


class _Reshaping(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(64, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(x.view(-1, 60))  # fails in the network's own code, in no layer


def test_a_failure_in_the_networks_own_code_names_no_layer():
    with pytest.raises(ArchError, match=r"inputs of shape \(1, 8, 8\) from task 'examples-\w+': shape") as e:
        metanet.verify(_Reshaping(), _task(), split="train")
    assert "at module" not in str(e.value)
