"""Free text: "channels", "filters", "nodes" after fashion class names are a network's widths, no class name
("sneakers and boots 16 and 32 channels" was "'channels' is not a class of fashion-mnist")."""

from __future__ import annotations

import pytest

from metanet.errors import TaskError
from metanet.tasks.parse import text_to_spec


@pytest.mark.parametrize("text", ["sneakers and boots 16 and 32 channels", "sneakers and boots 16/32 filters",
                                  "sneakers and boots 64 and 32 nodes"])
def test_width_words_after_class_names_are_no_classes(text: str) -> None:
    assert text_to_spec(text) == "fashion-mnist[7,9]"


def test_an_unknown_plural_is_still_an_error() -> None:
    with pytest.raises(TaskError, match="'hats' is not a class of fashion-mnist"):
        text_to_spec("sneakers and boots and hats")
