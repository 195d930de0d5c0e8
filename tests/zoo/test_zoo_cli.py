"""``metanet zoo build | merge``: counts and output directories refused before any work (one error, exit 2), when
the help says the progress bar is drawn, and merge's output counts in the singular."""

from __future__ import annotations

import importlib

import pytest

from metanet.cli import main
from zoo_helpers import _tree

build_mod = importlib.import_module("metanet.zoo.build")  # metanet.zoo.build is also the function


@pytest.mark.parametrize("flag", ["--workers", "--threads"])
@pytest.mark.parametrize("value", ["0", "-3"])
def test_build_refuses_zero_or_negative_workers_and_threads(tmp_path, capsys, flag, value):
    """Were silently taken as 1 before; now a usage error naming the option."""
    with pytest.raises(SystemExit) as info:
        main(["zoo", "build", "tiny", "--out", str(tmp_path / "z"), "--no-progress", flag, value])
    assert info.value.code == 2
    assert f"argument {flag}: must be a whole number >= 1, got '{value}'" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_build_out_existing_file_is_one_error_line(tmp_path, capsys):
    f = tmp_path / "notadir"
    f.write_text("keep me")
    assert main(["zoo", "build", "tiny", "--out", str(f), "--limit", "1", "--no-progress"]) == 2
    assert capsys.readouterr().err.strip() == (f"metanet: error: --out {str(f)!r} is an existing file, not a "
                                               "directory; give a new or existing directory")
    assert f.read_text() == "keep me"


def test_build_out_under_a_file_is_one_error_line(tmp_path, capsys):
    f = tmp_path / "notadir"
    f.write_text("keep me")
    assert main(["zoo", "build", "tiny", "--out", str(f / "zoo"), "--limit", "1", "--no-progress"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"metanet: error: --out {str(f / 'zoo')!r}: {f} is a file, not a directory")
    assert len(err.splitlines()) == 1


def test_merge_destination_existing_file_is_one_error_line(tmp_path, capsys):
    f = tmp_path / "notadir"
    f.write_text("keep me")
    assert main(["zoo", "merge", str(f), str(tmp_path)]) == 2
    assert capsys.readouterr().err.strip() == (f"metanet: error: merge destination {str(f)!r} is an existing file, "
                                               "not a directory; give a new or existing directory")


def test_the_cli_help_says_when_the_bar_is_drawn(capsys):
    from metanet.cli import main

    with pytest.raises(SystemExit):
        main(["zoo", "build", "--help"])
    assert "only when stderr is a terminal" in " ".join(capsys.readouterr().out.split())
    assert "when stderr is a terminal" in build_mod.build.__doc__


def test_cli_refusal_is_one_line(tmp_path, capsys):
    (tmp_path / "notes.md").write_text("")
    assert main(["zoo", "build", "tiny", "--out", str(tmp_path), "--limit", "1", "--no-progress"]) == 2
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("metanet: error: ") and "'notes.md'" in lines[0], captured.err
    assert _tree(tmp_path) == ["notes.md"]


def test_zoo_merge_output_says_one_unit_and_one_network_in_the_singular(tmp_path, monkeypatch, capsys):
    import argparse
    import sys

    from metanet.zoo.cli import _merge

    zoo_build = sys.modules["metanet.zoo.build"]  # metanet.zoo.build the attribute is the build function

    monkeypatch.setattr(zoo_build, "merge", lambda out, sources: {"units_copied": 1, "nets_copied": 1,
                                                                  "units_skipped": 1, "units_repaired": 1})
    assert _merge(argparse.Namespace(out=tmp_path / "m", sources=[])) == 0
    out = capsys.readouterr().out
    assert "copied 1 unit (1 network), 1 already present" in out and "1 replaced a missing" in out
