"""A config may give ``trainer.callbacks`` as one callback (a mapping), not a list, as LightningCLI allows: with
``--trainer.enable_checkpointing=false`` a lone ModelCheckpoint is left out as one in a list is (it was Lightning's
MisconfigurationException "found `ModelCheckpoint` in callbacks list")."""

from __future__ import annotations

from pathlib import Path

from lightning_helpers import tiny_writer_fit
from metanet.train import cli_main

ONE_CALLBACK = """\
trainer:
  callbacks:
    class_path: lightning.pytorch.callbacks.ModelCheckpoint
    init_args:
      filename: last
"""


def _args(tmp: Path, *extra: str) -> list[str]:
    (tmp / "one.yaml").write_text(ONE_CALLBACK)
    return tiny_writer_fit(tmp, *extra, max_steps=1, logger=False, configs=[tmp / "one.yaml"])


def test_a_single_checkpoint_callback_is_left_out_without_checkpointing(tmp_path):
    assert cli_main(_args(tmp_path, "--trainer.enable_checkpointing=false")) == 0
    assert (tmp_path / "writer.safetensors").is_file()
    assert not list(tmp_path.rglob("*.ckpt"))


def test_a_single_checkpoint_callback_is_kept_with_checkpointing(tmp_path):
    assert cli_main(_args(tmp_path)) == 0
    assert [p.name for p in tmp_path.rglob("*.ckpt")] == ["last.ckpt"]  # the config's one callback, by its name
