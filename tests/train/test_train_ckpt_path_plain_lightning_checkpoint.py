"""``metanet train STAGE -c CONFIG --ckpt_path FILE`` with a checkpoint written by plain Lightning
(``L.Trainer(...).fit(WriterModule(hidden=8, message=4), ...)``, no LightningCLI): its hyperparameters name no
``_class_path``, and LightningCLI parsed them as options of LightningModule itself ("--model: option 'hidden' is not
accepted (lightning.LightningModule)", exit 2). They are now the options of the config's model class when they are
its ``__init__``'s, and one error line naming the others when they are not."""

from __future__ import annotations

from pathlib import Path

import lightning as L
import pytest
import torch

from lightning_helpers import tiny_loop_fit, tiny_writer_fit
from metanet.cli import main
from metanet.loop.lightning import LoopModule
from metanet.reader.lightning import ReaderModule
from metanet.train import _plain_ckpt_model
from metanet.writer.lightning import EpisodeDataModule, WriterModule

WRITER = "metanet.writer.lightning.WriterModule"


@pytest.fixture(scope="module")
def plain_ckpt(tmp_path_factory) -> Path:
    """A one-step fit of WriterModule(hidden=8, message=4) by plain Lightning, saved as plain.ckpt."""
    tmp = tmp_path_factory.mktemp("plain")
    data = EpisodeDataModule(bases=("digits",), tasks_per_step=1, shots_max=10, val_episodes=1, steps_per_epoch=1)
    t = L.Trainer(max_steps=1, accelerator="cpu", logger=False, enable_progress_bar=False, enable_model_summary=False,
                  enable_checkpointing=False, limit_val_batches=0, num_sanity_val_steps=0, default_root_dir=str(tmp))
    t.fit(WriterModule(hidden=8, message=4), data)
    t.save_checkpoint(tmp / "plain.ckpt")
    assert "_class_path" not in torch.load(tmp / "plain.ckpt", weights_only=True)["hyper_parameters"]
    return tmp / "plain.ckpt"


def test_a_plain_lightning_checkpoint_validates_with_its_own_sizes(tmp_path, plain_ckpt, capsys):
    # hidden=16 on the command line: only the checkpoint's hidden=8 loads its weights (as with a CLI checkpoint)
    args = tiny_writer_fit(tmp_path, f"--ckpt_path={plain_ckpt}", logger=False, model={"hidden": 16})
    args = ["validate", *(a for a in args[1:] if "max_steps" not in a)]
    assert main(["train", *args]) == 0
    err = capsys.readouterr().err
    assert "metanet: warning: --model.hidden 16 is replaced by the checkpoint's 8" in err
    assert "not accepted" not in err and "Parsing of ckpt_path hyperparameters failed" not in err


def test_a_fit_resumes_from_it(tmp_path, plain_ckpt):
    assert main(["train", *tiny_writer_fit(tmp_path, f"--ckpt_path={plain_ckpt}", max_steps=2)]) == 0
    last = torch.load(tmp_path / "runs" / "writer" / "version_0" / "checkpoints" / "last.ckpt", weights_only=True)
    assert last["global_step"] == 2  # the plain fit's step, then one more
    assert last["hyper_parameters"]["hidden"] == 8 and last["hyper_parameters"]["_class_path"] == WRITER


def test_hyperparameters_of_another_module_are_one_error_line(tmp_path, capsys):
    f = tmp_path / "writer.ckpt"
    torch.save({"hyper_parameters": dict(WriterModule(hidden=8, message=4).hparams), "state_dict": {}}, f)
    assert main(["train", *tiny_loop_fit(tmp_path, f"--ckpt_path={f}")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    assert err[0].startswith(f"metanet: error: --ckpt_path {f}: a checkpoint whose hyperparameters 'ridge_lambda', "
                             "'sub_lambda', ")
    assert err[0].endswith("are not options of the config's model LoopModule (it names no class: not written by "
                           "'metanet train'); give a checkpoint of a LoopModule, or the config of the module it was "
                           "trained with")
    assert "'hidden'" not in err[0] and not (tmp_path / "runs").exists()


class _Kw(WriterModule):
    """A module of one's own that takes any options."""

    def __init__(self, hidden: int = 8, **kwargs) -> None:
        super().__init__(hidden=hidden, message=4)


@pytest.mark.parametrize("module", [lambda: WriterModule(hidden=8, message=4),
                                    lambda: LoopModule(writer=None, hidden=8, message=4, candidates=2),
                                    lambda: ReaderModule(hidden=8, layers=1)])
def test_each_modules_own_hyperparameters_fit_its_class(module):
    m = module()
    path = f"{type(m).__module__}.{type(m).__name__}"
    hparams = dict(m.hparams)
    assert _plain_ckpt_model("x.ckpt", hparams, {"class_path": path, "init_args": {}}) == {
        "class_path": path, "init_args": hparams}


def test_cli_checkpoints_and_kwargs_classes():
    given = {"class_path": WRITER, "init_args": {}}
    assert _plain_ckpt_model("x.ckpt", {"_class_path": WRITER, "hidden": 8}, given) is None  # LightningCLI's own
    assert _plain_ckpt_model("x.ckpt", {}, given) is None and _plain_ckpt_model("x.ckpt", None, given) is None
    assert _plain_ckpt_model("x.ckpt", {"hidden": 8, "_instantiator": "x"}, given) == {
        "class_path": WRITER, "init_args": {"hidden": 8}}
    kw = f"{__name__}._Kw"
    assert _plain_ckpt_model("x.ckpt", {"hidden": 8, "extra": 1}, {"class_path": kw}) == {
        "class_path": kw, "init_args": {"hidden": 8}, "dict_kwargs": {"extra": 1}}
