"""Which digits after "hidden" are widths and which are classes or counts.

Spaced (or, after two widths, comma) digits after "hidden" are widths only when each is at most half the one before and
at least 2 ("hidden 32 16 8 4"); other digits stay classes ("hidden 32 9 8"). "hidden W x N" counts N layers unless N
counts something else ("x 2 epochs", "x 3 classes") or a class list goes on from it ("x 2 or 3").
"""
import pytest

from metanet.errors import TaskError
from metanet.tasks import text_to_spec
from metanet.tasks.arch_text import arch_from_words, arch_words

CASES = [
    # digits that do not halve are classes, as before the descending-widths reading (were widths 9, 8, 7, 0, 1)
    ("mnist hidden 32 9 8", "mnist[9,8]", {"widths": (32,)}),
    ("mnist hidden 64 9 8 7", "mnist[9,8,7]", {"widths": (64,)}),
    ("mnist hidden 32 16 5 4 3", "mnist[5,4,3]", {"widths": (32, 16)}),
    ("mnist hidden 64 32 8 0", "mnist[8,0]", {"widths": (64, 32)}),
    ("mnist hidden 32 2 1", "mnist[2,1]", {"widths": (32,)}),
    # the comma form of a halving list (was classes 8 and 4)
    ("mnist hidden 32, 16, 8 and 4", "mnist", {"widths": (32, 16, 8, 4)}),
    ("mnist hidden 32, 16, 8, 4", "mnist", {"widths": (32, 16, 8, 4)}),
    ("mnist hidden 32, 16, 8 and 4 epochs", "mnist", {"widths": (32, 16, 8)}),
    # "hidden W x N" before a count or a class list: N is not a depth (were 2 hidden layers)
    ("mnist hidden 64 x 2 epochs", "mnist", {"widths": (64,)}),
    ("mnist 3 vs 8 hidden 64 x 2 epochs", "mnist[3,8]", {"widths": (64,)}),
    ("mnist hidden 64 x 2-3 epochs", "mnist", {"widths": (64,)}),
    ("mnist hidden 64 x 2 or 3", "mnist[2,3]", {"widths": (64,)}),
    # kept
    ("mnist hidden 64, 32, 3 and 8", "mnist[3,8]", {"widths": (64, 32)}),
    ("mnist hidden 32, 16 and 8", "mnist", {"widths": (32, 16, 8)}),
    ("mnist hidden 32 16 8 4", "mnist", {"widths": (32, 16, 8, 4)}),
    ("mnist 5 and 6 hidden 16 8 4 2", "mnist[5,6]", {"widths": (16, 8, 4, 2)}),
    ("mnist 3 vs 8 hidden 64 x 2", "mnist[3,8]", {"hidden_layers": 2, "widths": (64,)}),
    ("mnist hidden 64 x 2 layers", "mnist", {"hidden_layers": 2, "widths": (64,)}),
]


@pytest.mark.parametrize(("text", "task", "words"), CASES)
def test_digits_after_hidden(text: str, task: str, words: dict) -> None:
    assert (text_to_spec(text), arch_words(text)) == (task, words)


def test_hidden_w_x_n_classes_counts_classes_not_layers() -> None:
    # "3 classes" was 3 hidden layers of 64 (and no class count); it is the count it was before
    assert arch_words("mnist hidden 64 x 3 classes") == {"widths": (64,)}
    with pytest.raises(TaskError, match="3 classes"):
        text_to_spec("mnist hidden 64 x 3 classes")


def test_comma_halving_list_builds_all_widths() -> None:
    arch = arch_from_words(arch_words("mnist hidden 32, 16, 8 and 4"), (1, 28, 28), 10)
    assert str(arch) == "mlp:784-32-16-8-4-10:relu"
