"""Round 27c: classes picked by rank ("top 3 mnist classes") are an error, like picking them by position."""

import pytest

from metanet.errors import TaskError
from metanet.tasks import text_to_spec


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
