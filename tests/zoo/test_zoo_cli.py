"""``metanet zoo build | merge``: counts and output directories refused before any work (one error, exit 2)."""

from __future__ import annotations

import pytest

from metanet.cli import main


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
