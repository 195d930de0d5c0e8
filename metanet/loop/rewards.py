"""Rewards: how a verified candidate network is scored in the loop.

A :class:`Reward` maps the verification reports of K stacked candidates (and their parameters) to a tensor of K
rewards. Candidates that produced NaN/inf logits, or whose verification crashed, always get :data:`WORST`, below
any reward a working network can get.
"""

from __future__ import annotations

import logging
import math
import numbers
import re
from typing import Sequence

import torch
from torch import Tensor

from metanet.errors import ConfigError, MetanetError
from metanet.verify import Report

__all__ = ["Reward", "AccuracyReward", "SizePenalty", "WORST", "make_reward", "reward_spec"]

log = logging.getLogger("metanet.loop")

#: reward of a broken candidate (NaN/inf output, or verification crashed): below every real reward
WORST = -1e3
# the cap of AccuracyReward's squashed loss: far from 1 in float64 (its tie-break stays below ``tie``) and above
# loss / (1 + loss) of every loss below 1e6
_BELOW_ONE = 1.0 - 1e-6
# where a working candidate's reward at or below WORST is raised to: 1e-6 above it, far more than float64 rounding of
# cross-fitting's fold-size-weighted mean (the mean of 5 folds' nextafter(WORST) rounded back to WORST: counted broken)
_JUST_ABOVE_WORST = WORST + 1e-6


class Reward:
    """Base class: ``reward(reports, params) -> (K,)`` float64 tensor, higher is better.

    Subclasses implement :meth:`score`; ``__call__`` enforces :data:`WORST` for broken candidates. A working
    candidate's reward should be finite and above WORST: a NaN/inf one is scored WORST, and one at or below WORST is
    raised to just above it (so a broken candidate never wins), both with a warning. A score that raises on
    candidates with broken ones among them is called again on the working ones only. Rewards compose by addition:
    ``AccuracyReward() + SizePenalty(0.1)``.
    """

    def score(self, reports: Sequence[Report], params: dict[str, Tensor]) -> Tensor:  # pragma: no cover - abstract
        """The raw reward of each of the K candidates (a ``(K,)`` tensor or K numbers; one number for all).

        Subclasses implement it; calling the reward then sets :data:`WORST` for the broken candidates.
        """
        raise NotImplementedError

    def _scored(self, reports: Sequence[Report], params: dict[str, Tensor]) -> Tensor:
        r = _as_rewards(self, self.score(reports, params))
        if r.dim() == 0:  # one number: the same reward for every candidate
            r = r.expand(len(reports))
        if tuple(r.shape) != (len(reports),):  # (K, 1) broadcast silently to a (K, K) table of rewards
            raise ConfigError(f"{type(self).__name__}.score must return a tensor of shape ({len(reports)},), one "
                              f"reward per candidate, got shape {tuple(r.shape)}")
        return r

    def __call__(self, reports: Sequence[Report], params: dict[str, Tensor]) -> Tensor:
        broken = torch.tensor([not math.isfinite(rep.loss) or bool(rep.extra.get("failed")) for rep in reports],
                              dtype=torch.bool)  # explicit: an empty list would default to float
        try:
            r = self._scored(reports, params)
        except MetanetError:
            raise
        except Exception as e:  # noqa: BLE001 - re-raised unless a broken candidate may have caused it
            if not broken.any():
                raise  # the reward's own error: no broken candidate was in it
            if not all(isinstance(v, Tensor) and v.dim() and len(v) == len(reports) for v in params.values()):
                # params not stacked per candidate (K, ...) cannot be split by candidate: a 0-d one made that split
                # a raw IndexError hiding the score's error, another size took rows that are no candidates
                raise
            # a broken candidate's NaN weights or infinite loss made a score raise (an SVD of the K stacked weights:
            # the round was skipped, or the run died): the working candidates are scored without the broken ones
            log.warning("%s.score raised %s: %s; scoring the %d working candidates without the broken ones",
                        type(self).__name__, type(e).__name__, e, int((~broken).sum()))
            keep = (~broken).nonzero().flatten()
            r = torch.full((len(reports),), WORST, dtype=torch.float64)
            if len(keep):
                r[keep] = self._scored([reports[i] for i in keep.tolist()], {k: v[keep] for k, v in params.items()})
        bad, low = ~broken & ~torch.isfinite(r), ~broken & torch.isfinite(r) & (r <= WORST)
        if bad.any() or low.any():
            log.warning("%s.score gave working candidates %d NaN/inf reward(s) (scored WORST, as broken) and %d at or "
                        "below WORST=%g (raised to just above it, tied there); a reward should be finite and above "
                        "WORST", type(self).__name__, int(bad.sum()), int(low.sum()), WORST)
        # a working candidate rewarded at or below WORST (-loss of 2000, size(5000)) tied or lost to a broken one:
        # choose() picked the broken candidate and the loop counted the working one as broken
        r = torch.where(low, torch.full_like(r, _JUST_ABOVE_WORST), r)
        r = torch.where(broken | ~torch.isfinite(r), torch.full_like(r, WORST), r)
        return r

    def __add__(self, other: "Reward") -> "Reward":
        if not isinstance(other, Reward):  # a number or a string failed later, in the loop, as an AttributeError
            return NotImplemented
        return _Sum(self, other)

    def __radd__(self, other) -> "Reward":
        if isinstance(other, numbers.Number) and not isinstance(other, bool) and other == 0:
            return self  # sum([AccuracyReward(), SizePenalty()]) starts from 0
        return NotImplemented

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


