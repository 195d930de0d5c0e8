"""Free text that names an image transform or label noise no task has ("rotated mnist", "mnist with gaussian noise",
"noisy labels", "adversarial mnist", "masked mnist") is an error naming the word and the transforms there are; it
used to load plain mnist / fashion-mnist, silently dropping what was asked. Negated mentions ("without noise", "an
mnist network with masked weights") and the documented sentences parse as before."""

from __future__ import annotations

import re

import pytest

import metanet
from metanet import tasks
from metanet.errors import TaskError
from metanet.tasks import text_to_spec

_SUPPORTED = r"'inverted', 'permuted pixels seed N' and 'shuffled labels seed N'"

# (sentence, the word the error names)
IMAGE_TRANSFORMS = [
    ("rotated mnist", "rotated"),
    ("mnist with random rotations", "rotations"),
    ("fashion mnist, rotation by 30 degrees", "rotation"),
    ("noisy mnist", "noisy"),
    ("mnist with gaussian noise", "noise"),
    ("digits 3 and 8 with salt and pepper", "salt and pepper"),
    ("blurred fashion mnist", "blurred"),
    ("blurry sneakers and boots", "blurry"),
    ("downscaled mnist", "downscaled"),
    ("zoomed fashion mnist", "zoomed"),
    ("translated mnist 3 vs 8", "translated"),
    ("shifted mnist", "shifted"),
    ("cropped mnist", "cropped"),
    ("colored mnist", "colored"),
    ("coloured fashion mnist", "coloured"),
    ("flipped mnist", "flipped"),
    ("horizontally mirrored clothing", "mirrored"),
    ("mnist with elastic distortions", "elastic"),
    ("deformed handwritten digits", "deformed"),
    ("occluded digits 0 to 4", "occluded"),
    ("downsampled mnist", "downsampled"),
    ("low-resolution fashion mnist", "low-resolution"),
    ("mnist resized to 14x14", "resized"),
    ("augmented mnist", "augmented"),
    ("fashion mnist with data augmentation", "augmentation"),
    ("binarized mnist 3 vs 8", "binarized"),
    # a transform next to supported ones is still refused, not dropped
    ("inverted rotated mnist 3 and 8", "rotated"),
    ("mnist, permuted pixels seed 3, blurred", "blurred"),
    # decided: "robust to noise" asks for a property no task trains or tests, so it is refused, not ignored
    ("a network robust to noise on mnist", "noise"),
]

LABEL_NOISE = [
    ("mnist with noisy labels", "noisy labels"),
    ("fashion mnist, label noise", "label noise"),
    ("mnist with flipped labels", "flipped labels"),
    ("mislabelled fashion mnist", "mislabelled"),
    ("digits 3 and 8 with corrupted labels", "corrupted labels"),
]


@pytest.mark.parametrize("text,word", IMAGE_TRANSFORMS)
def test_unsupported_image_transform_is_refused_naming_word_and_transforms(text, word):
    with pytest.raises(TaskError) as e:
        text_to_spec(text)
    msg = str(e.value)
    assert f"{word!r} is no task transform" in msg
    assert _SUPPORTED in msg
    assert msg.startswith(repr(text))


@pytest.mark.parametrize("text,word", LABEL_NOISE)
def test_label_noise_is_refused_as_label_noise(text, word):
    with pytest.raises(TaskError) as e:
        text_to_spec(text)
    msg = str(e.value)
    assert f"{word!r} is no task transform" in msg
    assert "label_noise" in msg  # points at the zoo recipe setting that does train with noisy labels
    assert _SUPPORTED in msg


@pytest.mark.parametrize("fn", [tasks.parse, tasks.resolve])
def test_parse_and_resolve_refuse_too(fn):
    with pytest.raises(TaskError, match="'rotated' is no task transform"):
        fn("rotated mnist")
    with pytest.raises(TaskError, match="'noisy labels' is no task transform"):
        fn("mnist with noisy labels")


def test_generate_refuses_before_writing():
    with pytest.raises(TaskError, match="'blurred' is no task transform"):
        metanet.generate("blurred fashion mnist", candidates=1)


# Negated or "-free" mentions ask for nothing: the task they name is the plain one.
@pytest.mark.parametrize("text,spec", [
    ("mnist without noise", "mnist"),
    ("noise-free mnist 3 vs 8", "mnist[3,8]"),
    ("fashion mnist with no data augmentation", "fashion-mnist"),
    ("mnist digits 3 and 8, no augmentation", "mnist[3,8]"),
    ("mnist without label noise", "mnist"),
    ("mnist 3 and 8, not rotated", "mnist[3,8]"),
    # not transforms: the usual input scaling, and mnist1d's own noise (its signals are generated noisy)
    ("mnist digits, inputs scaled", "mnist"),
    ("noisy 1d signals", "mnist1d"),
])
def test_negated_mentions_parse_to_the_plain_task(text, spec):
    assert text_to_spec(text) == spec


# The sentences of README.md, `metanet generate --help` and the module docstring: the same tasks as before.
@pytest.mark.parametrize("text,spec", [
    ("a network that can read mnist", "mnist"),
    ("fashion mnist, only sneakers and boots", "fashion-mnist[7,9]"),
    ("mnist without 7", "mnist[0-6,8,9]"),
    ("all digits but 7", "mnist[0-6,8,9]"),
    ("binary mnist 3 vs 8", "mnist[3,8]"),
    ("permuted mnist", "mnist+permute(0)"),
    ("pixel-permuted fashion mnist seed 3", "fashion-mnist+permute(3)"),
    ("only 3s and 8s", "mnist[3,8]"),
    ("digits 0 to 4", "mnist[0-4]"),
    ("five and six", "mnist[5,6]"),
    ("zero vs 1", "mnist[0,1]"),
    ("fashion mnist, sneakers and 9", "fashion-mnist[7,9]"),
    ("3 and 8 but inverted", "mnist[3,8]+invert"),
    ("mnist 0 to 4 except 2", "mnist[0,1,3,4]"),
    ("mnist with shuffled labels seed 2", "mnist+relabel(2)"),
    ("inverted fashion mnist", "fashion-mnist+invert"),
    ("mnist, permuted pixels seed 3", "mnist+permute(3)"),
    ("clothing except bags", "fashion-mnist[0-7,9]"),
    ("old-fashioned handwritten digits", "mnist"),
    ("8x8 digits", "digits"),
    ("sklearn digits", "digits"),
    ("1d signals", "mnist1d"),
    ("even digits", "mnist[0,2,4,6,8]"),
    ("mnist 3 vs 8, 2 or 3 layers, batch size 64", "mnist[3,8]"),
    ("fashion mnist, top-5 accuracy, sneakers and boots", "fashion-mnist[7,9]"),
    ("fashion-mnist[0-4]+permute(3)+invert", "fashion-mnist[0-4]+permute(3)+invert"),
])
def test_documented_sentences_parse_as_before(text, spec):
    assert text_to_spec(text) == spec


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
