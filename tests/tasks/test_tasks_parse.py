"""Free text to task: the phrases the design promises (seeds, number words, class lists, layer counts that are no
classes), and helpful errors for constraints the parser does not understand (class counts the classes do not meet,
classes picked by position or rank, parity, glued names, binarised pixels): never silently dropped."""

from __future__ import annotations

import pytest

from metanet import tasks
from metanet.errors import TaskError
from metanet.tasks import text_to_spec


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


@pytest.mark.parametrize("text, spec", [
    ("pixel-permuted mnist seed 3", "mnist+permute(3)"),  # the seed was dropped: permute(0)
    ("pixel permuted mnist with seed 5", "mnist+permute(5)"),
    ("pixel-permuted fashion mnist seed 3", "fashion-mnist+permute(3)"),  # the module docstring's own example
    ("permuted mnist seed 4", "mnist+permute(4)"),
    ("mnist with pixels permuted, seed 2", "mnist+permute(2)"),
])
def test_seed_after_a_pixel_permuted_data_set_is_kept(text, spec):
    assert tasks.text_to_spec(text) == spec


@pytest.mark.parametrize("text", [
    "binary: even vs odd mnist digits", "even vs odd mnist digits", "odd vs even digits", "even or odd mnist",
])
def test_even_against_odd_is_an_error_not_the_even_digits(text):
    # it used to give mnist[0,2,4,6,8]: a 5-class task of even digits, not the parity task asked for
    with pytest.raises(TaskError, match="parity") as e:
        tasks.text_to_spec(text)
    assert repr(text) in str(e.value) and "even digits" in str(e.value)


def test_even_or_odd_alone_still_picks_those_digits():
    assert tasks.text_to_spec("the odd digits") == "mnist[1,3,5,7,9]"
    assert tasks.text_to_spec("even mnist digits") == "mnist[0,2,4,6,8]"
    assert tasks.text_to_spec("mnist without odd digits") == "mnist[0,2,4,6,8]"


@pytest.mark.parametrize("text, spec", [
    ("mnist five vs six", "mnist[5,6]"),  # was mnist: the classes silently dropped
    ("a classifier for handwritten digits five and six", "mnist[5,6]"),
    ("mnist digits zero and one", "mnist[0,1]"),
    ("mnist: classes three and eight", "mnist[3,8]"),
    ("one vs seven", "mnist[1,7]"),  # was 'could not tell which task'
    ("mnist one vs 7", "mnist[1,7]"),  # was 'names only one class (7)'
    ("mnist, seven vs one", "mnist[7,1]"),
    ("mnist: one, two, or three", "mnist[1-3]"),
    ("fashion mnist classes one and two", "fashion-mnist[1,2]"),
    ("mnist except one and two", "mnist[0,3-9]"),
])
def test_number_words_in_a_list_are_classes(text, spec):
    assert tasks.text_to_spec(text) == spec


@pytest.mark.parametrize("text, spec", [
    ("mnist with one or two hidden layers", "mnist"),  # counts, not classes
    ("one or two networks for mnist", "mnist"),
    ("mnist: one, two, or three examples per class", "mnist"),
    ("mnist one", "mnist"),  # a lone "one" is no class
    ("mnist one vs rest", "mnist"),
    ("mnist 3 and 8 with one hidden layer", "mnist[3,8]"),
    ("one-dimensional signals", "mnist1d"),
])
def test_number_words_that_are_not_classes(text, spec):
    assert tasks.text_to_spec(text) == spec


def test_a_setting_written_with_of_is_not_a_class():
    # "class 64 is out of range" before
    assert tasks.text_to_spec("mnist 3 & 8 with a hidden size of 64") == "mnist[3,8]"
    assert tasks.text_to_spec("mnist 3 and 8, a width of 128") == "mnist[3,8]"


@pytest.mark.parametrize(
    "text, part",
    [
        ("binary mnist", "binary"),  # would be all 10 classes
        ("a binary classifier for fashion mnist", "binary"),
        ("binary mnist 3, 5 and 8", "binary"),  # three classes named
        ("5-class fashion mnist", "5-class"),
        ("mnist, three classes", "three classes"),
        ("a 4-way classifier on mnist digits 3 and 8", "4-way"),
    ],
)
def test_a_class_count_that_the_classes_do_not_meet_is_an_error(text, part):
    with pytest.raises(TaskError) as info:
        text_to_spec(text)
    message = str(info.value)
    assert repr(part) in message and "e.g." in message