def _as_rewards(reward: Reward, raw) -> Tensor:
    """``reward.score``'s result as a float64 tensor (a custom score may be a list of floats), else a ConfigError."""
    try:
        return torch.as_tensor(raw, dtype=torch.float64)
    except (TypeError, ValueError, RuntimeError):
        raise ConfigError(f"{type(reward).__name__}.score must return one number per candidate, got "
                          f"{type(raw).__name__}") from None


class _Sum(Reward):
    def __init__(self, *parts: Reward) -> None:
        self.parts = parts

    def score(self, reports, params):
        # each part checked as a reward of its own: a bad part of a sum was a raw TypeError naming no class
        return sum(_as_rewards(p, p.score(reports, params)) for p in self.parts)

    def __repr__(self) -> str:
        return " + ".join(map(repr, self.parts))


class AccuracyReward(Reward):
    """Verified accuracy, with the loss as a tie-break: ``accuracy - tie * loss / (1 + loss)``.

    The tie-break term is below ``tie`` (default 1e-3), smaller than one example's worth of accuracy on any split
    of up to 1000 examples, so it only orders candidates of equal accuracy (lower loss wins).
    """

    def __init__(self, tie: float = 1e-3) -> None:
        # a negative tie would prefer the higher loss; NaN/inf would turn every reward into WORST
        if isinstance(tie, bool) or not isinstance(tie, numbers.Real) or not (math.isfinite(tie) and tie >= 0):
            raise ConfigError(f"AccuracyReward needs a finite tie >= 0, got {tie!r}")
        self.tie = tie

    def score(self, reports, params):
        """Accuracy, minus ``tie`` times the loss squashed into [0, 1) (non-finite loss: 1)."""
        out = []
        for r in reports:
            loss = r.loss if math.isfinite(r.loss) else math.inf
            # loss / (1 + loss) rounds to 1.0 from a loss of about 1e16 (and near it for 1e12): the term then equalled
            # one example's worth of accuracy at n=1000, and a more accurate candidate tied a worse one (and lost
            # the tie to the lower index); capped just below 1, as documented
            out.append(r.accuracy - self.tie * (1.0 if math.isinf(loss) else min(loss / (1.0 + loss), _BELOW_ONE)))
        return torch.tensor(out, dtype=torch.float64)

    def __repr__(self) -> str:
        return f"AccuracyReward(tie={self.tie:g})"


