"""Free text: "hidden N" is the width of every hidden layer after any list of classes ("3 versus 8", "3 vs. 8", "3 plus
8": the 8 was taken for a count of hidden layers, leaving the one class 3), and "hidden N fully connected layers" is a
depth like "hidden N dense layers" (it was also read as N units wide)."""

from __future__ import annotations

import pytest

from metanet.tasks.arch_text import arch_words
from metanet.tasks.parse import text_to_spec


@pytest.mark.parametrize("text", [
    "mnist 3 versus 8 hidden 32",
    "mnist 3 vs. 8 hidden 32",
    "mnist 3 plus 8 hidden 32",
    "mnist 3 and 8 hidden 32",
])
def test_hidden_n_after_a_class_list(text: str) -> None:
    assert text_to_spec(text) == "mnist[3,8]"
    assert arch_words(text) == {"widths": (32,)}


@pytest.mark.parametrize("kind", ["fully connected", "fully-connected", "dense"])
def test_hidden_n_kind_layers_is_a_depth_only(kind: str) -> None:
    assert arch_words(f"mnist hidden 3 {kind} layers") == {"family": "mlp", "hidden_layers": 2}
