"""A BatchNorm without running stats (``track_running_stats=False``, common in MAML-style networks) normalises by the
batch's statistics even in eval mode: verify scores it as it scores itself. Its one-example shape probe was refused
("Expected more than 1 value per channel"), reported as a network that does not accept the task's inputs."""

import torch
from torch import nn

import metanet
from metanet.tasks import get


def test_a_batchnorm_of_batch_statistics_is_verified_as_it_scores_itself():
    torch.manual_seed(0)
    net = nn.Sequential(nn.Flatten(), nn.Linear(64, 32), nn.BatchNorm1d(32, track_running_stats=False), nn.ReLU(),
                        nn.Linear(32, 10)).eval()
    x, y = get("digits").split("test")
    with torch.no_grad():
        own = (net(x).argmax(1) == y).double().mean().item()  # the whole split in one batch, as verify's one chunk
    report = metanet.verify(net, "digits")
    assert report.n == len(y) == 360
    assert report.accuracy == own
