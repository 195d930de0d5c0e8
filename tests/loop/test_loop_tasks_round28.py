"""Round 28: loop tasks without test or val examples are refused up front, with nothing written to disk."""

from __future__ import annotations

import pytest
import torch

from metanet.errors import TaskError
from metanet.loop import LoopTask, as_loop_tasks, evaluate, improve, split_examples

ARCH = "mlp:64-16-10:relu"


@pytest.fixture(scope="module")
def two_per_class(digits_pool):
    x, y = digits_pool
    idx = torch.cat([torch.nonzero(y == c).flatten()[:2] for c in range(10)])
    return x[idx], y[idx]


def test_an_empty_test_part_is_no_test_split(digits_pool):
    x, y = digits_pool
    lt = LoopTask("t", ARCH, 10, (x[:20], y[:20]), (x[20:40], y[20:40]), (x[:0], y[:0]))
    assert lt.test is None


def test_evaluate_on_a_task_without_test_examples_is_a_task_error(tiny_writer, two_per_class):
    # 2 examples per class: the Task made from them has an empty test split; evaluate reported NaN accuracies
    lt = as_loop_tasks(two_per_class)[0]
    assert lt.test is None
    with pytest.raises(TaskError, match="no test split"):
        evaluate(tiny_writer, lt, candidates=2, selection="crossfit", folds=2)


def test_improve_refuses_an_unscorable_task_before_writing_its_log_dir(tiny_writer, two_per_class, tmp_path):
    log_dir = tmp_path / "log dir"
    with pytest.raises(TaskError, match="val split is empty.*selection='crossfit'"):
        improve(tiny_writer, two_per_class, rounds=1, candidates=2, log_dir=log_dir)
    assert not log_dir.exists()


def test_improve_refuses_too_few_examples_for_its_folds_before_writing_its_log_dir(tiny_writer, digits_pool,
                                                                                     tmp_path):
    x, y = digits_pool
    lt = split_examples(x, y, ARCH, shots=1, val=1, test=5, name="few")
    log_dir = tmp_path / "log dir"
    with pytest.raises(TaskError, match="task few: cross-fitting with 25 folds needs at least 25"):
        improve(tiny_writer, lt, rounds=1, candidates=2, selection="crossfit", folds=25, log_dir=log_dir)
    assert not log_dir.exists()


def test_improve_refuses_an_unscorable_heldout_task_up_front(tiny_writer, loop_tasks, digits_pool, tmp_path):
    x, y = digits_pool
    held = split_examples(x, y, ARCH, shots=1, val=0, test=5, name="noval")
    log_dir = tmp_path / "log dir"
    with pytest.raises(TaskError, match="task noval: its val split is empty"):
        improve(tiny_writer, loop_tasks[0], heldout=held, rounds=1, candidates=2, log_dir=log_dir)
    assert not log_dir.exists()
