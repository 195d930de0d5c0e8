"""Leftovers of task specs and labelled examples.

Free text that asked for something no task gives ("adversarial mnist", "masked mnist", "handwritten letters",
"mnist 32x32") loaded plain MNIST, silently; "read mnist in under 1 ms" read the duration as class 1. Float inputs
on a 0..255 scale from a task of one's own (anything with ``split`` and ``num_classes``) or given as ``data`` to
verify were used as they are without a word, and a network made for [0, 1] inputs collapsed.
"""

from __future__ import annotations

import re
import warnings

import numpy as np
import pytest
import torch

import metanet
from metanet import tasks
from metanet.errors import TaskError
from metanet.tasks import text_to_spec
from metanet.tasks.resolve import as_examples
from metanet.verify import verify_stacked

# ------------------------------------------------------------------------------------------------ text specs
# (sentence, the word the error names)
REFUSED = [
    ("adversarial mnist", "adversarial"),
    ("adversarially robust mnist network", "adversarially"),
    ("a network for mnist robust to adversarial attacks", "adversarial"),
    ("mnist attacked with fgsm", "attacked"),
    ("pgd-robust fashion mnist", "pgd"),
    ("perturbed mnist 3 and 8", "perturbed"),
    ("masked mnist", "masked"),
    ("mnist with masked pixels", "masked"),
    ("fashion mnist, masking half of each image", "masking"),
    ("rgb mnist", "rgb"),
    ("mnist with cutout", "cutout"),
    ("mnist with random erasing", "erasing"),
    ("mnist with missing pixels", "missing pixels"),
]


@pytest.mark.parametrize("text, word", REFUSED)
def test_unsupported_transforms_are_errors_naming_the_word(text, word):
    with pytest.raises(TaskError, match=re.escape(f"{word!r} is no task transform")) as e:
        text_to_spec(text)
    assert "'inverted', 'permuted pixels seed N' and 'shuffled labels seed N'" in str(e.value)


@pytest.mark.parametrize("text", ["adversarial mnist", "masked mnist", "handwritten letters", "mnist 32x32"])
def test_resolve_refuses_them_too(text):
    with pytest.raises(TaskError, match="is no task transform|unknown data set|is not the input size"):
        tasks.resolve(text)


@pytest.mark.parametrize("text, want", [
    ("non-adversarial mnist", "mnist"),
    ("mnist (no adversarial training)", "mnist"),
    ("mnist without masking", "mnist"),
    ("unmasked mnist 3 and 8", "mnist[3,8]"),
    ("mask-free mnist", "mnist"),
    # a network's own masks and perturbations are not the task's
    ("an mnist network with masked weights", "mnist"),
    ("mnist 3 and 8 with weight masking", "mnist[3,8]"),
    ("fashion mnist with weight perturbations", "fashion-mnist"),
    ("mnist, masks on the weights", "mnist"),
    ("grayscale mnist", "mnist"),  # mnist is grey levels: nothing dropped
])
def test_negated_and_network_mentions_parse_as_before(text, want):
    assert text_to_spec(text) == want


@pytest.mark.parametrize("text, named", [
    ("handwritten letters", "handwritten letters"),
    ("mnist letters a and b", "letters"),
    ("the alphabet", "alphabet"),
    ("house numbers 3 and 8", "house numbers"),
    ("street view house numbers", "street view house numbers"),
    ("moving mnist", "moving mnist"),
    ("sign language mnist", "sign language mnist"),
    ("kannada digits", "kannada"),
])
def test_data_sets_named_by_what_they_hold_are_errors(text, named):
    with pytest.raises(TaskError, match=re.escape(f"unknown data set {named!r}")) as e:
        text_to_spec(text)
    assert "available: mnist, fashion-mnist, digits, mnist1d" in str(e.value)


@pytest.mark.parametrize("text, want", [
    ("a network that can read mnist in under 1 ms", "mnist"),
    ("mnist 3 and 8 in 2 seconds", "mnist[3,8]"),
    ("digits 3s and 8s, 5 ms per batch", "mnist[3,8]"),  # "3s" is still the class 3
    ("mnist 3 and 8, 1 or 2 ms", "mnist[3,8]"),
    ("fashion mnist sneakers and boots in 1 min", "fashion-mnist[7,9]"),
])
def test_durations_are_not_classes(text, want):
    assert text_to_spec(text) == want


@pytest.mark.parametrize("text, size, base", [
    ("mnist 32x32", "32x32", "mnist"),
    ("mnist at 14 x 14 resolution", "14 x 14", "mnist"),
    ("fashion mnist 64x64 sneakers and boots", "64x64", "fashion-mnist"),
    ("sklearn digits 28x28", "28x28", "digits"),
    ("mnist1d 28x28", "28x28", "mnist1d"),
])
def test_an_image_size_not_the_data_sets_is_an_error(text, size, base):
    with pytest.raises(TaskError, match=re.escape(f"{size!r} is not the input size of {base}")) as e:
        text_to_spec(text)
    assert "28x28 (mnist, fashion-mnist), 8x8 (digits) and 40 values (mnist1d)" in str(e.value)


