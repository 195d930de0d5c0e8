"""``metanet train fit --ckpt_path=last`` whose checkpoint brings other model options than the config's prints the
Trainer's startup lines ("GPU available: ...", the logger tip) once. The classes were made again with the checkpoint's
options, the Trainer too, and a resumed run printed its startup banner twice."""

from __future__ import annotations

import logging

import yaml

from lightning_helpers import tiny_writer_fit
from metanet.train import cli_main


class _Lines(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


def test_a_resume_from_last_with_the_checkpoints_options_prints_the_startup_lines_once(tmp_path, capsys):
    assert cli_main(tiny_writer_fit(tmp_path, max_steps=1, limit_val_batches=0)) == 0
    capsys.readouterr()
    lines = _Lines()
    lightning_log = logging.getLogger("lightning.pytorch")  # Lightning's own handler: not propagated to the root
    lightning_log.addHandler(lines)
    try:
        # the config's lr is not the checkpoint's: the model is made again from the checkpoint's options
        assert cli_main(tiny_writer_fit(tmp_path, "--ckpt_path=last", "--model.init_args.lr=0.01", max_steps=1,
                                        limit_val_batches=0)) == 0
    finally:
        lightning_log.removeHandler(lines)
    err = capsys.readouterr().err
    assert sum(line.startswith("GPU available:") for line in lines.lines) == 1, lines.lines
    assert sum(line.startswith("Restored all states from the checkpoint") for line in lines.lines) == 1
    assert err.count("metanet: warning: --model.lr 0.01 is replaced by the checkpoint's 0.003") == 1, err
    # the resumed run's config.yaml holds the options it ran with: the checkpoint's
    saved = yaml.safe_load((tmp_path / "runs" / "writer" / "version_1" / "config.yaml").read_text())
    assert saved["model"]["init_args"]["lr"] == 0.003
    assert saved["ckpt_path"] == "last"
    assert not (tmp_path / "runs" / "writer" / "version_2").exists()  # one logger, one new version