@pytest.mark.parametrize(
    "text, spec",
    [
        ("binary mnist 3 vs 8", "mnist[3,8]"),
        ("mnist 3 and 8, binary classifier", "mnist[3,8]"),
        ("a two-class network for sneakers and boots", "fashion-mnist[7,9]"),
        ("10-class mnist", "mnist"),
        ("fashion mnist, 10 classes", "fashion-mnist"),
        ("mnist without 7, a 9-way classifier", "mnist[0-6,8,9]"),
        ("5 class mnist 0 to 4", "mnist[0-4]"),
    ],
)
def test_a_class_count_that_the_classes_meet_is_fine(text, spec):
    assert text_to_spec(text) == spec


@pytest.mark.parametrize(
    "text, part",
    [
        ("first five mnist digits", "first five"),
        ("the last 3 digits of mnist", "last 3"),
        ("first 1000 images of fashion mnist", "first 1000"),
    ],
)
def test_classes_or_examples_picked_by_position_are_an_error(text, part):
    with pytest.raises(TaskError) as info:
        text_to_spec(text)
    assert repr(part) in str(info.value) and "0 to 4" in str(info.value)


def test_first_and_last_that_count_layers_are_no_constraint_on_the_task():
    assert text_to_spec("mnist 3 and 8, retrain the last 2 layers") == "mnist[3,8]"
    assert text_to_spec("fashion mnist, first 5 epochs") == "fashion-mnist"


@pytest.mark.parametrize("text, part", [("mnist3 and 8", "mnist3"), ("fashion-mnist3 and 8", "fashion-mnist3"),
                                        ("fmnist7 vs 9", "fmnist7")])
def test_a_data_set_name_glued_to_a_number_is_named_in_the_error(text, part):
    with pytest.raises(TaskError) as info:
        text_to_spec(text)
    message = str(info.value)
    assert repr(part) in message and "only one class" not in message
    assert text_to_spec("mnist1d 3 and 8") == "mnist1d[3,8]"  # the name mnist1d is no glued number


@pytest.mark.parametrize(
    "text, spec",
    [
        ("mnist 2 or 3 layers", "mnist"),
        ("mnist with 2 or 3 hidden layers", "mnist"),
        ("mnist digits 0 to 4, 2-3 layers", "mnist[0-4]"),
        ("mnist 3 and 8 with 2 to 3 hidden layers", "mnist[3,8]"),
        ("mnist 3 and 8, 2 or 3 layers", "mnist[3,8]"),
        ("digits five and six, two hidden layers", "mnist[5,6]"),  # the count after the comma is not a class
        ("mnist with one, two, or three layers", "mnist"),
    ],
)
def test_a_list_of_numbers_that_counts_layers_is_no_class(text, spec):
    assert text_to_spec(text) == spec


def test_binarised_pixels_are_not_silently_dropped():
    with pytest.raises(TaskError, match="binarized.*inverted"):
        text_to_spec("binarized mnist 3 vs 8")


@pytest.mark.parametrize(
    "text, part",
    [
        ("top 3 mnist classes", "top 3"),
        ("the top-5 digits", "top-5"),
        ("top three fashion mnist classes", "top three"),
        ("mnist, top 4 classes", "top 4"),
        ("top 2 classes of mnist", "top 2"),
    ],
)
def test_classes_picked_by_rank_are_an_error_naming_the_phrase(text, part):
    with pytest.raises(TaskError) as info:
        text_to_spec(text)
    message = str(info.value)
    assert repr(part) in message and "by label" in message and "0 to 4" in message


@pytest.mark.parametrize(
    "text, spec",
    [
        ("top-5 accuracy on mnist digits", "mnist"),
        ("mnist 3 vs 8 with top-1 accuracy", "mnist[3,8]"),
        ("fashion mnist at top-1 accuracy above 90%", "fashion-mnist"),
        ("fashion mnist top 5 classification accuracy", "fashion-mnist"),
        ("fashion tops and shirts", "fashion-mnist[0,6]"),
    ],
)
def test_top_n_as_an_accuracy_metric_is_still_no_constraint(text, spec):
    assert text_to_spec(text) == spec


