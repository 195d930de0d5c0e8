"""verify(net, (x, y)) on examples of only some of the network's classes (e.g. its 3s and 8s).

Such labels were refused ("classes [...] have no examples": the examples were made a Task, which needs every class
0..k-1) although refine and the Report (per_class NaN for a class absent from the split) take them.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

import metanet
from metanet import tasks
from metanet.errors import ArchError, TaskError
from metanet.tasks import from_examples
from metanet.tasks.examples import examples_split


@pytest.fixture(scope="module")
def digits_net():
    """A 10-class digits network (fixed seed) and the digits test split as uint8 images, converted by verify."""
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(64, 10))
    x, y = tasks.get("digits").split("train")
    opt = torch.optim.SGD(net.parameters(), lr=0.5)
    for _ in range(30):  # a few full-batch steps: right on most examples, wrong on some
        opt.zero_grad()
        torch.nn.functional.cross_entropy(net(x), y).backward()
        opt.step()
    x, y = tasks.get("digits").split("test")
    return net.eval(), (x * 16).round().to(torch.uint8), y  # digits are 0..16 levels: uint8 0..255 after scaling


def _key(r) -> tuple:
    """A report's scores, NaN as None (NaN != NaN: lists holding it compare unequal)."""
    return (r.accuracy, [None if math.isnan(a) else a for a in r.per_class], r.n, r.task, r.split)


def _by_hand(net, x, y, keep: np.ndarray):
    """(correct, summed loss) over the examples at positions keep, with the network's own forward pass."""
    with torch.no_grad():
        logits = net(x[keep].float() / 255)
    yk = y[keep]
    return int((logits.argmax(1) == yk).sum()), float(torch.nn.functional.cross_entropy(logits, yk, reduction="sum"))


def test_a_10_class_network_on_its_3s_and_8s_is_scored_on_them(digits_net):
    net, x, y = digits_net
    m = (y == 3) | (y == 8)
    xs, ys = x[m], y[m]
    reports = {s: metanet.verify(net, (xs, ys), split=s) for s in ("train", "val", "test")}
    # the three splits hold every example once: their scores add up to the hand-computed ones over all of them
    assert sum(r.n for r in reports.values()) == int(m.sum())
    correct, loss = _by_hand(net, xs, ys, np.arange(len(ys)))
    assert sum(round(r.accuracy * r.n) for r in reports.values()) == correct
    assert sum(r.loss * r.n for r in reports.values()) == pytest.approx(loss, rel=1e-5)
    r = reports["test"]
    # the test split is the one from_examples makes of them (per class, seed 0): labels 3 / 8 renumbered 0 / 1
    t = from_examples(xs, (ys == 8).long())
    _, yt = t.split("test")
    keep = np.flatnonzero(np.isin(np.arange(len(ys)), _rows_of(t, xs, "test")))
    assert r.n == len(yt) == len(keep) > 0
    c, loss_t = _by_hand(net, xs, ys, keep)
    assert r.accuracy == c / len(keep) and 0 < r.accuracy < 1  # some right, some wrong: not a trivial score
    assert r.loss == pytest.approx(loss_t / len(keep), rel=1e-6)
    assert len(r.per_class) == 10
    assert all(math.isnan(a) for i, a in enumerate(r.per_class) if i not in (3, 8))
    for cls in (3, 8):
        kc = keep[ys[keep].numpy() == cls]
        assert r.per_class[cls] == _by_hand(net, xs, ys, kc)[0] / len(kc)
    assert r.task == examples_split(xs, ys, "test")[0] and r.task.startswith("examples-") and r.split == "test"


def _rows_of(task, xs, split: str) -> np.ndarray:
    """Positions in xs of the examples of task's split (all distinct inputs here)."""
    xt, _ = task.split(split)
    flat = (xs.float() / 255).reshape(len(xs), -1)
    return np.array([int(torch.nonzero((flat == row.reshape(-1)).all(1))[0]) for row in xt])


def test_a_single_class_and_numpy_labels_too(digits_net):
    net, x, y = digits_net
    m = y == 8
    r = metanet.verify(net, (x[m].numpy(), y[m].numpy().astype(np.int32)), split="train")
    assert r.per_class[8] == r.accuracy and sum(not math.isnan(a) for a in r.per_class) == 1


def test_a_batch_of_networks_on_some_classes(digits_net):
    net, x, y = digits_net
    m = (y == 3) | (y == 8)
    other = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(64, 10))
    with torch.no_grad():
        other[1].weight.copy_(net[1].weight.flip(0))  # another network of the architecture: other scores
        other[1].bias.copy_(net[1].bias.flip(0))
    both = metanet.verify([net, other], (x[m], y[m]))
    alone = [metanet.verify(n, (x[m], y[m])) for n in (net, other)]
    assert [_key(r) for r in both] == [_key(r) for r in alone]
    assert both[0].accuracy != both[1].accuracy
    assert both[0].loss == pytest.approx(alone[0].loss) and both[1].loss == pytest.approx(alone[1].loss)
    assert all(math.isnan(r.per_class[0]) for r in both)


def test_labels_past_the_network_s_outputs_are_refused_naming_its_range(digits_net):
    net, x, y = digits_net
    y2 = y.clone()
    y2[y2 == 9] = 12  # a class the 10-output network has no output for (kept out of some splits: checked on all)
    for split in ("train", "test"):
        with pytest.raises(ArchError, match=r"network outputs 10 classes per example \(labels 0\.\.9\), but .* "
                                            r"has labels up to 12"):
            metanet.verify(net, (x, y2), split=split)
    with pytest.raises(ArchError, match=r"labels 0\.\.9\), but .* has labels up to 1000000000000"):
        metanet.verify(net, (x[:5], torch.tensor([3, 3, 8, 8, 10**12])), split="train")  # no loop over 10**12
    with pytest.raises(TaskError, match="negative label -1"):
        metanet.verify(net, (x[:3], torch.tensor([3, -1, 8])))
    with pytest.raises(TaskError, match=r"unknown split 'tset'.*valid splits: train, val, test"):
        metanet.verify(net, (x, y), split="tset")


def test_the_full_class_case_is_the_report_of_its_task_as_before(digits_net):
    net, x, y = digits_net
    full = from_examples(x, y)  # every class: what verify made of (x, y) before
    for split in ("train", "val", "test"):
        got, want = metanet.verify(net, (x, y), split=split), metanet.verify(net, full, split=split)
        # bit-identical: accuracy, loss, per_class, n, task name, split
        assert _key(got) == _key(want) and got.loss == want.loss and got.extra == want.extra
        xe, ye = examples_split(x, y, split)[1:3]
        xt, yt = full.split(split)
        assert torch.equal(xe, xt) and xe.dtype == xt.dtype and torch.equal(ye, yt)
    # a list [x, y] is examples too, and a named task is scored as it was
    assert metanet.verify(net, [x, y]).accuracy == metanet.verify(net, full).accuracy
    assert metanet.verify(net, "digits").n == len(tasks.get("digits").split("test")[1])
