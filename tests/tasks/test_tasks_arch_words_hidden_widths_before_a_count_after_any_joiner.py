"""After "hidden 64", a number that counts something ("100 training examples", "10 random seeds") is no width, whatever
joins it to the list (it was an extra hidden layer the text never asked for)."""
import pytest

from metanet.tasks.arch_text import arch_words


@pytest.mark.parametrize("text, widths", [
    ("mnist hidden 64, 100 training examples", (64,)),
    ("mnist hidden 64, 10 iterations", (64,)),
    ("mnist hidden 64/100 training examples", (64,)),
    ("mnist hidden 64 and 200 labelled examples", (64,)),
    ("mnist hidden 128, 64, 500 train images", (128, 64)),
    ("mnist hidden 64 -> 10 random seeds", (64,)),
    ("mnist hidden 64, 32 and 5 random seeds", (64, 32)),
    ("mnist hidden 128 & 20 trials", (128,)),
    # the widths themselves still read
    ("mnist hidden 64, 32, 100 training examples", (64, 32)),
    ("mnist hidden 64, 100", (64, 100)),
    ("mnist hidden 64 -> 32 -> 8", (64, 32, 8)),
])
def test_a_count_after_a_joiner_is_no_width(text: str, widths: tuple[int, ...]) -> None:
    assert arch_words(text)["widths"] == widths


@pytest.mark.parametrize("text, widths", [
    ("mnist hidden 64 32 10 warmup epochs", (64, 32)),
    ("mnist hidden 64 32 10 more epochs", (64, 32)),
    ("mnist hidden 64 32 10 total epochs", (64, 32)),
    ("mnist hidden 64, 32, 5 warm-up epochs", (64, 32)),
    ("mnist hidden 64 -> 32 and 3 more training runs", (64, 32)),
    ("mnist hidden 128, 20 additional steps", (128,)),
    # a word that describes no count leaves the width
    ("mnist hidden 64 32 10 more", (64, 32, 10)),
])
def test_a_count_with_a_word_before_its_noun_is_no_width(text: str, widths: tuple[int, ...]) -> None:
    assert arch_words(text)["widths"] == widths


@pytest.mark.parametrize("text, widths", [
    ("mnist python 3.11, 64 units", (64,)),
    ("mnist lr 0.01, 64 units", (64,)),
    ("mnist, lr 0.05, 128, 64 units", (128, 64)),
    ("mnist dropout 0.25 and 64 units", (64,)),
    # a list of widths still reads
    ("mnist 128, 64 units", (128, 64)),
    ("mnist 16/32 channels", (16, 32)),
])
def test_the_decimals_of_a_number_start_no_width_list(text: str, widths: tuple[int, ...]) -> None:
    assert arch_words(text)["widths"] == widths
