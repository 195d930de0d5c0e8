"""Writer round 28 (speed of generate + verify): the shortcuts give the same values as the long way.

generate built whole splits it only needed a part or the length of: the full training split for a support set of a
few examples per class (fashion-mnist: all 60,000 images converted for 10,000), and the validation split three
times and the test split twice. The results must stay bit-identical to what the long way gave.
"""

from __future__ import annotations

import pytest
import torch

from metanet import tasks
from metanet.tasks import Task
from metanet.writer.generate import support_set


class _Duck:
    """The same task seen only through ``split`` and ``num_classes``: support_set takes the long way for it."""

    def __init__(self, task) -> None:
        self._t, self.num_classes = task, task.num_classes

    def split(self, name):
        return self._t.split(name)


@pytest.mark.parametrize("spec", ["digits", "digits[7,2,5]+permute(3)+invert", "mnist1d[0,1]+relabel(1)"])
@pytest.mark.parametrize("shots, seed", [(1, 0), (7, -5), (10_000, 3)])
def test_support_set_of_a_task_equals_the_full_split_subsampled(spec, shots, seed):
    task = tasks.resolve(spec)
    x, y = support_set(task, shots, seed)
    x0, y0 = support_set(_Duck(task), shots, seed)
    assert x.dtype == x0.dtype == torch.float32 and y.dtype == y0.dtype == torch.int64
    assert torch.equal(x, x0) and torch.equal(y, y0)
    assert x.is_contiguous()


def test_task_split_of_some_rows_equals_those_rows_of_the_split():
    task = tasks.resolve("digits[9,0,4]+permute(1)+invert")
    x, y = task.split("val")
    take = torch.tensor([5, 0, 5, len(y) - 1]).numpy()
    xs, ys = task._split("val", take)
    assert torch.equal(xs, x[take]) and torch.equal(ys, y[take])
    assert torch.equal(torch.from_numpy(task._labels("val")), y)
    xe, ye = task._split("val", take[:0])  # no rows: empty tensors of the split's shape
    assert xe.shape == (0, *x.shape[1:]) and ye.shape == (0,)


def test_generate_builds_each_split_only_as_far_as_it_needs(trained, monkeypatch):
    import metanet

    calls: list[str] = []
    split = Task.split

    def counting(self, name):
        calls.append(name)
        return split(self, name)

    monkeypatch.setattr(Task, "split", counting)
    g = metanet.generate("digits", candidates=2, seed=0, writer=trained)
    # was: train once (whole), val three times (check, scores, constant check), test twice (check, score)
    assert sorted(calls) == ["test", "val"]
    assert g.report.test is not None and g.report.test.split == "test"
    calls.clear()
    g = metanet.generate("digits", candidates=2, seed=0, writer=trained, verify=False, shots=None)
    assert calls == ["train"]  # the whole split is the support set; nothing is verified
    assert g.report.test is None


def test_generate_same_networks_and_scores_as_from_the_duck_task(trained):
    # the Task takes the short ways (support rows only, split sizes, one val split), a duck task the long ones
    import metanet

    task = tasks.resolve("digits[1,7]+invert")
    a = metanet.generate(task, candidates=3, seed=4, shots=20, writer=trained)
    b = metanet.generate(_Duck(task), candidates=3, seed=4, shots=20, writer=trained)
    assert a.report.candidates == b.report.candidates and a.report.chosen == b.report.chosen
    assert a.report.test.accuracy == b.report.test.accuracy and a.report.test.loss == b.report.test.loss
    for na, nb in zip(a.candidates, b.candidates, strict=True):
        for (ka, va), (kb, vb) in zip(na.state_dict().items(), nb.state_dict().items(), strict=True):
            assert ka == kb and torch.equal(va, vb)


@pytest.mark.parametrize("bad, count", [(float("nan"), 1), (float("inf"), 2), (-float("inf"), 3)])
def test_non_finite_support_inputs_are_still_counted(trained, bad, count):
    from metanet.errors import TaskError

    x, y = support_set(tasks.resolve("digits"), 2, 0)
    x.view(-1)[:count] = bad
    with pytest.raises(TaskError, match=f"contain {count} NaN or infinite values"):
        trained.write("mlp:64-16-10:relu", x, y)


def test_shipped_writer_is_read_again_when_its_file_changes(tmp_path, monkeypatch):
    # generate(writer=None) keeps the shipped writer it read; a changed file (another writer saved there) is read again
    import shutil

    import metanet
    import metanet.checkpoints as ckpt
    from metanet.writer import Writer
    from writer_helpers import SHIPPED

    if not SHIPPED.is_file():
        pytest.skip("no shipped writer checkpoint")
    real = ckpt.shipped
    fake = tmp_path / "shipped dir" / "writer.safetensors"
    fake.parent.mkdir()
    shutil.copy(real("writer"), fake)
    monkeypatch.setattr(ckpt, "shipped", lambda kind: fake if kind == "writer" else real(kind))
    a = metanet.generate("digits[0,1]", candidates=1, seed=0)
    assert a.report.writer["source"] == "shipped"
    b = metanet.generate("digits[0,1]", candidates=1, seed=0)  # the kept writer: the same network
    assert b.report.writer == a.report.writer
    assert all(torch.equal(v, b.model.state_dict()[k]) for k, v in a.model.state_dict().items())
    other = Writer(steps=1).eval()
    other.save(tmp_path / "other.safetensors")
    shutil.copy(tmp_path / "other.safetensors", fake)  # another writer in the shipped file
    c = metanet.generate("digits[0,1]", candidates=1, seed=0)
    assert c.report.writer["source"] == "shipped" and c.report.writer["sha256"] != a.report.writer["sha256"]
    assert c.report.writer["state_sha256"] == other.identity()["state_sha256"]
    fake.unlink()  # no shipped checkpoint: the loader's own error, not a stale writer
    with pytest.raises(metanet.errors.MetanetError):
        metanet.generate("digits[0,1]", candidates=1, seed=0)
