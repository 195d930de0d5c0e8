"""``metanet improve`` / ``metanet refine`` run by :func:`metanet.cli.main` inside a program (a notebook, a script
calling it in a loop) give torch's thread count back as the program had it: ``--threads`` (default 1) is the
command's, not the process's for good."""

from __future__ import annotations

import contextlib
import io

import pytest
import torch

import metanet
from metanet.cli import main
from metanet.nets import build


@pytest.fixture
def two_threads():
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    yield
    torch.set_num_threads(before)


def _main(argv: list[str]) -> int:
    with contextlib.redirect_stdout(io.StringIO()):
        return main(argv)


def test_refine_and_improve_give_the_callers_thread_count_back(tmp_path, two_threads, tiny_writer):
    # each set torch.set_num_threads(--threads) and left it: a program with 2 threads ran on 1 after the first call
    path = metanet.save(build("mlp:64-8-10:relu", seed=0), tmp_path / "net.safetensors")
    assert _main(["refine", str(path), "--task", "digits", "--steps", "1", "--population", "2"]) == 0
    assert torch.get_num_threads() == 2
    assert _main(["refine", str(path), "--task", "digits", "--steps", "1", "--population", "2",
                  "--threads", "3"]) == 0
    assert torch.get_num_threads() == 2
    writer = tiny_writer.save(tmp_path / "writer.safetensors")  # tiny: not the shipped one's load
    assert _main(["improve", "digits", "--writer", str(writer), "--rounds", "0", "--candidates", "2",
                  "--threads", "1"]) == 0
    assert torch.get_num_threads() == 2
