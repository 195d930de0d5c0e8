"""The verification loop: write K candidates per task, verify them on held-out data, turn scores into reward,
update the writer from the rewards.

One round (:func:`round_loss`), for each task of the batch:

1. the writer writes K candidates, one per seeded starting point (the writer's only noise input; with
   ``method="pg"`` Gaussian noise of relative scale ``sigma`` is added to every written weight as well, which makes
   the writer a stochastic policy);
2. every candidate is rewarded on data that did not condition it (:mod:`metanet.loop.select`), all K verified at
   once (``verify_stacked``): with ``selection="val"`` (the default) the K are written from the **support** and
   scored on the **val** split; with ``selection="crossfit"`` the rewards are cross-fitted over the task's
   labelled examples (support and val cut into F folds; fold f scores the K candidates written, same seed, from
   the other F-1) and the K written from all of them are the ones updated. A candidate with NaN/inf output, or
   whose verification crashes, gets :data:`~metanet.loop.rewards.WORST` and is logged;
3. the rewards update the writer with one of the methods below (a loss whose gradient flows back through the
   differentiable writer's write of the K candidates):

``"expert"`` — expert iteration: the ``keep`` best candidates by reward are the winners (ties: the lower index, as
    :func:`~metanet.loop.choose` picks; a broken candidate never wins); the writer is trained so that every
    candidate (from its own starting point) reproduces the winners' function — KL at temperature ``T`` (scaled by
    T², Hinton) from the winners' mean softened prediction, on the support inputs (``"crossfit"``: all the labelled
    inputs, which it writes from) and on mixup interpolations of them (inputs only: no labels are used beyond
    those of the examples written from). With ``refine_steps > 0`` the winner is first refined gradient-free
    (:func:`metanet.loop.refine`, activity or weight perturbation on the support, ``refine_method``) and the
    refined network is the teacher.
``"awr"`` — advantage-weighted: the same distillation, towards the mixture of all candidates' predictions
    weighted by ``softmax(advantage / beta)`` (advantage = reward standardised over the task's K candidates).
``"pg"`` — score-function policy gradient with a baseline: candidates are ``mu + sigma * |mu|_rms * eps``, the loss
    is ``-mean_i A_i log N(theta_i; mu, s^2) / sqrt(P)`` (mean over the working candidates, P the parameters of one
    network) with A the standardised advantage (baseline: the mean reward of the task's K candidates).

In ``awr`` and ``pg`` the advantages are standardised over the task's working candidates; a broken one gets weight 0
(``awr``) or advantage 0 (``pg``), and is left out of the loss.
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
import time
from dataclasses import dataclass, field, fields
from types import SimpleNamespace
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

# the package itself (already loaded): improve's hints name metanet.writer.Writer, which typing.get_type_hints
# resolves on demand (importing the writer then) without this module importing it
import metanet
from metanet._state import check_fits_memory, forked_rng, kept_modes, with_metanet_defaults
from metanet.errors import MAX_ITERATIONS, ConfigError, MetanetError, TaskError, as_index, check_number
from metanet.nets import build
from metanet.verify import Report, predicted, verify_stacked
from metanet.loop.refine import GRADIENT_FREE
from metanet.loop.rewards import WORST, Reward, make_reward, reward_spec
from metanet.loop.select import (DEFAULT_SELECTION, SELECTIONS, candidate_rewards, check_candidates, check_scorable,
                                 check_selection)
from metanet.loop.tasks import LoopTask, as_loop_tasks, check_seed

__all__ = ["METHODS", "LoopConfig", "score_stacked", "score_candidates", "diversity", "round_loss", "evaluate",
           "tracked_reward", "improve", "History", "finite_gradients"]

log = logging.getLogger("metanet.loop")

METHODS = ("expert", "awr", "pg")


@dataclass
class LoopConfig:
    """Knobs of one loop round (see the module docstring)."""

    method: str = "expert"
    candidates: int = 8
    keep: int = 1
    temperature: float = 2.0
    beta: float = 1.0
    sigma: float = 0.05
    mixup: int = 1  # mixup copies of the support inputs added to the distillation set
    ce_weight: float = 0.0  # optional cross-entropy on the support labels
    refine_steps: int = 0  # gradient-free refinement of the winner before it is distilled
    refine_method: str = "activity"  # "activity" or "perturbation" (metanet.loop.refine)
    refine_population: int = 32
    refine_sigma: float = 0.01
    selection: str = DEFAULT_SELECTION  # how candidates are rewarded: "val" or "crossfit" (metanet.loop.select)
    folds: int = 5  # cross-fitting folds

    def __post_init__(self) -> None:
        if self.method not in METHODS:
            raise ConfigError(f"unknown loop method {self.method!r}; valid: {', '.join(METHODS)}")
        check_selection(self.selection, self.folds)
        if self.refine_method not in GRADIENT_FREE:
            raise ConfigError(f"unknown loop refine_method {self.refine_method!r}; valid: {', '.join(GRADIENT_FREE)} "
                              "(gradient-free: the loop never backpropagates through a candidate)")
        # numpy / one-element torch integers taken as Python ints (np.int64(8) candidates was refused)
        whole = all(as_index(v) is not None for v in (self.candidates, self.keep))
        if not whole or self.candidates < 1 or not 1 <= self.keep <= self.candidates:  # '8' or 2.5: was a TypeError
            raise ConfigError(f"need candidates >= 1 and 1 <= keep <= candidates (whole numbers), got "
                              f"{self.candidates!r}, {self.keep!r}")
        self.candidates, self.keep = as_index(self.candidates), as_index(self.keep)
        if self.method in ("awr", "pg") and self.candidates < 2:
            raise ConfigError(f"method {self.method!r} compares candidates: it needs candidates >= 2")
        # out-of-range numbers do not crash: they divide by zero or flip a sign, and the loop silently learns
        # nothing (or the wrong thing)
        for name in ("temperature", "beta", "sigma", "refine_sigma"):
            check_number(name, getattr(self, name), "> 0", lambda v: v > 0)
        check_number("ce_weight", self.ce_weight, ">= 0", lambda v: v >= 0)
        for name, low in (("mixup", 0), ("refine_steps", 0), ("refine_population", 1)):
            check_number(name, getattr(self, name), f">= {low}", lambda v, low=low: v >= low, integer=True)
        # as refine() takes it: refine_steps=10**30 was accepted and the first round never ended
        check_number("refine_steps", self.refine_steps, f"<= {MAX_ITERATIONS:,} (more steps than any run could "
                     "finish)", lambda v: v <= MAX_ITERATIONS, integer=True)
        # as Python numbers: a Fraction sigma was a raw TypeError mid-round, a numpy integer stayed one
        for name in ("temperature", "beta", "sigma", "refine_sigma", "ce_weight"):
            setattr(self, name, float(getattr(self, name)))
        for name in ("mixup", "refine_steps", "refine_population", "folds"):
            setattr(self, name, int(getattr(self, name)))



# ------------------------------------------------------------------------------------------ scoring
def _failed(n: int, k: int, name: str, split: str, why: str) -> Report:
    return Report(0.0, math.inf, [math.nan] * k, n, 0.0, name, split, {"failed": why})


@torch.no_grad()
def score_stacked(arch, num_classes: int, params: dict[str, Tensor], reward: Reward, data: tuple[Tensor, Tensor],
                  name: str = "examples", split: str = "val") -> tuple[Tensor, list[Report]]:
    """Verify K stacked candidates of ``arch`` on ``data`` (only there) and reward them. Never raises for a bad
    candidate: non-finite weights or outputs, or a crash in verification, give it the worst reward (and a log
    line).

    Shapes:
        - params: ``name -> (K, *shape)``; data: ``(x (n, ...), y (n,))``. Output rewards :math:`(K,)`.
    """
    params = {k: v.detach() for k, v in params.items()}
    kk = next(iter(params.values())).shape[0]
    n = len(data[1])
    if n == 0:  # not a broken candidate: every one got the worst reward and the loop learnt nothing, silently
        raise TaskError(f"task {name}: its {split} split is empty, so the candidates cannot be scored on it; give it "
                        "examples (e.g. split_examples(..., val=10)) or use selection='crossfit'")
    module = build(arch, seed=None)
    stub = SimpleNamespace(name=name, num_classes=num_classes)
    finite = torch.stack([torch.isfinite(v.flatten(1)).all(1) for v in params.values()]).all(0)
    reports: list[Report | None] = [None] * kk
    ok = [i for i in range(kk) if finite[i]]
    for i in range(kk):
        if not finite[i]:
            reports[i] = _failed(n, num_classes, name, split, "non-finite weights")
    if ok:
        sub = {k: v[ok] for k, v in params.items()}
        try:
            rs = verify_stacked(module, sub, stub, split=split, data=data)
        except Exception as e:  # noqa: BLE001 - one bad candidate must not kill the loop: retry one by one
            log.warning("task %s: batched verification crashed (%s: %s); verifying candidates one by one",
                        name, type(e).__name__, e)
            rs = []
            for i in ok:
                try:
                    rs.append(verify_stacked(module, {k: v[i : i + 1] for k, v in params.items()}, stub,
                                             split=split, data=data)[0])
                except Exception as e1:  # noqa: BLE001
                    rs.append(_failed(n, num_classes, name, split, f"{type(e1).__name__}: {e1}"))
        for i, r in zip(ok, rs):
            reports[i] = r
    for i, r in enumerate(reports):
        if r.extra.get("failed") or not math.isfinite(r.loss):
            log.warning("task %s: candidate %d is broken (%s): lowest reward", name, i,
                        r.extra.get("failed", "non-finite output"))
    return reward(reports, params), reports


@torch.no_grad()
def score_candidates(lt: LoopTask, params: dict[str, Tensor], reward: Reward) -> tuple[Tensor, list[Report]]:
    """:func:`score_stacked` on ``lt.val`` (only there): the rewards of the ``"val"`` selection."""
    return score_stacked(lt.arch, lt.num_classes, params, reward, lt.val, lt.name, "val")


@torch.no_grad()
def diversity(lt: LoopTask, params: dict[str, Tensor], x: Tensor | None = None) -> float:
    """Mean pairwise disagreement of the K candidates' top-1 predictions on ``x`` (default: the val inputs;
    0 = all agree); a candidate whose logits on an example hold a NaN or an infinity predicts nothing there and
    agrees with no other."""
    from metanet.writer.lightning import written_logits

    kk = next(iter(params.values())).shape[0]
    if kk < 2:
        return 0.0
    x = lt.val[0] if x is None else x
    pred = predicted(written_logits(lt.arch, {k: v.detach() for k, v in params.items()}, x))  # (K, n)
    # a NaN/inf row predicts nothing and agrees with no row (argmax made two NaN candidates agree on class 0); the
    # diagonal (a candidate with itself) is no pair
    agree = (pred.unsqueeze(0) == pred.unsqueeze(1)) & (pred >= 0)
    dis = (~agree).float().mean(-1).fill_diagonal_(0)
    return (dis.sum() / (kk * (kk - 1))).item()


# ------------------------------------------------------------------------------------------ updates
def _distil_inputs(x: Tensor, copies: int, g: torch.Generator) -> Tensor:
    # mixup=10**30 made copies until memory ran out (or for ever): the inputs and their copies must fit in memory
    check_fits_memory(f"mixup={copies:,}: the {len(x)} support inputs and their mixup copies",
                      (copies + 1) * x.numel(), "give a smaller mixup (the default is 1)")
    xs = [x]
    for _ in range(copies):
        perm = torch.randperm(len(x), generator=g)
        lam = torch.rand(len(x), *([1] * (x.dim() - 1)), generator=g)
        xs.append(lam * x + (1 - lam) * x[perm])
    return torch.cat(xs)


def _kl_to(target: Tensor, logits: Tensor, t: float) -> Tensor:
    """T² KL(target || softmax(logits/T)), mean over candidates and examples; target (n, C), logits (K, n, C)."""
    logp = F.log_softmax(logits / t, -1)
    tgt = target.unsqueeze(0).expand_as(logp)
    return (tgt * (tgt.clamp_min(1e-12).log() - logp)).sum(-1).mean() * t * t


def _refined_teacher(lt: LoopTask, params: dict[str, Tensor], i: int, cfg: LoopConfig, seed: int):
    from metanet.loop.refine import refine

    net = build(lt.arch, seed=None)
    net.load_state_dict({k: v[i].detach().clone() for k, v in params.items()})
    res = refine(net, lt.support, method=cfg.refine_method, steps=cfg.refine_steps, population=cfg.refine_population,
                 sigma=cfg.refine_sigma, seed=seed, verify_on=None, num_classes=lt.num_classes)
    return res.model


def _pg_scale(v: Tensor, sigma: float) -> Tensor:
    """Per-candidate noise scale ``sigma * RMS`` of a stacked tensor ``(K, ...)``, shaped to broadcast (no grad)."""
    s = sigma * v.detach().pow(2).flatten(1).mean(1).sqrt().clamp_min(1e-8)
    return s.view(-1, *[1] * (v.dim() - 1))


def _task_loss(writer, lt: LoopTask, cfg: LoopConfig, reward: Reward, seed: int) -> tuple[Tensor | None, dict]:
    from metanet.writer.lightning import written_logits

    crossfit = cfg.selection == "crossfit"
    # the write the gradient flows through: from every example the selection may condition on
    sx, sy = lt.labelled() if crossfit else lt.support
    mu = writer.write(lt.arch, sx, sy, lt.num_classes, candidates=cfg.candidates, seed=seed)
    perturb = None
    if cfg.method == "pg":
        g = torch.Generator().manual_seed(seed + 17)
        eps = {k: torch.randn(v.shape, generator=g) for k, v in mu.items()}

        def pg_perturb(p: dict[str, Tensor], fold: int = 0) -> dict[str, Tensor]:  # the same eps for every write
            return {k: v.detach() + _pg_scale(v, cfg.sigma) * eps[k] for k, v in p.items()}

        perturb = pg_perturb  # a named def, not a redefinition of the None above (pyflakes)
        scale = {k: _pg_scale(v, cfg.sigma) for k, v in mu.items()}
        cand = perturb(mu)
    else:
        cand = {k: v.detach() for k, v in mu.items()}
    if crossfit:
        r, reports = candidate_rewards(writer, lt, cfg.candidates, reward, "crossfit", cfg.folds, seed, perturb)
    else:
        r, reports = score_candidates(lt, cand, reward)
    good = r > WORST
    # over the working candidates: a broken one is counted in "broken" (and warned about), not as a -1000 that
    # hides every other value on the TensorBoard chart; a task with none working scores WORST
    ok = r[good] if good.any() else r
    stats = {"reward_mean": ok.mean().item(), "reward_best": ok.max().item(),
             "reward_worst": ok.min().item(), "broken": int((~good).sum()),
             "diversity": diversity(lt, cand, sx if crossfit else None),
             "val_acc_mean": sum(rep.accuracy for rep in reports) / len(reports), "winners": 0}
    if good.sum() == 0:
        return None, stats
    adv = torch.zeros_like(r)
    if good.sum() > 1:
        adv[good] = (r[good] - r[good].mean()) / (r[good].std() + 1e-8)
    if cfg.method == "pg":
        stats["winners"] = int((adv > 0).sum())
        logp = sum(-((cand[k] - mu[k]) / scale[k]).pow(2).flatten(1).sum(1) / 2 for k in mu)  # (K,)
        n_par = sum(v[0].numel() for v in mu.values())
        loss = -(adv.float().detach() * logp)[good].sum() / good.sum() / math.sqrt(n_par)
        return loss, stats
    g = torch.Generator().manual_seed(seed + 31)
    xs = _distil_inputs(sx, cfg.mixup, g)
    logits = written_logits(lt.arch, mu, xs)  # (K, n, C)
    t = cfg.temperature
    with torch.no_grad():
        if cfg.method == "expert":
            # stable: tied rewards keep the lower index, as choose() picks (from 17 candidates on, the default sort
            # put a tie's higher indices first)
            order = torch.argsort(r, descending=True, stable=True)
            win = [int(i) for i in order[: cfg.keep] if r[i] > WORST]
            stats["winners"] = len(win)
            if cfg.refine_steps > 0:
                teacher = _refined_teacher(lt, cand, win[0], cfg, seed)
                target = F.softmax(teacher(xs) / t, -1)
            else:
                target = F.softmax(logits[win] / t, -1).mean(0)
        else:  # awr
            w = torch.where(good, adv / cfg.beta, torch.full_like(adv, -math.inf)).softmax(0).float()
            stats["winners"] = int((w > 1.0 / cfg.candidates).sum())
            target = (w.view(-1, 1, 1) * F.softmax(logits / t, -1)).sum(0)
    keep = good.nonzero().flatten()
    loss = _kl_to(target, logits[keep], t)
    if cfg.ce_weight > 0:
        ns = len(sy)
        loss = loss + cfg.ce_weight * F.cross_entropy(logits[keep, :ns].flatten(0, 1), sy.repeat(len(keep)))
    return loss, stats


def round_loss(writer, batch: list[LoopTask], cfg: LoopConfig, reward: Reward, seed: int) -> tuple[Tensor | None, dict]:
    """The loop's loss for one round over ``batch`` (mean over tasks with a finite loss) and the round's stats: the
    reward figures (``reward_mean``, ``reward_best``, ``reward_worst``) over the tasks with a working candidate (over
    all if none has one), ``diversity``, ``val_acc_mean``, ``winners``, ``broken``, and the counts behind the means
    (``tasks``, ``tasks_working``, ``tasks_with_loss``), by which DDP weights each process's figures; all but
    ``tasks`` and ``tasks_with_loss`` only when a task ran."""
    losses, rows = [], []
    for i, lt in enumerate(batch):
        try:
            loss, st = _task_loss(writer, lt, cfg, reward, seed * 1_000_003 + i)
        except MetanetError:
            raise
        except Exception as e:  # noqa: BLE001 - a task whose writing crashes is skipped, logged, never fatal
            log.warning("task %s: round skipped (%s: %s)", lt.name, type(e).__name__, e)
            continue
        rows.append(st)
        if loss is not None and torch.isfinite(loss):
            losses.append(loss)
    stats = {}
    if rows:
        # the reward figures over the tasks that had a working candidate (WORST if none had)
        working = [r for r in rows if r["reward_best"] > WORST]
        for key in ("reward_mean", "reward_best", "reward_worst"):
            stats[key] = sum(r[key] for r in working or rows) / len(working or rows)
        for key in ("diversity", "val_acc_mean"):
            stats[key] = sum(r[key] for r in rows) / len(rows)
        stats["winners"] = sum(r["winners"] for r in rows)
        stats["broken"] = sum(r["broken"] for r in rows)
        stats["tasks_working"] = len(working)  # the counts behind the means: DDP weights each process's by them
    stats["tasks"], stats["tasks_with_loss"] = len(rows), len(losses)
    return (torch.stack(losses).mean() if losses else None), stats


@torch.no_grad()
def evaluate(writer, tasks: Any, candidates: int = 8, seed: int = 0, reward: Reward | str | None = None,
             selection: str = DEFAULT_SELECTION, folds: int = 5, compare: bool = False) -> dict:
    """Held-out score of ``writer`` on loop tasks with a test split (LoopTasks, or what :func:`improve` takes as
    tasks: names, Tasks, labelled examples; one or a list), the protocol of ``bench/loop.py``: per task,
    the K candidates of seed ``seed + i`` are rewarded by ``selection`` (:mod:`metanet.loop.select`; never on
    test), the best is re-written (same seed) from all the labelled examples (support and val) and scored on test.

    Returns a dict of the means over tasks of ``best_of_k`` (the chosen candidate's test accuracy), ``k1`` (one
    network written with ``candidates=1`` from the same examples), ``mean`` (mean test accuracy of the K
    re-written candidates: the expected K=1 accuracy, without the luck of one draw), ``oracle`` (the best of them
    on test: what a perfect selection would get), ``reward`` (the K candidates' mean reward by ``selection``:
    computed on the labelled examples only, so it may drive choices that test accuracy must not) and
    ``best_of_k_<selection>`` (the best-of-K test accuracy of that selection, the given one's equal to
    ``best_of_k``; with ``compare=True`` every selection of :data:`~metanet.loop.select.SELECTIONS` is run and has
    one), plus ``selection`` and ``tasks``: one dict per task with its ``task`` name, those figures, ``chosen``
    (the chosen candidate's index) and, per selection run, ``best_of_k_<selection>``, ``chosen_<selection>`` and
    ``reward_<selection>``.
    """
    from metanet.writer.lightning import written_logits

    check_selection(selection, folds)
    check_candidates(candidates)
    seed = check_seed(seed)  # 1.5 was the writer's TaskError, None a raw TypeError, as improve checks it
    if isinstance(tasks, (list, tuple)) and not tasks:  # the means below would report 0.0 accuracy as if measured
        raise TaskError("evaluate needs at least one task")
    tasks = as_loop_tasks(tasks)  # a name or one LoopTask was a raw AttributeError / TypeError; LoopTasks stay
    reward = make_reward(reward)
    sels = SELECTIONS if compare else (selection,)
    per = []
    for i, lt in enumerate(tasks):
        if lt.test is None:
            raise TaskError(f"task {lt.name} has no test split to evaluate on")
        s = seed + i
        tx, ty = lt.test

        def test_acc(p: dict[str, Tensor]) -> Tensor:
            # as verify counts it: a row with NaN/inf logits predicts nothing (argmax made NaN ones class 0)
            return (predicted(written_logits(lt.arch, p, tx)) == ty).double().mean(1)

        acc = test_acc(writer.write(lt.arch, *lt.labelled(), lt.num_classes, candidates=candidates, seed=s))
        row = {"task": lt.name, "k1": test_acc(writer.write(lt.arch, *lt.labelled(), lt.num_classes, seed=s))[0].item(),
               "mean": acc.mean().item(), "oracle": acc.max().item()}
        for sel in sels:
            r, _ = candidate_rewards(writer, lt, candidates, reward, sel, folds, s)
            j = int(torch.argmax(r))
            row[f"best_of_k_{sel}"], row[f"chosen_{sel}"], row[f"reward_{sel}"] = acc[j].item(), j, r.mean().item()
        row["best_of_k"], row["chosen"] = row[f"best_of_k_{selection}"], row[f"chosen_{selection}"]
        row["reward"] = row[f"reward_{selection}"]
        per.append(row)
    n = max(1, len(per))
    out = {key: sum(p[key] for p in per) / n
           for key in ["best_of_k", "k1", "mean", "oracle", "reward"] + [f"best_of_k_{sel}" for sel in sels]}
    return {**out, "selection": selection, "tasks": per}


@torch.no_grad()
def tracked_reward(writer, tasks: list[LoopTask], candidates: int, reward: Reward, seed: int,
                   selection: str = DEFAULT_SELECTION, folds: int = 5) -> float:
    """Mean reward (by ``selection``) of the K candidates of fixed starting points (``seed``) over ``tasks``: a
    round-to-round measure of the writer alone."""
    rs = []
    for i, lt in enumerate(tasks):
        r, _ = candidate_rewards(writer, lt, candidates, reward, selection, folds, seed + i)
        rs.append(r.mean().item())
    return sum(rs) / len(rs)


# ------------------------------------------------------------------------------------------ API
@dataclass
class History:
    """What :func:`improve` did: one dict of stats per round (round 0 = before any update), and the config (its
    ``reward`` as :func:`~metanet.loop.rewards.reward_spec` spells it: ``make_reward`` reads it back).

    ``rounds[r]`` scores the writer after ``r`` updates (every round but the last is then followed by an update):
    ``round``, ``seconds``, ``tasks`` (loop tasks scored), ``tasks_working`` (those with a working candidate),
    ``tasks_with_loss`` (those with a finite loss), ``reward_mean`` / ``reward_best`` / ``reward_worst``
    (over the working candidates), ``broken`` (candidates rewarded :data:`~metanet.loop.rewards.WORST`),
    ``diversity``, ``val_acc_mean``, ``winners``; ``loss``: the loss of the update that followed (none after the
    last round, or when no task had a finite loss); ``tracked_reward`` with ``track``; with ``heldout``,
    :func:`evaluate`'s means prefixed ``heldout_`` (``heldout_best_of_k``, ``heldout_k1``, ``heldout_mean``,
    ``heldout_oracle``, ``heldout_reward``, ``heldout_best_of_k_<selection>``). ``config``: every
    :class:`LoopConfig` field and ``rounds``, ``lr``, ``reward``, ``seed``, ``tasks_per_round``, ``clip``,
    ``track``, ``compare_selections``.
    """

    rounds: list[dict] = field(default_factory=list)
    config: dict = field(default_factory=dict)

    def curve(self, key: str) -> list[float | None]:
        """The value of stat ``key`` in every round (None where a round lacks it)."""
        return [r.get(key) for r in self.rounds]


# under a float64 default every round was skipped ('expected scalar type Float'): float32 for the call
@with_metanet_defaults(grad=True)  # inference_mode: enable_grad alone left the update without a graph
def improve(
    writer: metanet.writer.Writer,
    tasks: Any,
    rounds: int = 5,
    method: str = "expert",
    candidates: int = 8,
    keep: int = 1,
    tasks_per_round: int | None = None,
    lr: float = 1e-3,
    reward: Reward | str | None = None,
    heldout: Any = None,
    seed: int = 0,
    log_dir: str | os.PathLike[str] | None = None,
    clip: float = 1.0,
    track: bool = True,
    selection: str = DEFAULT_SELECTION,
    folds: int = 5,
    compare_selections: bool = False,
    **options: Any,
) -> tuple[metanet.writer.Writer, History]:
    """Improve ``writer`` in place with the verification loop; returns ``(writer, History)``.

    Args:
        writer: a :class:`~metanet.writer.Writer` (updated in place; it is given back in the training mode it
            came in, ``writer.training`` and each submodule's). Interrupted (Ctrl-C) or failed, it keeps the
            rounds' updates applied until then, each one whole (never half an update), and gets its modes back.
        tasks: loop tasks: names, sentences, Tasks, labelled examples ``(x, y)``, map-style ``Dataset``\\ s of
            ``(input, label)`` pairs, writer Episodes or :class:`LoopTask`\\ s (support / val / test); one of them or
            a list.
        rounds: update rounds. Each round: ``tasks_per_round`` tasks (default all, cycling), K candidates each.
        method: ``"expert"``, ``"awr"`` or ``"pg"`` (see :mod:`metanet.loop.core`).
        candidates: K, the candidates written per task and round.
        keep: winners kept per task (expert iteration).
        tasks_per_round: loop tasks per round (default None: all of them; >= 1 cycles through them).
        lr: Adam learning rate of the writer.
        reward: a :class:`Reward` (default: accuracy, loss as tie-break) or a string (``"accuracy+size(0.05)"``).
        heldout: tasks evaluated (best-of-K and K=1 test accuracy) before the first and after every round.
        seed: everything is deterministic given it, on the same machine, torch version and thread count
            (``torch.set_num_threads``: another count can change the last bits of a round's update, and the
            rounds after it then diverge; the caller's count is used, as set).
        log_dir: write TensorBoard scalars there (reward mean / best / worst, held-out accuracy, diversity,
            winners kept).
        clip: max-norm of the writer's gradient (clipped before every update).
        track: also score every round the K candidates of fixed starting points on every loop task
            (``tracked_reward``, by ``selection``), so rounds compare the writer, not the draw of candidates.
        selection: how candidates are rewarded and chosen, in the loop and on ``heldout``: ``"val"`` (default:
            written from support, scored on val) or ``"crossfit"`` (cross-fitted over support and val with
            ``folds`` folds); see :mod:`metanet.loop.select`.
        folds: cross-fitting folds (``selection="crossfit"``), >= 2.
        compare_selections: also report the held-out best-of-K under every selection
            (``heldout_best_of_k_val`` and ``heldout_best_of_k_crossfit``; without it, that of ``selection`` only).
        **options: further :class:`LoopConfig` fields (temperature, beta, sigma, mixup, ce_weight, refine_steps, ...).
    """
    unknown = sorted(set(options) - {f.name for f in fields(LoopConfig)})
    if unknown:
        valid = ", ".join(f.name for f in fields(LoopConfig))
        raise ConfigError(f"unknown loop option {unknown[0]!r}; valid options: {valid}")
    cfg = LoopConfig(method=method, candidates=candidates, keep=keep, selection=selection, folds=folds, **options)
    check_number("rounds", rounds, ">= 0", lambda v: v >= 0, integer=True)
    check_number("rounds", rounds, f"<= {MAX_ITERATIONS:,} (more rounds than any run could finish)",
                 lambda v: v <= MAX_ITERATIONS, integer=True)  # rounds=10**30 was accepted and never returned
    # None was a raw TypeError, 1.5 "seed must be an integer, got 4243.5" (a derived seed), and a numpy integer
    # skipped every round ("an integer is required"): any integer, as a Python int
    seed = check_seed(seed)
    if tasks_per_round is not None:  # 0 used to mean "all tasks" and a negative number "no task", silently
        check_number("tasks_per_round", tasks_per_round, ">= 1 (or None: every task)", lambda v: v >= 1,
                      integer=True)
    check_number("lr", lr, "> 0", lambda v: v > 0)
    check_number("clip", clip, "> 0", lambda v: v > 0)  # a negative max-norm reverses the gradient
    # as Python numbers: a numpy rounds was a raw TypeError from set_grad_enabled (a numpy bool), and a numpy or
    # Fraction lr / clip left History.config without a JSON form
    rounds, lr, clip, candidates = int(rounds), float(lr), float(clip), cfg.candidates
    tasks_per_round = int(tasks_per_round) if tasks_per_round is not None else None
    reward = make_reward(reward)
    batch_all = as_loop_tasks(tasks, seed=seed)
    held = as_loop_tasks(heldout, seed=seed + 10_000) if heldout is not None else []
    no_test = [lt.name for lt in held if lt.test is None]
    if no_test:  # found in round 0 before, after the TensorBoard directory had been written
        raise TaskError(f"held-out task {no_test[0]} has no test split to evaluate on; give held-out tasks a test "
                        "split (e.g. split_examples(..., test=None) keeps all the rest)")
    # a task its selection cannot score failed in round 0, after the TensorBoard directory had been written
    for lt in batch_all:
        check_scorable(lt, selection, folds)
    for lt in held:
        for sel in SELECTIONS if compare_selections else (selection,):
            check_scorable(lt, sel, folds)
    # a writer built or copied inside the caller's torch.inference_mode() holds inference tensors, which autograd
    # cannot train: every task of every round was skipped ('Inference tensors cannot be saved for backward') and the
    # writer came back unchanged
    made_in_inference = next((n for n, p in writer.named_parameters() if p.is_inference()), None)
    if made_in_inference is not None:
        raise ConfigError(f"the writer's parameter {made_in_inference} is an inference tensor (the writer was built "
                          "or copied inside torch.inference_mode()), and improve() cannot train it; build or copy it "
                          "outside inference mode, or under torch.no_grad() instead")
    per = tasks_per_round or len(batch_all)
    opt = torch.optim.Adam(writer.parameters(), lr=lr)
    if log_dir is not None:
        from metanet.cli import out_dir
        from metanet.io import tensorboard_writer

        # '~' expanded (SummaryWriter made a folder named '~'); an existing file there was a raw FileExistsError
        log_dir = str(out_dir(log_dir, "log_dir"))
    # every argument that shapes the run, so it can be reproduced from its config (tasks_per_round, clip, track and
    # compare_selections were missing)
    # the reward as make_reward / --reward spells it (its repr could not be read back), as improve --json prints it
    hist = History(config={**cfg.__dict__, "rounds": rounds, "lr": lr, "reward": reward_spec(reward), "seed": seed,
                           "tasks_per_round": tasks_per_round, "clip": clip, "track": track,
                           "compare_selections": compare_selections})
    # seeded for determinism, in a fork of torch's RNG: the caller's random state is given back. The rounds switch
    # the writer between eval and train mode: each of its modules gets the caller's mode back (the writer always
    # came back in eval mode, even one given in train mode), also after an error, and the event file is closed
    # (flushed) also when a round raises; a full disk under it names the log folder
    with forked_rng(), kept_modes(writer), \
            tensorboard_writer(log_dir) if log_dir is not None else contextlib.nullcontext() as tb:
        torch.manual_seed(seed)
        for rnd in range(rounds + 1):
            t0 = time.perf_counter()
            row: dict = {"round": rnd}
            if held:
                writer.eval()
                ev = evaluate(writer, held, candidates=candidates, seed=seed + 99_991, reward=reward,
                              selection=selection, folds=folds, compare=compare_selections)
                row.update({f"heldout_{k}": v for k, v in ev.items() if k not in ("tasks", "selection")})
                # heldout_reward: the held-out candidates' reward on their labelled examples (never test)
            if track:  # the same K starting points every round: changes are the writer's, not the noise's
                row["tracked_reward"] = tracked_reward(writer, batch_all, candidates, reward, seed + 4242, selection,
                                                       folds)
            writer.train()
            start = (rnd * per) % len(batch_all)
            batch = [batch_all[(start + j) % len(batch_all)] for j in range(per)]
            with torch.set_grad_enabled(rnd < rounds):  # the last round only scores (no update follows it)
                loss, stats = round_loss(writer, batch, cfg, reward, seed * 7919 + rnd)
            row.update(stats)
            if rnd < rounds:
                if loss is not None:
                    opt.zero_grad(set_to_none=True)
                    loss.backward()
                    torch.nn.utils.clip_grad_norm_(writer.parameters(), clip)
                    if finite_gradients(writer, rnd):
                        _step_whole(opt, writer)
                    row["loss"] = loss.item()
            row["seconds"] = time.perf_counter() - t0
            hist.rounds.append(row)
            log.info("round %d: %s", rnd, {k: round(v, 4) if isinstance(v, float) else v for k, v in row.items()})
            if tb is not None:
                _tb_row(tb, row, rnd)
    return writer, hist


def finite_gradients(writer: nn.Module, rnd: int, what: str = "round", warn: bool = True) -> bool:
    """Whether every gradient of ``writer`` is finite; if not, the round's update is to be skipped (logged unless
    ``warn=False``): a broken candidate's NaN can reach the gradient through the joint write of the K candidates, and
    Adam then made the writer NaN. ``improve`` and the Lightning loop stage both ask it before their optimizer step,
    and :func:`~metanet.loop.refine` before each of its steps (quietly: it logs one summary of the skipped steps)."""
    if all(p.grad is None or bool(torch.isfinite(p.grad).all()) for p in writer.parameters()):
        return True
    if warn:
        log.warning("%s %d: non-finite gradient, update skipped", what, rnd)
    return False


def _step_whole(opt: torch.optim.Optimizer, writer: nn.Module) -> None:
    """``opt.step()``, all or nothing for ``writer``'s weights: Adam on the cpu updates them one tensor at a time, so a
    Ctrl-C (or an error) in the middle of the step left the writer with some tensors updated and the others not; they
    get their values from before the step back (a writer interrupted between rounds holds the rounds completed)."""
    before = [p.detach().clone() for p in writer.parameters()]
    try:
        opt.step()
    except BaseException:
        with torch.no_grad():
            for p, b in zip(writer.parameters(), before):
                p.copy_(b)
        raise


def _tb_row(tb, row: dict, step: int) -> None:
    names = {"reward_mean": "reward/mean", "reward_best": "reward/best_of_k", "reward_worst": "reward/worst",
             "heldout_best_of_k": "heldout/accuracy_best_of_k", "heldout_k1": "heldout/accuracy_k1",
             "heldout_mean": "heldout/accuracy_mean_candidate", "heldout_oracle": "heldout/accuracy_oracle",
             "heldout_best_of_k_val": "heldout/accuracy_best_of_k_val",
             "heldout_best_of_k_crossfit": "heldout/accuracy_best_of_k_crossfit",
             "diversity": "candidates/diversity", "winners": "candidates/winners_kept", "broken": "candidates/broken",
             "loss": "loop/loss", "tracked_reward": "reward/tracked_mean"}
    for k, tag in names.items():
        if row.get(k) is not None:
            tb.add_scalar(tag, row[k], step)
