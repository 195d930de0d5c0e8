"""The writer's distillation term (Hinton et al.), as the module docstring states it: ``distill_weight * T² *
KL(softmax(teacher / T) || softmax(student / T))`` added to each refinement step's query cross-entropy, at
``T = distill_temperature``. Without the temperature on the student, or without the T² factor, the loss was still
finite and larger than the plain one, which is all the existing check looked at."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from writer_helpers import digits_val_episode

from metanet.writer.lightning import WriterModule, written_logits


@pytest.mark.parametrize("t, w", [(4.0, 0.5), (2.0, 1.5)])
def test_distillation_term_is_weight_times_t_squared_times_the_tempered_kl(t, w):
    ep = digits_val_episode()
    torch.manual_seed(0)
    m = WriterModule(hidden=8, message=4, distill_weight=w, distill_temperature=t)
    qx, qy = ep.query
    teacher = 3.0 * torch.randn(len(qy), ep.arch.num_classes, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        got, _ = m._episode_loss(ep, teacher, seed=7)
        steps = m.writer.write(ep.arch, *ep.support, start=None, candidates=1, seed=7, all_steps=True)
        want = []
        for params in steps:
            s = written_logits(ep.arch, params, qx)[0]
            p_t = F.softmax(teacher / t, -1)
            kl = (p_t * (F.log_softmax(teacher / t, -1) - F.log_softmax(s / t, -1))).sum(-1).mean()
            want.append(F.cross_entropy(s, qy) + w * t * t * kl)
    assert float(got) == pytest.approx(float(torch.stack(want).mean()), rel=1e-5, abs=1e-6)
