"""The verification loop: write K candidates per task, verify them on held-out data, turn scores into reward,
update the writer from the rewards.

One round (:func:`round_loss`), for each task of the batch:

1. the writer writes K candidates from the task's **support** set, one per seeded starting point (the writer's
   only noise input; with ``method="pg"`` Gaussian noise of relative scale ``sigma`` is added to every written
   weight as well, which makes the writer a stochastic policy);
2. all K are verified at once (``verify_stacked``) on the task's **val** split, never on the support; a candidate
   with NaN/inf output, or whose verification crashes, gets :data:`~metanet.loop.rewards.WORST` and is logged;
3. the rewards update the writer with one of the methods below (a loss whose gradient flows back through the
   differentiable writer):

``"expert"`` — expert iteration: the ``keep`` best candidates by reward are the winners; the writer is trained so
    that every candidate (from its own starting point) reproduces the winners' function — KL at temperature ``T``
    (scaled by T², Hinton) from the winners' mean softened prediction, on the support inputs and on mixup
    interpolations of them (inputs only: no labels are used beyond the support's). With ``refine_steps > 0`` the
    winner is first refined gradient-free (:func:`metanet.loop.refine`, weight perturbation on the support) and
    the refined network is the teacher.
``"awr"`` — advantage-weighted: the same distillation, towards the mixture of all candidates' predictions
    weighted by ``softmax(advantage / beta)`` (advantage = reward standardised over the task's K candidates).
``"pg"`` — score-function policy gradient with a baseline: candidates are ``mu + sigma * |mu|_rms * eps``, the loss
    is ``-sum_i A_i log N(theta_i; mu, s^2)`` with A the standardised advantage (baseline: the mean reward of the
    task's K candidates).
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass, field
from types import SimpleNamespace

import torch
import torch.nn.functional as F
from torch import Tensor

from metanet.errors import MetanetError
from metanet.nets import build
from metanet.verify import Report, verify_stacked
from metanet.loop.rewards import WORST, Reward, make_reward
from metanet.loop.tasks import LoopTask, as_loop_tasks

__all__ = ["METHODS", "LoopConfig", "score_candidates", "diversity", "round_loss", "evaluate", "tracked_reward",
           "improve", "History"]

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
    refine_steps: int = 0  # perturbation refinement of the winner before it is distilled
    refine_population: int = 32
    refine_sigma: float = 0.01

    def __post_init__(self) -> None:
        if self.method not in METHODS:
            raise MetanetError(f"unknown loop method {self.method!r}; valid: {', '.join(METHODS)}")
        if self.candidates < 1 or not 1 <= self.keep <= self.candidates:
            raise MetanetError(f"need candidates >= 1 and 1 <= keep <= candidates, got {self.candidates}, {self.keep}")
        if self.method in ("awr", "pg") and self.candidates < 2:
            raise MetanetError(f"method {self.method!r} compares candidates: it needs candidates >= 2")


# ------------------------------------------------------------------------------------------ scoring
def _stub(lt: LoopTask):
    return SimpleNamespace(name=lt.name, num_classes=lt.num_classes)


def _failed(n: int, lt: LoopTask, why: str) -> Report:
    return Report(0.0, math.inf, [math.nan] * lt.num_classes, n, 0.0, lt.name, "val", {"failed": why})


@torch.no_grad()
def score_candidates(lt: LoopTask, params: dict[str, Tensor], reward: Reward) -> tuple[Tensor, list[Report]]:
    """Verify K stacked candidates on ``lt.val`` (only there) and reward them. Never raises for a bad candidate:
    non-finite weights or outputs, or a crash in verification, give it the worst reward (and a log line)."""
    params = {k: v.detach() for k, v in params.items()}
    kk = next(iter(params.values())).shape[0]
    module = build(lt.arch, seed=None)
    n = len(lt.val[1])
    finite = torch.stack([torch.isfinite(v.flatten(1)).all(1) for v in params.values()]).all(0)
    reports: list[Report | None] = [None] * kk
    ok = [i for i in range(kk) if finite[i]]
    for i in range(kk):
        if not finite[i]:
            reports[i] = _failed(n, lt, "non-finite weights")
    if ok:
        sub = {k: v[ok] for k, v in params.items()}
        try:
            rs = verify_stacked(module, sub, _stub(lt), split="val", data=lt.val)
        except Exception as e:  # noqa: BLE001 - one bad candidate must not kill the loop: retry one by one
            log.warning("task %s: batched verification crashed (%s: %s); verifying candidates one by one",
                        lt.name, type(e).__name__, e)
            rs = []
            for i in ok:
                try:
                    rs.append(verify_stacked(module, {k: v[i : i + 1] for k, v in params.items()}, _stub(lt),
                                             split="val", data=lt.val)[0])
                except Exception as e1:  # noqa: BLE001
                    rs.append(_failed(n, lt, f"{type(e1).__name__}: {e1}"))
        for i, r in zip(ok, rs):
            reports[i] = r
    for i, r in enumerate(reports):
        if r.extra.get("failed") or not math.isfinite(r.loss):
            log.warning("task %s: candidate %d is broken (%s): lowest reward", lt.name, i,
                        r.extra.get("failed", "non-finite output"))
    return reward(reports, params), reports


@torch.no_grad()
def diversity(lt: LoopTask, params: dict[str, Tensor]) -> float:
    """Mean pairwise disagreement of the K candidates' top-1 predictions on the val inputs (0 = all agree)."""
    from metanet.writer.lightning import written_logits

    kk = next(iter(params.values())).shape[0]
    if kk < 2:
        return 0.0
    pred = written_logits(lt.arch, {k: v.detach() for k, v in params.items()}, lt.val[0]).argmax(-1)  # (K, n)
    dis = (pred.unsqueeze(0) != pred.unsqueeze(1)).float().mean(-1)
    return (dis.sum() / (kk * (kk - 1))).item()


