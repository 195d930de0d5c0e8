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
