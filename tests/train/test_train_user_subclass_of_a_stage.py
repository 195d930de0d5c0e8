"""``metanet train fit`` with a user's own subclass of a stage's LightningModule or LightningDataModule, whose
``__init__`` takes other options than the base class's (as Lightning users subclass a module to change one method).
LightningCLI saves the subclass's own arguments as the hyperparameters, and the base classes read their options
through ``self.hparams``: the fit ended in a traceback (``'AttributeDict' object has no attribute 'zoo'``). The
subclass's hyperparameters are still the ones saved, so its checkpoint resumes into the subclass."""

from __future__ import annotations

from pathlib import Path

import torch

from lightning_helpers import ROOT
from metanet.cli import main
from metanet.loop.lightning import LoopDataModule, LoopModule
from metanet.reader.lightning import ReaderDataModule, ReaderModule
from metanet.writer.lightning import EpisodeDataModule, WriterModule

HERE = __name__  # the module LightningCLI imports these classes from


class FlavouredWriter(WriterModule):
    def __init__(self, hidden: int = 8, message: int = 4, flavour: str = "x", out: str | None = None) -> None:
        super().__init__(hidden=hidden, message=message, lr=1e-2, export=out)  # export: under another name
        self.flavour = flavour


class FewEpisodes(EpisodeDataModule):
    def __init__(self, seed: int = 0) -> None:
        super().__init__(bases=("digits",), tasks_per_step=1, shots_max=10, val_episodes=1, steps_per_epoch=2,
                         seed=seed)


class TaggedReader(ReaderModule):
    def __init__(self, tasks: list[str] = ["digits"], tag: str = "r", out: str | None = None) -> None:  # noqa: B006
        super().__init__(tasks=tasks, hidden=8, layers=1, probes=4, export=out)
        self.tag = tag


class OneZoo(ReaderDataModule):
    def __init__(self, zoo: str = "zoos/tiny") -> None:
        super().__init__(zoos=[zoo], batch_size=8, max_nets=16, exclude_archs=[], role_examples=64)


class TaggedLoop(LoopModule):
    def __init__(self, tag: str = "l", out: str | None = None) -> None:
        super().__init__(writer=None, hidden=8, message=4, candidates=2, export=out)
        self.tag = tag


class OneRound(LoopDataModule):
    def __init__(self, seed: int = 0) -> None:
        super().__init__(bases=("digits",), tasks_per_round=1, rounds_per_epoch=1, heldout_tasks=1, seed=seed)


def _fit(config: str, tmp: Path, model: str, data: str, *extra: str) -> list[str]:
    return ["train", "fit", "-c", str(ROOT / "train" / config), "--trainer.logger=false",
            "--trainer.enable_progress_bar=false", "--trainer.enable_model_summary=false",
            f"--trainer.default_root_dir={tmp}", f"--model.class_path={HERE}.{model}",
            f"--data.class_path={HERE}.{data}", *extra]


def test_a_writer_subclass_fits_exports_and_resumes_into_itself(tmp_path):
    out = tmp_path / "writer.safetensors"
    args = _fit("writer.yaml", tmp_path, "FlavouredWriter", "FewEpisodes", "--model.init_args.flavour=y",
                f"--model.init_args.out={out}", "--trainer.max_steps=1", "--trainer.limit_val_batches=1")
    assert main(args) == 0
    assert out.is_file()  # the base's export, given under the subclass's own name
    (last,) = tmp_path.rglob("last.ckpt")
    saved = torch.load(last, map_location="cpu", weights_only=False)
    hp = saved["hyper_parameters"]
    # the subclass's own options are what was saved (no lr, zoo...: those are the base's, read from its __init__)
    assert hp["flavour"] == "y" and hp["_class_path"] == f"{HERE}.FlavouredWriter" and "lr" not in hp
    assert saved["optimizer_states"][0]["param_groups"][0]["lr"] == 1e-2  # the lr the subclass gave its base
    out.unlink()
    assert main([*args[:-2], "--trainer.max_steps=2", "--trainer.limit_val_batches=1", f"--ckpt_path={last}"]) == 0
    (last,) = tmp_path.rglob("last.ckpt")
    resumed = torch.load(last, map_location="cpu", weights_only=False)
    assert resumed["global_step"] == 2 and resumed["hyper_parameters"]["flavour"] == "y"
    assert out.is_file()


def test_a_reader_subclass_fits(tmp_path, tiny_zoo):
    out = tmp_path / "reader.safetensors"
    args = _fit("reader.yaml", tmp_path, "TaggedReader", "OneZoo", "--model.init_args.tag=s",
                "--model.init_args.tasks=[digits,mnist,fashion-mnist]", f"--model.init_args.out={out}",
                f"--data.init_args.zoo={tiny_zoo}", "--trainer.max_steps=1", "--trainer.limit_val_batches=1",
                "--trainer.val_check_interval=1", "--trainer.limit_train_batches=1")
    assert main(args) == 0
    assert out.is_file()


def test_a_loop_subclass_fits(tmp_path):
    out = tmp_path / "loop.safetensors"
    args = _fit("loop.yaml", tmp_path, "TaggedLoop", "OneRound", "--model.init_args.tag=m",
                f"--model.init_args.out={out}", "--trainer.max_steps=1")
    assert main(args) == 0
    assert out.is_file()