# ------------------------------------------------------------------------------------------ updates
def _distil_inputs(x: Tensor, copies: int, g: torch.Generator) -> Tensor:
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
    res = refine(net, lt.support, method="perturbation", steps=cfg.refine_steps, population=cfg.refine_population,
                 sigma=cfg.refine_sigma, seed=seed, verify_on=None, num_classes=lt.num_classes)
    return res.model


def _task_loss(writer, lt: LoopTask, cfg: LoopConfig, reward: Reward, seed: int) -> tuple[Tensor | None, dict]:
    from metanet.writer.lightning import written_logits

    sx, sy = lt.support
    mu = writer.write(lt.arch, sx, sy, lt.num_classes, candidates=cfg.candidates, seed=seed)
    if cfg.method == "pg":
        g = torch.Generator().manual_seed(seed + 17)
        scale = {k: cfg.sigma * v.detach().pow(2).flatten(1).mean(1).sqrt().clamp_min(1e-8) for k, v in mu.items()}
        cand = {k: v.detach() + scale[k].view(-1, *[1] * (v.dim() - 1)) * torch.randn(v.shape, generator=g)
                for k, v in mu.items()}
    else:
        cand = {k: v.detach() for k, v in mu.items()}
    r, reports = score_candidates(lt, cand, reward)
    good = r > WORST
    stats = {"reward_mean": r[good].mean().item() if good.any() else WORST, "reward_best": r.max().item(),
             "reward_worst": r.min().item(), "broken": int((~good).sum()), "diversity": diversity(lt, cand),
             "val_acc_mean": sum(rep.accuracy for rep in reports) / len(reports), "winners": 0}
    if good.sum() == 0:
        return None, stats
    adv = torch.zeros_like(r)
    if good.sum() > 1:
        adv[good] = (r[good] - r[good].mean()) / (r[good].std() + 1e-8)
    if cfg.method == "pg":
        stats["winners"] = int((adv > 0).sum())
        logp = sum(-((cand[k] - mu[k]) / scale[k].view(-1, *[1] * (mu[k].dim() - 1))).pow(2).flatten(1).sum(1) / 2
                   for k in mu)  # (K,)
        n_par = sum(v[0].numel() for v in mu.values())
        loss = -(adv.float().detach() * logp)[good].sum() / good.sum() / math.sqrt(n_par)
        return loss, stats
    g = torch.Generator().manual_seed(seed + 31)
    xs = _distil_inputs(sx, cfg.mixup, g)
    logits = written_logits(lt.arch, mu, xs)  # (K, n, C)
    t = cfg.temperature
    with torch.no_grad():
        if cfg.method == "expert":
            order = torch.argsort(r, descending=True)
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
    """The loop's loss for one round over ``batch`` (mean over tasks with a finite loss) and the round's stats."""
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
        for key in ("reward_mean", "reward_best", "reward_worst", "diversity", "val_acc_mean"):
            stats[key] = sum(r[key] for r in rows) / len(rows)
        stats["winners"] = sum(r["winners"] for r in rows)
        stats["broken"] = sum(r["broken"] for r in rows)
    stats["tasks"] = len(rows)
    return (torch.stack(losses).mean() if losses else None), stats


