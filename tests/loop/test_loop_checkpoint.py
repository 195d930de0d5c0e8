"""A loop checkpoint is self-contained: it records its writer's config (``writer_config``) beside the weights, so a
resumed fit, a validate with ``--ckpt_path`` and ``load_from_checkpoint`` need not the writer file the fit started
from (moved or deleted since); ``hparams.yaml`` names the writer actually trained, and a fresh writer takes
``writer_options``."""

from __future__ import annotations

from pathlib import Path

import lightning as L
import pytest
import torch
import yaml
from lightning.pytorch.callbacks import ModelCheckpoint
from lightning.pytorch.loggers import CSVLogger

from lightning_helpers import tiny_loop_fit
from metanet.errors import CheckpointError, ConfigError
from metanet.loop.lightning import LoopDataModule, LoopModule
from metanet.train import cli_main
from metanet.writer import Writer


def _data():
    # bases a list: a tuple is a python/tuple tag in hparams.yaml, which yaml.safe_load refuses
    return LoopDataModule(bases=["digits"], tasks_per_round=1, rounds_per_epoch=2, shots_min=5, shots_max=10,
                          query=4, heldout_tasks=1, seed=0)


def _trainer(tmp, steps: int, **kw):
    kw = {"limit_val_batches": 0, "logger": False, **kw}
    return L.Trainer(max_steps=steps, accelerator="cpu", enable_progress_bar=False, enable_model_summary=False,
                     num_sanity_val_steps=0, deterministic=True, default_root_dir=str(tmp), **kw)


def _fit_from_file(tmp: Path) -> tuple[Path, dict]:
    """One round of a writer loaded from an 8/4 (steps=2) file, then the file deleted: (last.ckpt, trained weights)."""
    torch.manual_seed(0)
    path = tmp / "w.safetensors"
    Writer(hidden=8, message=4, steps=2, max_rows=512).save(str(path))
    m = LoopModule(writer=str(path), candidates=2, lr=1e-2)
    ck = ModelCheckpoint(dirpath=str(tmp / "ck"), save_last=True, every_n_train_steps=1)
    _trainer(tmp, 1, callbacks=[ck]).fit(m, _data())
    path.unlink()
    return tmp / "ck" / "last.ckpt", {k: v.clone() for k, v in m.writer.state_dict().items()}


def _same(writer: Writer, trained: dict) -> bool:
    state = writer.state_dict()
    return state.keys() == trained.keys() and all(torch.equal(state[k], v) for k, v in trained.items())


def test_a_loop_checkpoint_loads_without_the_writer_file_it_started_from(tmp_path):
    last, trained = _fit_from_file(tmp_path)
    # was CheckpointError "no writer checkpoint at .../w.safetensors": the file was read before the weights
    again = LoopModule.load_from_checkpoint(str(last), weights_only=True)
    ck = torch.load(last, map_location="cpu", weights_only=True)
    assert ck["writer_config"]["hidden"] == 8 and ck["writer_config"]["steps"] == 2
    assert "writer_config" not in ck["hyper_parameters"]  # LightningCLI parses those back as constructor arguments
    assert again.writer.config() == ck["writer_config"] and _same(again.writer, trained)
    # Writer.load of the .ckpt: was refused ("lack Writer's steps, max_rows"), or would have built a 32/16 writer
    w = Writer.load(last)
    assert w.config() == ck["writer_config"] and _same(w, trained)


def test_a_fit_resumes_and_validates_without_the_writer_file(tmp_path):
    last, trained = _fit_from_file(tmp_path)
    gone = str(tmp_path / "w.safetensors")
    resumed = LoopModule(writer=gone, candidates=2, lr=1e-2)
    t = _trainer(tmp_path, 2)
    t.fit(resumed, _data(), ckpt_path=str(last))
    assert t.global_step == 2 and resumed.writer.config()["steps"] == 2
    assert not _same(resumed.writer, trained)  # it trained on from the checkpoint's weights
    checked = LoopModule(writer=gone, candidates=2)
    out = _trainer(tmp_path, 1, limit_val_batches=1).validate(checked, _data(), ckpt_path=str(last), verbose=False)
    assert 0 <= out[0]["heldout/accuracy_best_of_k"] <= 1 and _same(checked.writer, trained)


