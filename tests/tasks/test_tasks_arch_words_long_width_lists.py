"""Free text: a list of more widths than :data:`MAX_HIDDEN` hidden layers is refused as a depth over it is ("mnist,
widths 11, 11, ..." built a network of hundreds of hidden layers); a list of up to that many is read."""

from __future__ import annotations

import pytest

from metanet.errors import ArchError
from metanet.tasks.arch_text import MAX_HIDDEN, arch_words


@pytest.mark.parametrize("text", ["mnist, widths 11" + ", 11" * MAX_HIDDEN, "mnist, hidden 11" + ", 11" * MAX_HIDDEN,
                                  "mnist, hidden layers 11" + " then 11" * MAX_HIDDEN,
                                  "mnist, an mlp 784" + "-11" * (MAX_HIDDEN + 1) + "-10"])
def test_more_widths_than_hidden_layers_read_are_refused(text: str) -> None:
    with pytest.raises(ArchError, match=rf"lists \d+ widths; at most {MAX_HIDDEN} hidden layers are read"):
        arch_words(text)


def test_a_list_of_max_hidden_widths_is_read() -> None:
    assert len(arch_words("mnist, widths 11" + ", 11" * (MAX_HIDDEN - 1))["widths"]) == MAX_HIDDEN
    assert len(arch_words("mnist, an mlp 784" + "-11" * MAX_HIDDEN + "-10")["full"]) == MAX_HIDDEN + 2
