"""``metanet generate SPEC [--out FILE] [--json]``: stdout, the saved file, and output paths refused before work."""

from __future__ import annotations

import json

import pytest
import torch

from metanet.cli import main
from metanet.io import load_meta


@pytest.fixture(scope="module")
def writer_file(tmp_path_factory):
    """A small untrained writer on disk (fast; generate only needs one that works, not a good one)."""
    from metanet.writer import Writer

    torch.manual_seed(0)
    path = tmp_path_factory.mktemp("writer") / "writer.safetensors"
    Writer(hidden=8, message=4).save(path)
    return path


def _generate(writer_file, *args: str) -> int:
    return main(["generate", "digits", "--candidates", "1", "--shots", "20", "--writer", str(writer_file), *args])


def test_cli_generate_json_with_out_is_one_json_document(tmp_path, capsys, writer_file):
    """With --json, stdout is exactly one JSON document and the saved path is in it (no 'saved' line after it)."""
    out = tmp_path / "net.safetensors"
    assert _generate(writer_file, "--json", "--out", str(out)) == 0
    data = json.loads(capsys.readouterr().out)  # the whole of stdout
    assert data["out"] == str(out) and data["task"] == "digits" and len(data["candidates"]) == 1
    assert load_meta(out)["task"] == "digits"

    assert _generate(writer_file, "--json") == 0
    assert "out" not in json.loads(capsys.readouterr().out)


def test_cli_generate_text_says_where_it_saved(tmp_path, capsys, writer_file):
    out = tmp_path / "net.safetensors"
    assert _generate(writer_file, "--out", str(out)) == 0
    text = capsys.readouterr().out
    assert text.startswith("task digits") and text.strip().splitlines()[-1] == f"saved {out}"
    assert out.is_file()


def test_cli_generate_out_directory_is_one_error_line(tmp_path, capsys, writer_file):
    assert _generate(writer_file, "--out", str(tmp_path)) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.strip() == (f"metanet: error: --out {str(tmp_path)!r} is a directory; give a file path, "
                                    f"e.g. {tmp_path / 'net.safetensors'}")
    assert [p.name for p in tmp_path.iterdir()] == []
