"""More Lightning Trainer options on the shipped configs, at toy size (see test_train_trainer_options.py): an
EarlyStopping (or ModelCheckpoint) on a metric the module never logs is one error line before any step,
``overfit_batches`` exports nothing, and the writer's seeds under ``accumulate_grad_batches``."""

from __future__ import annotations

import lightning as L
import pytest

from lightning_helpers import tiny_loop_fit, tiny_writer_fit
from metanet.train import cli_main
from metanet.writer.lightning import EpisodeDataModule, WriterModule

from test_train_trainer_options import _error_lines, _reader

_EARLY = "--trainer.callbacks+=lightning.pytorch.callbacks.EarlyStopping"


@pytest.mark.parametrize("which", ["writer", "loop"])
def test_early_stopping_on_a_metric_never_logged_is_one_error_line_up_front(tmp_path, capsys, which):
    # Lightning raised "Early stopping conditioned on metric `val/acc` which is not available" only when the first
    # epoch's validation ended: a traceback, after that epoch's training
    build, module = (tiny_writer_fit, "WriterModule") if which == "writer" else (tiny_loop_fit, "LoopModule")
    capsys.readouterr()
    assert cli_main(build(tmp_path, _EARLY, "--trainer.callbacks.monitor=val/acc", max_steps=2)) == 2
    err = _error_lines(capsys)
    assert len(err) == 1 and err[0].startswith(f"metanet: error: --trainer.callbacks: EarlyStopping monitors "
                                               f"'val/acc', which {module} never logs; its metrics: "), err
    assert not list(tmp_path.rglob("*.ckpt")) and not list(tmp_path.rglob("*.safetensors"))


def test_the_reader_checks_the_monitor_too(tmp_path, tiny_zoo, capsys):
    capsys.readouterr()
    assert cli_main(_reader(tmp_path, tiny_zoo, _EARLY, "--trainer.callbacks.monitor=val/kendal_tau")) == 2
    err = _error_lines(capsys)
    assert len(err) == 1 and "'val/kendal_tau', which ReaderModule never logs" in err[0] and "val/kendall_tau" in err[0]


def test_early_stopping_on_a_logged_metric_runs(tmp_path):
    assert cli_main(tiny_writer_fit(tmp_path, _EARLY, "--trainer.callbacks.monitor=val/query_acc",
                                    "--trainer.callbacks.mode=max")) == 0
    assert (tmp_path / "writer.safetensors").is_file()


def test_overfit_batches_exports_nothing(tmp_path):
    # a debugging run (the same batch or two every epoch) overwrote the config's export, e.g. runs/writer.safetensors
    (tmp_path / "writer.safetensors").write_bytes(b"an earlier run's export")
    with pytest.warns(UserWarning, match=r"overfit_batches=1: the trained WriterModule was not exported to "):
        assert cli_main(tiny_writer_fit(tmp_path, "--trainer.overfit_batches=1")) == 0
    assert (tmp_path / "writer.safetensors").read_bytes() == b"an earlier run's export"


def _seeds(tmp_path, monkeypatch, accumulate: int, max_steps: int) -> list[int]:
    """The seeds the writer's training batches drew (the teacher episodes' and, plus the episode's index, the
    writes'), in order."""
    seen: list[int] = []
    original = WriterModule._teacher_episodes

    def record(self, n, seed):
        seen.append(seed)
        return original(self, n, seed)

    monkeypatch.setattr(WriterModule, "_teacher_episodes", record)
    data = EpisodeDataModule(bases=("digits",), tasks_per_step=1, shots_max=10, val_episodes=1, steps_per_epoch=4)
    trainer = L.Trainer(accelerator="cpu", max_steps=max_steps, accumulate_grad_batches=accumulate, logger=False,
                        enable_checkpointing=False, enable_progress_bar=False, enable_model_summary=False,
                        limit_val_batches=0, default_root_dir=tmp_path)
    trainer.fit(WriterModule(hidden=8, message=4), data)
    return seen


def test_accumulated_batches_draw_seeds_of_their_own(tmp_path, monkeypatch):
    # every batch of one optimizer step had the step's seed (global_step * 1009): with a teacher zoo the K batches
    # trained on K copies of the same teacher episodes
    seeds = _seeds(tmp_path, monkeypatch, accumulate=2, max_steps=2)
    assert len(seeds) == 4 and len(set(seeds)) == 4, seeds


def test_without_accumulation_the_seeds_are_the_shipped_ones(tmp_path, monkeypatch):
    # the shipped writer's reproduction depends on these: global_step * 1009 + rank
    assert _seeds(tmp_path, monkeypatch, accumulate=1, max_steps=3) == [0, 1009, 2018]


def test_a_metric_of_the_learning_rate_monitor_may_be_monitored(tmp_path):
    # train/writer.yaml's LearningRateMonitor logs lr-AdamW, which Lightning's callbacks can monitor
    assert cli_main(tiny_writer_fit(tmp_path, _EARLY, "--trainer.callbacks.monitor=lr-AdamW",
                                    "--trainer.max_steps=1")) == 0


def _with_callbacks(module, *callbacks):
    from types import SimpleNamespace

    module._trainer = SimpleNamespace(callbacks=list(callbacks))
    return module


def test_a_checkpoint_may_monitor_step_or_epoch_and_a_users_subclass_its_own_metrics():
    from lightning.pytorch.callbacks import EarlyStopping, ModelCheckpoint

    from metanet.errors import ConfigError
    from metanet.train.stage import check_monitors

    # Lightning gives a ModelCheckpoint "step" and "epoch" (monitor: step keeps the latest checkpoint): was refused
    for name in ("step", "epoch"):
        check_monitors(_with_callbacks(WriterModule(), ModelCheckpoint(monitor=name)), WriterModule.LOGGED)
    with pytest.raises(ConfigError, match="EarlyStopping monitors 'step'"):  # EarlyStopping sees logged metrics only
        check_monitors(_with_callbacks(WriterModule(), EarlyStopping(monitor="step")), WriterModule.LOGGED)

    class Mine(WriterModule):  # a user's module logging a metric of its own: refused as "never logged"
        pass

    check_monitors(_with_callbacks(Mine(), EarlyStopping(monitor="val/my_metric")), WriterModule.LOGGED)
