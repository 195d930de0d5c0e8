"""Round 28: `metanet inspect --out` and `metanet edit --out` read '~' as the home folder (their early checks and
their output used a folder './~')."""

from __future__ import annotations

from pathlib import Path

from metanet.cli import main
from metanet.io import save
from metanet.nets import build


def test_inspect_out_under_tilde_is_written_in_home(home, capsys):
    net = save(build("mlp:64-8-10:relu", seed=0), home / "net.safetensors")
    code = main(["inspect", str(net), "--task", "digits", "--out", "~/db", "--no-pictures", "--no-reader",
                 "--max-examples", "50"])
    assert code == 0, capsys.readouterr().err
    assert (home / "db" / "neurons.sqlite").is_file()
    assert not (Path.cwd() / "~").exists()


def test_edit_out_under_tilde_is_checked_before_the_work(home, capsys, monkeypatch):
    net = save(build("mlp:64-8-10:relu", seed=0), home / "net.safetensors")
    (home / "pruned.safetensors").mkdir()  # in the way: a directory where the file goes

    def work(*a, **k):
        raise AssertionError("the edit ran before the output path was checked")

    monkeypatch.setattr("metanet.io.load", work)
    code = main(["edit", str(net), "--task", "digits", "--prune", "0.5", "--out", "~/pruned.safetensors"])
    assert code == 2
    assert "is a directory" in capsys.readouterr().err
