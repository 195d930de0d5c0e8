"""The verification loop (issue 8): the writer proposes K candidate networks per task, each is verified on data it
was not written from, the verified score is the reward, and the writer is updated from it.

>>> from metanet import Writer, generate, improve, refine
>>> writer, history = improve(Writer.load(), ["digits"], rounds=3, method="expert", candidates=8)
>>> len(history.rounds)                        # round 0: the writer before any update
4
>>> model = generate("digits", seed=0).model
>>> model, before, after, _ = refine(model, "digits", method="perturbation", steps=100)

* :func:`improve` / :mod:`.core`: the loop (update methods ``expert``, ``awr``, ``pg``), :func:`evaluate`.
* :class:`Reward` and friends (:mod:`.rewards`): accuracy with loss tie-break, size penalty, composable.
* :func:`choose`, :func:`crossfit_rewards` (:mod:`.select`): which of K candidates is best, judged on data that
  did not condition it — a val split (default) or cross-fitting over all the labelled examples.
* :class:`LoopTask` (:mod:`.tasks`): support / val / test, disjoint by construction and checkable.
* :func:`refine` (:mod:`.refine`): refinement of one network without backprop (perturbation of the weights, or
  ``method="activity"``: of every layer's pre-activations), or with it (``method="sgd"``).
* :mod:`.lightning`: the same loop as a Lightning stage (``metanet train fit -c train/loop.yaml``).
"""

import sys
from typing import TYPE_CHECKING

from metanet._lazy import LazyPackage, lazy_attributes

# public name -> submodule defining it, imported on first use: the `metanet` command imports metanet.loop.cli (and so
# this package) to build its parser, which then loaded PyTorch
_LAZY = {
    **dict.fromkeys(["METHODS", "History", "LoopConfig", "evaluate", "improve", "round_loss", "score_candidates",
                     "score_stacked"], "core"),
    **dict.fromkeys(["REFINE_METHODS", "RefineResult", "refine"], "refine"),
    **dict.fromkeys(["WORST", "AccuracyReward", "Reward", "SizePenalty", "make_reward", "reward_spec"], "rewards"),
    **dict.fromkeys(["DEFAULT_SELECTION", "SELECTIONS", "Choice", "CrossFit", "candidate_rewards", "choose",
                     "crossfit_rewards", "fold_ids"], "select"),
    **dict.fromkeys(["LoopTask", "as_loop_tasks", "from_episode", "from_task", "split_examples"], "tasks"),
}

if TYPE_CHECKING:  # pragma: no cover - for type checkers and IDEs
    from metanet.loop.core import (METHODS, History, LoopConfig, evaluate, improve, round_loss, score_candidates,
                                   score_stacked)
    from metanet.loop.refine import REFINE_METHODS, RefineResult, refine
    from metanet.loop.rewards import WORST, AccuracyReward, Reward, SizePenalty, make_reward, reward_spec
    from metanet.loop.select import (DEFAULT_SELECTION, SELECTIONS, Choice, CrossFit, candidate_rewards, choose,
                                     crossfit_rewards, fold_ids)
    from metanet.loop.tasks import LoopTask, as_loop_tasks, from_episode, from_task, split_examples

__all__ = [
    "improve",
    "refine",
    "evaluate",
    "Reward",
    "AccuracyReward",
    "SizePenalty",
    "make_reward",
    "reward_spec",
    "WORST",
    "LoopTask",
    "LoopConfig",
    "History",
    "RefineResult",
    "split_examples",
    "from_task",
    "from_episode",
    "as_loop_tasks",
    "round_loss",
    "score_candidates",
    "score_stacked",
    "choose",
    "Choice",
    "crossfit_rewards",
    "CrossFit",
    "candidate_rewards",
    "fold_ids",
    "SELECTIONS",
    "DEFAULT_SELECTION",
    "METHODS",
    "REFINE_METHODS",
]


__getattr__ = lazy_attributes(__name__, _LAZY, submodules=True)


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


# `import metanet.loop.refine` binds the submodule as metanet.loop.refine: the function stays bound instead
sys.modules[__name__].__class__ = LazyPackage