class SizePenalty(Reward):
    """``-weight * (fraction of connections with |w| > threshold)``: favours networks with fewer non-zero weights.

    Connections are the entries of weight matrices and kernels (names ending in ``weight``, of two or more
    dimensions per network: Linear, Conv; a scalar weight is one connection). Biases are free, and so are the
    per-channel weights of a norm layer (BatchNorm, LayerNorm, GroupNorm) or a PReLU: scales, not connections.
    """

    def __init__(self, weight: float = 0.05, threshold: float = 1e-3) -> None:
        # NaN/inf would make every candidate's reward non-finite, i.e. WORST: the loop would learn nothing
        real = all(isinstance(v, numbers.Real) and not isinstance(v, bool) for v in (weight, threshold))
        if not (real and math.isfinite(weight) and math.isfinite(threshold) and weight >= 0 and threshold >= 0):
            raise ConfigError(f"SizePenalty needs finite weight >= 0 and threshold >= 0, got {weight!r}, {threshold!r}")
        # as floats: a Fraction or a huge int was a raw TypeError / OverflowError when the first candidate was scored
        self.weight, self.threshold = float(weight), float(threshold)

    def score(self, reports, params):
        """Minus ``weight`` times the fraction of connections whose magnitude is above ``threshold``."""
        nz, tot = torch.zeros(len(reports), dtype=torch.float64), 0  # no weight tensors: no penalty
        for name, p in params.items():
            # p is stacked (K, *shape): a norm layer's scales (K, C) were counted as connections (a network with
            # BatchNorm was penalised for them)
            if name.endswith("weight") and p.dim() != 2:
                flat = p.detach().flatten(1) if p.dim() > 1 else p.detach().unsqueeze(1)  # (K,): 0-d weights
                nz = nz + (flat.abs() > self.threshold).sum(1).double()
                tot += flat.shape[1]
        return -self.weight * nz / max(tot, 1)

    def __repr__(self) -> str:
        return f"SizePenalty(weight={self.weight:g}, threshold={self.threshold:g})"


def make_reward(spec: "Reward | str | None") -> Reward:
    """A Reward from an object, ``None`` (accuracy), or a string ``"accuracy"`` / ``"accuracy+size(0.05)"``."""
    if spec is None:
        return AccuracyReward()
    if isinstance(spec, Reward):
        cls = type(spec)
        # looked up on the object as the loop calls it: a score set on the instance (self.score = fn) scores too
        unscored = getattr(getattr(spec, "score", None), "__func__", None) is Reward.score
        if unscored and cls.__call__ is Reward.__call__:  # it failed in the loop's first round
            raise ConfigError(f"reward {cls.__module__}.{cls.__qualname__} implements no score(reports, params): a "
                              "Reward subclass returns one reward per candidate from score")
        return spec
    if not isinstance(spec, str):
        raise ConfigError(f"a reward is a Reward object or a string like 'accuracy+size(0.05)', got {spec!r}")
    total: Reward | None = None
    # split at the + between terms, not at one inside a term's parentheses: size(1e+16) is one term (reward_spec
    # writes a weight from 1e16 on so; split there, it was the unknown term 'size(1e')
    for part in re.split(r"\+(?![^()]*\))", spec.replace(" ", "")):
        if part == "accuracy":
            r: Reward = AccuracyReward()
        elif part.startswith("size(") and part.endswith(")"):
            try:
                weight = float(part[5:-1])
            except ValueError:
                raise ConfigError(f"bad size penalty {part!r}: use size(WEIGHT), e.g. size(0.05)") from None
            r = SizePenalty(weight)  # its own error for a negative or non-finite weight
        elif part == "size":
            r = SizePenalty()
        else:
            raise ConfigError(f"unknown reward term {part!r}; valid terms: accuracy, size, size(WEIGHT)")
        total = r if total is None else total + r
    return total


def reward_spec(reward: "Reward | str | None") -> str:
    """``reward`` as :func:`make_reward` (and ``metanet improve --reward``) spells it, e.g. ``"accuracy+size(0.05)"``:
    ``make_reward(reward_spec(r))`` is the same reward again. What that spelling cannot say (an
    :class:`AccuracyReward` of another ``tie``, a :class:`SizePenalty` of another ``threshold``, a reward class of
    one's own) is given as its ``repr``, which :func:`make_reward` refuses rather than read as another reward.
    Strings and ``None`` are read by :func:`make_reward` first (``"accuracy + size"`` gives
    ``"accuracy+size(0.05)"``; its ConfigError for one it refuses)."""
    reward = make_reward(reward)
    if type(reward) is _Sum:
        return "+".join(reward_spec(part) for part in reward.parts)
    if type(reward) is AccuracyReward and reward.tie == AccuracyReward().tie:
        return "accuracy"
    if type(reward) is SizePenalty and reward.threshold == SizePenalty().threshold:
        return f"size({reward.weight!r})"  # repr: float() reads the same weight back
    return repr(reward)
