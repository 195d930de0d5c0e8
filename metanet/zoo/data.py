"""Task data as the zoo trainer uses it: the splits of one task, optionally a fixed training subset, cached.

A small LRU cache keeps the last few tasks in memory, because the runs of one work unit share their tasks and
consecutive units usually do too (units are ordered by task within a group).
"""

from __future__ import annotations

import functools
import weakref
from dataclasses import dataclass

import torch
from torch import Tensor

from metanet.errors import ConfigError, RecipeError, TaskError
from metanet.zoo.recipe import _is_int

__all__ = ["TaskData", "task_info", "load_task_data"]


@dataclass
class TaskData:
    """The tensors of one task, as used to train and score the zoo's networks.

    Attributes:
        name: task name; input_shape, num_classes: as in ``metanet.tasks.Task``.
        x_train, y_train: the training examples (a seeded subset when ``train_examples`` was given).
        x_val, y_val, x_test, y_test: the task's val and test splits, whole.
        x_eval_train, y_eval_train: the first ``eval_train_examples`` training examples (``train_acc``).
    """

    name: str
    input_shape: tuple[int, ...]
    num_classes: int
    x_train: Tensor
    y_train: Tensor
    x_val: Tensor
    y_val: Tensor
    x_test: Tensor
    y_test: Tensor
    x_eval_train: Tensor
    y_eval_train: Tensor


def _get(name: str):
    from metanet import tasks

    try:
        return tasks.get(name)
    except TaskError as e:
        raise RecipeError(f"unknown task in recipe: {e}") from None


# Both caches are keyed by the loaded Task as well as the name: after metanet.tasks.clear_cache() (another
# $METANET_DATA) a name is a new Task on the new data, and a build recorded the new data (meta.data) but trained on
# the old tensors still cached under the bare name. By a weak reference: a key holding the Task kept its base data
# alive after clear_cache() (the whole forgotten data set) and up to 256 tasks past the registry's bound of 64; a
# dead reference equals no other, so a new Task at a reused address is no hit either.
@functools.lru_cache(maxsize=256)
def _task_info(ref: weakref.ref) -> tuple[tuple[int, ...], int, int]:
    task = ref()
    _, y = task.split("train")
    return tuple(int(s) for s in task.input_shape), int(task.num_classes), int(len(y))


def task_info(name: str) -> tuple[tuple[int, ...], int, int]:
    """``(input_shape, num_classes, number of training examples)`` of task ``name`` (cached per loaded task)."""
    task = _get(name)  # held here while the cache computes from its weak reference
    return _task_info(weakref.ref(task))


task_info.cache_clear = _task_info.cache_clear  # type: ignore[attr-defined]


def load_task_data(name: str, train_examples: int | None = None, eval_train_examples: int = 5000,
                   subset_seed: int = 0) -> TaskData:
    """Load task ``name`` for training.

    Args:
        name: task name.
        train_examples: keep only this many training examples, chosen by a permutation seeded with
            ``subset_seed`` and kept in their original order (None: all).
        eval_train_examples: size of the training subset ``train_acc`` is measured on.
        subset_seed: seed of that choice (the recipe seed).

    Returns:
        The :class:`TaskData` (contiguous float32 inputs, int64 labels).

    Raises:
        ConfigError: a count that is not an integer >= 0 (a negative one sliced from the end: -5 kept all but 5).
    """
    for key, v, valid in (("train_examples", train_examples, "None or integers >= 0"),
                          ("eval_train_examples", eval_train_examples, "integers >= 0")):
        if v is None and key == "train_examples":
            continue
        if not (_is_int(v) and v >= 0):
            raise ConfigError(f"load_task_data: {key} = {v!r:.40}; valid: {valid}")
    task = _get(name)  # held here while the cache computes from its weak reference (see _task_info)
    return _load_task_data(weakref.ref(task), name, train_examples, eval_train_examples, subset_seed)


@functools.lru_cache(maxsize=6)
def _load_task_data(ref: weakref.ref, name: str, train_examples: int | None, eval_train_examples: int,
                    subset_seed: int) -> TaskData:
    t = ref()
    x, y = t.split("train")
    if train_examples is not None and train_examples < len(y):
        g = torch.Generator().manual_seed(subset_seed)
        keep = torch.randperm(len(y), generator=g)[:train_examples].sort().values
        x, y = x[keep], y[keep]
    xv, yv = t.split("val")
    xt, yt = t.split("test")
    c = lambda a: a.contiguous()  # noqa: E731
    return TaskData(
        name=name, input_shape=tuple(int(s) for s in t.input_shape), num_classes=int(t.num_classes),
        x_train=c(x.float()), y_train=c(y.long()), x_val=c(xv.float()), y_val=c(yv.long()), x_test=c(xt.float()),
        y_test=c(yt.long()), x_eval_train=c(x[:eval_train_examples].float()), y_eval_train=c(y[:eval_train_examples].long()),
    )


load_task_data.cache_clear = _load_task_data.cache_clear  # type: ignore[attr-defined]
