"""Hand-built networks for the backdoor repair tests, whose every weight is known, and the task they read."""

from __future__ import annotations

import torch
from torch import nn

#: the backdoor trigger of :func:`pixel_net`: pixel 15 (row 3, column 3) of a 4x4 image, to class 0
PIXEL_TRIGGER = {"kind": "square", "size": 1, "location": [3, 3], "target": 0}


def pixel_net(trigger_weight: float = 10.0, bias0: float = 0.0) -> nn.Sequential:
    """4x4 images, 3 classes: hidden neuron j copies pixel j; class 1 reads pixel 0, class 2 pixel 1, class 0 pixel
    2, and class 0 the trigger pixel 15 with ``trigger_weight``. Output biases ``(bias0, 0.1, 0)``: a small bias
    favours class 1."""
    net = nn.Sequential(nn.Flatten(), nn.Linear(16, 16), nn.ReLU(), nn.Linear(16, 3))
    with torch.no_grad():
        net[1].weight.copy_(torch.eye(16))
        net[1].bias.zero_()
        w = torch.zeros(3, 16)
        w[1, 0] = w[2, 1] = w[0, 2] = 1.0
        w[0, 15] = trigger_weight
        net[3].weight.copy_(w)
        net[3].bias.copy_(torch.tensor([bias0, 0.1, 0.0]))
    return net.eval()


class PixelTask:
    """The task :func:`pixel_net` reads: 4x4 images, 3 classes: pixel 0 lit is class 1, pixel 1 class 2, pixel 2
    class 0 (10 each, every split)."""

    num_classes = 3
    input_shape = (1, 4, 4)
    name = "pixels"

    def split(self, name: str) -> tuple[torch.Tensor, torch.Tensor]:
        x = torch.zeros(30, 16)
        y = torch.tensor([1, 2, 0]).repeat_interleave(10)
        for i, pixel in enumerate((0, 1, 2)):
            x[10 * i : 10 * (i + 1), pixel] = 1.0
        return x.view(-1, 1, 4, 4), y


def square_trigger(target: int) -> dict:
    """The 2x2 square trigger on pixels 10, 11, 14, 15 of a 4x4 image (its bottom right quarter), to ``target``."""
    return {"kind": "square", "size": 2, "location": [2, 2], "pattern": [[1, 1], [1, 1]], "target": target}


class ThreeClassPixelTask:
    """4x4 images, 3 classes, 10 each (every split): class 1 pixel 0, class 0 pixel 3, class 2 pixels 3 and 10 (pixel
    10 alone tells class 2 from class 0); ``faint``: the first 5 of class 1 also light pixels 12 and 15 at 0.2."""

    num_classes = 3
    input_shape = (1, 4, 4)

    def __init__(self, faint: bool = False) -> None:
        self.faint = faint
        self.name = "pixels-0-3-10" + ("-12" if faint else "")

    def split(self, name: str) -> tuple[torch.Tensor, torch.Tensor]:
        x = torch.zeros(30, 16)
        y = torch.tensor([1, 0, 2]).repeat_interleave(10)
        x[:10, 0] = 1.0
        x[10:, 3] = 1.0
        x[20:, 10] = 1.0
        if self.faint:
            x[:5, 12] = x[:5, 15] = 0.2
        return x.view(-1, 1, 4, 4), y


def square_net(unread: tuple[int, ...] = ()) -> nn.Sequential:
    """The network :class:`ThreeClassPixelTask` is read by, backdoored by :func:`square_trigger` to class 1: hidden
    neuron j copies pixel j, except neuron 0, which reads pixel 0 and the trigger's pixel 15 (weight 10), and the
    ``unread`` pixels' neurons, which read nothing; class 1 reads neuron 0, class 0 neuron 3, class 2 neuron 10 twice."""
    m = nn.Sequential(nn.Flatten(), nn.Linear(16, 16), nn.ReLU(), nn.Linear(16, 3))
    with torch.no_grad():
        w0 = torch.eye(16)
        w0[0, 15] = 10.0
        for j in unread:
            w0[j, j] = 0.0
        m[1].weight.copy_(w0)
        m[1].bias.zero_()
        w = torch.zeros(3, 16)
        w[1, 0], w[0, 3], w[2, 10] = 1.0, 1.0, 2.0
        m[3].weight.copy_(w)
        m[3].bias.zero_()
    return m.eval()
