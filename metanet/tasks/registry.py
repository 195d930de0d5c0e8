"""Looking tasks up by name: :func:`get`, :func:`available`, :func:`info`, :func:`clear_cache`."""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any

from metanet.errors import TaskError

from .grammar import parse_spec
from .sources import BASE_NAMES, clear_base_cache, load_base
from .task import SPLITS, Task

__all__ = ["get", "available", "info", "clear_cache"]

# the tasks last asked for, least recently used first: a long-running process naming many tasks (a service verifying
# on "fashion-mnist[0-8]+permute(SEED)" for every SEED) kept each one's row indices, about 0.5 MB a task, forever;
# a task dropped here is rebuilt on its next get (cheap: the base data stay cached)
_TASKS: "OrderedDict[str, Task]" = OrderedDict()
_MAX_TASKS = 64
_LOCK = threading.Lock()


def get(name: str | Task) -> Task:
    """The task called ``name`` in the task grammar (e.g. ``"fashion-mnist[0-4]+permute(3)"``).

    Case and whitespace are ignored; ``Task.name`` is the canonical form. Tasks and their base data are
    cached per process (the last 64 tasks named; every base data set) until :func:`clear_cache`, or
    :func:`~metanet.tasks.download` of that data set, forgets them. A ``Task`` is returned unchanged. Raises
    TaskError for a bad name or missing data.
    """
    if isinstance(name, Task):
        return name
    spec = parse_spec(name)
    key = spec.canonical
    with _LOCK:
        task = _TASKS.pop(key, None)
        if task is None:
            task = Task(key, load_base(spec.base), spec.classes, spec.transforms, base=spec.base, registered=True)
        _TASKS[key] = task
        while len(_TASKS) > _MAX_TASKS:
            _TASKS.popitem(last=False)
    return task


def available() -> list[str]:
    """The base data set names: ``['mnist', 'fashion-mnist', 'digits', 'mnist1d']``."""
    return list(BASE_NAMES)


def info(names: str | list[str] | None = None) -> list[dict[str, Any]]:
    """One dict per task (default: the base data sets; one name alone is a list of one), for listings such as
    ``metanet tasks``.

    Keys: ``name``, ``input_shape``, ``num_classes``, ``train``, ``val``, ``test`` (split sizes), ``source``,
    ``description``. Loads the data (a few seconds the first time). In the default listing a base data set whose
    files are missing is a row with ``missing`` (why, and how to get it) and None sizes, so one absent data set does
    not hide the others; named tasks raise as :func:`get` does.
    """
    if isinstance(names, str):  # info("mnist") went through its letters: "bad task name 'm'"
        names = [names]
    rows = []
    for name in available() if names is None else names:
        try:
            task = get(name)
        except TaskError as e:
            if names is not None:
                raise
            rows.append({"name": name, "input_shape": None, "num_classes": None, **{s: None for s in SPLITS},
                         "source": None, "description": None, "missing": str(e)})
            continue
        sizes = task.sizes()
        rows.append(
            {
                "name": task.name,
                "input_shape": task.input_shape,
                "num_classes": task.num_classes,
                **{s: sizes[s] for s in SPLITS},
                "source": task.source,
                "description": task.description,
            }
        )
    return rows


def clear_cache() -> None:
    """Forget every cached task and base data set; the next :func:`get` reloads (and re-searches folders)."""
    with _LOCK:
        _TASKS.clear()
        clear_base_cache()


def forget_base(name: str) -> None:
    """Forget base data set ``name`` (canonical) and every cached task of it; the other data sets stay cached."""
    with _LOCK:
        for key in [k for k, t in _TASKS.items() if t.base == name]:
            del _TASKS[key]
        clear_base_cache(name)
