"""``metanet refine FILE --task NAME --out NEW`` and ``metanet improve`` are registered and work."""

from __future__ import annotations

from metanet.cli import build_parser, main
from metanet.io import load, load_meta, save
from metanet.nets import build


def test_commands_are_registered():
    p = build_parser()
    args = p.parse_args(["improve", "digits", "--rounds", "1", "--method", "awr"])
    assert args.rounds == 1 and args.method == "awr" and args.folds == 5
    from metanet.loop import DEFAULT_SELECTION

    assert args.selection == DEFAULT_SELECTION  # the CLI's literal default follows the library's
    assert p.parse_args(["improve", "digits", "--selection", "crossfit"]).selection == "crossfit"
    assert p.parse_args(["refine", "x.safetensors", "--task", "digits"]).method == "perturbation"
    from metanet.loop import REFINE_METHODS

    for m in REFINE_METHODS:  # the CLI's literal choices follow the library's
        assert p.parse_args(["refine", "x.safetensors", "--task", "digits", "--method", m]).method == m


def test_refine_command_saves_the_refined_network(tmp_path, capsys):
    src = tmp_path / "net.safetensors"
    save(build("mlp:64-16-10:relu", seed=0), src, task="digits")
    out = tmp_path / "refined.safetensors"
    rc = main(["refine", str(src), "--task", "digits", "--steps", "5", "--population", "4", "--out", str(out)])
    assert rc == 0
    text = capsys.readouterr().out
    assert "before:" in text and "after (perturbation, 5 steps)" in text
    meta = load_meta(out)
    assert meta["refined_by"] == "perturbation" and meta["task"] == "digits"
    assert sum(p.numel() for p in load(out).parameters()) == sum(p.numel() for p in build("mlp:64-16-10:relu").parameters())


def test_improve_bad_folds_is_one_line(capsys):
    assert main(["improve", "digits", "--rounds", "0", "--folds", "1"]) == 2
    assert capsys.readouterr().err.strip() == "metanet: error: cross-fitting needs folds >= 2, got 1"


def test_refine_command_bad_task_is_one_line(tmp_path, capsys):
    src = tmp_path / "net.safetensors"
    save(build("mlp:64-16-10:relu", seed=0), src)
    assert main(["refine", str(src), "--task", "no-such-task", "--steps", "1"]) == 2
    assert capsys.readouterr().err.startswith("metanet: error: ")
