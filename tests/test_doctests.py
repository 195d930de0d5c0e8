"""The ``>>>`` examples in metanet's docstrings run and show what they print (doctest), so they stay true.

Each module's examples run in a fresh scratch directory (they write files such as ``edited.safetensors`` and
``zoos/tiny-slice``), with ``zoos/tiny`` there pointing at the tiny zoo (the ``tiny_zoo`` fixture), as the
examples of :mod:`metanet.zoo.zoo` assume. Examples that cannot run in seconds offline carry ``# doctest: +SKIP``.
"""

from __future__ import annotations

import doctest
import importlib
import io
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

#: the modules whose docstrings hold ``>>>`` examples
MODULES = [
    "metanet.tasks",
    "metanet.zoo",
    "metanet.zoo.zoo",
    "metanet.edit",
    "metanet.inspect",
    "metanet.loop",
    "metanet.demo",
]

#: examples that need the tiny zoo at ``zoos/tiny``
NEEDS_TINY_ZOO = {"metanet.zoo.zoo"}

#: examples that need the full fashion-mnist (the Debian package ``dataset-fashion-mnist``)
NEEDS_FASHION = {"metanet.tasks"}

FLAGS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def test_every_module_with_examples_is_checked():
    found = sorted(_module_name(p) for p in (ROOT / "metanet").rglob("*.py") if ">>>" in p.read_text("utf-8"))
    assert found == sorted(MODULES), "update MODULES: the modules whose docstrings hold >>> examples changed"


def run_examples(module) -> tuple[doctest.TestResults, str]:
    """Run every docstring example of ``module`` (its own objects only); return the results and the report."""
    out = io.StringIO()
    runner = doctest.DocTestRunner(optionflags=FLAGS)
    for test in doctest.DocTestFinder(exclude_empty=True).find(module, module.__name__):
        runner.run(test, out=out.write)
    return runner.summarize(verbose=False), out.getvalue()


@pytest.mark.parametrize("name", MODULES)
def test_examples(name, tmp_path, monkeypatch, request):
    if name in NEEDS_TINY_ZOO:
        zoo = request.getfixturevalue("tiny_zoo")
        (tmp_path / "zoos").mkdir()
        (tmp_path / "zoos" / "tiny").symlink_to(Path(zoo).resolve(), target_is_directory=True)
    if name in NEEDS_FASHION:
        from metanet import tasks
        from metanet.errors import TaskError

        try:
            tasks.get("fashion-mnist")
        except TaskError as e:
            pytest.skip(str(e))
    monkeypatch.chdir(tmp_path)
    module = importlib.import_module(name)
    results, report = run_examples(module)
    assert results.attempted > 0, f"{name} has no examples"
    assert results.failed == 0, f"{results.failed} of {results.attempted} examples of {name} failed:\n{report}"
