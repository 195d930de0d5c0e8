"""A Reward class of one's own in the loop's Lightning stage, named in the YAML config as LightningCLI names classes:
``reward: {class_path: myrewards.Mine, init_args: {...}}``. The reward option took a spec string only (jsonargparse:
"expected str"), so such a class could be used from Python alone. The run uses the class, its hparams.yaml and
checkpoints record the mapping, and ``load_from_checkpoint`` makes the reward again from it once its module is
imported; a class_path that names no Reward, or a module that is not (or cannot be) imported, is one error naming
the class. Loading a checkpoint imports no module its reward names (anyone's file could name any module)."""

from __future__ import annotations

import csv
import importlib
import sys
from pathlib import Path

import pytest
import torch
import yaml

from lightning_helpers import tiny_loop_fit
from metanet.errors import ConfigError
from metanet.loop.lightning import LoopModule
from metanet.train import cli_main

MODULE = "loop_user_rewards"  # a module of the test's own, on sys.path only while a test needs it
SOURCE = '''
from metanet.loop.rewards import Reward


class Shifted(Reward):
    """Accuracy plus an offset: rewards no built-in reward gives, told apart in the logged reward/mean."""

    calls = 0

    def __init__(self, offset: float = 0.0) -> None:
        self.offset = offset

    def score(self, reports, params):
        type(self).calls += 1
        return [self.offset + r.accuracy for r in reports]


class NotAReward:
    def __init__(self, offset: float = 0.0) -> None:
        self.offset = offset


open(__file__ + ".imported", "w").close()  # the module's own code ran: it was imported
'''
SHIFTED = {"class_path": f"{MODULE}.Shifted", "init_args": {"offset": 100.0}}


