"""A user's own data and words: labels that are not 0..k-1, channels-last images, task-like objects whose labels run
past their classes, and near misses of the data set names in free text."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import metanet
from metanet import tasks
from metanet.errors import ArchError, TaskError


@pytest.fixture(scope="module")
def digits_3_7():
    """Digits 3 and 7 as a user has them: uint8 images, channels last, labels 3 and 7."""
    x, y = tasks.get("digits").split("train")
    keep = (y == 3) | (y == 7)
    xs = (x[keep] * 255).round().to(torch.uint8).permute(0, 2, 3, 1).numpy()  # (n, 8, 8, 1)
    return xs, y[keep].numpy()


def test_labels_that_are_not_class_ids_get_a_recipe_that_works(digits_3_7):
    x, y = digits_3_7
    words = np.where(y == 3, "three", "seven")
    for labels in (y, words, words.tolist(), np.where(y == 3, -1, 1)):
        with pytest.raises(TaskError, match=r"np\.unique\(y, return_inverse=True\).*class_names=names"):
            tasks.from_examples(x, labels)
    names, ids = np.unique(words, return_inverse=True)  # the recipe the error gives
    task = tasks.from_examples(x, ids, class_names=names)
    assert task.class_names == ["seven", "three"]  # output i of a network for the task is class_names[i]
    g = metanet.generate(task, candidates=2)
    assert metanet.verify(g, task).accuracy == g.report.test.accuracy > 0.9
    # the same examples given as floats in [0, 1], channels first: the same scores
    xf = torch.from_numpy(x).permute(0, 3, 1, 2).float() / 255
    assert metanet.verify(g, (xf.reshape(len(xf), -1), torch.from_numpy(ids))).accuracy == g.report.test.accuracy


def test_channels_last_images_for_a_cnn_are_named_as_such(digits_3_7):
    x, y = digits_3_7
    ids = (y == 7).astype(np.int64)
    with pytest.raises(ArchError, match=r"channels last.*permute\(0, 3, 1, 2\)") as info:
        metanet.generate((x, ids), arch="cnn:1-8-8-2:relu:k3:s1")
    assert "cnn:8-" not in str(info.value)  # was "e.g. cnn:8-8-8-2": a cnn of 8 input channels
    net = metanet.generate((np.ascontiguousarray(x.transpose(0, 3, 1, 2)), ids), arch="cnn:1-8-8-2:relu:k3:s1",
                           candidates=1).model
    with pytest.raises(ArchError, match=r"channels last.*permute\(0, 3, 1, 2\)"):
        metanet.verify(net, (x, ids))


class _MyTask:
    """A task as any object with ``split`` and ``num_classes``, labels ``offset..`` for ``k`` classes."""

    def __init__(self, labels: np.ndarray, num_classes: int) -> None:
        self.labels, self.num_classes = labels, num_classes

    def split(self, name: str):
        x, y = tasks.get("digits").split(name)
        return x.numpy(), self.labels[y.numpy()]


def test_task_like_object_with_labels_past_its_classes_is_a_task_error():
    shifted = _MyTask(np.arange(10, 20), 10)  # labels 10..19 for 10 classes
    net = metanet.generate("digits", candidates=1).model
    with pytest.raises(TaskError, match=r"split 'test' of task '_MyTask' has labels 10\.\.19.*10 classes"):
        metanet.verify(net, shifted)  # was a raw IndexError from cross_entropy
    with pytest.raises(TaskError, match=r"training split of task '_MyTask' has labels 10\.\.19"):
        metanet.generate(shifted, candidates=1)  # was "the support set is empty"
    # three classes given as two: class 2's examples were left out of the support set without a word
    with pytest.raises(TaskError, match=r"has labels 0\.\.2, but the task has 2 classes"):
        metanet.generate(_MyTask(np.arange(10) % 3, 2), candidates=1, verify=False)


@pytest.mark.parametrize("text", ["fasion-mnist", "fashon mnist, only sneakers and boots", "fashions mnist"])
def test_misspelt_fashion_is_not_silently_mnist(text):
    with pytest.raises(TaskError, match="did you mean fashion-mnist"):
        tasks.text_to_spec(text)


@pytest.mark.parametrize("text, unknown", [("k-mnist", "k-mnist"), ("not-mnist 3 and 8", "not-mnist"),
                                           ("q_mnist", "q_mnist"), ("e-mnist digits", "e-mnist")])
def test_other_mnists_with_a_hyphen_are_not_silently_mnist(text, unknown):
    with pytest.raises(TaskError, match=f"unknown data set {unknown!r}.*available: mnist, fashion-mnist"):
        tasks.text_to_spec(text)


@pytest.mark.parametrize("text, name", [("f-mnist", "fashion-mnist"), ("f mnist", "fashion-mnist"),
                                        ("f-mnist sneakers and boots", "fashion-mnist[7,9]"),
                                        ("fashion-mnsit", "fashion-mnist"), ("a network that can read mnist", "mnist")])
def test_fashion_abbreviations_and_plain_mnist(text, name):
    assert tasks.text_to_spec(text) == name


def test_a_nameless_task_is_named_by_its_type_in_verify_as_in_generate():
    task = _MyTask(np.arange(10), 10)  # no name attribute: the report said task '' (an edit report "on /test")
    g = metanet.generate(task, candidates=1)
    assert g.report.test.task == "_MyTask" and metanet.verify(g.model, task).task == "_MyTask"


def test_channels_first_feature_maps_are_not_called_channels_last():
    # 8 maps of 6x3 for a cnn reading 1 channel: the data are channels first, the architecture is what is wrong
    x = np.random.default_rng(0).random((40, 8, 6, 3)).astype(np.float32)
    task = tasks.from_examples(x, np.arange(40) % 2)
    with pytest.raises(metanet.errors.ArchError) as e:
        metanet.generate(task, arch="cnn:1-8-2:relu:k3:s1", candidates=1)
    assert "channels last" not in str(e.value)
