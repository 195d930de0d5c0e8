"""The reader's Lightning stage: a resumed fit computes what an uninterrupted one does; a ``fast_dev_run`` smoke
test leaves an earlier run's export alone."""

from __future__ import annotations

import lightning as L
import pytest
import torch
from lightning.pytorch.callbacks import Callback, ModelCheckpoint

from metanet.reader.lightning import ReaderDataModule, ReaderModule
from lightning_helpers import check_smoke_run_keeps_the_export


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
