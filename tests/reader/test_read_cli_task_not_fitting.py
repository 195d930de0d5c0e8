"""``metanet read FILE`` on a network of a class count none of the reader's tasks has (``task_fits`` False): the
trigger scan cannot run it, and the weights-only backdoor head read clean 3- to 9-class fashion-mnist MLPs as
backdoored at 0.28-1.0, so the command says that the backdoor probability is a guess too, not only task and
accuracy."""

from __future__ import annotations

import metanet
from metanet.cli import main
from metanet.nets import build
from reader_helpers import needs_shipped


@needs_shipped
def test_read_cli_says_backdoor_is_a_guess_when_no_task_fits(tmp_path, capsys):
    path = metanet.save(build("mlp:784-16-3:relu", seed=0), tmp_path / "three.safetensors")
    assert main(["read", str(path), "--no-scan"]) == 0
    out = capsys.readouterr().out
    task_line = next(line for line in out.splitlines() if line.strip().startswith("task "))
    assert "task, accuracy and backdoor are guesses" in task_line


@needs_shipped
def test_read_cli_does_not_call_a_fitting_network_a_guess(tmp_path, capsys):
    path = metanet.save(build("mlp:784-16-10:relu", seed=0), tmp_path / "ten.safetensors")
    assert main(["read", str(path), "--no-scan"]) == 0
    assert "guesses" not in capsys.readouterr().out
