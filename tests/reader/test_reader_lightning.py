"""The reader's Lightning stage (`metanet.reader.lightning`): a resumed fit computes what an uninterrupted one does;
a ``fast_dev_run`` smoke test leaves an earlier run's export alone and does not fit the trigger-scan head; when the fit
ends, a scan head that cannot be fitted never costs the export and is warned about. The data module loads only the
splits a stage needs; validating without a checkpoint says so. Validation metrics are NaN where undefined, and a val
set of one network logs what it defines; the cosine schedule without a planned end is a ConfigError; predict_graphs
names graphs without targets."""

from __future__ import annotations

import warnings

import lightning as L
import pytest
import torch
from lightning.pytorch.callbacks import Callback, ModelCheckpoint
from torch_geometric.loader import DataLoader

from metanet.errors import ConfigError, GraphError
from metanet.reader import Reader
from metanet.reader.lightning import ReaderDataModule, ReaderModule, kendall_tau, metrics, predict_graphs, r2
from lightning_helpers import check_smoke_run_keeps_the_export
from reader_helpers import fresh_graphs, tiny_reader


@pytest.fixture(scope="module")
def tiny_data(tiny_zoo):
    """Loaded once: the data module keeps its graphs in memory, and setup() after the first is a no-op."""
    dm = ReaderDataModule(zoos=[str(tiny_zoo)], batch_size=8, max_nets=24, role_examples=64)
    dm.setup("fit")
    return dm


def _module(schedule: str = "constant", **kw) -> ReaderModule:
    return ReaderModule(tasks=["digits", "mnist"], hidden=8, layers=1, probes=4, schedule=schedule, **kw)


class _Seen(Callback):
    """The networks of every training batch, per epoch; ``stop_after`` ends the fit after that epoch (a run killed
    between epochs: the trainer, and so the lr schedule's planned length, is the uninterrupted run's)."""

    def __init__(self, stop_after: int | None = None) -> None:
        self.seen: dict[int, list[list[int]]] = {}
        self.stop_after = stop_after

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx) -> None:
        self.seen.setdefault(trainer.current_epoch, []).append(batch.zoo_id.tolist())

    def on_train_epoch_end(self, trainer, pl_module) -> None:
        if trainer.current_epoch == self.stop_after:
            trainer.should_stop = True


def _trainer(tmp, epochs: int, seen: _Seen, val: bool) -> L.Trainer:
    # with validation as train/reader.yaml has it (twice an epoch, last.ckpt saved when it ends), else at epoch end
    monitor = {"monitor": "val/loss", "mode": "min"} if val else {}
    ck = ModelCheckpoint(dirpath=str(tmp), save_last=True, **monitor)
    return L.Trainer(max_epochs=epochs, accelerator="cpu", logger=False, enable_progress_bar=False,
                     enable_model_summary=False, limit_val_batches=1.0 if val else 0,
                     val_check_interval=0.5 if val else None, gradient_clip_val=1.0, callbacks=[ck, seen])


@pytest.mark.parametrize("schedule, killed, val", [("constant", False, False), ("cosine", True, False),
                                                    ("cosine", True, True)])
def test_resumed_fit_equals_an_uninterrupted_one(tmp_path, tiny_data, schedule, killed, val):
    # the train loader shuffles with torch's global RNG, which Lightning does not restore: the resumed epoch 1 saw
    # the networks in another order and every weight came out different.
    # killed: a 2-epoch run stopped after epoch 0 (a cosine schedule is planned over the trainer's max_epochs, so
    # a fit to max_epochs=1 is another run; with a constant lr it is the same run cut short)
    L.seed_everything(0)
    full = _module(schedule)
    seen_full = _Seen()
    _trainer(tmp_path / "a", 2, seen_full, val).fit(full, tiny_data)

    L.seed_everything(0)
    first = _module(schedule)
    _trainer(tmp_path / "b", 2 if killed else 1, _Seen(stop_after=0), val).fit(first, tiny_data)
    L.seed_everything(0)
    resumed = _module(schedule)
    seen = _Seen()
    t = _trainer(tmp_path / "b", 2, seen, val)
    t.fit(resumed, tiny_data, ckpt_path=str(tmp_path / "b" / "last.ckpt"))
    assert t.global_step == 2 * len(seen_full.seen[0])
    assert seen.seen == {1: seen_full.seen[1]}
    assert seen_full.seen[1] != seen_full.seen[0]  # epochs are shuffled (so the check above means something)
    a, b = full.reader.state_dict(), resumed.reader.state_dict()
    assert a.keys() == b.keys()
    for k in a:
        assert torch.equal(a[k], b[k]), k


