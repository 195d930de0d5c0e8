"""What an edit did: :class:`EditReport` (before/after accuracy overall and per class, attack success rate when a
trigger is known) and :class:`EditResult` ``(model, report)``; saving an edited network with its history."""

from __future__ import annotations

import math
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple, Sequence

import torch
from torch import nn

from metanet.io import json_safe
from metanet.verify import Report, verify

__all__ = ["EditReport", "EditResult", "finish", "save_edited"]


def _pts(a: float | None, b: float | None) -> str:
    if a is None or b is None or math.isnan(a) or math.isnan(b):
        return ""
    return f"{100 * (b - a):+.2f} pts"


def _goal_line(g: dict[str, Any]) -> str:
    """A backdoor repair's ``goal`` detail in words: reached or NOT reached, and by how much it was missed."""
    try:
        where = f"on {g['calibration_split']} (calibration, {g['trigger']} trigger)"
        asr = f"attack success rate {g['asr']:.4f} (goal <= {g['max_asr']:.4f}"
        asr += f", {g['asr_over_goal']:.4f} over)" if g["asr_over_goal"] > 0 else ")"
        drop = f"accuracy drop {g['accuracy_drop']:+.4f} (budget {g['max_drop']:.4f}"
        drop += f", {g['drop_over_budget']:.4f} over)" if g["drop_over_budget"] > 0 else ")"
        text = f"{'reached' if g['reached'] else 'NOT reached'} {where}: {asr}, {drop}"
        held_out = []  # the reported split: the goals were only held to on the calibration split
        if g.get("asr_over_goal_on_split") is not None:  # None: no known trigger, or no examples to stamp
            over = g["asr_over_goal_on_split"]
            held_out.append(f"attack success rate {g['asr_on_split']:.4f}"
                            + (f", {over:.4f} over the goal" if over > 0 else ", within the goal"))
        if g.get("drop_over_budget_on_split") is not None:  # a drop over the budget there was not said
            over = g["drop_over_budget_on_split"]
            held_out.append(f"accuracy drop {g['accuracy_drop_on_split']:+.4f}"
                            + (f", {over:.4f} over the budget" if over > 0 else ", within the budget"))
        if held_out:
            text += f"; on {g['split']}: " + "; ".join(held_out)
        return text
    except (KeyError, TypeError, ValueError):  # a hand-made report: shown as it is
        return str(g)


