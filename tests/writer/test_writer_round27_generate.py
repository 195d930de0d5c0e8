"""generate() round 27: tasks given as plain objects, one integer rule for generate and Writer.write, the report's
claims against reality."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import metanet
from metanet.errors import TaskError
from metanet.writer import generate

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


def test_write_reads_an_architecture_as_generate_does(untrained, digits):
    # a metanet MLP module was "an architecture mapping is expected, got MLP"; None named a mapping too
    from metanet.errors import ArchError
    from metanet.nets import build

    x, y = digits.split("train")
    ref = untrained.write("mlp:64-8-10:relu", x[:60], y[:60], seed=1)
    got = untrained.write(build("mlp:64-8-10:relu", seed=7), x[:60], y[:60], seed=1)
    assert all(got[k].equal(v) for k, v in ref.items())
    with pytest.raises(ArchError, match="arch must be an Arch, its string .* got NoneType None"):
        untrained.write(None, x[:60], y[:60])
    with pytest.raises(ArchError, match="not a Sequential; give an architecture: the same layers are arch="):
        untrained.write(torch.nn.Sequential(torch.nn.Linear(64, 10)), x[:60], y[:60])


_REPORT = dict(task="digits", arch="mlp:64-8-10:relu", support=50, candidates=[{"val_accuracy": 0.5, "val_loss": 1.0}],
               chosen=0, test=None, seconds=1.0, seconds_write=0.5)


@pytest.mark.parametrize("bad, what", [
    ({"candidates": [0.5]}, "candidates must be a non-empty list"),  # was AttributeError: 'float' ... 'items'
    ({"candidates": None}, "candidates must be a non-empty list"),  # was TypeError: not iterable
    ({"candidates": [{"val_accuracy": 0.5}]}, "candidates must be a non-empty list"),  # KeyError in str()
    ({"candidates": []}, "candidates must be a non-empty list"),
    ({"chosen": 3}, r"chosen candidate must be an index 0\.\.0, got 3"),  # IndexError in Generated.save
    ({"chosen": "0"}, "chosen candidate must be an index"),
    ({"test": [1, 2]}, "test score is not a Report"),  # AttributeError in str()
    ({"test": {"accuracy": 0.5, "loss": 1.0, "per_class": None, "n": 3, "seconds": 0.1}}, "test score is not a Report"),
])
def test_report_from_dict_names_malformed_fields(bad, what):
    from metanet.errors import FileFormatError
    from metanet.writer import GenerationReport

    assert str(GenerationReport.from_dict(_REPORT)).startswith("task digits")
    with pytest.raises(FileFormatError, match=what):
        str(GenerationReport.from_dict({**_REPORT, **bad}))
