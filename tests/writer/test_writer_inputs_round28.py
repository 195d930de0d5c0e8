"""Writer round 28: the public helpers (shift copies, episodes) and Writer.write name bad arguments."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from metanet.errors import ConfigError, TaskError
from metanet.writer.augment import augment_support, shift_copies
from metanet.writer.episodes import EpisodeSampler, make_episode


@pytest.mark.parametrize("shift", [-1, 0, 1.5, True])
def test_shift_copies_refuses_a_shift_that_is_not_a_positive_whole_number(shift):
    # -1 was torch.cat's "Sizes of tensors must match", 1.5 and True a TypeError from F.pad; 0 five equal copies
    with pytest.raises(TaskError, match="shift must be a whole number of positions >= 1"):
        shift_copies(torch.rand(4, 1, 3, 3), shift)
    assert shift_copies(torch.rand(4, 1, 3, 3), np.int64(2)).shape == (20, 1, 3, 3)


@pytest.mark.parametrize("below", [None, -1, 2.5])
def test_augment_support_refuses_a_bad_threshold(below):
    # None was a raw TypeError ('>' between float and NoneType)
    with pytest.raises(ConfigError, match="below .* must be an integer >= 0"):
        augment_support(torch.rand(4, 1, 5, 5), torch.tensor([0, 1, 0, 1]), "shift", below)


@pytest.mark.parametrize("shots, query", [(0, 3), (-1, 3), (2, 0), (2, -1), (1.5, 3)])
def test_make_episode_refuses_empty_or_negative_sizes(shots, query):
    # shots=0 gave an empty support, shots=-1 all but one example of each class, query=0 an empty query; 1.5 a
    # TypeError from slicing
    x, y = torch.rand(20, 4), torch.arange(20) % 2
    with pytest.raises(TaskError, match="must be a whole number >= 1"):
        make_episode(x, y, [0, 1], shots, query, torch.Generator().manual_seed(0))


def test_make_episode_reads_classes_given_as_a_tensor_as_integers():
    # a tensor's 0-d elements named the episode "[tensor(1),tensor(0)]" and set() did not see a repeated class
    x, y = torch.rand(20, 4), torch.arange(20) % 2
    g = lambda: torch.Generator().manual_seed(0)  # noqa: E731
    (sx, sy), _, name = make_episode(x, y, torch.tensor([1, 0]), 2, 3, g(), name="toy")
    assert name == "toy[1,0]"
    (rx, ry), _, _ = make_episode(x, y, [1, 0], 2, 3, g(), name="toy")
    assert torch.equal(sx, rx) and torch.equal(sy, ry)
    with pytest.raises(TaskError, match="distinct classes"):
        make_episode(x, y, torch.tensor([0, 0]), 2, 3, g())
    with pytest.raises(TaskError, match="integer labels"):
        make_episode(x, y, [0.5, 1], 2, 3, g())


@pytest.mark.parametrize("index", [1.0, "1", torch.tensor(1.0)])
def test_episode_index_must_be_an_integer(index):
    # 1.0 was "manual_seed expected a long, but got float", "1" a TypeError
    s = EpisodeSampler(bases=["digits"], seed=0, length=2)
    with pytest.raises(TaskError, match="episode index is an integer"):
        s.episode(index)


def test_write_names_the_labels_outside_the_classes(untrained):
    # labels [3, 7] of a 2-class task: "support labels must be in 0..1 and non-empty" named neither the labels nor
    # the fix; an empty support set was reported as a label problem
    x = torch.rand(6, 5)
    with pytest.raises(TaskError, match=r"support labels must be in 0\.\.1 \(class ids\), got labels \[3, 7\]; "
                                        r"renumber"):
        untrained.write("mlp:5-4-2:relu", x, torch.tensor([3, 7, 3, 7, 3, 7]))
    with pytest.raises(TaskError, match="the support set is empty"):
        untrained.write("mlp:5-4-2:relu", x[:0], torch.zeros(0, dtype=torch.long))
