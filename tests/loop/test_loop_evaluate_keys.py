"""``evaluate`` returns exactly the keys its docstring names: it documented the per-task figures but not that they
come as a ``tasks`` list of dicts (with ``task`` and ``chosen``), nor the ``selection`` key, nor the
``best_of_k_<selection>`` / ``chosen_<selection>`` / ``reward_<selection>`` keys every call has (not only
``compare=True``)."""

from __future__ import annotations

import re

import torch
from loop_helpers import as_documented as _as_documented

from metanet.loop import evaluate, split_examples
from metanet.loop.select import SELECTIONS

ARCH = "mlp:4-8-3:relu"


def _documented(doc: str) -> set[str]:
    """The ``name`` / ``name_<selection>`` tokens of the docstring's paragraph that starts with "Returns"."""
    text = doc[doc.index("Returns"):]
    return {t for t in re.findall(r"``([^`]+)``", text) if re.fullmatch(r"\w+(?:_<selection>)?", t)}


def _blobs() -> list:
    g = torch.Generator().manual_seed(0)
    y = torch.arange(3).repeat_interleave(20)
    x = (torch.nn.functional.one_hot(y, 4).float() + 0.3 * torch.randn(60, 4, generator=g)).clamp(0, 1)
    return [split_examples(x, y, ARCH, shots=5, val=5, test=5, seed=0, name="blobs")]


def test_evaluate_returns_the_keys_its_docstring_names(tiny_writer):
    tasks = _blobs()
    documented = _documented(evaluate.__doc__)
    for compare in (False, True):
        ev = evaluate(tiny_writer, tasks, candidates=2, seed=0, folds=2, compare=compare)
        (row,) = ev["tasks"]
        assert {"selection", "tasks"} <= set(ev) and {"task", "chosen"} <= set(row)
        seen = {_as_documented(k) for k in (*ev, *row)}
        assert seen == documented, (f"returned but not documented {sorted(seen - documented)}, "
                                    f"documented but not returned {sorted(documented - seen)}")
        runs = SELECTIONS if compare else ("val",)
        assert {k for k in ev if k.startswith("best_of_k_")} == {f"best_of_k_{s}" for s in runs}
