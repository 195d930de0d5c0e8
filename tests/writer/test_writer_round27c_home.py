"""Round 27c: Writer.load of a path under ``~`` (the loader expands it; naming the file for the report did not)."""

from __future__ import annotations

from metanet.writer import Writer


def test_a_writer_saved_under_home_loads_and_is_named_by_its_file(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    Writer.load().save(tmp_path / "w.safetensors")
    w = Writer.load("~/w.safetensors")
    ident = w.identity()
    assert ident["source"] == "file" and ident["path"] == str((tmp_path / "w.safetensors").resolve())
