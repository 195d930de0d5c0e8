"""Leftovers of round 32: the Writer's and Reader's float options beyond what their float32 use takes are a
ConfigError at construction (they wrote non-finite weights / NaN task logits silently); ``--trainer.barebones=true``
on a shipped config runs (it was Lightning's ValueError traceback for the config's logger), and an option barebones
turns off, given too, is one error line; ``metanet inspect``'s "disk I/O error" names its likely causes."""

from __future__ import annotations

import re
import sqlite3

import pytest
import torch
import torch.nn.functional as F
from torch.func import functional_call

from lightning_helpers import tiny_writer_fit
from metanet.errors import ConfigError
from metanet.nets import build
from metanet.reader import Reader
from metanet.writer import Writer

LOG_OPTIONS = ["ridge_lambda", "sub_lambda", "head_lambda", "temperature", "logit_lambda"]


def _support():
    g = torch.Generator().manual_seed(0)
    return torch.rand(40, 64, generator=g), torch.arange(40) % 4


# --- Writer: options learned as float32 logarithms -----------------------------------------------------------------
@pytest.mark.parametrize("name", LOG_OPTIONS)
@pytest.mark.parametrize("value", [1e300, 1e60, 1e31, 10**40, 1e-31, 1e-300])
def test_writer_log_options_beyond_their_range_are_config_errors(name, value):
    # temperature=1e60 wrote inf/NaN weights, head_lambda=1e38 NaN gradients, without a word
    with pytest.raises(ConfigError, match=rf"^Writer {name} must be from 1e-30 to 1e\+30 \(it is learned as a "
                                          rf"float32 logarithm; .*\), got {re.escape(f'{value!r:.40}')}$"):
        Writer(**{name: value})


def test_writer_non_positive_options_keep_their_message():
    with pytest.raises(ConfigError, match=r"^Writer temperature must be a finite number > 0, got 0$"):
        Writer(temperature=0)


@pytest.mark.parametrize("name", LOG_OPTIONS)
@pytest.mark.parametrize("value", [1e30, 1e-30])
def test_writer_log_options_at_their_range_edges_write_finite_weights_and_gradients(name, value):
    writer = Writer(**{name: value}, head="logistic" if name == "logit_lambda" else "ridge")
    x, y = _support()
    arch = "mlp:64-16-4:relu"
    w = writer.write(arch, x, y, 4)
    assert all(torch.isfinite(t).all() for t in w.values())
    loss = F.cross_entropy(functional_call(build(arch), {k: t[0] for k, t in w.items()}, (x,)), y)
    loss.backward()
    assert torch.isfinite(loss)
    assert all(torch.isfinite(p.grad).all() for p in writer.parameters() if p.grad is not None)


# --- Reader: task_cap and task_evidence ----------------------------------------------------------------------------
_AVAIL = torch.tensor([[True, True, False]])  # the third task's probes do not fit the network: masked out


@pytest.mark.parametrize("cap", [1e300, 1e39, 10**40, 1e-300, 1e-31])
def test_reader_task_cap_beyond_float32_is_a_config_error(cap):
    # 1e300 was inf * tanh(0) = NaN task logits; 1e-300 became 0 in float32: 0 * tanh(0 / 0) = NaN
    with pytest.raises(ConfigError, match=rf"^Reader task_cap must be 0 \(no cap\) or from 1e-30 to 1e\+30 \(it "
                                          rf"bounds float32 logits\), got {re.escape(f'{cap!r:.40}')}$"):
        Reader(tasks=["a", "b", "c"], probes=0, task_cap=cap)


@pytest.mark.parametrize("cap", [1e30, 1e-30, 4.0])
def test_reader_task_cap_in_range_gives_finite_logits(cap):
    r = Reader(tasks=["a", "b", "c"], probes=0, task_cap=cap)
    out = r._task_logits(_AVAIL, torch.tensor([[0.5, 0.5, 0.5]]), torch.tensor([[0.0, 3.0, -2.0]]))
    assert torch.isfinite(out).all()


