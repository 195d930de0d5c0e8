"""Choosing among K written candidates: which one is best, judged only on data that did not condition it.

Two selections (:data:`SELECTIONS`), both scoring every candidate with a :class:`~metanet.loop.rewards.Reward`:

``"val"`` — the candidates are written from the task's **support** and scored on its **val** split (a held-out
    slice of the labelled examples, e.g. 10 of 50 per class). Cheap (one write), but the score rests on few
    examples, and the written candidates lose the val examples from their support.
``"crossfit"`` — cross-fitting over all the labelled examples (support and val together: the *pool*): the pool is
    cut per class into ``F`` folds (:func:`fold_ids`); for each fold ``f`` the K candidates are written from the
    other ``F - 1`` folds with the same seed (so candidate ``j`` gets the same seeded noise in every fold) and
    scored on fold ``f``; a candidate's reward is the fold-size-weighted mean of its ``F`` fold rewards, i.e.
    every labelled example scores every candidate exactly once, and never a write it conditioned. Costs ``F``
    writes (each batched over the K candidates) and ``F`` batched verifications.

Either way the chosen candidate is then re-written, with the same seed, from the whole pool (:func:`choose`).

``"val"`` is the default (:data:`DEFAULT_SELECTION`: of :func:`~metanet.loop.improve`,
:func:`~metanet.loop.evaluate`, :func:`choose`, the Lightning stage and ``metanet improve``): cross-fitting did not
beat it on the shipped writers, and costs ``F + 1`` writes instead of 2. Measured on the 24 held-out tasks of
``bench/loop.py`` (50 labelled examples per class, K=8, F=5): test accuracy of the chosen candidate re-written from
all 50, minus the mean of the K re-written candidates (the expected K=1 accuracy), mean ± standard error over
(task, seed) pairs:

* writer of commit ce109ec (per-candidate k-means sub-class directions; the best of the 8 on *test* is +0.0127
  above their mean), 192 pairs: val +0.0004 ± 0.0008, crossfit −0.0001 ± 0.0007, crossfit − val −0.0005 ±
  0.0011. Neither selection finds the better candidates: a candidate's test accuracy written from the 40 fit
  examples and re-written from all 50 correlate at 0.05 over the K (its clustering noise is drawn per support
  row, so it changes with the support), and even among the fit-written candidates themselves the val choice is
  −0.0001 ± 0.0012 above their mean.
* the previous writer (best of 8 on test +0.009 above the mean), 240 pairs: val +0.0008 ± 0.0005, crossfit
  +0.0004 ± 0.0005, crossfit − val −0.0004 ± 0.0006.
* candidates that keep their identity and differ more (that writer's candidates plus the loop's ``pg`` noise,
  relative 0.1 / 0.3 on every written weight, the same noise in every write), 96 pairs each: val +0.0145 ± 0.0048
  / +0.0252 ± 0.0045, crossfit +0.0155 ± 0.0043 / +0.0293 ± 0.0045; crossfit − val +0.0025 ± 0.0025 pooled,
  crossfit ahead on 71 pairs and behind on 44 (sign test p ≈ 0.01).

So cross-fitting pays only once candidates differ in ways the labelled examples can see and keep that difference
when re-written; ``selection="crossfit"`` is there for writers (or ``pg`` candidates) like that.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass
from typing import Any, Callable

import torch
from torch import Tensor

from metanet.errors import ConfigError, TaskError, check_number
from metanet.loop.rewards import WORST, Reward, make_reward
from metanet.loop.tasks import LoopTask, check_seed
from metanet.nets import Arch
from metanet.verify import Report

__all__ = ["SELECTIONS", "DEFAULT_SELECTION", "check_selection", "fold_ids", "CrossFit", "crossfit_rewards",
           "candidate_rewards", "Choice", "choose"]

SELECTIONS = ("val", "crossfit")
#: the default selection (see the module docstring for why)
DEFAULT_SELECTION = "val"

Params = dict[str, Tensor]


def check_candidates(candidates: int) -> None:
    """Raise ConfigError unless ``candidates`` is an integer >= 1 (0 crashed deep in scoring with an IndexError)."""
    check_number("candidates", candidates, ">= 1", lambda v: v >= 1, integer=True)


def check_selection(selection: str, folds: int) -> None:
    """Raise ConfigError for an unknown selection or fewer than 2 folds."""
    if selection not in SELECTIONS:
        raise ConfigError(f"unknown selection {selection!r}; valid: {', '.join(SELECTIONS)}")
    _check_folds(folds)


def _check_folds(folds: int) -> None:
    if isinstance(folds, bool) or not isinstance(folds, numbers.Integral) or folds < 2:  # '5': was a TypeError
        raise ConfigError(f"cross-fitting needs folds >= 2, got {folds!r}")


def check_scorable(lt: LoopTask, selection: str, folds: int = 5) -> None:
    """TaskError unless ``selection`` can reward candidates of ``lt``: a non-empty val split (``"val"``), or enough
    labelled examples of every class for ``folds`` folds (``"crossfit"``). Checked up front by
    :func:`~metanet.loop.improve`: found in round 0 before, after its TensorBoard directory had been written."""
    if selection == "val" and len(lt.val[1]) == 0:
        raise TaskError(f"task {lt.name}: its val split is empty, so the candidates cannot be scored on it; give it "
                        "examples (e.g. split_examples(..., val=10)) or use selection='crossfit'")
    if selection == "crossfit":
        try:
            fold_ids(lt.labelled()[1], lt.num_classes, folds)
        except TaskError as e:
            raise TaskError(f"task {lt.name}: {e}") from None


def fold_ids(y: Tensor, num_classes: int, folds: int, seed: int = 0) -> Tensor:
    """The fold (``0..folds-1``) of every example, stratified: each class's examples, in a seeded order, are dealt
    to the folds in turn (continuing where the previous class stopped, so the folds' sizes differ by at most one).

    Every fold holds at least one example, and every class keeps at least one example outside each fold (so a
    write from the other folds sees every class).

    Shapes:
        - y: :math:`(n,)` labels in ``0..num_classes-1``; output: :math:`(n,)` long.
    """
    _check_folds(folds)
    if len(y) < folds:
        raise TaskError(f"cross-fitting with {folds} folds needs at least {folds} labelled examples, got {len(y)}")
    if y.is_floating_point() or y.dtype == torch.bool:
        raise TaskError(f"labels must be integers in 0..{num_classes - 1}, got a {y.dtype} tensor")
    if int(y.min()) < 0 or int(y.max()) >= num_classes:  # before bincount, which crashes on a negative label
        bad = int(y.min()) if int(y.min()) < 0 else int(y.max())
        raise TaskError(f"labels must be integers in 0..{num_classes - 1}, got {bad}")
    counts = torch.bincount(y, minlength=num_classes)
    small = torch.nonzero(counts < 2).flatten()
    if len(small):
        c = int(small[0])
        raise TaskError(f"cross-fitting needs >= 2 labelled examples of every class (one to write from, one to "
                        f"score); class {c} has {int(counts[c])}")
    # any integer seed, as the writer takes them (torch wraps a negative one itself; 2**70 overflowed)
    g = torch.Generator().manual_seed(check_seed(seed) % 2**64)
    # each class's rows, ascending, from one stable sort (a scan of y per class was quadratic in the classes); its
    # seeded shuffle as before, one randperm per class in class order, so the folds are the same draws
    order = torch.argsort(y, stable=True)
    starts = torch.cumsum(counts, 0) - counts
    shuffled = torch.cat([torch.randperm(n, generator=g) + s for n, s in zip(counts.tolist(), starts.tolist())])
    out = torch.empty(len(y), dtype=torch.long)
    out[order[shuffled]] = torch.arange(len(y)) % folds  # dealt in turn, continuing from class to class
    return out


@dataclass
class CrossFit:
    """Cross-fitted rewards of K candidates.

    Attributes:
        rewards: ``(K,)`` float64, fold-size-weighted mean of the fold rewards (:data:`WORST` if broken in any fold).
        reports: one pooled :class:`Report` per candidate (accuracy and loss over all scored examples).
        fold: ``(n,)`` the fold of every pool example (fold ``f``'s write never saw the examples with fold ``f``).
        fold_rewards: ``(F, K)`` the reward of each candidate on each fold.
    """

    rewards: Tensor
    reports: list[Report]
    fold: Tensor
    fold_rewards: Tensor


def _pool(reports: list[list[Report]], name: str) -> list[Report]:
    """Per candidate, merge its F fold reports (example-weighted)."""
    out = []
    for j in range(len(reports[0])):
        reps = [r[j] for r in reports]
        n = sum(r.n for r in reps)
        failed = [r.extra["failed"] for r in reps if r.extra.get("failed")]
        loss = sum(r.loss * r.n for r in reps) / n if all(math.isfinite(r.loss) for r in reps) else math.inf
        acc = sum(r.accuracy * r.n for r in reps) / n
        extra = {"folds": len(reps), "fold_accuracy": [r.accuracy for r in reps]}
        if failed:
            extra["failed"] = failed[0]
        out.append(Report(acc, loss, [], n, sum(r.seconds for r in reps), name, "crossfit", extra))
    return out


@torch.no_grad()
def crossfit_rewards(
    writer,
    arch: Arch | str,
    x: Tensor,
    y: Tensor,
    num_classes: int,
    candidates: int,
    reward: Reward | str | None = None,
    folds: int = 5,
    seed: int = 0,
    name: str = "examples",
    perturb: Callable[[Params, int], Params] | None = None,
) -> CrossFit:
    """Cross-fitted rewards of the K candidates ``writer.write(arch, ., ., candidates=K, seed=seed)`` would write
    from ``(x, y)`` (see the module docstring). Never raises for a broken candidate: it gets :data:`WORST`.

    Args:
        writer: anything with the :meth:`~metanet.writer.Writer.write` signature.
        arch: the architecture the candidates are written for (an :class:`~metanet.nets.Arch` or its string).
        x, y: the labelled pool.
        num_classes: the number of classes of the task.
        candidates: K candidates per write.
        reward: a :class:`Reward` or spec string (default: accuracy, loss as tie-break).
        folds: F >= 2.
        seed: the writes' seed (also seeds the folds).
        name: the task name the candidates' verification reports carry.
        perturb: optional ``(params, fold) -> params`` applied to each fold's written candidates before they are
            scored (the loop's policy-gradient noise; it must add the same noise in every fold).

    Shapes:
        - x: :math:`(n, *\\text{input shape})`; y: :math:`(n,)`. Output rewards :math:`(K,)`.
    """
    from metanet.loop.core import score_stacked

    seed = check_seed(seed)
    arch = Arch.coerce(arch)
    reward = make_reward(reward)
    fold = fold_ids(y, num_classes, folds, seed)
    fold_r, fold_reps, sizes = [], [], []
    for f in range(folds):
        held = fold == f
        params = writer.write(arch, x[~held], y[~held], num_classes, candidates=candidates, seed=seed)
        if perturb is not None:
            params = perturb(params, f)
        r, reps = score_stacked(arch, num_classes, params, reward, (x[held], y[held]), name)
        fold_r.append(r)
        fold_reps.append(reps)
        sizes.append(int(held.sum()))
    fr = torch.stack(fold_r)  # (F, K)
    w = torch.tensor(sizes, dtype=torch.float64) / sum(sizes)
    rewards = (w.unsqueeze(1) * fr).sum(0)
    rewards = torch.where((fr <= WORST).any(0), torch.full_like(rewards, WORST), rewards)
    return CrossFit(rewards, _pool(fold_reps, name), fold, fr)


def candidate_rewards(
    writer, lt: LoopTask, candidates: int, reward: Reward, selection: str = DEFAULT_SELECTION, folds: int = 5,
    seed: int = 0, perturb: Callable[[Params, int], Params] | None = None,
) -> tuple[Tensor, list[Report]]:
    """Rewards ``(K,)`` and Reports of the K candidates of ``seed`` for loop task ``lt``, by ``selection``:
    written from ``lt.support`` and scored on ``lt.val`` (``"val"``), or cross-fitted over ``lt.labelled()``
    (``"crossfit"``)."""
    from metanet.loop.core import score_candidates

    check_selection(selection, folds)
    check_candidates(candidates)
    seed = check_seed(seed)
    if selection == "val":
        with torch.no_grad():
            params = writer.write(lt.arch, *lt.support, lt.num_classes, candidates=candidates, seed=seed)
        if perturb is not None:
            params = perturb(params, 0)
        return score_candidates(lt, params, reward)
    cf = crossfit_rewards(writer, lt.arch, *lt.labelled(), lt.num_classes, candidates, reward, folds, seed, lt.name,
                          perturb)
    return cf.rewards, cf.reports


@dataclass
class Choice:
    """The outcome of :func:`choose`: ``index`` of the chosen candidate, every candidate's ``rewards``, and
    ``params``: all K candidates re-written from the whole pool (the chosen one is ``params[name][index]``)."""

    index: int
    rewards: Tensor
    params: Params


@torch.no_grad()
def choose(writer, lt: LoopTask | Any, candidates: int = 8, reward: Reward | str | None = None,
           selection: str = DEFAULT_SELECTION, folds: int = 5, seed: int = 0) -> Choice:
    """Write K candidates for ``lt`` (a LoopTask, or one task as :func:`~metanet.loop.improve` takes it: a name, a
    Task, labelled examples ``(x, y)``), pick the best by ``selection`` (ties: the lowest index), and re-write all K
    with the same seed from every labelled example (``lt.labelled()``: support and val)."""
    seed = check_seed(seed)  # before the task is made from it, and the writes
    if not isinstance(lt, LoopTask):  # a name, a Task, (x, y): was a raw AttributeError
        from metanet.loop.tasks import as_loop_tasks

        given = as_loop_tasks(lt, seed=seed)
        if len(given) != 1:
            raise TaskError(f"choose() writes for one task, got {len(given)}")
        lt = given[0]
    r, _ = candidate_rewards(writer, lt, candidates, make_reward(reward), selection, folds, seed)
    i = int(torch.argmax(r))  # argmax returns the first maximum: deterministic ties
    params = writer.write(lt.arch, *lt.labelled(), lt.num_classes, candidates=candidates, seed=seed)
    return Choice(i, r, params)
