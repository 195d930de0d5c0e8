"""``metanet demo`` (round 28): '~' in the output directory is the home folder, as for ``metanet.save``."""

from __future__ import annotations

from pathlib import Path

from demo_helpers import stub_stages
from metanet.cli import main


def test_output_under_tilde_is_in_home(home, monkeypatch, capsys):
    ran = stub_stages(monkeypatch)
    assert main(["demo", "--quick", "--out", "~/demo out"]) == 0
    assert len(ran) == 6
    # the TensorBoard run and the printed command name the home folder: they went to a folder './~' before
    assert list((home / "demo out" / "tb").glob("events.out.tfevents.*"))
    assert not (Path.cwd() / "~").exists()
    assert f"tensorboard --logdir '{home / 'demo out' / 'tb'}'" in capsys.readouterr().out