def test_a_checkpoint_only_validated_does_not_set_a_later_fits_shuffling(tmp_path, tiny_data):
    # the saved RNG state is put back only by a fit resumed from the checkpoint: validating one with the same data
    # module leaves a later fresh fit shuffling as it would have
    L.seed_everything(0)
    _trainer(tmp_path, 1, _Seen(), False).fit(_module(), tiny_data)
    L.seed_everything(1)
    plain = _Seen()
    _trainer(tmp_path / "plain", 1, plain, False).fit(_module(), tiny_data)
    L.Trainer(accelerator="cpu", logger=False, enable_progress_bar=False, enable_model_summary=False,
              enable_checkpointing=False, default_root_dir=str(tmp_path)).validate(
        _module(), tiny_data, ckpt_path=str(tmp_path / "last.ckpt"))
    L.seed_everything(1)
    after = _Seen()
    _trainer(tmp_path / "after", 1, after, False).fit(_module(), tiny_data)
    assert after.seen == plain.seen


def test_fast_dev_run_does_not_overwrite_the_export(tmp_path, tiny_data):
    from metanet.reader import Reader

    fitted = check_smoke_run_keeps_the_export(tmp_path, lambda export: (_module(export=export), tiny_data), "reader")
    assert Reader.load(fitted).tasks == ["digits", "mnist"]


def test_an_excluded_architecture_the_zoos_do_not_have_is_named(tiny_zoo):
    # a typo held out nothing, silently: the heldout split was empty, and training kept every architecture
    import json

    from metanet.errors import ConfigError
    from metanet.nets import Arch

    data = ReaderDataModule(zoos=[str(tiny_zoo)], exclude_archs=["mlp:64-16-10:relu", "mlp:64-99-10:relu"], max_nets=8)
    with pytest.raises(ConfigError, match=r"exclude_archs: no network of the zoos has architecture 'mlp:64-99-10:relu'"
                                          r"; their architectures: mlp:64-16-10:relu, "):
        data.setup("fit")
    data = ReaderDataModule(zoos=[str(tiny_zoo)], exclude_archs=["mlp:64-16-10:relu"], max_nets=8)
    data.setup("fit")
    kept = {str(Arch.coerce(json.loads(g.arch))) for g in data.train_graphs}  # a graph's arch is its JSON spec
    assert "mlp:64-32-10:relu" in kept and "mlp:64-16-10:relu" not in kept


def test_under_ddp_every_process_evaluates_every_val_and_test_network(tiny_data):
    # Lightning gave each DDP process its share of the val networks, and each computed Kendall tau, R^2 and AUROC
    # (not means over batches) on its half: the logged val/kendall_tau, which ModelCheckpoint monitors, was half's.
    # The decision is Lightning's (_requires_distributed_sampler); the train split is still sharded.
    trainer = L.Trainer(accelerator="cpu", devices=2, strategy="ddp", logger=False, enable_progress_bar=False)
    connector = trainer._data_connector
    for loader in (tiny_data.val_dataloader(), tiny_data.test_dataloader()):
        assert not connector._requires_distributed_sampler(loader)
        assert [int(i) for i in loader.sampler] == list(range(len(loader.dataset)))  # all of them, in order
    assert connector._requires_distributed_sampler(tiny_data.train_dataloader())


