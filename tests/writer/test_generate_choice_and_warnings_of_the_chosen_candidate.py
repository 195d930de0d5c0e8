"""What `metanet.generate` says about the candidate it chose, on a toy task with hand-set candidate weights (a writer
whose ``write`` returns them): the constant-classifier check looks at the chosen network, the near-chance warning
judges the score the choice was made by (balanced accuracy on an imbalanced support), exact ties go to the lower
index, and class names not one per class are not recorded."""

from __future__ import annotations

import warnings

import pytest
import torch

import metanet
from metanet.writer import Writer

ARCH = "mlp:2-2-2:relu"  # layer 0 the identity on inputs >= 0; layer 1: logit 1 - logit 0 = x0 - threshold


def _weights(w1: list[list[float]], b1: list[float], w0_11: float = 1.0) -> dict[str, torch.Tensor]:
    return {"layers.0.weight": torch.tensor([[1.0, 0.0], [0.0, w0_11]]), "layers.0.bias": torch.zeros(2),
            "layers.1.weight": torch.tensor(w1), "layers.1.bias": torch.tensor(b1)}


def _threshold(t: float, **kw) -> dict[str, torch.Tensor]:
    return _weights([[0.0, 0.0], [1.0, 0.0]], [0.0, -t], **kw)  # class 1 where x0 > t


CONSTANT = _weights([[0.0, 0.0], [0.0, 0.0]], [1.0, 0.0])  # class 0 everywhere


class _Fixed(Writer):
    """A writer that writes the candidates it is given (one weight set each), whatever the support."""

    def __init__(self, cands: list[dict[str, torch.Tensor]]) -> None:
        super().__init__()
        self.cands = cands

    def write(self, arch, x, y, num_classes=None, start=None, candidates=1, seed=0, all_steps=False):
        assert candidates == len(self.cands)
        return {k: torch.stack([c[k] for c in self.cands]) for k in self.cands[0]}


class _Toy:
    """Two classes of 2-feature examples: a support of ``support`` examples per class, a validation split of
    class-0 examples at x0 = ``val0`` and class-1 examples at x0 = ``val1``, no test split."""

    name, input_shape, num_classes = "toy", (2,), 2

    def __init__(self, support: tuple[int, int], val0: list[float], val1: list[float], class_names=None) -> None:
        ys = torch.cat([torch.full((n,), c) for c, n in enumerate(support)])
        self.splits = {
            "train": (torch.stack([torch.linspace(0.1, 0.9, len(ys)), torch.full((len(ys),), 1.0)], 1), ys),
            "val": (torch.tensor([[v, 0.5] for v in val0 + val1]),
                    torch.tensor([0] * len(val0) + [1] * len(val1))),
            "test": (torch.zeros(0, 2), torch.zeros(0, dtype=torch.long)),
        }
        if class_names is not None:
            self.class_names = class_names

    def split(self, name: str):
        return self.splits[name]


def _generate(task, cands):
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        g = metanet.generate(task, arch=ARCH, candidates=len(cands), writer=_Fixed(cands))
    return g, [str(w.message) for w in rec]


def test_a_constant_candidate_0_is_not_warned_about_when_another_is_chosen():
    task = _Toy((10, 10), [0.2] * 10, [0.8] * 10)
    g, said = _generate(task, [CONSTANT, _threshold(0.5)])
    assert g.report.chosen == 1 and g.report.candidates[1]["val_accuracy"] == 1.0
    assert said == []  # was: "the chosen network (candidate 1) ... predicts class 0 ...", candidate 0's predictions


def test_the_chosen_constant_candidate_is_still_warned_about():
    task = _Toy((10, 10), [0.2] * 10, [0.8] * 10)
    wrong = _weights([[0.0, 0.0], [-1.0, 0.0]], [0.0, 0.5])  # class 1 where x0 < 0.5: every example wrong
    g, said = _generate(task, [wrong, CONSTANT])
    assert g.report.chosen == 1
    assert len(said) == 1 and "(candidate 1)" in said[0] and "predicts class 0" in said[0]


# an imbalanced support (2 against 20): chosen by balanced accuracy, chance 0.5 for it
def test_near_chance_is_judged_by_balanced_accuracy_not_a_low_plain_accuracy():
    # class 0: 36 of 90 right, class 1: 10 of 10: accuracy 0.46, balanced accuracy 0.70, well above its chance
    task = _Toy((20, 2), [0.1] * 36 + [0.6] * 54, [0.8] * 10)
    g, said = _generate(task, [_threshold(0.5)])
    c = g.report.candidates[0]
    assert c["val_accuracy"] == pytest.approx(0.46) and c["val_balanced_accuracy"] == pytest.approx(0.7)
    assert said == []  # was: "validation balanced accuracy 0.460, within 0.05 of chance (0.500 ...)"


def test_near_chance_balanced_accuracy_is_warned_about_despite_a_high_plain_accuracy():
    # class 0: 89 of 90 right, class 1: 0 of 10: accuracy 0.89 but balanced accuracy 0.494
    task = _Toy((20, 2), [0.1] * 89 + [0.6], [0.4] * 10)
    g, said = _generate(task, [_threshold(0.5)])
    assert g.report.candidates[0]["val_accuracy"] == pytest.approx(0.89)
    assert len(said) == 1 and "validation balanced accuracy 0.494, within 0.05 of chance (0.500" in said[0]


def test_exact_ties_go_to_the_lower_index():
    # the same function, other weights (layer 1 reads nothing of hidden unit 1): equal accuracy and loss
    task = _Toy((10, 10), [0.2] * 10, [0.8] * 10)
    g, _ = _generate(task, [_threshold(0.5, w0_11=2.0), _threshold(0.5)])
    assert g.report.candidates[0] == g.report.candidates[1]
    assert g.report.chosen == 0 and g.model is g.candidates[0]


def test_class_names_not_one_per_class_are_not_recorded(tmp_path):
    task = _Toy((10, 10), [0.2] * 10, [0.8] * 10, class_names=["cat", "dog", "bird"])
    g, _ = _generate(task, [_threshold(0.5)])
    assert g.report.class_names is None and "outputs" not in str(g.report)  # not "0='cat', 1='dog', 2='bird'"
    assert metanet.load_meta(g.save(tmp_path / "toy.safetensors"))["class_names"] is None
    task.class_names = ("cat", "dog")
    assert _generate(task, [_threshold(0.5)])[0].report.class_names == ["cat", "dog"]