def _write_module(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{MODULE}.py").write_text(SOURCE)
    return folder


def _reward_config(tmp: Path, reward: dict) -> Path:
    path = tmp / "reward.yaml"
    path.write_text(yaml.safe_dump({"model": {"init_args": {"reward": reward}}}))
    return path


def _args(tmp: Path, reward: dict) -> list[str]:
    # a CSVLogger (metrics.csv) instead of the config's TensorBoardLogger; the reward from a config file of its own,
    # given after train/loop.yaml, as a user would
    return tiny_loop_fit(tmp, "--trainer.logger=lightning.pytorch.loggers.CSVLogger",
                         f"--trainer.logger.init_args.save_dir={tmp / 'runs'}", "-c", str(_reward_config(tmp, reward)),
                         logger=False)


@pytest.fixture(scope="module")
def fit(tmp_path_factory):
    """One round of ``metanet train fit`` with the Shifted reward: (run directory, reward calls made)."""
    tmp = tmp_path_factory.mktemp("user_reward")
    folder = str(_write_module(tmp / "mods"))
    sys.path.insert(0, folder)
    try:
        assert cli_main(_args(tmp, SHIFTED)) == 0
        calls = sys.modules[MODULE].Shifted.calls
    finally:
        sys.path.remove(folder)
        sys.modules.pop(MODULE, None)
    (run,) = (tmp / "runs" / "lightning_logs").iterdir()
    return run, calls


@pytest.fixture
def user_module(tmp_path, monkeypatch):
    """The module's folder, on sys.path; the module is not imported."""
    folder = _write_module(tmp_path / "mods")
    monkeypatch.syspath_prepend(str(folder))
    yield folder
    sys.modules.pop(MODULE, None)


def test_a_reward_class_named_in_the_config_is_used_and_saved_as_named(fit):
    run, calls = fit
    assert calls > 0
    with open(run / "metrics.csv") as f:
        means = [float(row["reward/mean"]) for row in csv.DictReader(f) if row.get("reward/mean")]
    assert means and all(100.0 <= m <= 101.0 for m in means), means  # accuracy + 100: the class's rewards
    assert yaml.safe_load((run / "hparams.yaml").read_text())["reward"] == SHIFTED
    ckpt = torch.load(run / "checkpoints" / "last.ckpt", map_location="cpu", weights_only=True)
    assert ckpt["hyper_parameters"]["reward"] == SHIFTED


def test_the_checkpoint_makes_the_reward_again_once_its_module_is_imported(fit, user_module):
    last = str(fit[0] / "checkpoints" / "last.ckpt")
    # on the path but not imported: loading it imports nothing (as Lightning's own check of a checkpoint's
    # _class_path), and says which class and module
    with pytest.raises(ConfigError, match=rf"reward class {MODULE}\.Shifted: its module {MODULE} is not imported; "
                                          r"import it before the LoopModule is made or loaded"):
        LoopModule.load_from_checkpoint(last, weights_only=True)
    assert MODULE not in sys.modules and not (user_module / f"{MODULE}.py.imported").exists()
    importlib.import_module(MODULE)
    m = LoopModule.load_from_checkpoint(last, weights_only=True)
    assert type(m.reward).__module__ == MODULE and type(m.reward).__name__ == "Shifted"
    assert m.reward.offset == 100.0


def test_a_checkpoint_naming_a_module_that_is_gone_names_the_class_on_load(fit):
    with pytest.raises(ConfigError, match=rf"reward class {MODULE}\.Shifted: its module {MODULE} is not imported"):
        LoopModule.load_from_checkpoint(str(fit[0] / "checkpoints" / "last.ckpt"), weights_only=True)


def test_a_validate_of_the_checkpoint_takes_the_reward_class_its_config_names(fit, user_module, tmp_path, capsys):
    last = fit[0] / "checkpoints" / "last.ckpt"
    plain = ["validate" if a == "fit" else a for a in tiny_loop_fit(tmp_path, f"--ckpt_path={last}", logger=False)]
    # a config that does not name the class: refused before the checkpoint's class is imported
    capsys.readouterr()
    assert cli_main(plain) == 2
    assert f"name the class '{MODULE}.Shifted'" in capsys.readouterr().err and MODULE not in sys.modules
    args = ["validate" if a == "fit" else a for a in _args(tmp_path, SHIFTED)] + [f"--ckpt_path={last}"]
    assert cli_main(args) == 0
    assert sys.modules[MODULE].Shifted.calls > 0  # the held-out tasks were scored with it


def test_the_mapping_given_from_python_is_saved_and_made_again(user_module):
    importlib.import_module(MODULE)
    m = LoopModule(writer=None, hidden=4, message=4, reward=SHIFTED)
    assert type(m.reward).__name__ == "Shifted" and m.reward.offset == 100.0
    assert m.hparams["reward"] == m.hparams_initial["reward"] == SHIFTED
    again = LoopModule(**dict(m.hparams))  # what load_from_checkpoint does without LightningCLI's instantiator
    assert type(again.reward) is type(m.reward) and again.reward.offset == 100.0


@pytest.mark.parametrize("reward, needle", [
    ({"class_path": f"{MODULE}.NotAReward"},
     rf"reward class_path {MODULE}\.NotAReward is not a Reward: give a subclass of metanet\.loop\.rewards\.Reward"),
    ({"class_path": f"{MODULE}.Missing"}, rf"reward class {MODULE}\.Missing not found: module {MODULE} has no Missing"),
    ({"class_path": "no_such_module_of_rewards.Mine"},
     r"reward class no_such_module_of_rewards\.Mine: its module no_such_module_of_rewards is not imported"),
    ({"class_path": f"{MODULE}.Shifted", "init_args": {"ofset": 1.0}},
     rf"reward class {MODULE}\.Shifted cannot be made from init_args \{{'ofset': 1\.0\}}: .*unexpected keyword"),
    ({"class_path": "Shifted"}, r"reward class_path 'Shifted' must name a module and a class"),
    ({"class_path": f"{MODULE}.Shifted", "init": {}}, r"a reward given as a mapping is \{class_path: module"),
])
def test_a_class_path_that_names_no_reward_is_a_config_error(user_module, reward, needle):
    importlib.import_module(MODULE)
    with pytest.raises(ConfigError, match=needle):
        LoopModule(writer=None, hidden=4, message=4, reward=reward)


@pytest.mark.parametrize("reward, needle", [
    ({"class_path": f"{MODULE}.NotAReward"}, f"{MODULE}.NotAReward is not a Reward"),
    ({"class_path": "no_such_module_of_rewards.Mine"}, "no_such_module_of_rewards.Mine cannot be imported"),
    # with init_args jsonargparse imports the class itself when it merges the config: its own line, naming the module
    ({"class_path": "no_such_module_of_rewards.Mine", "init_args": {"a": 1}},
     "no module named 'no_such_module_of_rewards'"),
])
def test_a_bad_reward_class_path_in_the_config_is_one_error_line(tmp_path, user_module, capsys, reward, needle):
    capsys.readouterr()
    try:
        code = cli_main(_args(tmp_path, reward))
    except SystemExit as e:  # jsonargparse's usage error
        code = e.code
    assert code == 2
    err = [line for line in capsys.readouterr().err.strip().splitlines() if not line.startswith("INFO: ")]
    assert len(err) == 1 and needle in err[0] and "error: " in err[0], err
    assert not (tmp_path / "runs").exists()  # refused before any run began


def test_a_class_named_as_a_spec_string_is_told_how_to_name_it():
    with pytest.raises(ConfigError, match=r"unknown reward term 'myrewards\.Mine'; .*a Reward class of one's own is "
                                          r"given as \{class_path: myrewards\.Mine, init_args: \{\.\.\.\}\}"):
        LoopModule(writer=None, hidden=4, message=4, reward="myrewards.Mine")
