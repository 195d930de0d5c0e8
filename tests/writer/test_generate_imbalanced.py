"""Imbalanced support sets: the classifier layer is class-balanced (weighted ridge, weighted leave-one-out choice)
and generate chooses among candidates by balanced validation accuracy; nearly balanced supports are unchanged."""

from __future__ import annotations

import importlib
import warnings

import pytest
import torch

import metanet
from metanet.errors import ConfigError
from metanet.verify import Report
from metanet.writer.generate import _balanced_accuracy
from metanet.writer.model import imbalanced as _imbalanced
from metanet.writer.solvers import class_weights, loo_ridge, targets


def _balanced_accuracy_of(model, x, y) -> float:
    with torch.no_grad():
        pred = model(x).argmax(1)
    return sum(float((pred[y == c] == c).float().mean()) for c in y.unique()) / len(y.unique())


def test_generate_on_3_against_100_examples_recalls_the_minority_class(trained, digits):
    # 3 examples of a digit against 100 of another (from_examples keeps 1 of the 3 for training): the plain ridge
    # head and its plain leave-one-out accuracy favoured the majority (balanced test accuracy 0.67 for this pair,
    # 0.5 for others: a constant classifier); nearest class means alone reach about 0.9 here
    import metanet

    (xtr, ytr), (xte, yte) = digits.split("train"), digits.split("test")
    g = torch.Generator().manual_seed(0)
    few, many = (torch.nonzero(ytr == c).flatten() for c in (2, 3))
    few, many = few[torch.randperm(len(few), generator=g)[:3]], many[torch.randperm(len(many), generator=g)[:100]]
    x = torch.cat([xtr[few], xtr[many]])
    y = torch.cat([torch.zeros(3), torch.ones(100)]).long()
    task = metanet.tasks.from_examples(x, y)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no "a constant classifier" warning either
        gen = metanet.generate(task, candidates=1, seed=0, writer=trained)
    keep = (yte == 2) | (yte == 3)  # the balanced test set of the two digits (35 and 37 examples)
    acc = _balanced_accuracy_of(gen.model, xte[keep], (yte[keep] == 3).long())
    assert acc >= 0.85


def test_the_head_is_class_balanced_only_beyond_the_documented_ratio(trained):
    from metanet.writer.model import BALANCE_ABOVE

    g = torch.Generator().manual_seed(0)
    a = torch.randn(1, 40, 6, generator=g)
    for counts, weighted in (((20, 20), False), ((21, 19), False), ((30, 10), False), ((35, 5), True)):
        y = torch.cat([torch.full((c,), i) for i, c in enumerate(counts)])
        w, b = trained._head(a, y, 2, bias=True)
        lams = trained.log_head.exp() * torch.tensor((1e-3, 1e-2, 1e-1, 1.0, 10.0))
        plain = loo_ridge(torch.cat([a, torch.ones(1, 40, 1)], 2), targets(y, 2), lams) * trained.log_temp.exp()
        same = torch.equal(w, plain[:, :-1].transpose(1, 2)) and torch.equal(b, plain[:, -1])
        assert same != weighted, (counts, BALANCE_ABOVE)


def test_class_weights_balance_the_classes_and_are_one_on_equal_counts():
    y = torch.tensor([0, 1, 1, 1, 2, 2])
    w = class_weights(y, 3)
    torch.testing.assert_close(w, torch.tensor([2.0, 2 / 3, 2 / 3, 2 / 3, 1.0, 1.0]))
    for c in range(3):  # every class weighs n / K in total
        torch.testing.assert_close(w[y == c].sum(), torch.tensor(2.0))
    assert torch.equal(class_weights(torch.tensor([1, 0, 1, 0]), 2), torch.ones(4))


def test_loo_ridge_with_unit_weights_is_the_unweighted_solve_and_rejects_bad_weights():
    g = torch.Generator().manual_seed(1)
    a = torch.randn(2, 15, 4, generator=g)
    y = targets(torch.arange(15) % 3, 3)
    lams = torch.tensor([1e-2, 1.0])
    assert torch.equal(loo_ridge(a, y, lams, weights=torch.ones(15)), loo_ridge(a, y, lams))
    with pytest.raises(ConfigError, match="15 positive finite numbers"):
        loo_ridge(a, y, lams, weights=torch.ones(14))
    with pytest.raises(ConfigError, match="positive and finite"):
        loo_ridge(a, y, lams, weights=torch.tensor([1.0] * 14 + [-1.0]))
    with pytest.raises(ConfigError, match="positive and finite"):
        loo_ridge(a, y, lams, weights=torch.tensor([1.0] * 14 + [float("nan")]))


