"""Free text: two depths joined by a dash after the classes ("mnist 3 vs 8 - 2 - 1 layers") are refused as two
depths (the task parser said "digit range '8 - 2' runs backwards", and arch_words read 1 layer, no hidden one); the
task keeps its classes; a class range before a dash and a depth is still read ("mnist 3 - 8 - 2 layers")."""

from __future__ import annotations

import pytest

from metanet.errors import ArchError
from metanet.tasks.arch_text import arch_words
from metanet.tasks.parse import text_to_spec


@pytest.mark.parametrize("text, said", [("mnist 3 vs 8 - 2 - 1 layers", "'2 - 1 layers'"),
                                        ("mnist 3 vs 8 - 2 - 1 hidden layers", "'2 - 1 hidden layers'")])
def test_two_depths_joined_by_a_dash_are_refused(text: str, said: str) -> None:
    assert text_to_spec(text) == "mnist[3,8]"
    with pytest.raises(ArchError, match=f"{said} names two depths joined by a dash; .* say one depth, e.g. '2 "):
        arch_words(text)


@pytest.mark.parametrize("text, spec", [("mnist 3 - 8 - 2 layers", "mnist[3-8]"),
                                        ("mnist 3 vs 8 - 2 layers", "mnist[3,8]")])
def test_a_separator_before_one_depth_is_read(text: str, spec: str) -> None:
    assert text_to_spec(text) == spec
    assert arch_words(text) == {"hidden_layers": 1}
