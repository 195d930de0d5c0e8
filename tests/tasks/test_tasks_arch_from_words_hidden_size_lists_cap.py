"""Free text: a bracketed or slashed list of hidden widths ("an mlp [32, 32, ...]", "mlp 32/32/...") builds at most
:data:`MAX_HIDDEN` hidden layers, as a "widths" list does; arch_words lets such a list hold two more numbers (it
may start at the input size and end at the class count), so 101 or 102 hidden widths built that many layers."""

from __future__ import annotations

import pytest

from metanet.errors import ArchError
from metanet.tasks.arch_text import MAX_HIDDEN, arch_from_words, arch_words


@pytest.mark.parametrize("extra", [1, 2])
@pytest.mark.parametrize("template", ["mnist, an mlp [{}]", "mnist, an mlp {}"])
def test_hidden_size_lists_past_max_hidden_are_refused(template: str, extra: int) -> None:
    sep = ", " if "[" in template else "/"
    words = arch_words(template.format(sep.join(["32"] * (MAX_HIDDEN + extra))))
    with pytest.raises(ArchError, match=rf"lists {MAX_HIDDEN + extra} hidden widths .*at most {MAX_HIDDEN} hidden"):
        arch_from_words(words, (1, 28, 28), 10)


def test_max_hidden_sizes_and_full_lists_are_read() -> None:
    words = arch_words("mnist, an mlp [" + ", ".join(["32"] * MAX_HIDDEN) + "]")
    assert arch_from_words(words, (1, 28, 28), 10).widths == (784, *[32] * MAX_HIDDEN, 10)
    words = arch_words("mnist, an mlp [784, " + ", ".join(["32"] * MAX_HIDDEN) + ", 10]")
    assert arch_from_words(words, (1, 28, 28), 10).widths == (784, *[32] * MAX_HIDDEN, 10)
