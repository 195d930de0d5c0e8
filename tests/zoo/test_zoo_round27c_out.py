"""``metanet zoo build RECIPE --out DIR`` into an existing directory: a zoo directory holds only its recipe, index
and shards (DESIGN.md, "Zoo directory"), so a non-empty DIR that is not a zoo is refused before anything is
written; an empty DIR, a DIR a stopped build left, and a zoo of the same recipe (resumed) are fine."""

from __future__ import annotations

import pytest

from metanet.cli import main
from metanet.errors import ZooError
from metanet.zoo import build, merge


def _tree(path) -> list[str]:
    return sorted(str(p.relative_to(path)) for p in path.rglob("*"))


def test_build_refuses_a_non_empty_directory_that_is_not_a_zoo(tmp_path, small_recipe):
    out = tmp_path / "my docs"
    out.mkdir()
    (out / "thesis.tex").write_text("years of work")
    (out / "figures").mkdir()
    with pytest.raises(ZooError) as info:
        build(small_recipe, out, limit=1, progress=False)
    message = str(info.value)
    assert str(out) in message and "'figures', 'thesis.tex'" in message and "not a zoo" in message
    assert "new or empty directory" in message
    assert _tree(out) == ["figures", "thesis.tex"]  # no index, shards or recipe scattered among the user's files


def test_build_names_only_a_few_of_many_files(tmp_path, small_recipe):
    for i in range(7):
        (tmp_path / f"f{i}.txt").write_text("")
    with pytest.raises(ZooError, match=r"'f0.txt', 'f1.txt', 'f2.txt' and 4 more"):
        build(small_recipe, tmp_path, limit=1, progress=False)


def test_cli_refusal_is_one_line(tmp_path, capsys):
    (tmp_path / "notes.md").write_text("")
    assert main(["zoo", "build", "tiny", "--out", str(tmp_path), "--limit", "1", "--no-progress"]) == 2
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("metanet: error: ") and "'notes.md'" in lines[0], captured.err
    assert _tree(tmp_path) == ["notes.md"]


def test_empty_directory_a_stopped_build_and_a_zoo_of_the_recipe_are_built_into(tmp_path, small_recipe):
    out = tmp_path / "zoo"
    (out / "shards").mkdir(parents=True)  # what a build stopped before its index was written leaves
    (out / ".lock").write_text("")
    first = build(small_recipe, out, limit=1, progress=False)
    assert first.units_built >= 1
    (out / "NOTES.md").write_text("built for the paper")  # a zoo (it has its index): resumed, not refused
    again = build(small_recipe, out, limit=1, progress=False)
    assert again.units_built == 0 and again.units_skipped == first.units_built

    empty = tmp_path / "empty"
    empty.mkdir()
    assert build(small_recipe, empty, limit=1, progress=False).units_built == first.units_built


def test_merge_refuses_a_non_empty_directory_that_is_not_a_zoo(tmp_path, small_recipe):
    src = tmp_path / "shard"
    build(small_recipe, src, limit=1, progress=False)
    out = tmp_path / "my docs"
    out.mkdir()
    (out / "thesis.tex").write_text("years of work")
    with pytest.raises(ZooError, match=r"not empty and not a zoo .*'thesis.tex'"):
        merge(out, [src])
    assert _tree(out) == ["thesis.tex"]
