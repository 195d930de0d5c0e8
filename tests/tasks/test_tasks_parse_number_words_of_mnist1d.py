"""Number words before "of" and mnist1d are classes, as before any other data set's name ("one and two of mnist1d"
was all of mnist1d: its name was blanked with its "1d", so the "of" looked like a count's, "one of the digits")."""

from __future__ import annotations

import pytest

from metanet.tasks.parse import text_to_spec


@pytest.mark.parametrize("text, spec", [
    ("one and two of mnist1d", "mnist1d[1,2]"),
    ("classes one and seven of the mnist-1d data", "mnist1d[1,7]"),
    ("three and eight of mnist 1d", "mnist1d[3,8]"),
    ("1 and 2 of mnist1d", "mnist1d[1,2]"),
    ("mnist1d", "mnist1d"),  # its 1 is still no class
    ("mnist-1d 3 vs 8", "mnist1d[3,8]"),
    ("the 1d mnist", "mnist1d"),
])
def test_number_words_of_mnist1d_are_classes(text, spec):
    assert str(text_to_spec(text)) == spec
