"""Architecture words: widths joined by slashes before "channels" / "filters" / "units" ("a cnn with 16/32 channels":
it read the width 32 alone and the task parser took 16 for a class), and lists joined by "then" ("widths 128 then
64": the 64 was dropped, and read as a class)."""

from __future__ import annotations

import pytest

from metanet.errors import ArchError
from metanet.tasks.arch_text import arch_from_words, arch_words
from metanet.tasks.parse import text_to_spec


@pytest.mark.parametrize("text, spec, arch", [
    ("a cnn with 16/32 channels for mnist", "mnist", "cnn:1-16-32-10:relu:k3:s2"),
    ("a cnn, 16/32/64 filters, mnist 3 vs 8", "mnist[3,8]", "cnn:1-16-32-64-10:relu:k3:s2"),
    ("mnist, an mlp of 128/64 units", "mnist", "mlp:784-128-64-10:relu"),
])
def test_slashes_before_units_are_one_width_per_layer(text: str, spec: str, arch: str) -> None:
    assert text_to_spec(text) == spec
    assert str(arch_from_words(arch_words(text), (1, 28, 28), 10)) == arch


@pytest.mark.parametrize("text", ["mnist mlp, widths 128 then 64", "mnist mlp, widths 128, then 64",
                                  "mnist, an mlp with hidden layers of 128 then 64"])
def test_then_joins_a_list_of_widths(text: str) -> None:
    assert text_to_spec(text) == "mnist"
    assert str(arch_from_words(arch_words(text), (1, 28, 28), 10)) == "mlp:784-128-64-10:relu"


def test_a_depth_that_disagrees_names_both() -> None:
    with pytest.raises(ArchError, match="1 hidden layer but 2 widths"):
        arch_from_words(arch_words("a 2-layer mlp, widths 128 then 64"), (1, 28, 28), 10)
