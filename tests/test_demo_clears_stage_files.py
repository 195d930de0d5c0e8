"""A demo run first removes the files an earlier run wrote after its zoo stage (an interrupted run left its
predecessor's inspect/ and pruned.safetensors beside a new generated.safetensors), and keeps the zoo it resumes."""

from __future__ import annotations

from metanet.demo import _STAGE_FILES, _clear_outputs


def test_the_files_of_the_stages_after_the_zoo_are_removed_and_the_zoo_kept(tmp_path):
    for name in (*_STAGE_FILES, "zoo/zoo.sqlite"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes(b"old")
    _clear_outputs(tmp_path)
    assert [n for n in _STAGE_FILES if (tmp_path / n).exists()] == []
    assert (tmp_path / "zoo/zoo.sqlite").read_bytes() == b"old"
