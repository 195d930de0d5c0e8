"""``LightningCLI`` configs map one to one to the stages' ``__init__``: for each of ``train/reader.yaml``,
``train/writer.yaml`` and ``train/loop.yaml``, the ``--print_config`` output fed back as the config runs and gives
the hyperparameters (``hparams.yaml``) of a run from the original file; every ``__init__`` argument of the
LightningModules and DataModules is typed and has a default (what the CLI needs to build them from YAML)."""

from __future__ import annotations

import inspect
import typing
import warnings
from pathlib import Path

import pytest
import yaml

from metanet.loop.lightning import LoopDataModule, LoopModule
from metanet.reader.lightning import ReaderDataModule, ReaderModule
from metanet.train import cli_main
from metanet.writer.lightning import EpisodeDataModule, WriterModule

ROOT = Path(__file__).resolve().parents[2]


def _small(stage: str, tmp: Path, zoo: Path | None) -> list[str]:
    """Toy-size overrides of each stage's config."""
    if stage == "writer":
        return ["--model.init_args.hidden=8", "--model.init_args.message=4", "--model.init_args.steps=2",
                "--model.init_args.head=logistic", "--data.init_args.bases=[digits]",
                "--data.init_args.tasks_per_step=1", "--data.init_args.shots_max=10",
                "--data.init_args.val_episodes=1", "--data.init_args.steps_per_epoch=1",
                "--trainer.limit_val_batches=1", f"--model.init_args.export={tmp / 'writer.safetensors'}"]
    if stage == "loop":
        return ["--model.init_args.writer=null", "--model.init_args.hidden=8", "--model.init_args.message=4",
                "--model.init_args.candidates=2", "--data.init_args.bases=[digits]",
                "--data.init_args.tasks_per_round=1", "--data.init_args.rounds_per_epoch=2",
                "--data.init_args.heldout_tasks=1", f"--model.init_args.export={tmp / 'loop.safetensors'}"]
    tasks = "[digits,fashion-mnist,mnist]"
    return [f"--data.init_args.zoos=[{zoo}]", "--data.init_args.max_nets=16", "--data.init_args.exclude_archs=[]",
            f"--data.init_args.tasks={tasks}", f"--model.init_args.tasks={tasks}", "--model.init_args.hidden=8",
            "--model.init_args.layers=1", "--model.init_args.probes=4", "--model.init_args.data_probes=20",
            "--model.init_args.scan_steps=0", "--trainer.limit_val_batches=1",
            f"--model.init_args.export={tmp / 'reader.safetensors'}"]


def _run(args: list[str]) -> int:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Lightning's advice on workers and logging intervals
        try:
            return cli_main(args)
        except SystemExit as e:  # --print_config ends the CLI by exiting
            return int(e.code or 0)


@pytest.mark.parametrize("stage", ["writer", "loop", "reader"])
def test_print_config_runs_again_with_the_same_hyperparameters(stage, tmp_path, capsys, request):
    zoo = request.getfixturevalue("tiny_zoo") if stage == "reader" else None
    config = str(ROOT / "train" / f"{stage}.yaml")
    small = _small(stage, tmp_path, zoo)
    capsys.readouterr()
    assert _run(["fit", "-c", config, *small, "--print_config"]) == 0
    printed = tmp_path / "printed.yaml"
    printed.write_text(capsys.readouterr().out)
    tiny = ["--trainer.max_steps=1", "--trainer.enable_progress_bar=false", "--trainer.enable_model_summary=false",
            f"--trainer.default_root_dir={tmp_path}", f"--trainer.logger.init_args.save_dir={tmp_path / 'runs'}"]
    assert _run(["fit", "-c", config, *small, *tiny]) == 0
    assert _run(["fit", "-c", str(printed), *tiny]) == 0
    runs = tmp_path / "runs" / stage
    first, again = (yaml.safe_load((runs / v / "hparams.yaml").read_text()) for v in ("version_0", "version_1"))
    assert first == again


@pytest.mark.parametrize("cls", [WriterModule, EpisodeDataModule, ReaderModule, ReaderDataModule, LoopModule,
                                 LoopDataModule])
def test_every_init_argument_is_typed_and_has_a_default(cls):
    hints = typing.get_type_hints(cls.__init__)
    params = list(inspect.signature(cls.__init__).parameters.values())[1:]
    assert params
    for p in params:
        assert p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY), (cls.__name__, p.name)
        assert p.name in hints, f"{cls.__name__}.{p.name} has no type"
        assert p.default is not p.empty, f"{cls.__name__}.{p.name} has no default"
