"""Numbers of a network's widths in a task text go to the architecture, not to the classes.

Each phrasing is read twice, as :func:`metanet.generate` reads it: the task (``text_to_spec``) and the network
(``arch_words``, then ``arch_from_words`` for the task's shape).
"""

from __future__ import annotations

import pytest

from metanet.tasks import text_to_spec
from metanet.tasks.arch_text import arch_from_words, arch_words

# (text, task, network words): each was read another way before (classes taken from the widths, or an error)
READ_AS_WIDTHS = [
    # spaced digits after hidden widths, each smaller than the one before: widths, not classes (was mnist[8,4])
    ("mnist hidden 32 16 8 4", "mnist", {"widths": (32, 16, 8, 4)}),
    ("mnist hidden 32 16 8", "mnist", {"widths": (32, 16, 8)}),
    ("mnist 3 vs 8 hidden 32 16 8 4", "mnist[3,8]", {"widths": (32, 16, 8, 4)}),
    ("mnist 0 - 4 hidden 32 16 8 4", "mnist[0-4]", {"widths": (32, 16, 8, 4)}),
    ("fashion-mnist hidden 128 64 8 4 10 epochs", "fashion-mnist", {"widths": (128, 64, 8, 4)}),
    ("fashion-mnist hidden 128 64 8 4, 10 epochs", "fashion-mnist", {"widths": (128, 64, 8, 4)}),
    ("digits 3 and 8 hidden 64 32 8", "mnist[3,8]", {"widths": (64, 32, 8)}),
    ("sneakers vs boots hidden 64 32 8 4", "fashion-mnist[7,9]", {"widths": (64, 32, 8, 4)}),
    ("mnist 1 2 3 hidden 32 16 8", "mnist[1-3]", {"widths": (32, 16, 8)}),
    ("digits 4 and 9 hidden 100 50 5", "mnist[4,9]", {"widths": (100, 50, 5)}),
    ("mnist1d hidden 64 32 16 8", "mnist1d", {"widths": (64, 32, 16, 8)}),
    ("mnist 5 and 6 hidden 16 8 4 2", "mnist[5,6]", {"widths": (16, 8, 4, 2)}),
    # "hidden W x N" with one digit: N hidden layers of W, as "64 units x 2" (the 2 was a class)
    ("mnist hidden 64 x 2", "mnist", {"hidden_layers": 2, "widths": (64,)}),
    ("mnist hidden 64x2", "mnist", {"hidden_layers": 2, "widths": (64,)}),
    ("mnist hidden 64 x 2 layers", "mnist", {"hidden_layers": 2, "widths": (64,)}),
    ("mnist 3 vs 8 hidden 64 x 2", "mnist[3,8]", {"hidden_layers": 2, "widths": (64,)}),
    ("digits 3 and 8, hidden 64 x 3", "mnist[3,8]", {"hidden_layers": 3, "widths": (64,)}),
    # a spaced range before "hidden N" is a range, as "0-4" is (was the one class 0)
    ("mnist 0 - 4 hidden 32", "mnist[0-4]", {"widths": (32,)}),
    ("mnist 0 - 4 hidden 64 32", "mnist[0-4]", {"widths": (64, 32)}),
    ("fashion-mnist 5 - 9 hidden 64", "fashion-mnist[5-9]", {"widths": (64,)}),
    ("mnist 2 - 7 hidden = 32", "mnist[2-7]", {"widths": (32,)}),
    # "hidden layer size N" is a width (was class N out of range; "8 hidden layer" 8 layers)
    ("3 vs 8 hidden layer size 64", "mnist[3,8]", {"widths": (64,)}),
    ("mnist 3 vs 8 hidden layer size 64", "mnist[3,8]", {"widths": (64,)}),
    ("mnist hidden layer size 64", "mnist", {"widths": (64,)}),
    ("mnist hidden layer size=128", "mnist", {"widths": (128,)}),
    ("mnist 3 and 8 hidden layer width 128", "mnist[3,8]", {"widths": (128,)}),
    ("mnist 3 vs 8 hidden layer of 64", "mnist[3,8]", {"widths": (64,)}),
    # a list after "channels" / "filters" of numbers no class has: a cnn's widths (was classes 16, 32 out of range)
    ("mnist channels 16, 32", "mnist", {"widths": (16, 32), "family": "cnn"}),
    ("mnist channels 16 32", "mnist", {"widths": (16, 32), "family": "cnn"}),
    ("mnist channels=16,32", "mnist", {"widths": (16, 32), "family": "cnn"}),
    ("mnist filters 16, 32, 64", "mnist", {"widths": (16, 32, 64), "family": "cnn"}),
    ("mnist conv channels 16 and 32", "mnist", {"widths": (16, 32), "family": "cnn"}),
    ("fashion-mnist 7 and 9, channels 16, 32", "fashion-mnist[7,9]", {"widths": (16, 32), "family": "cnn"}),
    ("mnist 4 and 9, filters 32 64", "mnist[4,9]", {"widths": (32, 64), "family": "cnn"}),
    ("mnist 3 vs 8 cnn channels 16, 32", "mnist[3,8]", {"widths": (16, 32), "family": "cnn"}),
    ("mnist channels 16 3 vs 8", "mnist[3,8]", {"widths": (16,), "family": "cnn"}),
]

