"""`generate`: a working network for a task, every weight written by the writer, verified before it is returned."""

from __future__ import annotations

import math
import numbers
import os
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

from metanet import tasks
from metanet.errors import CheckpointError, TaskError
from metanet.nets import Arch, build
from metanet.verify import Report, verify, verify_stacked

__all__ = ["generate", "Generated", "support_set"]


def support_set(task, per_class: int | None, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """The task's training split, or a seeded stratified subsample of at most ``per_class`` examples per class."""
    x, y = task.split("train")
    if per_class is None:
        return x, y
    g = torch.Generator().manual_seed(seed % 2**64)  # as torch does for negative seeds: any integer works
    keep = []
    for c in range(task.num_classes):
        idx = torch.nonzero(y == c).flatten()
        keep.append(idx[torch.randperm(len(idx), generator=g)[:per_class]])
    idx = torch.cat(keep).sort().values
    return x[idx], y[idx]


@dataclass
class GenerationReport:
    """What :func:`generate` did: each candidate's validation score, which one won, and its test score."""

    task: str
    arch: str
    support: int
    candidates: list[dict[str, float]]
    chosen: int
    test: Report | None
    seconds: float
    seconds_write: float
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def __str__(self) -> str:
        lines = [f"task {self.task}  arch {self.arch}  support {self.support} examples"]
        # generate(verify=False) scores nothing (NaN val scores): say so instead of printing NaNs and "verification"
        verified = any(not math.isnan(c["val_accuracy"]) for c in self.candidates)
        for i, c in enumerate(self.candidates):
            mark = " <- chosen" if i == self.chosen else ""
            score = f"val accuracy {c['val_accuracy']:.4f}  loss {c['val_loss']:.4f}" if verified else "not verified"
            lines.append(f"  candidate {i}: {score}{mark}")
        if self.test is not None:
            lines.append(f"test accuracy {self.test.accuracy:.4f} (n={self.test.n})")
        if verified:
            lines.append(f"written in {self.seconds_write:.2f} s, {self.seconds:.2f} s with verification, "
                         "0 gradient steps")
        else:
            lines.append(f"written in {self.seconds_write:.2f} s, not verified (verify=False: candidate 0 returned), "
                         "0 gradient steps")
        return "\n".join(lines)


@dataclass
class Generated:
    """A generated network: ``model`` (a plain ``nn.Module``), ``report``, and all ``candidates``."""

    model: nn.Module
    report: GenerationReport
    candidates: list[nn.Module]

    def save(self, path: str | Path) -> Path:
        from metanet.io import save

        r = self.report
        return save(
            self.model, path, task=r.task, generated_by="metanet.writer", zero_gradient_steps=True,
            val_accuracy=r.candidates[r.chosen]["val_accuracy"],
            test_accuracy=None if r.test is None else r.test.accuracy,
        )


def generate(
    spec: Any,
    arch: Arch | str | None = None,
    candidates: int = 8,
    verify: bool = True,
    seed: int = 0,
    writer=None,
    shots: int | None = 1000,
) -> Generated:
    """Write a network for ``spec`` with the writer, verify ``candidates`` of them at once, return the best.

    Args:
        spec: a task name (``"mnist"``, ``"fashion-mnist[7,9]"``), free text (``"a network that can read mnist"``),
            a :class:`~metanet.tasks.Task` or labelled examples ``(x, y)`` (:func:`metanet.tasks.resolve`).
        arch: architecture to write (default: a one-hidden-layer MLP of width 64 for the task's input).
        candidates: K weight sets written in one batched pass (different noise).
        verify: score every candidate on the task's validation split and keep the best (else candidate 0).
        seed: the same seed gives the same network.
        writer: a :class:`~metanet.writer.Writer` (default: the checkpoint shipped inside the package).
        shots: support examples per class taken from the training split (None: all of it).

    Returns:
        :class:`Generated` with ``.model``, ``.report`` and ``.candidates``.
    """
    t0 = time.perf_counter()
    task = tasks.resolve(spec)
    if isinstance(candidates, bool) or not isinstance(candidates, int) or candidates < 1:
        raise TaskError(f"candidates must be an integer >= 1, got {candidates!r}")
    if shots is not None and (isinstance(shots, bool) or not isinstance(shots, int) or shots < 1):
        raise TaskError(f"shots must be None (the whole training split) or an integer >= 1, got {shots!r}")
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral):
        raise TaskError(f"seed must be an integer, got {seed!r}")
    seed = int(seed)
    arch = Arch.default_for(task.input_shape, task.num_classes) if arch is None else Arch.coerce(arch)
    if verify and len(task.split("val")[1]) == 0:
        raise TaskError(
            f"task {task.name!r} has no validation examples to choose among the candidates; give at least 3 "
            "examples of a class to tasks.from_examples (smaller classes go wholly to train), or pass verify=False"
        )
    writer = _writer(writer)
    x, y = support_set(task, shots, seed)
    with torch.no_grad():
        params = writer.write(arch, x, y, task.num_classes, candidates=candidates, seed=seed)
    t_write = time.perf_counter() - t0
    module = build(arch, seed=None)
    if verify:
        reports = verify_stacked(module, params, task, split="val")
        scores = [(r.accuracy, -r.loss if math.isfinite(r.loss) else -math.inf) for r in reports]
        chosen = max(range(candidates), key=lambda i: scores[i])
        cand = [{"val_accuracy": r.accuracy, "val_loss": r.loss} for r in reports]
    else:
        chosen, cand = 0, [{"val_accuracy": math.nan, "val_loss": math.nan} for _ in range(candidates)]
    nets = []
    for i in range(candidates):
        net = build(arch, seed=None)
        net.load_state_dict({k: v[i].clone() for k, v in params.items()})
        nets.append(net.eval())
    # a task from a handful of examples may have no test split: then there is no test score to report
    test = _verify_one(nets[chosen], task) if verify and len(task.split("test")[1]) else None
    report = GenerationReport(
        task=task.name, arch=str(arch), support=len(y), candidates=cand, chosen=chosen, test=test,
        seconds=time.perf_counter() - t0, seconds_write=t_write,
    )
    return Generated(nets[chosen], report, nets)


def _writer(writer):
    """The writer to use: a :class:`Writer`, the path of a writer checkpoint, or None (the shipped one)."""
    from metanet.writer.model import Writer

    if writer is None or isinstance(writer, (str, os.PathLike)):  # a path, as `metanet generate --writer` takes
        return Writer.load(writer)
    if not isinstance(writer, Writer):  # anything else was an AttributeError ('... has no attribute write')
        raise CheckpointError(f"writer must be a Writer, the path of a writer checkpoint or None (the shipped one); "
                              f"got {type(writer).__name__}")
    return writer


def _verify_one(model: nn.Module, task) -> Report:
    # inside generate() the name `verify` is its boolean argument, so the function is called from here
    return verify(model, task, split="test")
