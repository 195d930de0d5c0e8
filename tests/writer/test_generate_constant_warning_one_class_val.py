"""`metanet.generate` on a task whose validation split has one class: a network predicting that class on every
validation example is right, not warned about as a constant classifier (only the missing classes are told)."""

from __future__ import annotations

import warnings

import torch

import metanet


class _Task:
    num_classes = 2
    input_shape = (2,)
    name = "val-one-class"

    def split(self, which: str):
        y = torch.arange(40) % 2 if which != "val" else torch.zeros(40, dtype=torch.long)
        x = torch.stack([y.float(), 1 - y.float()], 1) + 0.01 * torch.arange(40).unsqueeze(1)  # separable
        return x, y


def test_a_one_class_validation_split_gives_no_constant_classifier_warning(trained):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        g = metanet.generate(_Task(), candidates=2, shots=5, writer=trained)
    assert g.report.candidates[g.report.chosen]["val_accuracy"] == 1.0
    said = [str(w.message) for w in caught]
    assert any("no validation examples of class 1" in s for s in said), said
    assert not any("constant classifier" in s for s in said), said
