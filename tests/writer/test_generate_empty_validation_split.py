"""`metanet.generate` on a task without validation examples (tasks.from_examples keeps classes of fewer than 3
examples wholly for training): a TaskError saying the candidates cannot be chosen among and what to give, or to pass
verify=False (verify's own "split 'val' has no examples" named neither), and verify=False still writes."""

from __future__ import annotations

import pytest
import torch

import metanet
from metanet.errors import TaskError


def test_no_validation_examples_names_the_fix(untrained):
    x = torch.rand(4, 3, generator=torch.Generator().manual_seed(0))
    task = metanet.tasks.from_examples(x, torch.tensor([0, 0, 1, 1]))
    with pytest.raises(TaskError, match=r"has no validation examples to choose among the candidates; give at least 3 "
                                        r"distinct examples .* or pass verify=False"):
        metanet.generate(task, candidates=2, writer=untrained)
    g = metanet.generate(task, candidates=2, writer=untrained, verify=False)
    assert g.report.chosen == 0 and g.report.test is None
