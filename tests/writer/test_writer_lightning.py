"""The writer's Lightning stage: fresh (or, as shipped, repeated) episodes every epoch, a resumed run equal to
an uninterrupted one; the episode data module's bases and seed checked, its validation episodes fixed; zoo teachers
(none is a clear error, their logits distilled towards)."""

from __future__ import annotations

import lightning as L
import pytest
import torch
from lightning.pytorch.callbacks import Callback, ModelCheckpoint

from metanet.errors import ConfigError, ZooError
from metanet.writer.lightning import EpisodeDataModule, WriterModule
from lightning_helpers import check_smoke_run_keeps_the_export


class _Seen(Callback):
    """Records a fingerprint of every training episode, per epoch."""

    def __init__(self) -> None:
        self.seen: dict[int, list[float]] = {}

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx) -> None:
        self.seen.setdefault(trainer.current_epoch, []).extend(float(ep.support[0].sum()) for ep in batch)


def _parts(fresh: bool = True):
    m = WriterModule(hidden=8, message=4)
    d = EpisodeDataModule(bases=("digits",), tasks_per_step=1, shots_min=5, shots_max=10, query=5, val_episodes=1,
                          steps_per_epoch=1, seed=0, fresh_episodes=fresh)
    return m, d


def _trainer(tmp, epochs, callbacks=(), val=False):
    # with validation, last.ckpt is saved when validation ends (as train/writer.yaml's monitor does), else at the
    # epoch's end
    monitor = {"monitor": "val/query_acc", "mode": "max"} if val else {}
    ck = ModelCheckpoint(dirpath=str(tmp), save_last=True, **monitor)
    return L.Trainer(max_epochs=epochs, accelerator="cpu", logger=False, enable_progress_bar=False,
                     enable_model_summary=False, num_sanity_val_steps=0, limit_val_batches=int(val),
                     callbacks=[ck, *callbacks], deterministic=True)


def test_every_epoch_draws_new_episodes(tmp_path):
    # train/writer.yaml does not reload the dataloaders: the episode stream itself must move on with the epoch
    L.seed_everything(0)
    m, d = _parts()
    seen = _Seen()
    _trainer(tmp_path, 3, [seen]).fit(m, d)
    assert len(seen.seen) == 3
    assert len({tuple(v) for v in seen.seen.values()}) == 3, seen.seen


def test_fresh_episodes_false_repeats_the_first_epochs_episodes(tmp_path):
    # the stream the shipped writer was trained on (train/writer.yaml): one set of episodes, every epoch
    L.seed_everything(0)
    m, d = _parts(fresh=False)
    seen = _Seen()
    _trainer(tmp_path, 3, [seen]).fit(m, d)
    assert len(seen.seen) == 3 and len({tuple(v) for v in seen.seen.values()}) == 1, seen.seen


@pytest.mark.parametrize("val", [False, True])
def test_resumed_fit_equals_an_uninterrupted_one(tmp_path, val):
    L.seed_everything(0)
    full, data = _parts()
    seen_full = _Seen()
    _trainer(tmp_path / "a", 3, [seen_full], val).fit(full, data)

    L.seed_everything(0)
    first, data = _parts()
    _trainer(tmp_path / "b", 1, (), val).fit(first, data)  # "killed" after its first epoch
    resumed, data = _parts()
    seen = _Seen()
    t = _trainer(tmp_path / "b", 3, [seen], val)
    t.fit(resumed, data, ckpt_path=str(tmp_path / "b" / "last.ckpt"))
    assert t.global_step == 3
    assert seen.seen == {e: v for e, v in seen_full.seen.items() if e >= 1}
    for (k, a), b in zip(full.writer.state_dict().items(), resumed.writer.state_dict().values()):
        assert torch.allclose(a, b, atol=1e-6), k


def test_episode_data_sizes_are_named_in_their_errors():
    # they reached EpisodeSampler as one product ("episode stream length ... got -100"; -1 x -1 passed, and the
    # DataLoader crashed on batch_size=-1)
    from metanet.errors import ConfigError

    for name in ("tasks_per_step", "steps_per_epoch", "val_episodes"):
        for bad in (0, -1, 2.5, True):
            with pytest.raises(ConfigError, match=f"writer data {name} must be a whole number >= 1, got {bad!r}"):
                EpisodeDataModule(bases=("digits",), **{name: bad}).setup("fit")
    with pytest.raises(ConfigError, match="tasks_per_step"):
        EpisodeDataModule(bases=("digits",), tasks_per_step=-1, steps_per_epoch=-1).setup("fit")


