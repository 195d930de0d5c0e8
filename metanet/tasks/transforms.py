"""Task transforms: ``+permute(SEED)``, ``+invert`` and ``+relabel(SEED)``.

Both seeded transforms draw their permutation the same documented way, so other code can reproduce them:
``perm = numpy.random.default_rng(seed).permutation(n)``.

* ``permute(SEED)``: ``n`` is the number of input features of one example (``prod(input_shape)``); the permuted
  example is ``x.reshape(-1)[perm].reshape(input_shape)``, i.e. feature ``j`` of the new example is feature
  ``perm[j]`` of the original. The same permutation is used for every example of every split.
* ``invert``: ``x -> 1 - x``.
* ``relabel(SEED)``: ``n`` is the number of classes of the task at that point; label ``i`` becomes ``perm[i]``
  (and ``class_names`` move with their labels: ``new_names[perm[i]] = old_names[i]``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from metanet.errors import TaskError, integer

__all__ = ["Transform", "TRANSFORM_FORMS", "MAX_SEED", "seeded_permutation"]

#: The transform forms the grammar accepts, for error messages.
TRANSFORM_FORMS = ("permute(SEED)", "invert", "relabel(SEED)")
#: Largest seed accepted (seeds are non-negative integers).
MAX_SEED = 2**63 - 1

_SEEDED = {"permute": True, "invert": False, "relabel": True}


def seeded_permutation(seed: int, n: int) -> np.ndarray:
    """The permutation of ``range(n)`` used by ``permute(seed)`` / ``relabel(seed)`` (int64 array).

    Raises:
        TaskError: ``seed`` not an integer in 0..MAX_SEED or ``n`` not an integer >= 0 (Python or numpy integers;
            ``True`` was taken as seed 1 or n 1, a float was a raw TypeError from numpy).
    """
    seed, n = integer("seed", seed, least=0), integer("n", n, least=0)
    if seed > MAX_SEED:
        raise TaskError(f"seed must be an integer between 0 and {MAX_SEED}, got {seed!r}")
    return np.random.default_rng(seed).permutation(n).astype(np.int64)


@dataclass(frozen=True)
class Transform:
    """One transform step; ``str(t)`` is its grammar form, e.g. ``permute(3)``."""

    kind: str
    seed: int | None = None

    def __post_init__(self) -> None:
        if self.kind not in _SEEDED:
            raise TaskError(
                f"unknown transform {self.kind!r}; valid transforms: {', '.join(TRANSFORM_FORMS)}"
            )
        if _SEEDED[self.kind]:
            if not isinstance(self.seed, int) or isinstance(self.seed, bool) or not 0 <= self.seed <= MAX_SEED:
                raise TaskError(
                    f"{self.kind} needs an integer seed between 0 and {MAX_SEED}, got {self.seed!r}; "
                    f"write it as {self.kind}(SEED), e.g. {self.kind}(3)"
                )
        elif self.seed is not None:
            raise TaskError(f"{self.kind} takes no seed, got {self.seed!r}; write it as +{self.kind}")

    def __str__(self) -> str:
        return self.kind if self.seed is None else f"{self.kind}({self.seed})"

    def describe(self) -> str:
        """Human-readable phrase for task descriptions."""
        if self.kind == "permute":
            return f"input features permuted (seed {self.seed})"
        if self.kind == "relabel":
            return f"labels permuted (seed {self.seed})"
        return "inputs inverted (1 - x)"
