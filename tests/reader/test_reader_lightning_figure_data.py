"""The reader's TensorBoard figures plot the right numbers on the right axes: the accuracy scatter has the true
accuracy on x and the predicted one on y, the task confusion matrix counts true tasks in rows and predicted tasks in
columns, and networks without a task label (-1) are left out. Only the tags were checked before."""
from types import SimpleNamespace

import numpy as np
import torch

import metanet.train.stage as stage
from metanet.reader.lightning import ReaderModule


class _Experiment:
    def __init__(self) -> None:
        self.figures: dict = {}

    def add_figure(self, tag, fig, global_step=None) -> None:
        self.figures[tag] = (fig, global_step)


def _draw(monkeypatch) -> _Experiment:
    exp = _Experiment()
    monkeypatch.setattr(stage, "summary_writers", lambda module: [exp])
    monkeypatch.setattr(stage, "figure_step", lambda module: 7)
    module = SimpleNamespace(reader=SimpleNamespace(tasks=["digits", "mnist", "fashion"]))
    tgt = {"y_acc": torch.tensor([0.1, 0.5, 0.9, 0.3]), "y_task": torch.tensor([0, 0, 2, -1])}
    # predicted tasks: 1, 1, 2 for the labelled networks; the unlabelled one (-1) predicts 0 and must not count
    logits = torch.tensor([[0.0, 5.0, 0.0], [0.0, 3.0, 1.0], [0.0, 0.0, 2.0], [9.0, 0.0, 0.0]])
    pred = {"accuracy": torch.tensor([0.2, 0.4, 0.8, 0.6]), "task": logits}
    ReaderModule._figures(module, pred, tgt, "val")
    return exp


def test_accuracy_scatter_has_true_on_x_and_predicted_on_y(monkeypatch):
    exp = _draw(monkeypatch)
    fig, step = exp.figures["val/accuracy_scatter"]
    assert step == 7
    ax = fig.axes[0]
    assert ax.get_xlabel() == "true test accuracy" and ax.get_ylabel() == "predicted"
    points = np.asarray(ax.collections[0].get_offsets())
    np.testing.assert_allclose(points, [[0.1, 0.2], [0.5, 0.4], [0.9, 0.8], [0.3, 0.6]], rtol=1e-6)


def test_task_confusion_counts_true_rows_and_predicted_columns(monkeypatch):
    exp = _draw(monkeypatch)
    fig, step = exp.figures["val/task_confusion"]
    assert step == 7
    ax = fig.axes[0]
    assert ax.get_xlabel() == "predicted task" and ax.get_ylabel() == "true task"
    cm = np.asarray(ax.images[0].get_array())
    # two digits networks read as mnist, one fashion network read right; the unlabelled one is not counted
    np.testing.assert_array_equal(cm, [[0, 2, 0], [0, 0, 0], [0, 0, 1]])
    assert [t.get_text() for t in ax.get_xticklabels()] == ["digits", "mnist", "fashion"]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["digits", "mnist", "fashion"]