@torch.no_grad()
def evaluate(writer, tasks: list[LoopTask], candidates: int = 8, seed: int = 0, reward: Reward | None = None) -> dict:
    """Held-out score: per task, K candidates written from support, the best by val reward, its test accuracy
    (and candidate 0's, i.e. K=1). Means over tasks, plus per task."""
    from metanet.writer.lightning import written_logits

    reward = make_reward(reward)
    per = []
    for i, lt in enumerate(tasks):
        if lt.test is None:
            raise MetanetError(f"task {lt.name} has no test split to evaluate on")
        p = writer.write(lt.arch, *lt.support, lt.num_classes, candidates=candidates, seed=seed + i)
        r, _ = score_candidates(lt, p, reward)
        best = int(torch.argmax(r))
        acc = (written_logits(lt.arch, p, lt.test[0]).argmax(-1) == lt.test[1]).float().mean(1)
        per.append({"task": lt.name, "best_of_k": acc[best].item(), "k1": acc[0].item(), "mean": acc.mean().item()})
    n = max(1, len(per))
    return {"best_of_k": sum(p["best_of_k"] for p in per) / n, "k1": sum(p["k1"] for p in per) / n,
            "mean": sum(p["mean"] for p in per) / n, "tasks": per}


@torch.no_grad()
def tracked_reward(writer, tasks: list[LoopTask], candidates: int, reward: Reward, seed: int) -> float:
    """Mean val reward of K candidates from fixed starting points (``seed``) over ``tasks``: a round-to-round
    measure of the writer alone."""
    rs = []
    for i, lt in enumerate(tasks):
        p = writer.write(lt.arch, *lt.support, lt.num_classes, candidates=candidates, seed=seed + i)
        r, _ = score_candidates(lt, p, reward)
        rs.append(r.mean().item())
    return sum(rs) / len(rs)


# ------------------------------------------------------------------------------------------ API
@dataclass
class History:
    """What :func:`improve` did: one dict of stats per round (round 0 = before any update), and the config."""

    rounds: list[dict] = field(default_factory=list)
    config: dict = field(default_factory=dict)

    def curve(self, key: str) -> list[float]:
        return [r.get(key) for r in self.rounds]


