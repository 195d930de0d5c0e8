"""The loop module reads its writer checkpoint when it is configured for a fit, not when it is constructed
(LightningCLI constructs it first; a resumed fit replaces the weights): a missing file is still a clear error, before
the first round, and the writer exists before the optimizer is made and a ``--ckpt_path`` checkpoint restored."""

from __future__ import annotations

import builtins

import lightning as L
import pytest
import torch
from lightning.pytorch.callbacks import ModelCheckpoint

from metanet.errors import CheckpointError, ConfigError
from metanet.loop.lightning import LoopDataModule, LoopModule
from metanet.writer import Writer


def _data():
    return LoopDataModule(bases=("digits",), tasks_per_round=1, rounds_per_epoch=2, shots_min=5, shots_max=10,
                          query=4, heldout_tasks=1, seed=0)


def _trainer(tmp, steps: int, **kw):
    kw = {"limit_val_batches": 0, **kw}
    return L.Trainer(max_steps=steps, accelerator="cpu", logger=False, enable_progress_bar=False,
                     enable_model_summary=False, num_sanity_val_steps=0, deterministic=True,
                     default_root_dir=str(tmp), **kw)


def _writer_file(path, seed: int):
    torch.manual_seed(seed)
    Writer(hidden=8, message=4).save(str(path))
    return str(path)


def test_constructing_the_module_opens_no_writer_file(tmp_path, monkeypatch):
    path = _writer_file(tmp_path / "w.safetensors", 0)
    opened = []
    real_open = builtins.open
    monkeypatch.setattr(builtins, "open", lambda f, *a, **k: opened.append(str(f)) or real_open(f, *a, **k))
    m = LoopModule(writer=path, candidates=2)
    m2 = LoopModule(writer=str(tmp_path / "missing.safetensors"))  # not an error yet: nothing read
    assert not [f for f in opened if f.endswith(".safetensors")]
    assert m.writer is None and m2.writer is None and not list(m.parameters())


def test_a_missing_writer_file_is_a_clear_error_when_the_fit_begins(tmp_path):
    m = LoopModule(writer=str(tmp_path / "missing.safetensors"), candidates=2)
    with pytest.raises(CheckpointError, match=r"missing\.safetensors"):
        _trainer(tmp_path, 1).fit(m, _data())
    assert m.global_step == 0


@pytest.mark.parametrize("writer", [3, 1.5, ["w.safetensors"]])
def test_a_writer_that_is_no_path_is_refused_when_constructed(writer):
    with pytest.raises(ConfigError, match=r"writer must be 'shipped', a checkpoint path or None"):
        LoopModule(writer=writer)


def test_the_file_is_loaded_for_the_fit_and_a_resume_restores_the_checkpoint_over_it(tmp_path):
    path = _writer_file(tmp_path / "w.safetensors", 0)
    first = LoopModule(writer=path, candidates=2, lr=1e-2)
    t = _trainer(tmp_path, 1, callbacks=[ModelCheckpoint(dirpath=str(tmp_path / "ck"), save_last=True,
                                                         every_n_train_steps=1)])
    t.fit(first, _data())
    loaded = Writer.load(path)
    trained = {k: v.clone() for k, v in first.writer.state_dict().items()}
    assert any(not torch.equal(v, loaded.state_dict()[k]) for k, v in trained.items())  # the file's writer trained
    # a validate after the fit configures the module again: it keeps the trained writer, not the file's
    _trainer(tmp_path, 1, limit_val_batches=1).validate(first, _data(), verbose=False)
    assert all(torch.equal(v, first.writer.state_dict()[k]) for k, v in trained.items())

    _writer_file(path, 1)  # the file now holds other weights: a resume restores the checkpoint's over them
    resumed = LoopModule(writer=path, candidates=2, lr=1e-2)
    t = _trainer(tmp_path, 1)
    t.fit(resumed, _data(), ckpt_path=str(tmp_path / "ck" / "last.ckpt"))
    assert t.global_step == 1
    assert all(torch.equal(v, resumed.writer.state_dict()[k]) for k, v in trained.items())
    again = LoopModule.load_from_checkpoint(str(tmp_path / "ck" / "last.ckpt"), weights_only=True)
    assert all(torch.equal(v, again.writer.state_dict()[k]) for k, v in trained.items())
