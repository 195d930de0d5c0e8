"""A config may give ``trainer.callbacks`` as one callback (a mapping), not a list, as LightningCLI allows: with
``--trainer.enable_checkpointing=false`` a lone ModelCheckpoint is left out as one in a list is (it was Lightning's
MisconfigurationException "found `ModelCheckpoint` in callbacks list")."""

from __future__ import annotations

from pathlib import Path

from metanet.train import cli_main

ROOT = Path(__file__).resolve().parents[2]

ONE_CALLBACK = """\
trainer:
  callbacks:
    class_path: lightning.pytorch.callbacks.ModelCheckpoint
    init_args:
      filename: last
"""


def _args(tmp: Path, *extra: str) -> list[str]:
    (tmp / "one.yaml").write_text(ONE_CALLBACK)
    return ["fit", "-c", str(ROOT / "train" / "writer.yaml"), "-c", str(tmp / "one.yaml"), "--trainer.max_steps=1",
            "--trainer.limit_val_batches=1", "--trainer.logger=false", "--trainer.enable_progress_bar=false",
            "--trainer.enable_model_summary=false", f"--trainer.default_root_dir={tmp}",
            f"--model.init_args.export={tmp / 'writer.safetensors'}", "--model.init_args.hidden=8",
            "--model.init_args.message=4", "--data.init_args.bases=[digits]", "--data.init_args.tasks_per_step=1",
            "--data.init_args.shots_max=10", "--data.init_args.val_episodes=1", "--data.init_args.steps_per_epoch=1",
            *extra]


def test_a_single_checkpoint_callback_is_left_out_without_checkpointing(tmp_path):
    assert cli_main(_args(tmp_path, "--trainer.enable_checkpointing=false")) == 0
    assert (tmp_path / "writer.safetensors").is_file()
    assert not list(tmp_path.rglob("*.ckpt"))


def test_a_single_checkpoint_callback_is_kept_with_checkpointing(tmp_path):
    assert cli_main(_args(tmp_path)) == 0
    assert [p.name for p in tmp_path.rglob("*.ckpt")] == ["last.ckpt"]  # the config's one callback, by its name