def test_a_missing_writer_file_is_still_an_error_without_a_checkpoint(tmp_path):
    gone = str(tmp_path / "gone.safetensors")
    with pytest.raises(CheckpointError, match=r"gone\.safetensors"):
        _trainer(tmp_path, 1, limit_val_batches=1).validate(LoopModule(writer=gone), _data(), verbose=False)
    # a checkpoint written before writer_config existed needs the file, and names it
    last, _ = _fit_from_file(tmp_path / "old")
    ck = torch.load(last, map_location="cpu", weights_only=True)
    del ck["writer_config"]
    torch.save(ck, tmp_path / "old.ckpt")
    with pytest.raises(CheckpointError, match=r"no writer checkpoint at .*w\.safetensors"):
        LoopModule.load_from_checkpoint(str(tmp_path / "old.ckpt"), weights_only=True)
    ck["writer_config"] = {"hidden": 0, "message": 4}
    torch.save(ck, tmp_path / "bad.ckpt")
    with pytest.raises(CheckpointError, match=r"writer_config .* is not a valid Writer \(Writer hidden must be"):
        LoopModule.load_from_checkpoint(str(tmp_path / "bad.ckpt"), weights_only=True)


def test_hparams_yaml_names_the_loaded_writers_config(tmp_path):
    torch.manual_seed(0)
    path = tmp_path / "w.safetensors"
    Writer(hidden=8, message=4).save(str(path))
    m = LoopModule(writer=str(path), candidates=2)
    _trainer(tmp_path, 1, logger=CSVLogger(str(tmp_path), name="log")).fit(m, _data())
    hp = yaml.safe_load((tmp_path / "log" / "version_0" / "hparams.yaml").read_text())
    # hidden/message (32/16) are the fresh writer's sizes, unused here; they were all hparams.yaml said
    assert hp["writer_config"] == Writer.load(path).config() and hp["writer_config"]["hidden"] == 8


def test_writer_options_configure_the_fresh_writer_and_are_checked():
    m = LoopModule(writer=None, hidden=8, message=4, writer_options={"steps": 2, "head": "logistic", "max_rows": 64})
    assert (m.writer.steps, m.writer.head, m.writer.max_rows) == (2, "logistic", 64)
    with pytest.raises(ConfigError, match=r"unknown writer_options stpes; valid: ridge_lambda, .*augment_below"):
        LoopModule(writer=None, writer_options={"stpes": 2})
    with pytest.raises(ConfigError, match=r"unknown writer_options hidden \(give them as hidden / message\)"):
        LoopModule(writer=None, writer_options={"hidden": 8})
    with pytest.raises(ConfigError, match=r"writer_options apply to a fresh writer \(writer: null\) only; "
                                          r"writer='shipped'"):
        LoopModule(writer="shipped", writer_options={"steps": 2})
    with pytest.raises(ConfigError, match=r"writer_options must be a mapping of Writer options"):
        LoopModule(writer=None, writer_options=[("steps", 2)])
    with pytest.raises(ConfigError, match=r"Writer steps must be >= 1"):
        LoopModule(writer=None, writer_options={"steps": 0})


def test_writer_options_through_the_loop_config(tmp_path):
    args = tiny_loop_fit(tmp_path, model={"writer_options": "{steps: 2, augment: none}"})
    assert cli_main(args) == 0
    cfg = Writer.load(tmp_path / "loop.safetensors").config()
    assert (cfg["hidden"], cfg["steps"], cfg["augment"]) == (8, 2, "none")
    # and the run's checkpoint validates through the CLI (its hyperparameters parsed back as the module's arguments)
    last = tmp_path / "runs" / "loop" / "version_0" / "checkpoints" / "last.ckpt"
    assert torch.load(last, map_location="cpu", weights_only=True)["writer_config"] == cfg
    assert cli_main(["validate" if a == "fit" else a for a in args] + [f"--ckpt_path={last}"]) == 0
