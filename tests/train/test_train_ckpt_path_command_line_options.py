"""``metanet train fit --ckpt_path ...`` with model options on the command line: the checkpoint's model options
replace the config's (LightningCLI's rule), but a ``--model.export`` given on the command line is kept (an output
path: it was the earlier run's, whose file the resumed run overwrote), and any other option given there that the
checkpoint's replaces is one warning line (it was replaced silently)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from lightning_helpers import tiny_writer_fit
from metanet.train import cli_main

WARNING = "metanet: warning: "
HIDDEN = f"{WARNING}--model.hidden 16 is replaced by the checkpoint's 8 (a checkpoint brings its own model options)"


@pytest.fixture(scope="module")
def first(tmp_path_factory) -> tuple[Path, Path, bytes]:
    # one fit for the module's tests: its checkpoint's export is writer.safetensors, hidden=8, message=4
    tmp = tmp_path_factory.mktemp("first")
    assert cli_main(tiny_writer_fit(tmp, max_steps=1)) == 0
    export = tmp / "writer.safetensors"
    return tmp / "runs" / "writer" / "version_0" / "checkpoints" / "last.ckpt", export, export.read_bytes()


def _saved_model(tmp: Path, version: int) -> dict:
    cfg = yaml.safe_load((tmp / "runs" / "writer" / f"version_{version}" / "config.yaml").read_text())
    return cfg["model"]["init_args"]


def _warnings(capsys) -> list[str]:
    return [line for line in capsys.readouterr().err.splitlines() if line.startswith(WARNING)]


def test_a_command_line_export_is_kept_over_the_checkpoints(tmp_path, capsys, first):
    # was: the resumed run exported to the checkpoint's export (the earlier run's file, overwritten) and config.yaml
    # recorded that, with no word of the --model.export the user typed
    ckpt, a, before = first
    b, c = tmp_path / "b.safetensors", tmp_path / "c.safetensors"
    capsys.readouterr()
    assert cli_main(tiny_writer_fit(tmp_path, f"--ckpt_path={ckpt}", f"--model.export={b}", max_steps=2)) == 0
    assert b.is_file() and a.read_bytes() == before
    assert _saved_model(tmp_path, 0)["export"] == str(b)
    assert _warnings(capsys) == []
    # as `last` too (found after the classes are made), given as two arguments; a size given there is replaced by
    # the checkpoint's (the weights need it), in one warning line
    b_bytes = b.read_bytes()
    args = ["--ckpt_path=last", "--model.init_args.export", str(c), "--model.hidden", "16"]
    assert cli_main(tiny_writer_fit(tmp_path, *args, max_steps=3)) == 0
    assert c.is_file() and b.read_bytes() == b_bytes and a.read_bytes() == before
    assert _saved_model(tmp_path, 1)["export"] == str(c) and _saved_model(tmp_path, 1)["hidden"] == 8
    assert _warnings(capsys) == [HIDDEN]


def test_a_command_line_size_the_checkpoint_replaces_is_one_warning_line(tmp_path, capsys, first):
    # hidden differs from the checkpoint's 8; message=4 is the checkpoint's own (no line)
    capsys.readouterr()
    assert cli_main(tiny_writer_fit(tmp_path, f"--ckpt_path={first[0]}", "--model.hidden=16", max_steps=2)) == 0
    assert _warnings(capsys) == [HIDDEN]
    assert _saved_model(tmp_path, 0)["hidden"] == 8


def test_command_line_model_keys_are_the_options_after_model():
    from metanet.train import _command_line_model_keys

    args = ["fit", "-c", "train/writer.yaml", "--model.init_args.export=a", "--model.hidden", "16", "--trainer.x=1",
            "--model.class_path=metanet.writer.lightning.WriterModule", "--model.init_args.hidden=8",
            "--data.init_args.hidden=3", "--model.dict_kwargs.extra=1"]
    assert _command_line_model_keys(args) == ["export", "hidden", "extra"]