@dataclass
class EditReport:
    """Before/after measurements of one edit.

    Attributes:
        edit: the edit's name (``remove``, ``prune``, ``precision``, ``scale``, ``clamp``, ``repair-backdoor``).
        params: its arguments (JSON-able).
        before, after: :class:`~metanet.verify.Report` of the original and the edited network (same split).
        asr_before, asr_after: attack success rate with the known trigger (None without one).
        details: edit-specific findings (selected neurons, sparsity per region, per-region precision cost ...).
        source_meta: the metadata of the file the edit read its network from (a network given as its path, with
            ``edited_from``: that path), which :meth:`EditResult.save` keeps; None otherwise. Not part of
            :meth:`to_dict` or the history.
    """

    edit: str
    params: dict[str, Any]
    before: Report
    after: Report
    asr_before: float | None = None
    asr_after: float | None = None
    details: dict[str, Any] = field(default_factory=dict)
    source_meta: dict[str, Any] | None = field(default=None, repr=False, compare=False)

    @property
    def accuracy_change(self) -> float:
        """Accuracy after minus accuracy before the edit."""
        return self.after.accuracy - self.before.accuracy

    def to_dict(self) -> dict[str, Any]:
        """The report as a JSON-ready dict (``before`` / ``after`` as :meth:`~metanet.verify.Report.to_dict`)."""
        return {
            "edit": self.edit, "params": self.params, "before": self.before.to_dict(), "after": self.after.to_dict(),
            "asr_before": self.asr_before, "asr_after": self.asr_after, "details": self.details,
        }

    def history_entry(self) -> dict[str, Any]:
        """The compact record stored in the edited file's metadata (``edits`` list)."""
        return json_safe({
            "edit": self.edit, "params": self.params, "task": self.before.task, "split": self.before.split,
            "accuracy": [self.before.accuracy, self.after.accuracy],
            "per_class": [self.before.per_class, self.after.per_class],
            "asr": [self.asr_before, self.asr_after] if self.asr_before is not None else None,
            "details": self.details, "time": time.strftime("%Y-%m-%dT%H:%M:%S"),
        })

    def __str__(self) -> str:
        b, a = self.before, self.after
        args = ", ".join(f"{k}={v}" for k, v in self.params.items() if v is not None)
        lines = [f"edit: {self.edit}({args}) on {b.task}/{b.split} (n={b.n})",
                 f"  {'':<22}{'before':>9}{'after':>9}{'change':>13}",
                 f"  {'accuracy':<22}{b.accuracy:>9.4f}{a.accuracy:>9.4f}{_pts(b.accuracy, a.accuracy):>13}"]
        for c, (x, y) in enumerate(zip(b.per_class, a.per_class)):
            xs = "-" if math.isnan(x) else f"{x:.4f}"
            ys = "-" if math.isnan(y) else f"{y:.4f}"
            lines.append(f"  {'class ' + str(c):<22}{xs:>9}{ys:>9}{_pts(x, y):>13}")
        if self.asr_before is not None:
            lines.append(f"  {'attack success rate':<22}{self.asr_before:>9.4f}{self.asr_after:>9.4f}"
                         f"{_pts(self.asr_before, self.asr_after):>13}")
        for k, v in self.details.items():
            if isinstance(v, float):
                lines.append(f"  {k}: {v:.4g}")
            elif isinstance(v, (int, str, bool)) or v is None:
                lines.append(f"  {k}: {v}" + (f"  ({_DETAIL_NOTES[k]})" if k in _DETAIL_NOTES else ""))
            elif isinstance(v, list) and all(isinstance(x, (int, float, str)) for x in v):
                shown = ", ".join(map(str, v[:12])) + (f", ... ({len(v)} in all)" if len(v) > 12 else "")
                lines.append(f"  {k}: {shown or 'none'}")
            elif k == "goal" and isinstance(v, dict):  # a backdoor repair's goals: said plainly when missed
                lines.append(f"  {k}: {_goal_line(v)}")
            elif k in ("scaled", "output_bias_change") and isinstance(v, dict):  # a backdoor repair's overall
                # factor per neuron, and its change of the target's output bias
                items = [f"{n}={f:g}" for n, f in v.items()]
                shown = ", ".join(items[:12]) + (f", ... ({len(items)} in all)" if len(items) > 12 else "")
                lines.append(f"  {k}: {shown or 'none'}")
        return "\n".join(lines)


#: what the counters of a measured-necessity prune count (printed beside them: bare, they explained nothing)
_DETAIL_NOTES = {
    "evaluations": "accuracy measurements on the calibration split",
    "accepted_free": "connections zeroed at no accuracy cost beyond the tolerance",
    "measured_necessary": "connections whose removal cost accuracy, kept unless the target needed them",
    "forced": "connections zeroed anyway to reach the target, the least necessary by estimate",
    # a precision edit's memory, and its compression, are at the chosen formats: bare, they read as the size of the
    # file written, which keeps the network's dtype (the quantisation is simulated)
    "weight_bytes": "the weights stored at the chosen formats; the network and its file keep their dtype",
}


class EditResult(NamedTuple):
    """``(model, report)``: the edited network and what the edit changed."""

    model: nn.Module
    report: EditReport

    def save(self, path: str | os.PathLike, meta: dict[str, Any] | None = None) -> Path:
        """Write the edited network (atomically) with this edit appended to ``meta``'s ``edits`` history.

        ``meta`` defaults to the metadata of the file the edit read (a network given as its path: its task,
        its earlier ``edits`` and the rest, plus ``edited_from``, as ``metanet edit`` keeps them); otherwise to
        none. Pass ``meta={}`` to write the history alone."""
        # else a file edited by path lost its task and its edit history (the CLI kept them)
        return save_edited(self.model, path, [self.report], self.report.source_meta if meta is None else meta)


