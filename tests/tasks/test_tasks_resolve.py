"""tasks.resolve: the one reading of a task spec that verify, generate, refine, the loop, edit and inspect share."""

import numpy as np
import pytest
import torch
from torch import nn

import metanet
from metanet import tasks
from metanet.errors import TaskError


def _examples(n=60, k=3, seed=0):
    g = np.random.default_rng(seed)
    y = np.repeat(np.arange(k), n // k)
    x = g.random((len(y), 1, 8, 8)).astype(np.float32) * 0.2 + y[:, None, None, None] / k
    return x, y


def test_every_spelling_of_a_task():
    t = tasks.get("digits[0-4]")
    assert tasks.resolve(t) is t
    assert tasks.resolve("digits[0-4]") is t
    assert tasks.resolve("mnist[3,8]").name == tasks.resolve("only 3s and 8s").name == "mnist[3,8]"
    x, y = _examples()
    ex = tasks.resolve((x, y))
    assert ex.num_classes == 3 and ex.input_shape == (1, 8, 8)
    assert ex.name == tasks.from_examples(x, y).name  # the same examples, the same task
    assert ex.name == tasks.resolve((torch.as_tensor(x), torch.as_tensor(y))).name
    assert ex.name == tasks.resolve([x, y]).name  # a list, as json/yaml give it (was "not a task spec")


@pytest.mark.parametrize("spec", [123, None, "", "   ", 2.5, ["digits"], ("digits", "mnist"), (1, 2, 3), b"digits",
                                  [3, 8], (3, 8), ["digits", "mnist"]])
def test_what_is_no_task_is_refused_with_what_would_be(spec):
    with pytest.raises(TaskError, match=r"task name .*sentence .*Task or labelled examples \(x, y\), got"):
        tasks.resolve(spec)


def test_a_long_spec_is_abbreviated_in_the_message():
    with pytest.raises(TaskError, match=r"a task spec must be .*, got list \[0, 1, 2, 3, 4, 5, \.\.\.\]$") as e:
        tasks.resolve(list(range(10_000)))
    assert len(str(e.value)) < 300


def test_bad_names_and_bad_examples_keep_their_own_messages():
    with pytest.raises(TaskError, match="did you mean mnist"):
        tasks.resolve("mnsit")
    x, y = _examples()
    with pytest.raises(TaskError, match="x has 60 examples but y has 59 labels"):
        tasks.resolve((x, y[:-1]))  # one label short


def test_verify_and_generate_take_the_same_specs():
    """verify used to read a name only (a sentence was 'bad task name', 123 an AttributeError); generate took no
    examples (x, y)."""
    m = nn.Sequential(nn.Flatten(), nn.Linear(784, 2))
    assert metanet.verify(m, "only 3s and 8s").n == metanet.verify(m, "mnist[3,8]").n
    with pytest.raises(TaskError, match="got int 123"):
        metanet.verify(m, 123)
    x, y = _examples()
    g = metanet.generate((x, y), candidates=2, seed=0)
    assert g.report.task == tasks.from_examples(x, y).name
    assert metanet.verify(g.model, (x, y)).accuracy == g.report.test.accuracy
