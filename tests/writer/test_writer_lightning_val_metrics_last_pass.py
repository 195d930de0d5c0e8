"""The writer's validation metrics are those of the network it finally writes: with ``steps > 1`` the last
refinement pass's query accuracy (``val/query_acc``, ``hp_metric``, ``val/query_acc_<base>``), not the first's."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from metanet.writer.lightning import WriterModule


def test_validation_logs_the_last_pass(monkeypatch):
    m = WriterModule(hidden=8, message=4, steps=2)
    logged: dict = {}
    monkeypatch.setattr(m, "log", lambda name, value, **kw: logged.__setitem__(name, float(value)))
    monkeypatch.setattr(m, "_figure", lambda *a, **k: None)
    m._val = [(SimpleNamespace(meta={"base": "digits"}), 1.0, [0.1, 0.6]),
              (SimpleNamespace(meta={"base": "mnist"}), 2.0, [0.3, 0.8]),
              (SimpleNamespace(meta={"base": "mnist"}), 3.0, [0.2, 0.4])]
    m.on_validation_epoch_end()
    assert logged == pytest.approx({"val/loss": 2.0, "val/query_acc": 0.6, "hp_metric": 0.6,
                                    "val/query_acc_digits": 0.6, "val/query_acc_mnist": 0.6})
