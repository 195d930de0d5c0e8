"""Free text to task: the phrases the design promises, and helpful errors."""

from __future__ import annotations

import pytest

from metanet import tasks
from metanet.errors import TaskError


@pytest.mark.parametrize(
    "text, name",
    [
        ("a network that can read mnist", "mnist"),
        ("classify handwritten digits", "mnist"),
        ("Recognise clothing", "fashion-mnist"),
        ("recognize clothes", "fashion-mnist"),
        ("fashion", "fashion-mnist"),
        ("fashion mnist, only sneakers and boots", "fashion-mnist[7,9]"),
        ("boots and sneakers please", "fashion-mnist[9,7]"),
        ("shirts vs t-shirts", "fashion-mnist[6,0]"),
        ("tshirts and trousers", "fashion-mnist[0,1]"),
        ("t-shirts and trousers", "fashion-mnist[0,1]"),
        ("t shirts or sandals", "fashion-mnist[0,5]"),
        ("tops, shirts and dresses", "fashion-mnist[0,6,3]"),
        ("bags, sandals and ankle boots", "fashion-mnist[8,5,9]"),
        ("digits 3 and 8", "mnist[3,8]"),
        ("only 3s and 8s", "mnist[3,8]"),
        ("only 3's and 8's", "mnist[3,8]"),
        ("mnist, threes versus eights", "mnist[3,8]"),
        ("handwritten digits 0 to 4", "mnist[0-4]"),
        ("handwritten digits 0-2 and 7", "mnist[0-2,7]"),
        ("even digits", "mnist[0,2,4,6,8]"),
        ("28x28 mnist images of 3 vs 5 at 95% accuracy", "mnist[3,5]"),
        ("8x8 digits", "digits"),
        ("sklearn digits", "digits"),
        ("sklearn digits 1 and 7", "digits[1,7]"),
        ("mnist1d", "mnist1d"),
        ("1d signals", "mnist1d"),
        ("1D signals, 2 vs 9", "mnist1d[2,9]"),
        ("mnist[3,8]+invert", "mnist[3,8]+invert"),
        ("  MNIST  ", "mnist"),
        ("inverted mnist with permuted pixels (seed 7), digits 0 to 4", "mnist[0-4]+invert+permute(7)"),
        ("clothing with shuffled labels seed 4", "fashion-mnist+relabel(4)"),
    ],
)
def test_phrases(text, name):
    assert tasks.text_to_spec(text) == name
    t = tasks.parse(text)
    assert t.name == name
    assert t is tasks.get(name)


def test_parse_returns_tasks_unchanged():
    t = tasks.get("digits")
    assert tasks.parse(t) is t


@pytest.mark.parametrize("text", ["make me a sandwich", "qwerty uiop", "cifar images of cats"])
def test_nonsense_lists_what_is_understood(text):
    with pytest.raises(TaskError) as info:
        tasks.parse(text)
    message = str(info.value)
    for known in ("mnist", "fashion-mnist", "digits", "mnist1d", "handwritten digits", "clothing", "8x8", "1d signals"):
        assert known in message
    assert repr(text) in message


def test_single_class_and_backwards_range_are_errors():
    with pytest.raises(TaskError, match="only one class"):
        tasks.parse("only sneakers")
    with pytest.raises(TaskError, match="only one class"):
        tasks.parse("mnist digit 7")
    with pytest.raises(TaskError, match="runs backwards"):
        tasks.parse("digits 5-3")
    with pytest.raises(TaskError, match="'0 to 12' goes past 9"):  # not "names only one class"
        tasks.parse("mnist digits 0 to 12")


def test_grammar_like_text_gets_the_grammar_error():
    with pytest.raises(TaskError, match="out of range"):
        tasks.parse("mnist[3,10]")
    with pytest.raises(TaskError, match="is a transform"):
        tasks.parse("permute(x)")
    with pytest.raises(TaskError, match="did you mean mnist"):
        tasks.parse("mnsit")


def test_empty_and_non_string():
    with pytest.raises(TaskError, match="empty"):
        tasks.parse("   ")
    with pytest.raises(TaskError, match="string"):
        tasks.parse(42)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "text, name",
    [
        # numbers that count something are not classes
        ("mnist with 5 examples per class", "mnist"),
        ("mnist digits 3 and 8 with 5 examples each", "mnist[3,8]"),
        ("a 2-layer mlp for mnist 3 vs 8", "mnist[3,8]"),
        ("mnist 3 vs 8, 1 hidden layer", "mnist[3,8]"),
        ("mnist 3 and 8 (90% accuracy in 1 epoch)", "mnist[3,8]"),
        ("a 5-shot mnist task", "mnist"),
        ("fashion mnist, sneakers vs boots, 4 samples each", "fashion-mnist[7,9]"),
        ("fashion mnist at top-1 accuracy above 90%", "fashion-mnist"),
        # exclusions
        ("mnist without 7", "mnist[0-6,8,9]"),
        ("mnist except 0 and 1", "mnist[2-9]"),
        ("all digits except 9", "mnist[0-8]"),
        ("mnist no 7s", "mnist[0-6,8,9]"),
        ("handwritten digits 0 to 4 but not 2", "mnist[0,1,3,4]"),
        ("fashion without bags", "fashion-mnist[0-7,9]"),
        ("clothing excluding shirts and t-shirts", "fashion-mnist[1-5,7-9]"),
        ("even digits except 0", "mnist[2,4,6,8]"),
        # "permuted mnist" is the standard name of the pixel-permutation benchmark
        ("permuted mnist", "mnist+permute(0)"),
        ("pixel-permuted fashion mnist", "fashion-mnist+permute(0)"),
        ("permuted mnist seed 3", "mnist+permute(3)"),
        ("mnist with permuted-pixels, seed=5, digits 1 and 2", "mnist[1,2]+permute(5)"),
    ],
)
def test_more_phrases(text, name):
    assert tasks.text_to_spec(text) == name
    assert tasks.get(tasks.parse(text).name).name == name


@pytest.mark.parametrize(
    "text, unknown, hint",
    [
        ("svhn digits", "svhn", None),
        ("cifar10 3 and 8", "cifar10", None),
        ("emnist digits", "emnist", "mnist"),
        ("kmnist 0 to 4", "kmnist", "mnist"),
        ("a cnn for cifar-10", "cifar-10", None),
    ],
)
def test_other_data_sets_are_not_silently_mnist(text, unknown, hint):
    with pytest.raises(TaskError, match=f"unknown data set {unknown!r}") as info:
        tasks.text_to_spec(text)
    message = str(info.value)
    assert "mnist, fashion-mnist, digits, mnist1d" in message
    if hint:
        assert f"did you mean {hint}" in message


def test_ambiguous_shuffling_is_not_dropped():
    with pytest.raises(TaskError, match="shuffled.*pixels.*labels"):
        tasks.text_to_spec("shuffled mnist")
