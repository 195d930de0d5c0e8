"""``metanet train fit -c train/writer.yaml -c mine.yaml --ckpt_path ...`` with ``model.export`` set in mine.yaml: a
config file of one's own (a ``-c`` after the stage's) is as much the user's intent as the command line, so its export
is kept over the checkpoint's (it was replaced silently: the resumed run overwrote the earlier run's file) and any
other model option it sets that the checkpoint's replaces is one warning line. The stage's own config (the first
``-c``) still gives way to the checkpoint, as documented."""

from __future__ import annotations

from pathlib import Path

import yaml
from jsonargparse import Namespace

from lightning_helpers import ROOT
from metanet.train import _command_line_model_keys, _keep_command_line_export

WRITER = "metanet.writer.lightning.WriterModule"
STAGE = str(ROOT / "train" / "writer.yaml")


def _model(**init_args: object) -> Namespace:
    return Namespace(class_path=WRITER, init_args=Namespace(**init_args))


def test_an_export_in_a_second_config_file_is_kept_over_the_checkpoints(tmp_path: Path, capsys) -> None:
    mine = tmp_path / "mine.yaml"
    mine.write_text(yaml.safe_dump({"model": {"init_args": {"export": "b.safetensors", "hidden": 16}}}))
    cfg = Namespace(model=_model(export="first.safetensors", hidden=8))  # the checkpoint's, as parsed
    _keep_command_line_export(cfg, _model(export="b.safetensors", hidden=16), ["fit", "-c", STAGE, f"--config={mine}"])
    assert cfg.model.init_args.export == "b.safetensors" and cfg.model.init_args.hidden == 8
    assert capsys.readouterr().err.splitlines() == [
        "metanet: warning: --model.hidden 16 is replaced by the checkpoint's 8 (a checkpoint brings its own model "
        "options)"]


def test_the_stage_config_alone_gives_way_to_the_checkpoint(capsys) -> None:
    cfg = Namespace(model=_model(export="first.safetensors"))
    _keep_command_line_export(cfg, _model(export="runs/writer.safetensors"), ["fit", "-c", STAGE])
    assert cfg.model.init_args.export == "first.safetensors" and capsys.readouterr().err == ""


def test_model_keys_of_config_files_after_the_first(tmp_path: Path) -> None:
    flat = tmp_path / "flat.yaml"
    flat.write_text("model:\n  export: c.safetensors\n")
    under_fit = tmp_path / "under_fit.yaml"
    under_fit.write_text(yaml.safe_dump({"fit": {"model": {"class_path": WRITER, "init_args": {"message": 2}}}}))
    args = ["fit", "-c", STAGE, "-c", str(flat), "--config", str(under_fit), "-c", "{model: {init_args: {lr: 1}}}",
            "-c", str(tmp_path / "trainer_only.yaml"), "--model.hidden=4"]
    (tmp_path / "trainer_only.yaml").write_text("trainer:\n  max_steps: 1\n")
    assert _command_line_model_keys(args) == ["export", "message", "lr", "hidden"]
    assert _command_line_model_keys(["fit", "-c", str(flat)]) == []  # the first is the stage's config
