"""``metanet train fit -c train/writer.yaml -c mine.yaml --ckpt_path FILE``: the model options of a ``-c`` file of
one's own are found in every spelling argparse takes for it (``-cmine.yaml``, the abbreviation ``--conf mine.yaml``)
and with dotted keys (``model.init_args.export: PATH``, which jsonargparse reads as nested): each kept the
checkpoint's export silently. A ``-c`` before the subcommand (``metanet train -c all.yaml fit -c train/writer.yaml``)
is the whole CLI's, read before the stage's: counting it made the stage's own config count as one's own (its export
kept over the checkpoint's, a warning for each of its sizes)."""

from __future__ import annotations

from pathlib import Path

from jsonargparse import Namespace

from lightning_helpers import ROOT
from metanet.train import _command_line_model_keys, _keep_command_line_export

WRITER = "metanet.writer.lightning.WriterModule"
STAGE = str(ROOT / "train" / "writer.yaml")


def test_every_spelling_of_a_second_config_file_is_read(tmp_path: Path) -> None:
    mine = tmp_path / "mine.yaml"
    mine.write_text("model:\n  init_args:\n    export: b.safetensors\n")
    for spelt in ([f"-c{mine}"], ["--conf", str(mine)], [f"--conf={mine}"], [f"-c={mine}"]):
        assert _command_line_model_keys(["fit", "-c", STAGE, *spelt]) == ["export"], spelt


def test_dotted_keys_of_a_config_file_are_read(tmp_path: Path) -> None:
    top = tmp_path / "top.yaml"
    top.write_text("model.init_args.export: b.safetensors\nmodel:\n  init_args:\n    lr: 0.1\n")
    under = tmp_path / "under.yaml"
    under.write_text("model:\n  init_args.hidden: 4\n")
    assert _command_line_model_keys(["fit", "-c", STAGE, "-c", str(top), "-c", str(under)]) == [
        "export", "lr", "hidden"]


def test_a_config_before_the_subcommand_leaves_the_stages_config_to_the_checkpoint(tmp_path: Path, capsys,
                                                                                    monkeypatch) -> None:
    whole = tmp_path / "all.yaml"
    whole.write_text(f"fit:\n  model:\n    class_path: {WRITER}\n")
    for args in (["-c", str(whole), "fit", "-c", STAGE], [f"--config={whole}", "fit", "-c", STAGE],
                 ["--conf", str(whole), "fit", "-c", STAGE]):
        assert _command_line_model_keys(args) == [], args
    ckpt = Namespace(class_path=WRITER, init_args=Namespace(export="first.safetensors", hidden=8))
    cfg = Namespace(model=ckpt)
    given = Namespace(class_path=WRITER, init_args=Namespace(export="runs/writer.safetensors", hidden=32))
    _keep_command_line_export(cfg, given, ["-c", str(whole), "fit", "-c", STAGE])
    assert cfg.model.init_args.export == "first.safetensors" and capsys.readouterr().err == ""
    # a -c named "fit" before the subcommand is a file, and one of one's own after it still counts
    monkeypatch.chdir(tmp_path)
    Path("fit").write_text("model:\n  init_args:\n    export: b.safetensors\n")
    assert _command_line_model_keys(["-c", "fit", "fit", "-c", STAGE, "-c", "fit"]) == ["export"]