def _quiet_trainer(**kw) -> L.Trainer:
    return L.Trainer(accelerator="cpu", logger=False, enable_progress_bar=False, enable_model_summary=False,
                     enable_checkpointing=False, **kw)


def _data(tiny_zoo, backdoored: int) -> ReaderDataModule:
    """The tiny zoo (no backdoors) with ``backdoored`` of its val networks labelled as backdoored (past epoch 0)."""
    dm = ReaderDataModule(zoos=[str(tiny_zoo)], batch_size=8, max_nets=32, role_examples=32)
    dm.setup("fit")
    (val,) = dm.val_zoos.values()
    assert len(val) == 4
    for g in val[:backdoored]:
        g.y_backdoor = torch.ones_like(g.y_backdoor)
        g.y_log_epoch = torch.ones_like(g.y_log_epoch)
    return dm


def _fit(dm, export, **trainer) -> ReaderModule:
    module = ReaderModule(tasks=["digits", "mnist"], hidden=8, layers=1, probes=2, data_probes=8, scan_steps=2,
                          export=str(export))
    opts = {"max_steps": 1, "limit_val_batches": 0, "num_sanity_val_steps": 0, **trainer}
    _quiet_trainer(**opts).fit(module, dm)
    return module


@pytest.mark.parametrize("backdoored, why", [
    (1, r"on 4 val networks: fit_scan needs at least two networks of each label; got 4 with 1 backdoored"),
    (0, r"no val network of the zoos is backdoored"),
])
def test_a_scan_head_that_cannot_be_fitted_warns_and_the_fit_still_exports(tiny_zoo, tmp_path, backdoored, why):
    # one backdoored val network: fit_scan's GraphError ended the whole fit as it finished (after every epoch), and
    # nothing was exported (`metanet train fit` exited 2); none: the export's scan head was unfitted without a word
    export = tmp_path / "out dir" / "reader.safetensors"
    export.parent.mkdir()
    with pytest.warns(UserWarning, match=rf"scan_steps=2 but the reader's trigger-scan head was not fitted \({why}\)"
                                         r".*add a zoo with backdoored networks to data.zoos"):
        _fit(_data(tiny_zoo, backdoored), export)
    r = Reader.load(export)
    assert r.scan_steps == 2 and not bool(r.scan_fitted)


def test_a_scan_head_with_both_labels_is_fitted_without_a_warning(tiny_zoo, tmp_path):
    export = tmp_path / "reader.safetensors"
    with warnings.catch_warnings():
        warnings.filterwarnings("error", message=".*trigger-scan head")
        _fit(_data(tiny_zoo, 2), export)
    assert bool(Reader.load(export).scan_fitted)


def test_fast_dev_run_does_not_fit_the_scan_head(tiny_zoo, tmp_path, monkeypatch):
    # it runs Neural Cleanse on every val network of the backdoor zoos (minutes with train/reader.yaml's), for an
    # export the smoke test does not write
    import metanet.reader.scan as scan

    calls = []
    monkeypatch.setattr(scan, "fit_scan", lambda *a, **k: calls.append(a) or {})
    dm = _data(tiny_zoo, 2)
    with pytest.warns(UserWarning, match="fast_dev_run: the trained ReaderModule was not exported"):
        _fit(dm, tmp_path / "smoke.safetensors", max_steps=-1, limit_val_batches=None, fast_dev_run=True)
    assert calls == [] and not (tmp_path / "smoke.safetensors").exists()
    _fit(dm, tmp_path / "real.safetensors")
    assert len(calls) == 1  # a real fit does fit it


def _dm(tiny_zoo) -> ReaderDataModule:
    return ReaderDataModule(zoos=[str(tiny_zoo)], batch_size=8, max_nets=16, role_examples=16)


