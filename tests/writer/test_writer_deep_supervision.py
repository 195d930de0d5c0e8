"""Deep supervision: with ``steps > 1`` the writer's episode loss is the mean of every refinement pass's query
cross-entropy (as the module docstring says), not the last pass's alone, and each pass's query accuracy is reported."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from writer_helpers import digits_val_episode

from metanet.writer.lightning import WriterModule, written_logits


def test_every_refinement_pass_is_supervised():
    ep = digits_val_episode()
    torch.manual_seed(0)
    m = WriterModule(hidden=8, message=4, steps=3)
    qx, qy = ep.query
    with torch.no_grad():
        got, accs = m._episode_loss(ep, seed=7)
        passes = m.writer.write(ep.arch, *ep.support, start=None, candidates=1, seed=7, all_steps=True)
        each = [F.cross_entropy(written_logits(ep.arch, p, qx)[0], qy) for p in passes]
    assert len(passes) == 3 and len(accs) == 3
    assert float(got) == pytest.approx(float(torch.stack(each).mean()), rel=1e-5, abs=1e-6)
    assert float(torch.stack(each).mean()) != pytest.approx(float(each[-1]), rel=1e-4)  # the test can fail