def test_writer_stage_options_are_checked_when_the_module_is_built():
    # AdamW refused lr/weight_decay only as fitting began (a traceback through Lightning), and a negative
    # distill_weight or a zero distill_temperature trained on silently
    from metanet.errors import ConfigError

    for name, bad in (("lr", -1.0), ("lr", 0.0), ("weight_decay", -1e-4), ("distill_weight", -0.5),
                      ("distill_temperature", 0.0), ("lr", float("nan")), ("lr", "fast")):
        with pytest.raises(ConfigError, match=f"need {name} "):
            WriterModule(**{name: bad})
    WriterModule(weight_decay=0.0, distill_weight=0.0)  # the bounds themselves are valid


def test_episode_bases_must_name_at_least_one_data_set():
    # [] failed in torch.randint as the first episode was drawn; a bare string was split into letters
    from metanet.errors import ConfigError

    for bad in ((), [], "digits", ["digits", 3]):
        with pytest.raises(ConfigError, match="episode bases must be a list of at least one data set name"):
            EpisodeDataModule(bases=bad).setup("fit")


def test_a_step_whose_episodes_are_all_degenerate_is_skipped(tmp_path, monkeypatch):
    # non-finite episode losses are dropped; when every one of a step's was, torch.stack([]) crashed the run
    m, d = _parts()
    real = m._episode_loss
    calls = []

    def first_nan(ep, teacher=None, seed=0):
        loss, accs = real(ep, teacher, seed)
        calls.append(1)
        return (loss * float("nan"), accs) if len(calls) == 1 else (loss, accs)

    monkeypatch.setattr(m, "_episode_loss", first_nan)
    t = L.Trainer(max_steps=2, accelerator="cpu", logger=False, enable_progress_bar=False, enable_checkpointing=False,
                  enable_model_summary=False, num_sanity_val_steps=0, limit_val_batches=0,
                  default_root_dir=str(tmp_path))
    t.fit(m, d)
    assert len(calls) == 2 and t.global_step == 2  # the first batch taught nothing, the run went on
    assert all(torch.isfinite(v).all() for v in m.writer.state_dict().values())


def test_fast_dev_run_does_not_overwrite_the_export(tmp_path):
    from metanet.writer import Writer

    def make(export):
        m, d = _parts()
        m.hparams.export = export
        return m, d

    assert Writer.load(check_smoke_run_keeps_the_export(tmp_path, make, "writer")).config()["hidden"] == 8


@pytest.mark.parametrize("bases", ["digits", None, ("digits", 3)])
def test_prepare_data_names_bad_bases(bases):
    # Lightning calls prepare_data before setup: "digits" was loaded letter by letter ("unknown data set 'd'"),
    # None was a raw TypeError
    with pytest.raises(ConfigError, match="episode bases must be a list of at least one data set name"):
        EpisodeDataModule(bases=bases).prepare_data()


def test_data_module_seed_must_be_an_integer():
    with pytest.raises(ConfigError, match="writer data seed"):
        EpisodeDataModule(bases=("digits",), seed=0.5).setup("fit")


def test_setup_twice_gives_the_same_fixed_val_episodes():
    d = EpisodeDataModule(bases=("digits",), val_episodes=2, tasks_per_step=1, steps_per_epoch=1)
    d.prepare_data()
    d.setup("fit")
    first = [e.name for e in d.val_dataloader().dataset]
    d.setup("validate")
    assert [e.name for e in d.val_dataloader().dataset] == first and len(first) == 2


def test_a_zoo_without_teachers_is_a_clear_error_before_training(monkeypatch, tiny_zoo):
    from metanet.zoo import Zoo

    monkeypatch.setattr(Zoo, "select", lambda self, **kw: [])
    m = WriterModule(hidden=8, message=4, zoo=str(tiny_zoo))
    with pytest.raises(ZooError, match="has no teachers"):  # was torch's "random_ expects 'from' < 'to'"
        m.setup("fit")
    with pytest.raises(ZooError, match="has no teachers"):
        m._teacher_episodes(1, 0)


def test_teacher_episodes_distil_towards_the_teacher(tiny_zoo):
    m = WriterModule(hidden=8, message=4, zoo=str(tiny_zoo))
    m.setup("fit")
    (ep, logits), = m._teacher_episodes(1, 0)
    assert logits.shape == (len(ep.query[1]), ep.arch.num_classes) and not logits.requires_grad
    with_t, _ = m._episode_loss(ep, logits)
    without, _ = m._episode_loss(ep)
    assert torch.isfinite(with_t) and with_t > without  # the KL term adds to the query loss
    m.hparams.distill_weight = 0.0
    assert torch.allclose(m._episode_loss(ep, logits)[0], without)