def finish(
    edit: str,
    params: dict[str, Any],
    original: nn.Module,
    edited: nn.Module,
    task,
    split: str,
    trigger: dict | None,
    details: dict[str, Any] | None = None,
    into: nn.Module | None = None,
) -> EditResult:
    """Verify ``original`` and ``edited`` side by side (one vectorised pass) and build the result. With ``into``
    (an edit ``inplace``), ``edited``'s weights are then copied into that module, which is returned in the
    train/eval mode it has: the caller's model changes only once the edit has succeeded."""
    from metanet.edit.trigger import attack_success_rate

    before, after = verify([original, edited], task, split)
    asr = attack_success_rate([original, edited], task, trigger, split) if trigger is not None else [None, None]
    report = EditReport(edit, params, before, after, asr[0], asr[1], details or {})
    if into is None:
        return EditResult(edited.eval(), report)
    # a module built inside torch.inference_mode() holds inference tensors, which only inference mode may write
    # into: an inplace edit of one was a raw 'Inplace update to inference tensor' error, even called in that mode
    # (metanet computes outside it)
    made_in_inference = any(t.is_inference() for t in into.state_dict().values())
    with torch.inference_mode() if made_in_inference else torch.no_grad():
        into.load_state_dict(edited.state_dict())
    return EditResult(into, report)


def save_edited(
    model: nn.Module, path: str | os.PathLike, reports: Sequence[EditReport], meta: dict[str, Any] | None = None
) -> Path:
    """:func:`metanet.io.save` (atomic) with ``meta`` plus ``edits``: its earlier history and these reports.

    ``meta``'s ``train_accuracy`` / ``val_accuracy`` / ``test_accuracy`` measured the network before the edits
    and are dropped; ``accuracy_after_edits`` and, when ``meta['task']`` is the task the last report measured,
    ``{split}_accuracy`` state the edited network's accuracy on that report's split. A network
    :func:`metanet.generate` wrote (``generated_by`` in ``meta``) is marked ``modified_after_generation``."""
    from metanet.errors import MetadataError
    from metanet.io import save

    # checked before anything is written: else a raw TypeError / AttributeError from dict(), list() or a report
    if meta is not None and not isinstance(meta, dict):
        raise MetadataError(f"meta must be a dict of JSON values (or None), got {type(meta).__name__}")
    odd = [k for k in meta or {} if not isinstance(k, str) or k in ("model", "path")]
    if odd:  # they become save()'s keyword arguments
        raise MetadataError(f"meta keys must be strings other than 'model' and 'path', got {odd[0]!r:.80}")
    try:
        items = list(reports)
    except TypeError:
        items = [reports]
    bad = [type(r).__name__ for r in items if not isinstance(r, EditReport)]
    if bad:
        raise MetadataError(f"reports must be a list of EditReport (an edit's result.report), got {bad[0]}")
    earlier = (meta or {}).get("edits")
    earlier = [] if earlier is None else earlier  # not `or []`: a tensor's truth value is a raw RuntimeError
    if not isinstance(earlier, (list, tuple)):
        raise MetadataError(f"meta['edits'] must be the list of earlier edits (load_meta(path)['edits']), got "
                            f"{type(earlier).__name__}")
    meta = dict(meta or {})
    meta["edits"] = list(earlier) + [r.history_entry() for r in items]
    if items:
        last = items[-1].after
        # the file's {split}_accuracy (metanet generate's, refine's) measured the network before these edits:
        # dropped, and the edited network's stated where the last report measured it on the file's task
        for s in ("train", "val", "test"):
            meta.pop(f"{s}_accuracy", None)
        if meta.get("task") == last.task:
            meta[f"{last.split}_accuracy"] = last.accuracy
        meta["accuracy_after_edits"] = last.accuracy
        if "generated_by" in meta:  # its recipe (candidate, seed, writer) rebuilds the network before these edits
            meta["modified_after_generation"] = True  # as Generated.save and metanet refine --out mark it
    return save(model, path, **meta)
