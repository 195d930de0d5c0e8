"""The README's commands are the project's contract: CI runs its test command verbatim, and its Python example runs."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

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


def test_readme_python_example_runs(tmp_path, monkeypatch):
    blocks = re.findall(r"```python\n(.*?)```", README, flags=re.S)
    assert blocks, "the README has a Python example"
    monkeypatch.chdir(tmp_path)
    for block in blocks:
        exec(compile(block, "README.md", "exec"), {})
    assert (tmp_path / "mnist-net.safetensors").is_file()


def test_readme_main_command_runs(tmp_path, monkeypatch, capsys):
    from metanet.cli import main

    command = shlex.split(_bash_blocks()[0].split("&&")[-1])
    assert command[0] == "metanet"
    monkeypatch.chdir(tmp_path)
    args = command[1:]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "test accuracy" in out and (tmp_path / "mnist-net.safetensors").is_file()
