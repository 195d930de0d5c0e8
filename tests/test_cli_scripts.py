"""The command line as a script consumes it: a blank ``--task "$TASK"`` (an unset shell variable) is a usage error, not
the file's own task; ``zoo check`` has the same exit code with and without ``--json``, whose output is one strict JSON
document, also for a zoo with no networks.
"""

from __future__ import annotations

import pytest
from process_helpers import _strict_json, run_cli

from metanet.io import save
from metanet.nets import build


def _error_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err, err
    assert lines[0].startswith("metanet: error: "), err
    return lines[0]


@pytest.fixture
def net(tmp_path):
    return save(build("mlp:64-8-10:relu", seed=0), tmp_path / "net.safetensors", task="digits")


@pytest.mark.parametrize("blank", ["", "  "])
@pytest.mark.parametrize("argv", [
    ["verify", "{net}", "--json"],
    ["inspect", "{net}", "--out", "{tmp}/insp", "--no-pictures", "--no-reader", "--json"],
    ["edit", "{net}", "--prune", "0.2", "--out", "{tmp}/pruned.safetensors", "--json"],
], ids=lambda a: a[0])
def test_a_blank_task_is_refused_not_the_files_task(argv, blank, net, tmp_path, capsys):
    # `--task ''` ran on the task the file records, exit 0, as if --task had not been given; `--task ' '` was the
    # resolver's list of task-spec forms
    argv = [a.format(net=net, tmp=tmp_path) for a in argv] + ["--task", blank]
    code, out, err = run_cli(argv, capsys)
    assert code == 2 and out == ""
    line = _error_line(err)
    assert f"--task needs a task name, got {blank!r}" in line and "digits" in line
    assert "leave --task out for the task" in line and "('digits')" in line  # the file records one
    assert not (tmp_path / "insp").exists() and not (tmp_path / "pruned.safetensors").exists()


def test_a_blank_task_on_a_file_that_records_none_offers_no_recorded_task(tmp_path, capsys):
    path = save(build("mlp:64-8-10:relu", seed=0), tmp_path / "untasked.safetensors")
    code, out, err = run_cli(["verify", str(path), "--task", "", "--json"], capsys)
    assert code == 2 and out == ""
    line = _error_line(err)
    assert "--task needs a task name" in line and "leave --task out" not in line


def test_without_task_the_recorded_one_is_still_used(net, capsys):
    code, out, err = run_cli(["verify", str(net), "--json"], capsys)
    assert code == 0, err
    assert _strict_json(out)["task"] == "digits"


def test_zoo_check_exit_code_does_not_depend_on_json(tmp_path, capsys):
    from metanet.zoo import build as build_zoo

    zoo = tmp_path / "zoo"
    build_zoo("tiny", zoo, limit=1, progress=False)
    for argv in (["zoo", "check", str(zoo)], ["zoo", "check", str(zoo), "--json"]):
        assert run_cli(argv, capsys)[0] == 0
    shard = next((zoo / "shards").glob("*.safetensors"))
    shard.write_bytes(b"not a shard")
    code, out, err = run_cli(["zoo", "check", str(zoo)], capsys)
    assert code == 1 and err == ""
    code, out, err = run_cli(["zoo", "check", str(zoo), "--json"], capsys)
    assert code == 1 and err == ""
    report = _strict_json(out)
    assert report["ok"] is False and any(shard.name in p for p in report["problems"])
    assert isinstance(report["nets"], int) and isinstance(report["units"], int)


def test_an_empty_zoo_is_valid_json(tmp_path, capsys):
    from metanet.zoo import build as build_zoo

    zoo = tmp_path / "empty"
    build_zoo("tiny", zoo, limit=1, shard="5/6", progress=False)  # the one unit is shard 0's: none built here
    code, out, err = run_cli(["zoo", "info", str(zoo), "--json"], capsys)
    assert code == 0, err
    info = _strict_json(out)
    assert info["networks"] == 0 and info["test_acc"] is None and info["tasks"] == {}
    code, out, err = run_cli(["zoo", "check", str(zoo), "--json"], capsys)
    assert code == 0, err
    assert _strict_json(out) == {"ok": True, "nets": 0, "units": 0, "problems": [], "notes": [], "repairable": [],
                                 "repair": None}


def test_help_names_the_json_commands_and_the_exit_codes():
    # scripts had the exit codes only in main()'s docstring (1 also in `zoo check --help`), and no list of the commands
    # whose --json they can pipe into jq
    from metanet.cli import build_parser

    text = " ".join(build_parser().format_help().split())
    listed = text.split("--json (", 1)[1].split(")", 1)[0].split(", ")
    assert {"verify", "read", "zoo check", "zoo info", "tasks", "edit"} <= set(listed)
    assert not {"demo", "zoo", "zoo build", "zoo merge", "train"} & set(listed)  # no --json there
    assert "one JSON document on stdout, NaN and infinities as null" in text
    for code in ("0 done", "1 a check that found problems (zoo check)", "2 a usage error", "130 interrupted",
                 "141 stdout closed", "143 terminated"):
        assert code in text
