"""Checks shared by the reader, writer and loop Lightning stages' tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

import lightning as L
import pytest
from lightning.pytorch.callbacks import Callback

ROOT = Path(__file__).resolve().parents[1]


class Killed(Exception):
    """Raised by :class:`SeenSteps` where a fit is killed."""


class SeenSteps(Callback):
    """Records each training step's networks (``seen[step]``: the batch's zoo ids); raises :class:`Killed` as step
    ``kill`` starts (Lightning has counted its batch ready: the process killed there)."""

    def __init__(self, kill: int | None) -> None:
        self.seen: dict[int, list[int]] = {}
        self.kill = kill

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx) -> None:
        if trainer.global_step == self.kill:
            raise Killed
        self.seen[trainer.global_step] = batch.zoo_id.tolist()


def tiny_writer_fit(tmp: Path, *extra: str, max_steps: int = 2, logger: bool | None = True,
                    limit_val_batches: int | None = 1, quiet: bool = True, configs: Sequence[Path] = (),
                    model: Mapping[str, object] | None = None) -> list[str]:
    """The arguments of ``metanet train fit -c train/writer.yaml`` at toy size (one digits task a step, one val
    episode, one epoch of ``max_steps`` steps), exporting to ``tmp/writer.safetensors``.

    Args:
        extra: more arguments, given last (so they override the ones here).
        logger: ``True`` keeps the config's TensorBoardLogger, writing under ``tmp/runs``; ``False`` turns it off;
            ``None`` gives no logger option (the caller's ``extra`` does).
        limit_val_batches: ``None`` leaves the config's (for tests of the ``limit_*`` options themselves).
        quiet: ``False`` leaves the config's progress bar and model summary (``--trainer.barebones`` turns those
            off and refuses them given too).
        configs: more ``-c`` files, after ``train/writer.yaml``.
        model: more ``--model.init_args`` options; they replace ``hidden=8`` / ``message=4`` where they name them.
    """
    args = ["fit", "-c", str(ROOT / "train" / "writer.yaml")]
    for c in configs:
        args += ["-c", str(c)]
    args.append(f"--trainer.max_steps={max_steps}")
    if limit_val_batches is not None:
        args.append(f"--trainer.limit_val_batches={limit_val_batches}")
    if logger is False:
        args.append("--trainer.logger=false")
    if quiet:
        args += ["--trainer.enable_progress_bar=false", "--trainer.enable_model_summary=false"]
    args.append(f"--trainer.default_root_dir={tmp}")
    if logger:
        args.append(f"--trainer.logger.init_args.save_dir={tmp / 'runs'}")
    args.append(f"--model.init_args.export={tmp / 'writer.safetensors'}")
    args += [f"--model.init_args.{k}={v}" for k, v in {"hidden": 8, "message": 4, **(model or {})}.items()]
    return [*args, "--data.init_args.bases=[digits]", "--data.init_args.tasks_per_step=1",
            "--data.init_args.shots_max=10", "--data.init_args.val_episodes=1",
            f"--data.init_args.steps_per_epoch={max_steps}", *extra]


def tiny_loop_fit(tmp: Path, *extra: str, max_steps: int = 1, logger: bool = True, rounds_per_epoch: int = 2,
                  model: Mapping[str, object] | None = None) -> list[str]:
    """The arguments of ``metanet train fit -c train/loop.yaml`` at toy size (a fresh writer of hidden=8 /
    message=4 instead of the shipped one, two candidates, one digits task a round, one held-out task), stopping after
    ``max_steps`` rounds and exporting to ``tmp/loop.safetensors``.

    Args:
        extra: more arguments, given last (so they override the ones here).
        logger: ``True`` keeps the config's TensorBoardLogger, writing under ``tmp/runs``; ``False`` turns it off.
        rounds_per_epoch: the rounds of an epoch; the held-out tasks are scored at the end of each.
        model: more ``--model.init_args`` options; they replace ``writer=null``, ``hidden=8``, ``message=4`` and
            ``candidates=2`` where they name them, and come after them otherwise.
    """
    args = ["fit", "-c", str(ROOT / "train" / "loop.yaml"), f"--trainer.max_steps={max_steps}"]
    if not logger:
        args.append("--trainer.logger=false")
    args += ["--trainer.enable_progress_bar=false", "--trainer.enable_model_summary=false",
             f"--trainer.default_root_dir={tmp}"]
    if logger:
        args.append(f"--trainer.logger.init_args.save_dir={tmp / 'runs'}")
    args.append(f"--model.init_args.export={tmp / 'loop.safetensors'}")
    options = {"writer": "null", "hidden": 8, "message": 4, "candidates": 2, **(model or {})}
    args += [f"--model.init_args.{k}={v}" for k, v in options.items()]
    return [*args, "--data.init_args.bases=[digits]", "--data.init_args.tasks_per_round=1",
            f"--data.init_args.rounds_per_epoch={rounds_per_epoch}", "--data.init_args.heldout_tasks=1",
            "--data.init_args.shots_max=10", "--data.init_args.query=10", *extra]


def check_smoke_run_keeps_the_export(tmp_path: Path, make: Callable[[str], tuple[L.LightningModule, Any]],
                                     kind: str) -> Path:
    """A ``fast_dev_run`` must not overwrite an earlier run's real export (Lightning writes no checkpoints or logs
    then, and the export hook used to replace the file with a one-step model); a real fit still exports.

    Args:
        make: ``export path -> (module, datamodule)``, the smallest fit of the stage.
        kind: the file's stem and the stage's module (``"writer"`` -> ``WriterModule``).

    Returns:
        The path the real fit exported to, for the caller to load.
    """
    export = tmp_path / f"{kind}.safetensors"
    export.write_bytes(b"an earlier run's real export")
    module, data = make(str(export))
    t = L.Trainer(fast_dev_run=True, accelerator="cpu", logger=False, enable_progress_bar=False,
                  enable_model_summary=False, default_root_dir=str(tmp_path))
    with pytest.warns(UserWarning, match=rf"fast_dev_run: the trained {kind.capitalize()}Module was not exported to "
                                         rf".*{kind}\.safetensors \(a smoke-test run writes no files"):
        t.fit(module, data)
    assert t.global_step == 1
    assert export.read_bytes() == b"an earlier run's real export"
    fitted = tmp_path / "fitted.safetensors"
    module, data = make(str(fitted))
    L.Trainer(max_steps=1, accelerator="cpu", logger=False, enable_progress_bar=False, enable_model_summary=False,
              enable_checkpointing=False, limit_val_batches=0, num_sanity_val_steps=0,
              default_root_dir=str(tmp_path)).fit(module, data)
    assert fitted.is_file()
    return fitted
