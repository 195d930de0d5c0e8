"""Packaging: what a non-editable install (``pip install .``, a wheel) gets. Building a wheel is too slow for the
suite; these check pyproject's package-data patterns against the files the code loads from the package directory."""

from __future__ import annotations

import fnmatch
from pathlib import Path

import pytest

import metanet

ROOT = Path(__file__).resolve().parents[1]
PKG = Path(metanet.__file__).resolve().parent

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    tomllib = pytest.importorskip("tomli")


def _package_data() -> list[str]:
    with open(ROOT / "pyproject.toml", "rb") as f:
        return tomllib.load(f)["tool"]["setuptools"]["package-data"]["metanet"]


def _shipped(path: Path) -> bool:
    rel = path.resolve().relative_to(PKG).as_posix()
    return any(fnmatch.fnmatchcase(rel, pattern) for pattern in _package_data())


def _data_files() -> list[Path]:
    """Every file of the package directory that is not Python source or bytecode (hidden files aside)."""
    return sorted(p for p in PKG.rglob("*") if p.is_file() and p.suffix not in (".py", ".pyc")
                  and "__pycache__" not in p.parts and not p.name.startswith("."))


def test_package_data_covers_every_non_python_file():
    missing = [str(p.relative_to(PKG)) for p in _data_files() if not _shipped(p)]
    assert not missing, f"not in pyproject's [tool.setuptools.package-data] metanet (absent from a wheel): {missing}"


def test_every_package_data_pattern_matches_a_file():
    # a pattern that matches nothing ships nothing: py.typed was listed while the file did not exist
    files = [p.relative_to(PKG).as_posix() for p in _data_files()]
    for pattern in _package_data():
        assert fnmatch.filter(files, pattern), f"package-data pattern {pattern!r} matches no file in metanet/"


def test_files_the_code_loads_are_package_data():
    from metanet.checkpoints import shipped
    from metanet.demo import tiny_recipe
    from metanet.zoo.recipe import _recipe_dirs

    loaded = [shipped("writer"), shipped("reader"), tiny_recipe(), PKG / "checkpoints" / "README.md"]
    package_recipes = [d for d in _recipe_dirs() if d.resolve().is_relative_to(PKG)]
    assert package_recipes == [PKG / "recipes"]
    loaded += sorted((PKG / "recipes").glob("*.yaml"))
    for path in loaded:
        assert path.is_file(), path
        assert _shipped(path), f"{path.relative_to(PKG)} is loaded at run time but is not package data"


def test_the_package_is_marked_typed():
    assert (PKG / "py.typed").is_file()
    assert _shipped(PKG / "py.typed")


def test_the_sdist_carries_what_the_tests_read():
    # setuptools alone put tests/test_*.py into the sdist without their conftest.py, their subfolders or the
    # zoo/, train/, bench/ and .ci/run they read
    lines = {line.strip() for line in (ROOT / "MANIFEST.in").read_text().splitlines()}
    for folder in ("tests", "zoo", "train", "bench"):
        assert f"graft {folder}" in lines
    assert "include .ci/run" in lines
    assert not any(line.split()[-1:] in (["zoos"], ["runs"]) for line in lines if line.startswith(("graft", "include")))


def test_import_metanet_leaves_heavy_optional_libraries_unloaded():
    # scikit-learn (~1 s, for one stratified split) was imported by every `import metanet` and every CLI command
    import subprocess
    import sys

    code = "import sys, metanet; print(sorted(m for m in ('sklearn', 'lightning', 'ray') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_building_the_cli_parser_does_not_load_pytorch_geometric():
    # `metanet --help` (and every command's start) imported metanet.writer, i.e. PyTorch Geometric: ~3 s
    import subprocess
    import sys

    code = "import sys; from metanet.cli import build_parser; build_parser(); print('torch_geometric' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"
