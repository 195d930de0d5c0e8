"""`metanet.generate` end to end on small tasks: accuracy, unseen tasks, task objects without a name or input shape,
one integer rule for generate and Writer.write, determinism, save/load, errors, constant networks warned about,
the shipped writer read again when its file changes. generate builds each split only as far as it needs (the
support rows, the split sizes, one validation split); the results stay bit-identical to the long way a duck-typed
task takes."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import metanet
from metanet import tasks
from metanet.errors import ArchError, TaskError
from metanet.tasks import Task
from metanet.writer import generate
from metanet.writer.generate import support_set

from writer_helpers import needs_shipped


@needs_shipped
def test_shipped_writer_generates_digits_far_above_majority(digits):
    g = generate("digits", candidates=4)  # no writer= : the shipped checkpoint
    majority = torch.bincount(digits.split("test")[1]).max().item() / digits.sizes()["test"]
    assert majority < 0.11
    assert g.report.test.accuracy >= 0.9, str(g.report)
    assert len(g.candidates) == 4 and g.report.chosen in range(4)


def test_untrained_writer_generates_digits(untrained):
    # measured: 0.947 test accuracy (candidates 0.94-0.95 on val); the closed-form ridge paths alone carry it
    g = generate("digits", candidates=4, writer=untrained)
    assert g.report.test.accuracy >= 0.9, str(g.report)
    assert g.report.seconds < 30


def _unseen_task(seed: int = 0):
    """3 digits classes of the *test* split, pixels permuted: never seen by the writer, given only as examples."""
    x, y = tasks.get("digits").split("test")
    keep = (y == 2) | (y == 5) | (y == 7)
    x, y = x[keep], y[keep]
    y = torch.bucketize(y, torch.tensor([2, 5, 7]))  # 2, 5, 7 -> 0, 1, 2
    perm = torch.randperm(64, generator=torch.Generator().manual_seed(seed))
    x = x.flatten(1)[:, perm].view_as(x)
    return tasks.from_examples(x, y, name="unseen-digits-2-5-7-permuted", test_fraction=0.5, val_fraction=0.15)


@pytest.mark.parametrize("which", ["untrained", pytest.param("trained", marks=needs_shipped)])
def test_unseen_task_from_examples_beats_chance(which, request):
    writer = request.getfixturevalue(which)
    task = _unseen_task()
    assert task.num_classes == 3 and task.sizes()["test"] >= 45
    g = generate(task, candidates=4, writer=writer)
    # chance is 1/3; measured with the untrained writer: ~0.96
    assert g.report.test.accuracy >= 0.8, str(g.report)


def _states(g):
    return [{k: v.clone() for k, v in m.state_dict().items()} for m in g.candidates]


def test_generation_is_deterministic_per_seed(untrained, digits):
    a = generate(digits, candidates=3, seed=5, writer=untrained)
    b = generate(digits, candidates=3, seed=5, writer=untrained)
    c = generate(digits, candidates=3, seed=6, writer=untrained)
    for sa, sb in zip(_states(a), _states(b)):
        assert sa.keys() == sb.keys()
        assert all(torch.equal(sa[k], sb[k]) for k in sa)
    assert a.report.chosen == b.report.chosen
    for sa, sc in zip(_states(a), _states(c)):
        assert not torch.equal(sa["layers.0.weight"], sc["layers.0.weight"])
    # candidates of one call differ from each other too
    s = _states(a)
    assert not torch.equal(s[0]["layers.0.weight"], s[1]["layers.0.weight"])


def test_every_candidate_round_trips_through_save_load(untrained, digits, tmp_path):
    g = generate(digits, candidates=3, seed=1, writer=untrained)
    x, _ = digits.split("test")
    for i, net in enumerate(g.candidates):
        path = metanet.save(net, tmp_path / f"cand{i}.safetensors", candidate=i)
        back = metanet.load(path)
        with torch.no_grad():
            assert torch.equal(net(x), back(x))
        assert metanet.load_meta(path) == {"candidate": i}
    path = g.save(tmp_path / "chosen.safetensors")
    meta = metanet.load_meta(path)
    assert meta["generated_by"] == "metanet.writer" and meta["zero_gradient_steps"] is True
    assert meta["test_accuracy"] == pytest.approx(g.report.test.accuracy)
    with torch.no_grad():
        assert torch.equal(metanet.load(path)(x), g.model(x))


# --- bad specs -----------------------------------------------------------------------------------------------
def test_unknown_task_text_is_a_task_error(untrained):
    with pytest.raises(TaskError, match="could not tell which task"):
        generate("blorp the zorp", writer=untrained)
    with pytest.raises(TaskError, match=r"a task spec must be .*, got str ''"):
        generate("", writer=untrained)
    with pytest.raises(TaskError, match="candidates must be an integer >= 1, got 0"):
        generate("digits", candidates=0, writer=untrained)
    with pytest.raises(TaskError, match="seed must be an integer, got 1.5"):  # was torch's RuntimeError
        generate("digits", seed=1.5, writer=untrained)


def test_one_class_support_is_a_task_error(untrained, digits):
    x, y = digits.split("train")
    with pytest.raises(TaskError, match="single class"):
        tasks.from_examples(x[y == 3][:20], torch.zeros(20, dtype=torch.long))
    # the writer itself: labels all 0 for a 10-class architecture
    with pytest.raises(TaskError, match="each of the 10 classes"):
        untrained.write("mlp:64-16-10:relu", x[:50], torch.zeros(50, dtype=torch.long), 10)
    with pytest.raises(TaskError, match="each of the 2 classes"):
        untrained.write("mlp:64-16-2:relu", x[:50], torch.zeros(50, dtype=torch.long), 2)
    with pytest.raises(TaskError, match=r"support labels must be in 0\.\.1"):  # labels outside 0..K-1
        untrained.write("mlp:64-16-2:relu", x[:4], torch.tensor([0, 1, 2, 1]), 2)


def test_mismatched_input_size_is_an_arch_error(untrained):
    with pytest.raises(ArchError, match="does not fit"):
        generate("digits", arch="mlp:784-64-10:relu", writer=untrained)
    with pytest.raises(ArchError, match=r"reads 3-channel images, the task's inputs have shape \(1, 8, 8\)"):
        generate("digits", arch="cnn:3-8-10:relu:k3:s2", writer=untrained)  # 3 input channels, digits has 1


def test_wrong_class_count_is_an_arch_error(untrained, digits):
    with pytest.raises(ArchError, match="10 classes"):
        generate("digits", arch="mlp:64-32-5:relu", writer=untrained)
    x, y = digits.split("train")
    with pytest.raises(ArchError, match="outputs"):
        untrained.write("mlp:64-16-10:relu", x[:100], y[:100], num_classes=9)


def test_malformed_arch_is_an_arch_error(untrained):
    with pytest.raises(ArchError, match="malformed widths '64-x-10' in 'mlp:64-x-10'"):
        generate("digits", arch="mlp:64-x-10", writer=untrained)


def test_writer_may_be_a_checkpoint_path_and_anything_else_is_a_clear_error(untrained, tmp_path):
    """writer= took only a Writer: a checkpoint path (what `metanet generate --writer` takes) was an AttributeError."""
    from metanet.errors import CheckpointError

    path = tmp_path / "w.safetensors"
    untrained.save(path)
    a = generate("digits", candidates=2, writer=str(path))
    b = generate("digits", candidates=2, writer=untrained)
    assert all(torch.equal(a.model.state_dict()[k], v) for k, v in b.model.state_dict().items())
    assert generate("digits", candidates=1, writer=path).report.chosen == 0  # a Path too
    with pytest.raises(CheckpointError, match="writer must be a Writer, the path of a writer checkpoint or None"):
        generate("digits", writer=42)
    with pytest.raises(CheckpointError, match="no writer checkpoint"):
        generate("digits", writer=tmp_path / "missing.safetensors")


def test_unverified_report_does_not_claim_verification(untrained, digits):
    g = generate(digits, candidates=2, verify=False, writer=untrained)
    r = g.report
    assert r.chosen == 0 and r.test is None and g.model is g.candidates[0]
    text = str(r)
    assert "with verification" not in text and "nan" not in text, text
    assert "not verified" in text


def test_every_integer_seed_works(untrained, digits):
    """seed=2**62 was a raw 'Overflow when unpacking long long' (the per-candidate init seeds left torch's range)."""
    a = generate(digits, candidates=2, seed=2**62, writer=untrained)
    b = generate(digits, candidates=2, seed=2**62, writer=untrained)
    assert all(torch.equal(a.model.state_dict()[k], v) for k, v in b.model.state_dict().items())
    assert a.report.test.accuracy >= 0.85
    x, y = digits.split("train")
    with torch.no_grad():
        big = untrained.write("mlp:64-16-10:relu", x, y, 10, candidates=2, seed=10**30)
    assert all(torch.isfinite(v).all() for v in big.values())


def test_generate_one_shot_mnist1d_is_not_a_constant_network(trained):
    # every hidden unit was dead on both support examples, the head wrote zeros: val accuracy 0.5, loss ln 2
    import metanet

    g = metanet.generate("mnist1d[0,1]", shots=1, candidates=2, seed=0, writer=trained)
    task = tasks.resolve("mnist1d[0,1]")
    x, _ = task.split("test")
    for net in g.candidates:
        with torch.no_grad():
            assert len(net(x).argmax(1).unique()) == 2
        assert float(net.layers[-1].weight.detach().abs().max()) > 0
    assert g.report.candidates[g.report.chosen]["val_accuracy"] > 0.55


def test_generate_warns_when_the_chosen_network_predicts_one_class(trained):
    # a constant network scored 0.5 on two balanced classes and looked like a (bad) working one: now it is named
    import importlib
    import warnings

    import pytest

    import metanet
    from metanet.nets import MLP

    class Constant(MLP):
        def forward(self, x):
            return torch.zeros(len(x), 2) + torch.tensor([0.0, 1.0])

    task = tasks.resolve("mnist1d[0,1]")
    g = metanet.generate(task, shots=1, candidates=1, writer=trained)
    gen = importlib.import_module("metanet.writer.generate")  # the module (metanet.writer.generate is the function)

    with pytest.warns(UserWarning, match=r"predicts class 1 on every validation example: a constant classifier"):
        gen._warn_if_constant(Constant(g.model.arch), task, "mnist1d[0,1]", 0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        gen._warn_if_constant(g.model, task, "mnist1d[0,1]", 0)  # the written network is not constant


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


KW = dict(candidates=2, shots=5)


class _Split:
    """A task as resolve() takes any object with ``split`` and ``num_classes``: numpy uint8 images, int32 labels."""

    num_classes = 2

    def split(self, name):
        rng = np.random.default_rng({"train": 0, "val": 1, "test": 2}[name])
        y = rng.integers(0, 2, 40).astype(np.int32)
        x = (rng.random((40, 1, 6, 6)) * 255).astype(np.uint8)
        x[y == 1, :, :3] = 255
        return x, y


def test_a_task_object_without_input_shape_or_name_is_generated_for(untrained):
    # resolve() documents such objects; generate read task.input_shape and task.name: an AttributeError
    g = generate(_Split(), writer=untrained, **KW)
    assert g.report.task == "_Split" and g.report.arch == "mlp:36-64-2:relu"
    assert g.report.test.accuracy == metanet.verify(g.model, _Split()).accuracy
    g = generate(_Split(), arch="cnn:1-4-2:relu", writer=untrained, **KW)
    assert g.model(torch.zeros(3, 1, 6, 6)).shape == (3, 2)
    named = _Split()
    named.name = "mine"
    assert generate(named, writer=untrained, **KW).report.task == "mine"
    with pytest.raises(metanet.errors.ArchError, match=r"task 'mine'.*\(36 features\)"):
        generate(named, arch="mlp:64-8-2:relu", writer=untrained, **KW)


@pytest.mark.parametrize("make", [int, np.int64, torch.tensor, lambda v: torch.tensor([v], dtype=torch.int32)])
def test_write_and_generate_take_the_same_integers(untrained, digits, make):
    # generate took one-element torch integers and handed them on; Writer.write refused them ("candidates must be an
    # integer >= 1, got tensor(2)"): one rule now
    x, y = digits.split("train")
    x, y = x[:60], y[:60]
    ref = untrained.write("mlp:64-8-10:relu", x, y, candidates=2, seed=3)
    got = untrained.write("mlp:64-8-10:relu", x, y, make(10), candidates=make(2), seed=make(3))
    assert all(got[k].equal(v) for k, v in ref.items())
    assert generate(digits, arch="mlp:64-8-10:relu", candidates=make(2), seed=make(3), shots=make(5),
                    writer=untrained, verify=False).report.seed == 3


@pytest.mark.parametrize("bad", [2.0, True, np.bool_(True), torch.tensor(2.0), torch.tensor([1, 2]), "2", None])
def test_write_and_generate_refuse_the_same_non_integers(untrained, digits, bad):
    x, y = digits.split("train")
    for name in ("candidates", "seed"):
        with pytest.raises(TaskError, match=rf"^{name} must be an integer"):
            untrained.write("mlp:64-8-10:relu", x[:60], y[:60], **{name: bad})
        with pytest.raises(TaskError, match=rf"^{name} must be an integer"):
            generate(digits, writer=untrained, **{**KW, name: bad})
