"""A writer built with non-default options (more passes, the logistic head, no augmentation, small sizes, a row cap)
keeps every option through ``Writer.save`` / ``Writer.load`` and through a Lightning ``.ckpt`` of the writer stage,
writes bit for bit what the in-memory writer writes, and every surface that takes a writer honours it:
``metanet.generate``, ``metanet generate --writer``, ``metanet.improve``, the loop stage (``--model.writer``).
A checkpoint whose safetensors header length starts with the byte 0x80 is a safetensors file, not a pickle."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import pytest
import torch

import metanet
from lightning_helpers import tiny_writer_fit
from metanet.checkpoints import save_module
from metanet.cli import main
from metanet.train import cli_main
from metanet.writer import Writer

ROOT = Path(__file__).resolve().parents[2]
#: every option a user may change away from the shipped writer's
OPTIONS = dict(steps=2, head="logistic", augment="none", augment_below=0, hidden=8, message=4, max_rows=64)


def _custom() -> Writer:
    torch.manual_seed(0)
    w = Writer(**OPTIONS)
    with torch.no_grad():  # learned-looking weights: the zero-initialised corrections would hide a lost tensor
        for p in w.parameters():
            p.add_(0.01 * torch.randn_like(p))
    return w.eval()


def _weights(g) -> list[torch.Tensor]:
    return [t for c in g.candidates for t in c.state_dict().values()]


def _same(a, b) -> bool:
    return all(torch.equal(x, y) for x, y in zip(_weights(a), _weights(b), strict=True))


def test_save_load_keeps_every_option_and_the_written_weights(tmp_path, capsys):
    w = _custom()
    path = w.save(tmp_path / "w.safetensors")
    loaded = Writer.load(path)
    assert loaded.config() == w.config() and {k: loaded.config()[k] for k in OPTIONS} == OPTIONS
    kw = dict(shots=5, candidates=2, seed=3)
    mine = metanet.generate("digits", writer=w, **kw)
    assert _same(mine, metanet.generate("digits", writer=loaded, **kw))
    assert _same(mine, metanet.generate("digits", writer=str(path), **kw))
    # the command line, from the file
    assert main(["generate", "digits", "--writer", str(path), "--shots", "5", "--candidates", "2", "--seed", "3",
                 "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["test"]["accuracy"] == mine.report.test.accuracy
    assert report["writer"]["path"] == str(path.resolve())


def test_a_header_length_starting_with_0x80_is_still_a_safetensors_checkpoint(tmp_path):
    # the header length is little-endian: one file in 256 begins with the byte 0x80, which was taken for a pickle
    # ("is a PyTorch / Lightning checkpoint (torch.save), not a safetensors file"), or, named .ckpt, handed to
    # torch.load ("not a writer Lightning checkpoint")
    w = _custom()
    for pad in range(256):
        path = save_module(w, tmp_path / "w.safetensors", kind="writer", config=w.config(), note="x" * pad)
        if path.read_bytes()[0] == 0x80:
            break
    else:
        pytest.fail("no padding gave a header length starting with 0x80")
    ckpt = tmp_path / "w.ckpt"
    ckpt.write_bytes(path.read_bytes())
    for p in (path, ckpt):
        loaded = Writer.load(p)
        assert loaded.config() == w.config()
        assert all(torch.equal(a, b) for a, b in zip(loaded.state_dict().values(), w.state_dict().values()))


def _loop_fit(tmp: Path, writer: Path) -> list[str]:
    return ["fit", "-c", str(ROOT / "train" / "loop.yaml"), "--trainer.max_steps=1",
            "--trainer.enable_progress_bar=false", "--trainer.enable_model_summary=false",
            f"--trainer.default_root_dir={tmp}", f"--trainer.logger.init_args.save_dir={tmp / 'runs'}",
            f"--model.init_args.export={tmp / 'loop.safetensors'}", f"--model.init_args.writer={writer}",
            "--model.init_args.candidates=2", "--data.init_args.bases=[digits]", "--data.init_args.tasks_per_round=1",
            "--data.init_args.rounds_per_epoch=1", "--data.init_args.heldout_tasks=1",
            "--data.init_args.shots_max=10", "--data.init_args.query=10"]


def test_a_lightning_checkpoint_keeps_every_option_through_improve_and_the_loop_stage(tmp_path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Lightning's advice on workers and logging intervals
        assert cli_main(tiny_writer_fit(tmp_path / "w", max_steps=1, model=OPTIONS)) == 0
    export = Writer.load(tmp_path / "w" / "writer.safetensors")
    assert {k: export.config()[k] for k in OPTIONS} == OPTIONS
    ckpts = sorted((tmp_path / "w" / "runs").rglob("*.ckpt"))
    assert ckpts
    for ckpt in ckpts:  # the fit's one step and last.ckpt: the exported writer, option for option
        w = Writer.load(ckpt)
        assert w.config() == export.config()
        assert all(torch.equal(a, b) for a, b in zip(w.state_dict().values(), export.state_dict().values()))
    kw = dict(shots=5, candidates=2, seed=1)
    assert _same(metanet.generate("digits", writer=export, **kw), metanet.generate("digits", writer=str(ckpt), **kw))

    improved, _ = metanet.improve(Writer.load(ckpt), ["digits"], rounds=1, candidates=2)
    assert improved.config() == export.config()
    again = Writer.load(improved.save(tmp_path / "improved.safetensors"))
    assert again.config() == export.config()

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert cli_main(_loop_fit(tmp_path / "loop", ckpt)) == 0
    assert Writer.load(tmp_path / "loop" / "loop.safetensors").config() == export.config()