def test_setup_loads_only_the_splits_of_its_stage(tiny_zoo):
    # setup("validate") built the whole train split (every zoo's training networks and their roles) and the test
    # split too, only to evaluate the val split
    dm = _dm(tiny_zoo)
    dm.setup("validate")
    assert dm.train_graphs is None and dm.test_graphs is None and len(dm.val_graphs) > 0
    assert list(dm.val_zoos) == [str(tiny_zoo)]
    val = dm.val_graphs
    dm.setup("test")
    assert dm.train_graphs is None and len(dm.test_graphs) > 0 and dm.val_graphs is val
    dm.setup("fit")  # then fit: the train split too, the others kept as they are
    assert len(dm.train_graphs) > 0 and dm.val_graphs is val
    whole = _dm(tiny_zoo)
    whole.setup("fit")  # the same networks as a fit's setup alone loads
    for a, b in ((dm.train_graphs, whole.train_graphs), (dm.val_graphs, whole.val_graphs),
                 (dm.test_graphs, whole.test_graphs)):
        assert [int(g.zoo_id) for g in a] == [int(g.zoo_id) for g in b]


def _eval_trainer() -> L.Trainer:
    return _quiet_trainer(limit_val_batches=1, limit_test_batches=1)


def test_validating_an_untrained_reader_warns_to_pass_a_checkpoint(tiny_zoo):
    # `metanet train validate -c train/reader.yaml` without --ckpt_path evaluated random weights, without a word
    module = ReaderModule(tasks=["digits", "fashion-mnist", "mnist"], hidden=8, layers=1, probes=2, data_probes=8)
    dm = _dm(tiny_zoo)
    with pytest.warns(UserWarning, match=r"metanet train validate: no checkpoint was given, so an untrained reader "
                                         r"is evaluated .*data probes empty\); pass one with --ckpt_path PATH"):
        _eval_trainer().validate(module, dm, verbose=False)
    with pytest.warns(UserWarning, match=r"metanet train test: no checkpoint was given.*--ckpt_path PATH"):
        _eval_trainer().test(module, dm, verbose=False)
    module.reader.fitted.fill_(True)  # as after loading a checkpoint of a fit: no warning
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        _eval_trainer().validate(module, dm, verbose=False)
    assert not [w for w in rec if "no checkpoint was given" in str(w.message)]


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


def test_a_val_set_of_one_network_logs_what_it_defines_and_warns_about_the_rest(tiny_graphs):
    # one network: nothing at all was logged at the end of validation (not even the MAE), without a word
    module = ReaderModule(tasks=["digits", "mnist"], hidden=8, layers=1, probes=2)
    module.reader.fit_normalisation(tiny_graphs["train"][:4])
    with pytest.warns(UserWarning, match="val/kendall_tau.*val/r2|val/r2.*val/kendall_tau"):
        _quiet_trainer().validate(module, DataLoader(tiny_graphs["val"][:1]), verbose=False)
    # the second validation does not warn again
    t = _quiet_trainer()
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
        _quiet_trainer(max_time="00:00:00:30", limit_val_batches=0).fit(module, DataLoader(tiny_graphs["train"][:2]))


def test_graphs_without_targets_are_named_by_predict_graphs_and_fit_scan(tiny_graphs):
    from metanet.reader.scan import fit_scan

    r = tiny_reader()
    with pytest.raises(GraphError, match="graph 1 has no reader targets"):
        predict_graphs(r, tiny_graphs["val"][:1] + fresh_graphs()[:1])
    pred, tgt = predict_graphs(r, tiny_graphs["val"][:3])  # zoo graphs: as before
    assert len(pred["accuracy"]) == len(tgt["y_acc"]) == 3
    with pytest.raises(GraphError, match=r"labelled graphs.*\[0\]"):
        fit_scan(tiny_reader(data_probes=8, scan_steps=2), fresh_graphs()[:1] + tiny_graphs["val"][:2])
