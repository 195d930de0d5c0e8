"""Free-text task specs as people write them, and hostile text.

Realistic sentences were false errors ("a net under 2 MB for digits": one class 2; "digits 5 and above": one class
5; "mnist mlp 784-128-10": a range past 9) or silently other tasks ("mnist 5 and 8 with 3 conv layers" was
mnist[5,8,3], "digits zero to four" all of mnist, "digits from 3 up to 7" mnist[3,0-2,4-7], "mnist with inversion"
plain mnist, "seed 3, permuted pixels" permute(0)). Hostile text hung or crashed: "mnist 3 , , , ... x" took time
exponential in its commas, numbers of 5,000 digits were a ValueError, and a megabyte of text took seconds per rule.
A METANET_DATA that is no folder was named for fashion-mnist only, not when full MNIST came from ~/.cache/metanet.
"""

from __future__ import annotations

import re

import pytest

from tasks_helpers import MNIST_HEAD, make_idx_folder

from metanet import tasks
from metanet.errors import TaskError
from metanet.tasks.grammar import parse_spec
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


# ------------------------------------------------------------------------------------------------- hostile text
@pytest.mark.parametrize("text, match", [
    # each took time exponential in its repeats (backtracking over the spaces around "," and "or")
    ("mnist 3" + " ," * 40 + " x", r"names only one class \(3\)"),
    ("mnist 3 or 8" + " or 3 or 8" * 20 + " x", None),
])
def test_repeated_joining_words_give_their_answer(text, match):
    if match is None:
        assert text_to_spec(text) == "mnist[3,8]"
    else:
        with pytest.raises(TaskError, match=match):
            text_to_spec(text)


BIG = "9" * 5000  # int() refuses more than 4,300 digits: a ValueError, not a TaskError


@pytest.mark.parametrize("text, match", [
    ("mnist " + BIG, r"class 9{5000} is out of range: mnist has classes 0-9"),
    ("mnist 0 to " + BIG, r"range '0 to 9{5000}' goes past 9"),
    ("digits above " + BIG, r"'above 9{5000}' goes past 9"),
    (BIG + "-class mnist", r"asks for 9{5000} classes"),
    ("mnist between " + BIG + " and 3", r"does not say whether 9{5000} and 3 are in"),
    ("mnist permuted pixels seed " + BIG, r"permute needs a non-negative integer seed"),
    ("mnist[" + BIG + "]", r"class 9{5000} is out of range"),
    ("mnist[3-" + BIG + "]", r"class 10 is out of range"),
    ("mnist[" + BIG + "-3]", r"runs backwards; write it as 3-9{5000}"),
    ("mnist+relabel(" + BIG + ")", r"relabel needs a non-negative integer seed"),
])
def test_numbers_of_thousands_of_digits_are_task_errors(text, match):
    with pytest.raises(TaskError, match=match):
        text_to_spec(text)


def test_the_grammar_refuses_them_too():
    with pytest.raises(TaskError, match=r"class 9{5000} is out of range"):
        parse_spec("fashion-mnist[1," + BIG + "]")
    with pytest.raises(TaskError, match="permute needs a non-negative integer seed"):
        tasks.get("mnist+permute(" + BIG + ")")


@pytest.mark.parametrize("text, length", [
    ("mnist 3 and 8" + "\x00" * 100_000, "100,013"),
    ("mnist 3 and 8 " * 80_000, "1,119,999"),
    ("mnist 3\n" + "\n" * 20_000 + "and 8", "20,013"),
])
def test_a_text_past_10_000_characters_is_refused_naming_its_length(text, length):
    for read in (text_to_spec, tasks.parse, tasks.resolve):
        with pytest.raises(TaskError, match=re.escape(f"a task description of {length} characters (")) as e:
            read(text)
        assert "at most 10,000 are read" in str(e.value) and len(str(e.value)) < 300  # not the text quoted whole


def test_a_long_text_under_the_limit_still_parses():
    assert text_to_spec("mnist 3 and 8" + " " * 9_000 + "inverted") == "mnist[3,8]+invert"
    assert text_to_spec("  " * 20_000 + "mnist 3 and 8") == "mnist[3,8]"  # counted once stripped


# ------------------------------------------------------------------------------------------------- data folders
def test_mnist_found_in_the_cache_while_metanet_data_is_not_a_folder_warns(isolated, monkeypatch):
    """As fashion-mnist does: full MNIST from ~/.cache/metanet was used without a word about the typo."""
    cache = isolated / "home-cache" / "mnist"
    make_idx_folder(cache, head=MNIST_HEAD)
    monkeypatch.setenv("METANET_DATA", str(isolated / "typo"))
    with pytest.warns(UserWarning, match=re.escape(f"METANET_DATA={isolated / 'typo'} is not a folder: using the "
                                                   f"mnist IDX files in {cache} instead")) as record:
        t = tasks.get("mnist")
    assert t.source == str(cache) and record[0].filename == __file__
