"""The reader's model and training side on awkward but legitimate inputs: lists mixing zoo and fresh graphs, MLPs
and CNNs; bad inputs as GraphError / ConfigError; validation metrics on tiny val sets; the cosine schedule without a
planned end; the scan head of a Lightning checkpoint."""

from __future__ import annotations

import warnings

import lightning as L
import pytest
import torch
from torch_geometric.data import Batch
from torch_geometric.loader import DataLoader

from metanet.errors import ConfigError, GraphError
from metanet.graph import to_graph
from metanet.nets import build
from metanet.reader import Reader
from metanet.reader.lightning import ReaderDataModule, ReaderModule, kendall_tau, metrics, predict_graphs, r2
from metanet.reader.model import batch_graphs


def _reader(**kw) -> Reader:
    torch.manual_seed(0)
    return Reader(tasks=["digits", "mnist"], hidden=8, layers=1, probes=2, **kw).eval()


def _fresh() -> list:
    """Graphs straight from to_graph: no targets, no w_stats cache, their own edge widths (MLP 1, CNN 9)."""
    return [to_graph(build("mlp:64-16-10:relu", seed=1)), to_graph(build("cnn:1-4-8-10:relu", seed=2))]


def test_a_list_mixing_zoo_and_fresh_graphs_reads_as_each_graph_alone(tiny_graphs):
    # Batch.from_data_list of a zoo graph then a fresh one raised KeyError: 'w_stats' (and an MLP next to a CNN a
    # size mismatch of edge_attr); the reader itself took no list ('list' object has no attribute 'x')
    zoo = tiny_graphs["val"][:2]
    graphs = zoo + _fresh()
    r = _reader(saliency=True)
    r.fit_normalisation(graphs)  # the statistics are batched: failed on the mix too
    assert bool(r.fitted)
    with torch.no_grad():
        out = r(graphs)
        for i, g in enumerate(graphs):
            alone = r(g)
            assert torch.allclose(out["accuracy"][i], alone["accuracy"][0], atol=1e-5)
            assert torch.allclose(out["embedding"][i], alone["embedding"][0], atol=1e-4)
    assert r.weight_stats(graphs).shape == (4, r.weight_stats(zoo[0]).shape[1])
    assert torch.allclose(r.weight_stats(graphs)[:2], r.weight_stats(zoo), atol=1e-6)  # cache = recomputed
    b = batch_graphs(graphs)
    assert b.num_graphs == 4 and b.edge_attr.shape[1] == 9 and "w_stats" not in b and "y_acc" not in b
    assert "w_stats" in zoo[0] and graphs[2].edge_attr.shape[1] == 1  # the caller's graphs are left as they were
    # graphs that agree are batched as PyG does (the training and bench path is unchanged)
    same = batch_graphs(zoo)
    assert torch.equal(same.w_stats, Batch.from_data_list(zoo).w_stats)


def test_fit_normalisation_takes_a_batch_like_a_list(tiny_graphs):
    gs = tiny_graphs["train"][:4]
    a, b = _reader(), _reader()
    a.fit_normalisation(gs)
    b.fit_normalisation(Batch.from_data_list(gs))  # a Batch iterates as (key, value) pairs: AttributeError
    for k in ("w_norm", "b_norm", "s_norm"):
        assert torch.allclose(getattr(a, k), getattr(b, k)), k


@pytest.mark.parametrize("bad, what", [(lambda: build("mlp:64-16-10:relu"), "to_graph"),
                                       (lambda: torch.zeros(3, 6), "Tensor"), (lambda: [], "at least one"),
                                       (lambda: [torch.zeros(3)], "Tensor")])
def test_what_is_not_a_graph_is_a_graph_error(bad, what):
    r = _reader()
    for call in (r, r.fit_normalisation, r.weight_stats, batch_graphs):
        with pytest.raises(GraphError, match=what):
            call(bad())


def test_a_graph_on_the_meta_device_is_a_graph_error():
    g = _fresh()[0].to("meta")  # NotImplementedError from torch.nonzero deep in forward
    with pytest.raises(GraphError, match="meta"):
        _reader()(g)


def test_a_task_list_given_as_a_string_is_a_config_error(tiny_zoo):
    # list("mnist"): a task head of five one-letter tasks, every network's y_task -1, silently
    from metanet.reader.data import zoo_graphs

    with pytest.raises(ConfigError, match=r"\['mnist'\]"):
        Reader(tasks="mnist")
    with pytest.raises(ConfigError, match="repeated"):
        Reader(tasks=["mnist", "digits", "mnist"])
    with pytest.raises(ConfigError, match=r"\['mnist'\]"):
        ReaderModule(tasks="mnist")
    with pytest.raises(ConfigError, match="tasks"):
        ReaderDataModule(zoos=[str(tiny_zoo)], tasks="mnist")
    with pytest.raises(ConfigError, match="exclude_archs"):
        ReaderDataModule(zoos=[str(tiny_zoo)], exclude_archs="mlp:64-16-10:relu")
    with pytest.raises(ConfigError, match="tasks"):
        zoo_graphs(tiny_zoo, "val", tasks="mnist", roles=False)


