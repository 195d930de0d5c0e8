"""A transform no task has, asked about and answered no ("noise? no", "rotated? no", "label noise? no", as "inverted?
no"), or refused as label noise ("don't use label noise": its "noise" was refused alone), asks for nothing; asked
for, it is still an error."""

from __future__ import annotations

import pytest

from metanet.errors import TaskError
from metanet.tasks.parse import text_to_spec


@pytest.mark.parametrize("text", ["mnist 3 and 8, noise? no", "mnist 3 and 8, noisy? no", "mnist 3 and 8, noise: no",
                                  "mnist 3 and 8, rotated? no", "mnist 3 and 8, label noise? no",
                                  "mnist 3 and 8, noisy labels? no", "mnist 3 and 8, don't use label noise",
                                  "mnist 3 and 8, augmentation? no thanks"])
def test_refused_transforms_ask_for_nothing(text: str) -> None:
    assert text_to_spec(text) == "mnist[3,8]"


@pytest.mark.parametrize("text", ["mnist 3 and 8, noise? yes", "mnist 3 and 8 with label noise",
                                  "mnist 3 and 8, noise? no, rotated"])
def test_transforms_asked_for_are_still_errors(text: str) -> None:
    with pytest.raises(TaskError, match="no task transform"):
        text_to_spec(text)