@pytest.mark.parametrize("text, want", [
    ("mnist 28x28", "mnist"),
    ("28x28 fashion mnist", "fashion-mnist"),
    ("sklearn digits 8x8", "digits"),
    ("mnist cnn with 3x3 kernels", "mnist"),
    ("mnist with 2x2 max pooling", "mnist"),
    ("mnist vit with 14x14 patches", "mnist"),
    ("mnist 3 and 8, 64x64 hidden", "mnist[3,8]"),
])
def test_the_data_sets_size_and_network_sizes_are_fine(text, want):
    assert text_to_spec(text) == want


def test_a_huge_size_is_the_size_error_not_a_crash():
    with pytest.raises(TaskError, match="is not the input size of mnist"):
        text_to_spec("mnist " + "9" * 5000 + "x28")


# ------------------------------------------------------------------------------- inputs on a 0..255 scale
class OwnTask:
    """A task of one's own: anything with ``split`` and ``num_classes``, giving its splits as they are."""

    def __init__(self, task, scale=1.0, dtype=None):
        self.task, self.scale, self.dtype = task, scale, dtype
        self.num_classes, self.name = task.num_classes, f"own-{task.name}"

    def split(self, name):
        x, y = self.task.split(name)
        x = x * self.scale
        return (x.round().to(self.dtype) if self.dtype is not None else x), y


def _scale_warnings(record) -> list[str]:
    return [str(w.message) for w in record if "task inputs are scaled to [0, 1]" in str(w.message)]


def test_verify_on_a_task_of_ones_own_with_float_0_255_inputs_warns(digits_net):
    with pytest.warns(UserWarning, match=r"split 'test' of task 'own-digits': float inputs span \[0, 255\], but task "
                      r"inputs are scaled to \[0, 1\]") as record:
        report = metanet.verify(digits_net, OwnTask(tasks.get("digits"), 255.0))
    assert report.accuracy < metanet.verify(digits_net, "digits").accuracy  # why it matters: the net reads [0, 1]
    assert record[0].filename == __file__  # attributed to the caller, not to metanet


@pytest.mark.parametrize("make", [
    lambda t: OwnTask(t),  # already [0, 1]
    lambda t: OwnTask(t, 255.0, torch.uint8),  # uint8 0..255: divided by 255, as ToTensor does
])
def test_no_warning_for_unit_scale_or_uint8(digits_net, make):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        report = metanet.verify(digits_net, make(tasks.get("digits")))
    assert report.accuracy == metanet.verify(digits_net, "digits").accuracy


@pytest.mark.parametrize("spec", ["mnist1d[0,1]+invert", "mnist1d+permute(2)", "digits[3,8]+invert+permute(1)"])
def test_no_warning_for_transformed_tasks_or_mnist1d(spec):
    own = OwnTask(tasks.get(spec))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for split in tasks.SPLITS:
            as_examples(*own.split(split))


@pytest.mark.parametrize("x", [
    torch.randn(50, 1, 8, 8) * 3,  # standardised inputs go negative: another scale, not 0..255 images
    torch.full((50, 1, 8, 8), float("nan")),  # no claim about the scale of NaN
    torch.rand(50, 1, 8, 8) * 2,  # a small overshoot of [0, 1]
    torch.empty(0, 1, 8, 8),
])
def test_no_warning_for_other_scales(x):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        as_examples(x, torch.zeros(len(x), dtype=torch.long))


def test_the_warning_names_the_range_and_keeps_the_inputs():
    x = np.linspace(0, 255, 2 * 64, dtype=np.float64).reshape(2, 1, 8, 8)
    with pytest.warns(UserWarning, match=r"my data: float inputs span \[0, 255\].*divide 0\.\.255 images by 255"):
        got, _ = as_examples(x, np.array([0, 1]), "my data")
    assert got.dtype == torch.float64 and torch.equal(got, torch.from_numpy(x))  # used as they are


def test_verify_data_on_a_0_255_scale_warns(digits_net):
    x, y = tasks.get("digits").split("test")
    params = {k: v.unsqueeze(0) for k, v in digits_net.named_parameters()}
    with pytest.warns(UserWarning, match=r"the data given to verify: float inputs span \[0, 255\]"):
        verify_stacked(digits_net, params, "digits", data=(x * 255, y))


def test_float_0_255_examples_stay_an_error_naming_the_range(digits_net):
    x, y = tasks.get("digits").split("test")
    with pytest.raises(TaskError, match=r"x values span \[0, 255\], but task inputs must lie in \[0, 1\]"):
        metanet.verify(digits_net, (x * 255, y))
