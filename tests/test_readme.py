"""The README's commands are the project's contract: CI runs its test command verbatim, and its Python example runs."""

from __future__ import annotations

import re
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
