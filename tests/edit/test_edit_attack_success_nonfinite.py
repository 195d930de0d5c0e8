"""Attack success and Neural Cleanse on networks whose logits are NaN: a NaN row predicts nothing, so it hits no
target (argmax read it as class 0: a network with NaN logits had an attack success rate of 1.0 towards class 0, and
Neural Cleanse found class 0 reached by its first, untrained mask)."""

from __future__ import annotations

import math

import torch

from metanet import tasks
from metanet.edit import attack_success_rate
from metanet.edit.cleanse import neural_cleanse
from metanet.nets import build

TRIGGER = {"kind": "square", "size": 2, "location": [6, 6], "pattern": [[1, 1], [1, 1]], "target": 0}


def _nan_class_0(seed: int = 0):
    m = build("mlp:64-16-10:relu", seed=seed)
    with torch.no_grad():
        m.layers[-1].weight[0, 0] = math.nan  # class 0's logit is NaN on every input
    return m.eval()


def test_a_network_with_nan_logits_hits_no_target_and_a_finite_one_is_measured():
    finite = build("mlp:64-16-10:relu", seed=0).eval()
    rates = attack_success_rate([_nan_class_0(), finite], "digits", TRIGGER)
    assert rates[0] == 0.0
    # the finite network: the share of stamped non-target examples it sends to class 0, as before
    assert 0.0 <= rates[1] <= 1.0 and rates[1] == attack_success_rate(finite, "digits", TRIGGER)


def test_neural_cleanse_reaches_no_class_through_nan_logits():
    m = _nan_class_0()
    x, _ = tasks.get("digits").split("val")
    l1, _, _ = neural_cleanse(lambda xs: m(xs[0])[None], x[:64], 10, 1, steps=5, batch=16, seed=0)
    assert torch.isinf(l1).all()  # class 0's l1 was that of the initial mask: 'reached' at step 0
