"""from_examples(name=...): the name is kept without the spaces around it (as task names are read everywhere), so
str(task), reports and tasks.parse see the name the user meant; a built-in name is refused with or without them."""

from __future__ import annotations

import pytest
import torch

from metanet import tasks
from metanet.errors import TaskError


def test_the_given_name_loses_its_surrounding_spaces():
    x, y = torch.linspace(0, 1, 12)[:, None], torch.arange(12) % 2
    t = tasks.from_examples(x, y, name="  my digits\n")
    assert t.name == str(t) == "my digits"
    assert "my digits" == tasks.from_examples(x, y, name="my digits").name
    with pytest.raises(TaskError, match=r"name ' mnist\[3,8\] ' is a built-in task name"):
        tasks.from_examples(x, y, name=" mnist[3,8] ")
