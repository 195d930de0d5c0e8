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


@pytest.mark.parametrize(
    "text, bad, base",
    [
        # a class number past the data set's classes is named, never silently dropped
        ("a network that reads the digits 3, 5 and 10", "class 10", "mnist"),
        ("3, 5 and 10", "class 10", "mnist"),
        ("mnist classes 11 and 2", "class 11", "mnist"),
        ("mnist 10 and 11 and 3", "classes 10, 11", "mnist"),
        ("mnist 3 and 10s", "class 10", "mnist"),
        ("mnist without 10", "class 10", "mnist"),
        ("8x8 digits 1, 2 and 12", "class 12", "digits"),
        ("1d signals 3, 5 and 10", "class 10", "mnist1d"),
        ("fashion classes 3 and 12", "class 12", "fashion-mnist"),
        ("shirts, sneakers and 12", "class 12", "fashion-mnist"),
    ],
)
def test_out_of_range_class_numbers_are_errors(text, bad, base):
    with pytest.raises(TaskError) as info:
        tasks.text_to_spec(text)
    message = str(info.value)
    assert f"{bad} {'is' if bad.startswith('class ') else 'are'} out of range" in message
    assert f"{base} has classes 0-9" in message
    assert repr(text) in message


@pytest.mark.parametrize("text", ["mnist 3 to 12", "mnist 0-12", "mnist 3-12", "fashion 0 to 12", "mnist 3 to 12s"])
def test_ranges_past_the_last_class_are_errors(text):
    with pytest.raises(TaskError, match=r"goes past 9; \S+ has classes 0-9"):
        tasks.text_to_spec(text)


@pytest.mark.parametrize(
    "text, name",
    [
        # a class mentioned twice counts once, whatever the phrasing (the strict grammar rejects mnist[3,3,5])
        ("3, 3 and 5", "mnist[3,5]"),
        ("mnist digits 3, 3 and 5", "mnist[3,5]"),
        ("threes, 3s and 5s", "mnist[3,5]"),
        ("mnist 0 to 4 and 4", "mnist[0-4]"),
        ("shirts, shirts and sneakers", "fashion-mnist[6,7]"),
        # fashion names and numbers mix, in the order mentioned (numbers were dropped once a name was found)
        ("sneakers and 9", "fashion-mnist[7,9]"),
        ("shirts, sneakers and 3", "fashion-mnist[6,7,3]"),
        # numbers that are not class ids stay allowed
        ("mnist 3 and 5, 1000 images", "mnist[3,5]"),
        ("mnist 3 and 5 for 20 minutes", "mnist[3,5]"),
        ("mnist 3 and 5 with batch size 64", "mnist[3,5]"),
        ("the 10 digits", "mnist"),
        ("mnist 10 classes", "mnist"),
    ],
)
def test_duplicates_and_other_numbers(text, name):
    assert tasks.text_to_spec(text) == name


@pytest.mark.parametrize("text, only", [("digits 3 and 3", "3"), ("shirts and shirts", "Shirt")])
def test_a_class_twice_is_still_one_class(text, only):
    with pytest.raises(TaskError, match=rf"names only one class \({only}\)"):
        tasks.text_to_spec(text)


@pytest.mark.parametrize(
    "text, unknown",
    [
        # a word listed with fashion class names that is no class is named, not silently dropped
        ("shirts, sneakers and hats", "'hats' is not a class"),
        ("sneakers or hats", "'hats' is not a class"),
        ("clothing without hats and bags", "'hats' is not a class"),
        ("shirts, hats, socks and sneakers", "'hats', 'socks' are not classes"),
    ],
)
def test_unknown_fashion_names_in_a_class_list_are_errors(text, unknown):
    with pytest.raises(TaskError) as info:
        tasks.text_to_spec(text)
    message = str(info.value)
    assert f"{text!r}: {unknown} of fashion-mnist; its classes are 0 T-shirt/top, 1 Trouser" in message


@pytest.mark.parametrize(
    "text, name",
    [
        ("sneakers and boots please", "fashion-mnist[7,9]"),
        ("shirts and sneakers, thanks", "fashion-mnist[6,7]"),
        ("sneakers and boots, mlps only", "fashion-mnist[7,9]"),
        ("bags, sandals and ankle boots", "fashion-mnist[8,5,9]"),
        ("shirts/sneakers/boots", "fashion-mnist[6,7,9]"),
    ],
)
def test_other_words_next_to_fashion_names_are_fine(text, name):
    assert tasks.text_to_spec(text) == name
