"""``metanet refine FILE --task NAME --out NEW`` and ``metanet improve`` are registered and work: improve's --json
output and TensorBoard tags, one-line errors, and the metadata of a network refined, then refined again."""

from __future__ import annotations

import json

import pytest

from metanet.cli import build_parser, main
from metanet.errors import TaskError
from metanet.io import load, load_meta, save
from metanet.loop import improve
from metanet.nets import build
from loop_helpers import make_diverse_writer as _writer


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


def test_refined_network_names_the_task_it_was_refined_on(tmp_path, capsys):
    """Refined on another task than the file's: its metadata says that task (what `metanet inspect`/`edit` use when
    no --task is given), and no accuracy measured on the old weights is kept as if it were the new one's."""
    src = save(build("mlp:64-16-10:relu", seed=0), tmp_path / "net.safetensors", task="digits", test_accuracy=0.97)
    out = tmp_path / "refined.safetensors"
    argv = ["refine", str(src), "--task", "digits+permute(1)", "--steps", "1", "--population", "2", "--out", str(out)]
    assert main(argv) == 0
    capsys.readouterr()
    meta = load_meta(out)
    assert meta["task"] == "digits+permute(1)" and meta["refined_task"] == "digits+permute(1)"
    assert "test_accuracy" not in meta and set(meta) >= {"val_accuracy", "val_accuracy_before"}


def test_sgd_refinement_is_not_recorded_as_zero_gradient_steps(tmp_path, capsys):
    """A generated network's file says zero_gradient_steps: true; refined by SGD, the new file kept saying so."""
    src = save(build("mlp:64-16-10:relu", seed=0), tmp_path / "net.safetensors", task="digits",
               zero_gradient_steps=True, generated_by="metanet.writer")
    for method, want in (("sgd", False), ("activity", True)):
        out = tmp_path / f"{method}.safetensors"
        assert main(["refine", str(src), "--task", "digits", "--method", method, "--steps", "1", "--population", "2",
                     "--out", str(out)]) == 0
        capsys.readouterr()
        assert load_meta(out)["zero_gradient_steps"] is want


def test_improve_bad_folds_is_one_line(capsys):
    assert main(["improve", "digits", "--rounds", "0", "--folds", "1"]) == 2
    assert capsys.readouterr().err.strip() == "metanet: error: cross-fitting needs folds >= 2, got 1"


def test_refine_command_bad_task_is_one_line(tmp_path, capsys):
    src = tmp_path / "net.safetensors"
    save(build("mlp:64-16-10:relu", seed=0), src)
    assert main(["refine", str(src), "--task", "no-such-task", "--steps", "1"]) == 2
    assert capsys.readouterr().err.startswith("metanet: error: ")


def test_improve_json_with_out_is_one_json_document(tmp_path, capsys, tiny_writer):
    """With --json, stdout is exactly one JSON document and the saved writer's path is in it."""
    start = tmp_path / "start.safetensors"
    tiny_writer.save(start)
    out = tmp_path / "improved.safetensors"
    argv = ["improve", "digits", "--rounds", "1", "--candidates", "2", "--writer", str(start), "--json"]
    assert main([*argv, "--out", str(out)]) == 0
    data = json.loads(capsys.readouterr().out)  # the whole of stdout
    assert data["out"] == str(out) and len(data["rounds"]) >= 1
    assert out.is_file()
    assert main([*argv[:-1], "--out", str(out)]) == 0  # text: the path on a last line of its own
    assert capsys.readouterr().out.strip().splitlines()[-1] == f"saved {out}"


@pytest.mark.parametrize(
    "command", [["improve", "digits", "--rounds", "1"], ["refine", "x.safetensors", "--task", "digits", "--steps", "1"]]
)
@pytest.mark.parametrize("threads", ["0", "-1"])
def test_zero_or_negative_threads_is_a_usage_error(capsys, command, threads):
    """Refused while parsing (exit 2, naming the option), not a RuntimeError from torch.set_num_threads."""
    with pytest.raises(SystemExit) as info:
        main([*command, "--threads", threads])
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert f"argument --threads: must be a whole number >= 1, got '{threads}'" in err and "Traceback" not in err


def test_refine_out_directory_is_refused_before_refining(tmp_path, capsys):
    src = save(build("mlp:64-16-10:relu", seed=0), tmp_path / "net.safetensors", task="digits")
    assert main(["refine", str(src), "--task", "digits", "--steps", "1", "--out", str(tmp_path)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""  # no before/after report: nothing was refined
    assert captured.err.strip() == (f"metanet: error: --out {str(tmp_path)!r} is a directory; give a file path, "
                                    f"e.g. {tmp_path / 'net.safetensors'}")


def test_cli_json_and_tensorboard_tags(tmp_path, capsys):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    start = tmp_path / "start writer.safetensors"
    _writer().save(start)
    log_dir = tmp_path / "tb dir"
    assert main(["improve", "digits[0,1]", "--rounds", "1", "--candidates", "2", "--writer", str(start),
                 "--heldout", "digits[2,3]", "--log-dir", str(log_dir), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert [r["round"] for r in data["rounds"]] == [0, 1] and "out" not in data
    assert data["config"]["candidates"] == 2 and "heldout_best_of_k" in data["rounds"][1]
    acc = EventAccumulator(str(log_dir))
    acc.Reload()
    tags = set(acc.Tags()["scalars"])
    assert {"reward/mean", "reward/best_of_k", "reward/worst", "heldout/accuracy_best_of_k", "heldout/accuracy_k1",
            "candidates/diversity", "candidates/winners_kept"} <= tags  # issue 8, point 3
    assert [e.step for e in acc.Scalars("reward/mean")] == [0, 1]


def test_cli_bad_loop_task_is_one_line(capsys):
    assert main(["improve", "no-such-task", "--rounds", "0"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("metanet: error: ") and "Traceback" not in err
    with pytest.raises(TaskError, match="the loop needs at least one task"):
        improve(_writer(), [], rounds=0)


def test_refining_a_refined_network_drops_the_earlier_before_accuracy(tmp_path, capsys):
    """Refined on val, then its output refined on test: the second file kept val_accuracy_before, an accuracy of
    the weights two refinements back, next to no val_accuracy."""
    src = save(build("mlp:64-16-10:relu", seed=0), tmp_path / "net a.safetensors", task="digits")
    once, twice = tmp_path / "once.safetensors", tmp_path / "twice.safetensors"
    common = ["--task", "digits", "--steps", "1", "--population", "2"]
    assert main(["refine", str(src), *common, "--split", "val", "--out", str(once)]) == 0
    assert {"val_accuracy_before", "val_accuracy"} <= set(load_meta(once))
    assert main(["refine", str(once), *common, "--split", "test", "--out", str(twice)]) == 0
    capsys.readouterr()
    meta = load_meta(twice)
    assert {"test_accuracy_before", "test_accuracy"} <= set(meta)
    assert not {"val_accuracy_before", "val_accuracy"} & set(meta)
