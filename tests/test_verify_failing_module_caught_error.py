"""verify names the layer whose error stopped the probe, not a layer whose error the network's own code caught
earlier: "at module probe (Linear(...))" was said of a layer that had failed and been caught, when the failure was
in the network's own code, or in another layer."""

import pytest
import torch
from torch import nn

import metanet
from metanet.errors import ArchError


def _task() -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(0)
    return torch.rand(12, 1, 8, 8, generator=g), torch.arange(12) % 10


class _TriesFirst(nn.Module):
    """Tries a layer of another input size first, catches its error, then goes on."""

    def __init__(self, fc_inputs: int) -> None:
        super().__init__()
        self.probe = nn.Linear(3, 3)
        self.fc = nn.Linear(fc_inputs, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x.flatten(1)
        try:
            self.probe(x)
        except RuntimeError:
            pass
        return self.fc(x[:, :60]) if self.fc.in_features == 64 else x @ torch.zeros(5, 10)


@pytest.mark.parametrize("fc_inputs, message", [
    (64, r", at module fc \(Linear\(in_features=64, out_features=10, bias=True\)\), which gets inputs of shape "
         r"\(60,\) per example: mat1 and mat2"),
    (5, r": mat1 and mat2"),  # the network's own code failed: no layer named
])
def test_a_caught_error_of_another_layer_is_not_named(fc_inputs: int, message: str) -> None:
    start = r"network does not accept inputs of shape \(1, 8, 8\) from task 'examples-\w+'"
    with pytest.raises(ArchError, match=start + message):
        metanet.verify(_TriesFirst(fc_inputs), _task(), split="train")


class _Block(nn.Module):
    """A layer of the network that catches its own child's error, then fails in its own code."""

    def __init__(self) -> None:
        super().__init__()
        self.inner = nn.Linear(3, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        try:
            self.inner(x)
        except RuntimeError:
            pass
        return x @ torch.zeros(5, 10)


def test_a_layer_failing_after_its_child_caught_an_error_is_the_one_named() -> None:
    # "at module 1.inner (Linear(...))" was said: the innermost module the error had left, not this one
    with pytest.raises(ArchError, match=r"from task 'examples-\w+', at module 1 \(_Block\), which gets inputs of "
                                        r"shape \(64,\) per example: mat1 and mat2"):
        metanet.verify(nn.Sequential(nn.Flatten(), _Block()), _task(), split="train")


def test_no_hook_is_left_on_the_network_after_the_error() -> None:
    model = _TriesFirst(64)
    with pytest.raises(ArchError):
        metanet.verify(model, _task(), split="train")
    assert not any(m._forward_hooks or m._forward_pre_hooks for m in model.modules())
