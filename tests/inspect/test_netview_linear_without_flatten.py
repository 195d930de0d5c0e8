"""NetView (inspect and the edits) on an nn.Sequential whose Linear layer reads images without an nn.Flatten before
it: such a Linear reads the images' last axis, so its weight columns are not blocks of the channels (or units)
before it. These networks were accepted whenever the sizes divided: inspect failed with a raw RuntimeError and
``edit.remove`` zeroed other neurons' weights. The neural graph refuses them too."""

import pytest
import torch
from torch import nn

import metanet.edit as E
from metanet.errors import ArchError
from metanet.inspect.netview import NetView


def _task() -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(0)
    return torch.rand(24, 1, 8, 8, generator=g), torch.arange(24) % 10


def _conv_then_linear_on_width() -> nn.Sequential:
    torch.manual_seed(0)  # (N, 3, 6, 6) -> Linear over the width 6 -> (N, 3, 6, 5) -> Flatten: 90 features
    return nn.Sequential(nn.Conv2d(1, 3, 3), nn.ReLU(), nn.Linear(6, 5), nn.Flatten(), nn.Linear(90, 10))


def _linear_on_images() -> nn.Sequential:
    torch.manual_seed(0)  # (N, 1, 8, 8) -> Linear over the width 8 -> (N, 1, 8, 16) -> Flatten: 128 features
    return nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Flatten(), nn.Linear(128, 10))


@pytest.mark.parametrize("make, message", [
    (_conv_then_linear_on_width, r"module 2 \(Linear\) reads the 4-D output of Conv2d module 0 without an "
                                 r"nn.Flatten\(\) between them.*insert nn.Flatten\(\)"),
    (_linear_on_images, r"module 3 \(Linear with 128 inputs\) does not read the 16 outputs of Linear module 0 one to "
                        r"one; supported: in_features=16"),
])
def test_a_linear_that_reads_no_flattened_neurons_is_refused(make, message):
    model = make()
    x, y = _task()
    assert model(x).shape == (24, 10)  # a network torch runs: only its neurons cannot be mapped
    with pytest.raises(ArchError, match=message):
        NetView(model)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    with pytest.raises(ArchError, match=message):  # not an edit of the wrong weight columns
        E.remove(model, "1:1", (x, y))
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())


def test_a_flattened_conv_is_still_edited_as_its_channels():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(1, 3, 3), nn.ReLU(), nn.Flatten(), nn.Linear(108, 10)).eval()
    x, y = _task()
    edited = E.remove(model, "1:1", (x, y)).model
    with torch.no_grad():
        h = model[1](model[0](x))
        h[:, 1] = 0  # channel 1 removed, by hand
        assert torch.allclose(edited(x), model[2:](h), atol=1e-6)