def improve(
    writer,
    tasks,
    rounds: int = 5,
    method: str = "expert",
    candidates: int = 8,
    keep: int = 1,
    tasks_per_round: int | None = None,
    lr: float = 1e-3,
    reward: Reward | str | None = None,
    heldout=None,
    seed: int = 0,
    log_dir: str | None = None,
    clip: float = 1.0,
    track: bool = True,
    **options,
):
    """Improve ``writer`` in place with the verification loop; returns ``(writer, History)``.

    Args:
        writer: a :class:`~metanet.writer.Writer` (updated in place).
        tasks: loop tasks: names, Tasks, writer Episodes or :class:`LoopTask`\\ s (support / val / test).
        rounds: update rounds. Each round: ``tasks_per_round`` tasks (default all, cycling), K candidates each.
        method: ``"expert"``, ``"awr"`` or ``"pg"`` (see :mod:`metanet.loop.core`).
        candidates: K; keep: winners kept per task (expert iteration).
        lr: Adam learning rate of the writer.
        reward: a :class:`Reward` (default: accuracy, loss as tie-break) or a string (``"accuracy+size(0.05)"``).
        heldout: tasks evaluated (best-of-K and K=1 test accuracy) before the first and after every round.
        seed: everything is deterministic given it.
        log_dir: write TensorBoard scalars there (reward mean / best / worst, held-out accuracy, diversity,
            winners kept).
        track: also score every round the K candidates of fixed starting points on every loop task's val split
            (``tracked_reward``), so rounds compare the writer, not the draw of candidates.
        options: further :class:`LoopConfig` fields (temperature, beta, sigma, mixup, ce_weight, refine_steps, ...).
    """
    cfg = LoopConfig(method=method, candidates=candidates, keep=keep, **options)
    reward = make_reward(reward)
    batch_all = as_loop_tasks(tasks, seed=seed)
    held = as_loop_tasks(heldout, seed=seed + 10_000) if heldout is not None else []
    per = tasks_per_round or len(batch_all)
    opt = torch.optim.Adam(writer.parameters(), lr=lr)
    tb = None
    if log_dir is not None:
        from torch.utils.tensorboard import SummaryWriter

        tb = SummaryWriter(log_dir)
    hist = History(config={**cfg.__dict__, "rounds": rounds, "lr": lr, "reward": repr(reward), "seed": seed})
    torch.manual_seed(seed)
    for rnd in range(rounds + 1):
        t0 = time.perf_counter()
        row: dict = {"round": rnd}
        if held:
            writer.eval()
            ev = evaluate(writer, held, candidates=candidates, seed=seed + 99_991, reward=reward)
            row.update(heldout_best_of_k=ev["best_of_k"], heldout_k1=ev["k1"], heldout_mean=ev["mean"])
        if track:  # the same K starting points every round: changes are the writer's, not the noise's
            row["tracked_reward"] = tracked_reward(writer, batch_all, candidates, reward, seed + 4242)
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
                grads_ok = all(p.grad is None or torch.isfinite(p.grad).all() for p in writer.parameters())
                if grads_ok:
                    opt.step()
                else:
                    log.warning("round %d: non-finite gradient, update skipped", rnd)
                row["loss"] = loss.item()
        row["seconds"] = time.perf_counter() - t0
        hist.rounds.append(row)
        log.info("round %d: %s", rnd, {k: round(v, 4) if isinstance(v, float) else v for k, v in row.items()})
        if tb is not None:
            _tb_row(tb, row, rnd)
    if tb is not None:
        tb.close()
    writer.eval()
    return writer, hist


def _tb_row(tb, row: dict, step: int) -> None:
    names = {"reward_mean": "reward/mean", "reward_best": "reward/best_of_k", "reward_worst": "reward/worst",
             "heldout_best_of_k": "heldout/accuracy_best_of_k", "heldout_k1": "heldout/accuracy_k1",
             "diversity": "candidates/diversity", "winners": "candidates/winners_kept", "broken": "candidates/broken",
             "loss": "loop/loss", "tracked_reward": "reward/tracked_mean"}
    for k, tag in names.items():
        if row.get(k) is not None:
            tb.add_scalar(tag, row[k], step)