@pytest.mark.parametrize("text,spec", [
    ("relabelled mnist seed 4", "mnist+relabel(4)"),  # the seed after the data set's name was dropped: relabel(0)
    ("relabeled fashion mnist (seed=2)", "fashion-mnist+relabel(2)"),
    ("relabelled mnist", "mnist+relabel(0)"),
    ("mnist relabelled seed 5", "mnist+relabel(5)"),
])
def test_relabelled_data_takes_the_seed_after_its_name(text, spec):
    assert text_to_spec(text) == spec


# --- words near "fashion": real words are no typo of it, one-letter typos stay errors ---------------------------------


@pytest.mark.parametrize("text", ["old-fashioned handwritten digits", "handwritten digits in an old fashioned style",
                                  "flashing handwritten digits", "mnist digits, flashing"])
def test_real_words_near_fashion_are_not_taken_for_a_typo(text):
    assert tasks.text_to_spec(text) == "mnist"


@pytest.mark.parametrize("text", ["fasion mnist", "fahsion mnist", "fashiom mnist", "fashhion mnist", "fashions mnist"])
def test_one_letter_typos_of_fashion_are_still_errors(text):
    with pytest.raises(TaskError, match="did you mean fashion-mnist"):
        tasks.text_to_spec(text)


# --- a data set said not wanted, a network size, an input size --------------------------------------------------------


@pytest.mark.parametrize("text, spec", [
    ("handwritten digits, not letters", "mnist"),
    ("mnist (not letters)", "mnist"),
    ("mnist without letters", "mnist"),
    ("mnist, the digits not the letters", "mnist"),
    ("digits 3 and 8, not house numbers", "mnist[3,8]"),
    ("mnist cnn with 16x16 feature maps", "mnist"),
    ("mnist 10x10 confusion matrix", "mnist"),
])
def test_a_data_set_said_not_wanted_or_a_network_size_is_no_error(text, spec):
    assert text_to_spec(text) == spec


@pytest.mark.parametrize("text, word", [
    ("handwritten letters", "handwritten letters"),
    ("mnist letters a and b", "letters"),
    ("svhn, not mnist", "svhn"),
    ("not mnist but house numbers", "house numbers"),
])
def test_a_data_set_asked_for_stays_an_error(text, word):
    with pytest.raises(TaskError, match=f"unknown data set '{word}'"):
        text_to_spec(text)


def test_an_input_size_not_the_data_sets_stays_an_error():
    with pytest.raises(TaskError, match=r"'32x32' is not the input size of mnist"):
        text_to_spec("mnist 32x32 images")


# --- comparisons of a quantity of something else: no range of classes, also next to one -------------------------------


@pytest.mark.parametrize("text, spec", [
    # since session 33 these counts, sizes and scores are no classes at all (they were one class, an error)
    ("mnist with over 3 conv layers", "mnist"),  # was mnist[4-9]
    ("mnist with more than 2 fully connected layers", "mnist"),  # was mnist[3-9]
    ("mnist with over 1 million parameters", None),  # was mnist[2-9]
    ("mnist smaller than 5 mb", "mnist"),  # was mnist[0-4]
    ("mnist with under 3 percent error", "mnist"),  # was mnist[0-2]
    ("mnist, loss under 3", "mnist"),  # was mnist[0-2]
    ("up to 3 mnist networks", None),  # was mnist[0-3]
])
def test_a_compared_quantity_of_something_else_is_no_range_of_classes(text, spec):
    """A comparison of a count, size or score is not the classes above/below it; the number stays a plain number
    (None: one class, an error), as before the comparison rule, or is no class at all."""
    if spec is None:
        with pytest.raises(TaskError, match=r"names only one class"):
            text_to_spec(text)
    else:
        assert text_to_spec(text) == spec


@pytest.mark.parametrize("text, spec", [
    ("digits greater than 5 with less than 10 mb", "mnist[6-9]"),  # was mnist[6-9,0-5]: every class
    ("digits above 5 over 3 epochs", "mnist[6-9]"),
    ("digits below 3 and above 7 under 10 seconds", "mnist[0-2,8,9]"),
    ("digits above 5 with 2 hidden layers", "mnist[6-9]"),
])
def test_comparisons_next_to_other_quantities(text, spec):
    if spec is None:
        with pytest.raises(TaskError, match=r"class 10 is out of range"):
            text_to_spec(text)
    else:
        assert text_to_spec(text) == text_to_spec(spec)
