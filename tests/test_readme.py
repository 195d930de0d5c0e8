"""The README's commands are the project's contract: CI runs its test command verbatim, and its Python example runs."""

from __future__ import annotations

import re
import shlex
import shutil
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()


def _bash_blocks() -> list[str]:
    return [b.strip() for b in re.findall(r"```bash\n(.*?)```", README, flags=re.S)]


def test_readme_has_the_two_commands():
    blocks = _bash_blocks()
    main, tests = blocks[0], blocks[1]
    assert main.startswith("pip install torch==2.13.0") and "metanet" in main.split("&&")[-1]
    assert tests.startswith("pip install torch==2.13.0") and "pytest" in tests


def test_ci_runs_the_readme_test_command_verbatim():
    ci = (ROOT / ".ci" / "run").read_text()
    assert _bash_blocks()[1] in ci.splitlines()


def test_ci_installs_cpu_torch_before_the_package():
    ci = (ROOT / ".ci" / "run").read_text()
    assert ci.index("torch==2.13.0") < ci.index('pip install -e ".[dev]"')


def _commands(block: str) -> list[list[str]]:
    """The commands of a bash block: one per line, comments dropped."""
    return [shlex.split(line, comments=True) for line in block.splitlines() if line.split("#")[0].strip()]


#: how each README command is cut to CI size (same command, smaller run): a prefix -> extra arguments
REDUCED = [
    (["metanet", "demo"], ["--quick", "--candidates", "2", "--rounds", "1"]),  # test_demo covers K=4, 2 rounds
    (["metanet", "zoo", "build"], ["--limit", "12", "--no-progress"]),
    (["metanet", "train", "fit"], ["--trainer.fast_dev_run=2"]),
]


def _is_ddp(cmd: list[str]) -> bool:
    return any(a.startswith("--trainer.strategy=ddp") for a in cmd)


def readme_ddp_command() -> list[str]:
    """README's DDP command (``metanet train fit ... --trainer.strategy=ddp ...``), as shlex splits it. A DDP run is
    two fresh processes: tests/train/test_train_ddp.py::test_reader_fits_with_ddp_on_two_processes runs this command
    (on the fixture's zoo, with its own extra flags), and :func:`test_readme_shell_blocks_run` checks that it does."""
    found = [cmd for block in _bash_blocks()[2:] for cmd in _commands(block) if _is_ddp(cmd)]
    assert len(found) == 1, f"README should show one DDP command, not {len(found)}"
    return found[0]


def _reduced(cmd: list[str]) -> list[str]:
    for prefix, extra in REDUCED:
        if cmd[: len(prefix)] == prefix:
            return cmd + extra
    return cmd


@pytest.fixture
def in_checkout_copy(tmp_path, monkeypatch):
    """Run README commands in a scratch folder that has the checkout's ``zoo/`` and ``train/`` as the README
    assumes (commands name ``zoo/tiny.yaml`` and ``train/*.yaml`` relative to the repository root)."""
    for name in ("zoo", "train"):
        shutil.copytree(ROOT / name, tmp_path / name)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_readme_python_blocks_run(in_checkout_copy):
    blocks = re.findall(r"```python\n(.*?)```", README, flags=re.S)
    assert len(blocks) >= 2, "the README has a Python tour and a zoo example"
    for block in blocks:
        exec(compile(block, "README.md", "exec"), {})
    assert (in_checkout_copy / "mnist-net.safetensors").is_file()
    assert (in_checkout_copy / "mnist-net-inspect" / "neurons.sqlite").is_file()
    assert (in_checkout_copy / "zoos" / "tiny-slice" / "index.sqlite").is_file()


def test_readme_yaml_recipe_is_valid():
    from metanet.zoo import load_recipe

    blocks = re.findall(r"```yaml\n(.*?)```", README, flags=re.S)
    assert blocks, "the README shows a recipe"
    for block in blocks:
        recipe = load_recipe(yaml.safe_load(block))
        assert len(recipe.runs()) == recipe.count


@pytest.mark.slow
def test_readme_main_command_runs(in_checkout_copy, capsys):
    from metanet.cli import main

    command = shlex.split(_bash_blocks()[0].split("&&")[-1])
    assert command[:2] == ["metanet", "demo"]
    assert main(_reduced(command)[1:]) == 0
    out = capsys.readouterr().out
    assert "tensorboard --logdir" in out
    assert (in_checkout_copy / "metanet-demo" / "generated.safetensors").is_file()


@pytest.mark.slow
def test_readme_shell_blocks_run(in_checkout_copy, capsys):
    """Every command of every other bash block, in order, at CI size; each must exit 0."""
    from metanet.cli import main

    ran = []
    for block in _bash_blocks()[2:]:
        for cmd in _commands(block):
            assert cmd[0] == "metanet", f"README command {' '.join(cmd)!r} is not a metanet command"
            if _is_ddp(cmd):
                # DDP re-launches the command line for its other ranks: two fresh processes. The DDP test runs this
                # very command (every flag, the zoo swapped for its fixture's, its extra flags after them)
                from tests.train.test_train_ddp import reader_ddp_args

                zoo = in_checkout_copy / "fixture zoo"  # a stand-in for the fixture's zoo
                args = reader_ddp_args(zoo, in_checkout_copy)
                assert args[:3] == [sys.executable, "-m", "metanet.train"], args
                want = [f"--data.zoos=[{zoo}]" if a.startswith("--data.zoos=") else a for a in cmd[2:]]
                assert args[3: 3 + len(want)] == want, (args, cmd)
                ran.append("ddp")
                continue
            code = main(_reduced(cmd)[1:])
            out = capsys.readouterr()
            assert code in (0, None), f"{' '.join(cmd)} exited {code}:\n{out.out[-2000:]}\n{out.err[-2000:]}"
            ran.append(cmd[1])
    assert {"generate", "verify", "read", "inspect", "edit", "graph", "zoo", "train", "ddp"} <= set(ran)
    assert (in_checkout_copy / "boots-pruned.safetensors").is_file()
