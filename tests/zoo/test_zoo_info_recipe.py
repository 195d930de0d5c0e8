"""``metanet zoo info`` / ``Zoo.summary()`` of a zoo that holds no networks yet (a build just started, or a shard
that got no units): the recipe name its build recorded, not "recipe -" (the name was read off the networks only)."""

from __future__ import annotations

import json

import pytest

from metanet.cli import main
from metanet.zoo import Zoo, build


@pytest.fixture
def empty_zoo(small_recipe, tmp_path):
    small_recipe["name"] = "small-test"
    out = tmp_path / "zoo"
    build(small_recipe, out, shard="999/1000", limit=1, progress=False)  # unit 0 is not this shard's: none built
    return out


def test_a_zoo_without_networks_names_its_recipe(empty_zoo, capsys):
    with Zoo(empty_zoo) as zoo:
        assert len(zoo) == 0
        assert zoo.summary()["recipe"] == ["small-test"]
    assert main(["zoo", "info", str(empty_zoo)]) == 0
    assert capsys.readouterr().out.splitlines()[0] == f"zoo {empty_zoo}  recipe small-test"
    assert main(["zoo", "info", str(empty_zoo), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["recipe"] == ["small-test"]


def test_a_zoo_that_records_no_recipe_still_shows_a_dash(tmp_path, capsys):
    from metanet.zoo.store import Store

    with Store(tmp_path / "bare", create=True):  # an index of no build at all: nothing to name
        pass
    assert main(["zoo", "info", str(tmp_path / "bare")]) == 0
    assert capsys.readouterr().out.splitlines()[0] == f"zoo {tmp_path / 'bare'}  recipe -"
