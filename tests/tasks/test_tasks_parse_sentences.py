"""Free-text task specs as people write them (``metanet.tasks.parse``): sentences that mention counts of network
parts, budgets, settings, scores, durations and image sizes name their task; what no task gives is an error naming it.

Realistic sentences were false errors ("a net under 2 MB for digits": one class 2; "digits 5 and above": one class
5; "mnist mlp 784-128-10": a range past 9) or silently other tasks ("mnist 5 and 8 with 3 conv layers" was
mnist[5,8,3], "digits zero to four" all of mnist, "digits from 3 up to 7" mnist[3,0-2,4-7], "mnist with inversion"
plain mnist, "seed 3, permuted pixels" permute(0)); "handwritten letters" and "mnist 32x32" loaded plain MNIST,
silently, and "read mnist in under 1 ms" read the duration as class 1.
"""

from __future__ import annotations

import re

import pytest

from metanet.errors import TaskError
from metanet.tasks.parse import text_to_spec


@pytest.mark.parametrize("text, spec", [
    # counts of network parts, budgets and repeats: no classes
    ("a net under 2 MB for digits", "mnist"),
    ("mnist under 100 KB", "mnist"),
    ("mnist with at most 2 conv layers", "mnist"),
    ("mnist 5 and 8 with 3 conv layers", "mnist[5,8]"),
    ("mnist 5 and 8, 2 fully connected layers", "mnist[5,8]"),
    ("mnist 5 and 8 with 2 residual blocks", "mnist[5,8]"),
    ("mnist 5 and 8 with 4 heads", "mnist[5,8]"),
    ("mnist 3 vs 8 with 2 outputs", "mnist[3,8]"),
    ("mnist 5 and 8 using 2 gpus", "mnist[5,8]"),
    ("mnist 5 and 8 with 3 params", "mnist[5,8]"),
    ("mnist 5 and 8 with 3 folds", "mnist[5,8]"),
    ("mnist 5 and 8 with 99 percent accuracy", "mnist[5,8]"),
    ("mnist 3 and 8, 5 or more epochs", "mnist[3,8]"),
    ("mnist with 3 or more hidden layers", "mnist"),
    ("mnist 5 and 8 with 3 training examples", "mnist[5,8]"),
    ("mnist with 1000 training images", "mnist"),
    ("mnist 3 and 8 with 1,000 images", "mnist[3,8]"),
    ("mnist with 10,000 images", "mnist"),
    ("mnist mlp 784-128-10", "mnist"),
    ("mnist 3 and 8, a 784-64-2 mlp", "mnist[3,8]"),
    # settings and compared scores
    ("mnist 5 and 8, weight decay 1e-4", "mnist[5,8]"),
    ("mnist 5 and 8 in batches of 64", "mnist[5,8]"),
    ("mnist 5 and 8, seeds 1 and 2", "mnist[5,8]"),
    ("mnist, seed=5, 3 and 8", "mnist[3,8]"),  # was mnist[5,3,8]
    ("mnist with accuracy over 98", "mnist"),
    ("mnist loss under 1", "mnist"),
    ("mnist with an error rate below 2", "mnist"),
    ("an mnist network with a test accuracy of more than 99", "mnist"),
    ("mnist accuracy 95 or higher", "mnist"),
    # sizes written with "by"
    ("mnist 28 by 28", "mnist"),
    ("digits 8 by 8", "digits"),
    ("mnist 3 and 8, 3 by 3 kernels", "mnist[3,8]"),
    ("mnist 3 by 8", "mnist[3,8]"),  # unequal small sides: still two classes
    # ranges and comparisons
    ("digits zero to four", "mnist[0-4]"),
    ("digits two through six", "mnist[2-6]"),
    ("mnist with a one-to-one mapping", "mnist"),
    ("digits from 3 up to 7", "mnist[3-7]"),
    ("digits 5 and up to 8", "mnist[5-8]"),
    ("digits above 5 up to 8", "mnist[6-8]"),  # a bound before "up to" stays a bound
    ("digits 5 and above", "mnist[5-9]"),
    ("digits 5 or more", "mnist[5-9]"),
    ("digits from 5 onwards", "mnist[5-9]"),
    ("digits 4 or less", "mnist[0-4]"),
    ("fashion classes 7 and above", "fashion-mnist[7-9]"),
    ("digits 2 and above and below 7", "mnist[2-6]"),  # was mnist[2,0,1,3-6]
    # transforms
    ("mnist with inversion", "mnist+invert"),
    ("mnist with inverted colours", "mnist+invert"),
    ("mnist color inversion", "mnist+invert"),
    ("mnist, shuffled labels, random seed 42", "mnist+relabel(42)"),
    ("mnist shuffled labels with a random seed of 42", "mnist+relabel(42)"),
    ("mnist permuted pixels seed 3, training seed 5", "mnist+permute(3)"),
    # a data set asked about and refused
    ("classify letters of the alphabet? no: digits", "mnist"),
    ("handwritten letters? no, digits 3 and 8", "mnist[3,8]"),  # the "no" excludes no classes
])
def test_sentences_people_write_name_their_task(text, spec):
    assert text_to_spec(text) == spec


@pytest.mark.parametrize("text, match", [
    ("mnist 3,000", r"class 3000 is out of range"),  # was mnist[3,0]
    ("mnist 32 by 32", r"'32 by 32' is not the input size of mnist"),
    ("sklearn digits 28 by 28", r"'28 by 28' is not the input size of digits"),
    ("digits five to one", r"'five to one' runs backwards; write it as 1 to 5"),
    ("digits 12 and above", r"'12 and above' goes past 9: mnist has classes 0-9"),
    ("digits 9 and above", r"names only one class \(9\)"),
    ("mnist seed 3 permuted pixels", r"'seed 3' follows no transform, and 'permuted pixels' has no seed; write the "
                                     r"seed right after the transform, e.g. 'permuted pixels seed 3'"),
    ("mnist 3 and 8 with permuted pixels, trained with seed 5", r"'seed 5' follows no transform"),
    ("fashion mnist shoes", r"'shoes' is no class of fashion-mnist: its footwear is 5 Sandal, 7 Sneaker and 9 Ankle"),
    ("clothing except footwear", r"'footwear' is no class of fashion-mnist"),
])
def test_what_no_task_gives_is_an_error_naming_it(text, match):
    with pytest.raises(TaskError, match=match):
        text_to_spec(text)


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