def test_weighted_loo_ridge_does_not_outvote_a_small_class():
    # two well separated clusters, 3 points against 60, and a bias column: the plain least-squares threshold sits
    # far into the small class; the class-weighted one recalls it on fresh points of both clusters
    g = torch.Generator().manual_seed(0)
    centre = torch.tensor([1.0, 0.0, 0.0])

    def draw(n0, n1):
        x = torch.cat([centre + 0.6 * torch.randn(n0, 3, generator=g),
                       -centre + 0.6 * torch.randn(n1, 3, generator=g)])
        return torch.cat([x, torch.ones(n0 + n1, 1)], 1), torch.cat([torch.zeros(n0), torch.ones(n1)]).long()

    a, y = draw(3, 60)
    test, yt = draw(500, 500)
    lams = torch.tensor([1e-3, 1e-2, 1e-1, 1.0])
    recall = {}
    for name, w in (("plain", None), ("weighted", class_weights(y, 2))):
        r = loo_ridge(a.unsqueeze(0), targets(y, 2), lams, weights=w)[0]
        recall[name] = float(((test @ r).argmax(1)[yt == 0] == 0).float().mean())
    assert recall["weighted"] > recall["plain"] + 0.2 and recall["weighted"] > 0.7, recall


def test_candidates_are_chosen_by_balanced_accuracy_on_an_imbalanced_validation_split():
    assert not _imbalanced(torch.tensor([0] * 35 + [1] * 37))  # digits' near-equal counts: plain accuracy
    assert not _imbalanced([0, 0, 1, 1, 2, 2])
    assert _imbalanced(torch.tensor([0] * 2 + [1] * 18))
    assert _imbalanced([2] * 2 + [0] * 10)  # a class absent from the split is not counted as 0 examples
    assert not _imbalanced([2] * 3 + [0] * 10)  # 1:3.3, below the documented ratio: plain accuracy
    assert not _imbalanced([1, 1, 1])
    # 18 of 18 majority examples right, 0 of 2 minority ones: accuracy 0.9 but balanced accuracy 0.5
    constant = Report(0.9, 0.3, [0.0, 1.0], 20, 0.0)
    recalls = Report(0.85, 0.4, [1.0, 0.8333333], 20, 0.0)
    assert _balanced_accuracy(constant) == 0.5 and _balanced_accuracy(recalls) > 0.9
    assert _balanced_accuracy(Report(0.5, 0.3, [0.5, float("nan"), 0.5], 4, 0.0)) == 0.5


# --- one imbalance decision for the head and the candidates' choice ---------------------------------------------------


def _pair(few: int, many: int, seed: int = 0):
    d = metanet.tasks.get("digits")
    x, y = d.split("train")
    g = torch.Generator().manual_seed(seed)
    a, b = (torch.nonzero(y == c).flatten() for c in (2, 3))
    a, b = a[torch.randperm(len(a), generator=g)[:few]], b[torch.randperm(len(b), generator=g)[:many]]
    return metanet.tasks.from_examples(torch.cat([x[a], x[b]]), torch.cat([torch.zeros(few), torch.ones(many)]).long())


def _spy(monkeypatch) -> list:
    gen = importlib.import_module("metanet.writer.generate")  # the package exports the function generate too
    calls: list = []
    real = gen._balanced_accuracy
    monkeypatch.setattr(gen, "_balanced_accuracy", lambda r: calls.append(r) or real(r))
    return calls


def test_an_imbalanced_support_is_chosen_among_by_balanced_accuracy_even_if_the_small_val_split_looks_balanced(
        monkeypatch):
    from metanet.writer.generate import _balanced_accuracy, support_set
    from metanet.writer.model import imbalanced

    task = _pair(3, 20)  # fit 1 against 12 (a class-balanced head), val 1 against 4 (not past the ratio)
    _, y = support_set(task, 1000, 0)
    assert imbalanced(y) and not imbalanced(task.split("val")[1])
    calls = _spy(monkeypatch)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a constant-classifier warning is not this test's concern
        g = metanet.generate(task, candidates=4, seed=0)
    assert len(calls) == 4  # every candidate scored by balanced accuracy (was: plain accuracy)
    reports = [metanet.verify(m, task, split="val") for m in g.candidates]
    best = max(range(4), key=lambda i: (_balanced_accuracy(reports[i]), -reports[i].loss))
    assert g.report.chosen == best


def test_a_balanced_support_keeps_plain_accuracy(monkeypatch):
    from metanet.writer.generate import support_set
    from metanet.writer.model import imbalanced

    task = _pair(10, 60)  # val about 2 against 12: imbalanced; shots=5 make the support (and its head) balanced
    assert imbalanced(task.split("val")[1]) and not imbalanced(support_set(task, 5, 0)[1])
    calls = _spy(monkeypatch)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        metanet.generate(task, candidates=2, seed=0, shots=5)
    assert calls == []
    metanet.generate(_pair(12, 12), candidates=2, seed=0)
    assert calls == []