def test_undefined_metrics_are_nan_not_garbage():
    t = torch.tensor
    # constant targets: R^2 was 1 - ss / 1e-12, about -5e10
    assert r2(t([0.5, 0.6]), t([0.7, 0.7])) != r2(t([0.5, 0.6]), t([0.7, 0.7]))
    assert r2(t([0.5]), t([0.7])) != r2(t([0.5]), t([0.7]))
    assert r2(t([0.5, 0.7]), t([0.5, 0.7])) == 1.0
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # scipy's "input is constant" warning is not raised either
        assert kendall_tau(t([0.5, 0.5]), t([0.1, 0.2])) != kendall_tau(t([0.5, 0.5]), t([0.1, 0.2]))
        assert kendall_tau(t([0.5]), t([0.1])) != kendall_tau(t([0.5]), t([0.1]))
    assert kendall_tau(t([0.1, 0.2, 0.3]), t([0.1, 0.3, 0.2])) == pytest.approx(1 / 3)
    p = {"accuracy": t([0.5, 0.6]), "task": torch.zeros(2, 2), "backdoor": t([0.0, 1.0]), "log_lr": t([0.0, 0.0]),
         "log_epoch": t([0.0, 0.0]), "optimizer": torch.zeros(2, 3), "role": torch.zeros(1, 12)}
    y = {"y_acc": t([0.7, 0.7]), "y_task": t([0, 0]), "y_backdoor": t([0.0, 0.0]), "y_log_lr": t([0.0, 0.0]),
         "y_log_epoch": t([0.0, 0.0]), "y_opt": t([0, 0]), "y_role": t([-1])}
    m = metrics(p, y)
    assert m["mae"] == pytest.approx(0.15) and all(m[k] != m[k] for k in ("r2", "kendall_tau", "backdoor_auroc"))


def _trainer(**kw) -> L.Trainer:
    return L.Trainer(accelerator="cpu", logger=False, enable_progress_bar=False, enable_model_summary=False,
                     enable_checkpointing=False, **kw)


def test_a_val_set_of_one_network_logs_what_it_defines_and_warns_about_the_rest(tiny_graphs):
    # one network: nothing at all was logged at the end of validation (not even the MAE), without a word
    module = ReaderModule(tasks=["digits", "mnist"], hidden=8, layers=1, probes=2)
    module.reader.fit_normalisation(tiny_graphs["train"][:4])
    with pytest.warns(UserWarning, match="val/kendall_tau.*val/r2|val/r2.*val/kendall_tau"):
        _trainer().validate(module, DataLoader(tiny_graphs["val"][:1]), verbose=False)
    # the second validation does not warn again
    t = _trainer()
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        warnings.filterwarnings("ignore", message=".*(num_workers|does not have many workers|GPU|TPU).*")
        t.validate(module, DataLoader(tiny_graphs["val"][:1]), verbose=False)
    m = t.callback_metrics
    assert "val/mae" in m and "val/task_acc" in m and "val/loss" in m
    assert not any(k in m for k in ("val/kendall_tau", "val/r2", "val/backdoor_auroc"))
    assert all(torch.isfinite(v).all() for v in m.values())


def test_cosine_schedule_without_a_planned_end_is_a_config_error(tiny_graphs):
    # only max_time set: Lightning plans max_epochs=-1, estimated_stepping_batches is inf and int(inf) raised an
    # OverflowError
    module = ReaderModule(tasks=["digits", "mnist"], hidden=8, layers=1, probes=2, schedule="cosine")
    with pytest.raises(ConfigError, match="max_epochs or trainer.max_steps"):
        _trainer(max_time="00:00:00:30", limit_val_batches=0).fit(module, DataLoader(tiny_graphs["train"][:2]))


def test_graphs_without_targets_are_named_by_predict_graphs_and_fit_scan(tiny_graphs):
    from metanet.reader.scan import fit_scan

    r = _reader()
    with pytest.raises(GraphError, match="graph 1 has no reader targets"):
        predict_graphs(r, tiny_graphs["val"][:1] + _fresh()[:1])
    pred, tgt = predict_graphs(r, tiny_graphs["val"][:3])  # zoo graphs: as before
    assert len(pred["accuracy"]) == len(tgt["y_acc"]) == 3
    with pytest.raises(GraphError, match=r"labelled graphs.*\[0\]"):
        fit_scan(_reader(data_probes=8, scan_steps=2), _fresh()[:1] + tiny_graphs["val"][:2])


def test_a_reader_from_a_lightning_checkpoint_warns_its_scan_head_is_unfitted(tmp_path):
    # the scan head is fitted when the fit ends, after last.ckpt: Reader.load(last.ckpt) read without the scan,
    # silently
    module = ReaderModule(tasks=["digits", "mnist"], hidden=8, layers=1, probes=2, data_probes=8, scan_steps=3)
    path = tmp_path / "run dir" / "last.ckpt"
    path.parent.mkdir()
    torch.save({"hyper_parameters": dict(module.hparams), "state_dict": module.state_dict()}, path)
    with pytest.warns(UserWarning, match="trigger-scan head is not fitted"):
        r = Reader.load(path)
    assert r.scan_steps == 3 and not bool(r.scan_fitted)
    module.reader.scan_fitted.fill_(True)
    torch.save({"hyper_parameters": dict(module.hparams), "state_dict": module.state_dict()}, path)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert bool(Reader.load(path).scan_fitted)