# (text, task, network words) read so before and after: class lists stay classes, counts stay counts
KEPT = [
    ("mnist 3 8 9", "mnist[3,8,9]", None),
    ("digits 0 1 2 3 4", "mnist[0-4]", None),
    ("mnist classes 1 2 3 hidden 64", "mnist[1-3]", {"widths": (64,)}),
    ("digits 3, 5 and 8 more epochs", "mnist[3,5]", None),  # 8 counts the epochs
    ("digits 3, 5 and 8, 2 more epochs", "mnist[3,5,8]", None),
    ("mnist 3 vs 8 more epochs", "mnist[3,8]", None),
    ("mnist hidden 64 32 3 8", "mnist[3,8]", {"widths": (64, 32)}),  # not each smaller: classes
    ("mnist hidden 32, 3 and 8", "mnist[3,8]", {"widths": (32,)}),
    ("mnist hidden 32, 16 and 8", "mnist", {"widths": (32, 16, 8)}),
    ("mnist hidden 32 16 8 epochs", "mnist", {"widths": (32, 16)}),
    ("mnist 3 vs 8 hidden 32 16", "mnist[3,8]", {"widths": (32, 16)}),
    ("mnist 3 vs 8 hidden 32", "mnist[3,8]", {"widths": (32,)}),
    ("fashion-mnist hidden 128 64 10 epochs", "fashion-mnist", {"widths": (128, 64)}),
    ("mnist hidden 32 x 16", "mnist", {"widths": (32, 16)}),  # two widths, no count
    ("mnist hidden 128 x 64", "mnist", {"widths": (128, 64)}),
    ("mnist 64 units x 2", "mnist", {"hidden_layers": 2, "widths": (64,)}),
    ("mnist 0-4 hidden 32", "mnist[0-4]", {"widths": (32,)}),
    ("mnist 0 to 4 hidden 32", "mnist[0-4]", {"widths": (32,)}),
    ("mnist 0 - 4", "mnist[0-4]", None),
    ("mnist 3 vs 8 - 2 hidden 32", "mnist[3,8]", {"widths": (32,), "hidden_layers": 2}),  # a dash down separates
    ("mnist 3 vs 8 hidden size 64", "mnist[3,8]", {"widths": (64,)}),
    ("mnist 3 vs 8, 2 hidden layers of 64", "mnist[3,8]", {"widths": (64,), "hidden_layers": 2}),
    ("digits 3 and 8, 2 hidden layers of 64", "mnist[3,8]", {"widths": (64,), "hidden_layers": 2}),
    ("mnist 3 and 8 hidden layers 64 then 32", "mnist[3,8]", {"widths": (64, 32)}),
    ("mnist channels [16, 32]", "mnist", {"widths": (16, 32), "family": "cnn"}),
    ("mnist 16/32 channels", "mnist", {"widths": (16, 32), "family": "cnn"}),
    ("mnist filters 32 epochs", "mnist", None),
    ("mnist 3/8 64 units", "mnist[3,8]", {"widths": (64,)}),
    ("mnist 3 and 8, 64 units", "mnist[3,8]", {"widths": (64,)}),
    ("mnist hidden sizes 32, 16, 8, 4", "mnist", {"widths": (32, 16, 8, 4)}),
]


@pytest.mark.parametrize(("text", "task", "words"), READ_AS_WIDTHS + KEPT)
def test_widths_go_to_the_network_and_classes_to_the_task(text, task, words):
    assert text_to_spec(text) == task
    assert arch_words(text) == words


@pytest.mark.parametrize(("text", "shape", "k", "arch"), [
    ("mnist hidden 32 16 8 4", (1, 28, 28), 10, "mlp:784-32-16-8-4-10:relu"),
    ("mnist hidden 64 x 2", (1, 28, 28), 10, "mlp:784-64-64-10:relu"),
    ("mnist channels 16, 32", (1, 28, 28), 10, "cnn:1-16-32-10:relu:k3:s2"),
    ("3 vs 8 hidden layer size 64", (1, 28, 28), 2, "mlp:784-64-2:relu"),
])
def test_the_network_built_from_a_width_list(text, shape, k, arch):
    assert str(arch_from_words(arch_words(text), shape, k)) == arch


def test_single_digits_that_widen_are_still_read_as_classes():
    # "8 4" halves the widths; "3 8" does not: a class list, as before
    assert text_to_spec("mnist hidden 64 32 3 8") == "mnist[3,8]"
    assert text_to_spec("mnist hidden 32 16 8 4 3 vs 9") != "mnist"  # a class list goes on from the digits