@pytest.mark.parametrize("kappa", [1000.5, -3000, 1e300])
def test_reader_task_evidence_beyond_the_mask_is_a_config_error(kappa):
    # task_evidence=3000 put the available tasks at -13,785 on probes at 1 % accuracy, below the -1e4 of the masked
    # task: the network was read as the one task whose probes it cannot even run
    got = re.escape(f"{kappa!r:.40}")
    with pytest.raises(ConfigError, match=rf"^Reader task_evidence must be within ±1000 .*, got {got}$"):
        Reader(tasks=["a", "b", "c"], probes=0, task_evidence=kappa)


@pytest.mark.parametrize("kappa", [1000, -1000, 3.0])
def test_reader_task_evidence_in_range_never_picks_a_masked_task(kappa):
    r = Reader(tasks=["a", "b", "c"], probes=0, task_evidence=kappa)
    for acc in (0.01, 0.99):
        out = r._task_logits(_AVAIL, torch.full((1, 3), acc), torch.zeros(1, 3))
        assert out.argmax(-1).item() != 2, (acc, out)


# --- metanet train fit --trainer.barebones=true ----------------------------------------------------------------------
def test_barebones_leaves_out_the_configs_logger_and_checkpoints(tmp_path):
    from metanet.train import cli_main

    # was Lightning's "`Trainer(barebones=True, logger=<...TensorBoardLogger ...>)` was passed" ValueError traceback
    assert cli_main(tiny_writer_fit(tmp_path, "--trainer.barebones=true", quiet=False)) == 0
    assert (tmp_path / "writer.safetensors").is_file()
    assert not (tmp_path / "runs").exists() and not list(tmp_path.rglob("*.ckpt"))  # no logs, no checkpoints


@pytest.mark.parametrize("flag, line", [
    ("--trainer.fast_dev_run=true", "turns off development run, but --trainer.fast_dev_run=true was given too"),
    ("--trainer.enable_progress_bar=true",
     "turns off the progress bar, but --trainer.enable_progress_bar=true was given too"),
    ("--trainer.profiler=simple", "turns off profiling, but --trainer.profiler=simple was given too"),
])
def test_barebones_with_an_option_it_turns_off_is_one_error_line(tmp_path, capsys, flag, line):
    from metanet.train import cli_main

    assert cli_main(tiny_writer_fit(tmp_path, "--trainer.barebones=true", flag, quiet=False)) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1] == f"metanet: error: --trainer.barebones=true {line}; drop one of them", err[-3:]
    assert not (tmp_path / "writer.safetensors").exists()


# --- metanet inspect: SQLite's "disk I/O error" ----------------------------------------------------------------------
def test_inspect_disk_io_error_names_its_likely_causes(tmp_path, monkeypatch, capsys):
    from metanet import save
    from metanet.cli import main
    from metanet.inspect.db import NeuronDB

    def refused(self, con):  # what SQLite says for a write past a quota or file size limit (EDQUOT, EFBIG)
        raise sqlite3.OperationalError("disk I/O error")

    monkeypatch.setattr(NeuronDB, "_fill", refused)
    net = tmp_path / "n.safetensors"
    save(build("mlp:64-16-10"), net, task="digits")
    out = tmp_path / "out"
    assert main(["inspect", str(net), "--no-reader", "--max-examples", "64", "--out", str(out)]) == 2
    line = capsys.readouterr().err.strip().splitlines()[-1]
    # was "cannot write the database (disk I/O error): .../neurons.sqlite", which read as a broken disk
    assert line == ("metanet: error: cannot write the database (disk I/O error: the file system refused the write, "
                    "e.g. a disk quota or file size limit reached or a failing disk; fix that and run again): "
                    f"{out / 'neurons.sqlite'}"), line
    assert not out.exists()


def test_inspect_full_disk_message_is_unchanged(tmp_path, monkeypatch):
    from metanet.inspect.db import NeuronDB

    def full(self, con):
        raise sqlite3.OperationalError("database or disk is full")

    monkeypatch.setattr(NeuronDB, "_fill", full)
    with pytest.raises(OSError, match=r"^\[Errno 28\] cannot write the database \(database or disk is full\): "):
        NeuronDB([], {}).to_sqlite(tmp_path / "neurons.sqlite")
