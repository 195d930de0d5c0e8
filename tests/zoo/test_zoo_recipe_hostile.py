"""A recipe from a stranger: YAML aliases that repeat each other (a 'billion laughs' file: a few hundred bytes that
expand to 10**9 values), a count of 10**12 runs, a depth of a million layers. Loading it must be a RecipeError
naming the problem, at once: expanding the aliases (to plain values, or in an error message's repr) hung until
memory ran out, and a build planned 10**12 runs or networks no zoo can read back."""

from __future__ import annotations

import pytest

from metanet.cli import main
from metanet.errors import RecipeError
from metanet.io import MAX_LAYERS
from metanet.zoo import load_recipe
from metanet.zoo.recipe import MAX_RUNS

BASE = "name: hostile\ncount: 2\ntasks: [digits]\n"


def _laughs(levels: int = 9, width: int = 10) -> str:
    """A YAML list whose last item expands to width**levels strings."""
    items = [f"&a0 [{', '.join(['lol'] * width)}]"]
    items += [f"&a{i} [{', '.join([f'*a{i - 1}'] * width)}]" for i in range(1, levels)]
    return f"[{', '.join(items)}]"


@pytest.mark.parametrize("where", ["description: {}", "checkpoints: {}", "arch: {{width: {}}}",
                                   "train: {{lr: {{log_uniform: {}}}}}", "eval: {{train_examples: {}}}",
                                   "name: {}"])
def test_yaml_aliases_expanding_to_a_billion_values_are_refused(tmp_path, where):
    text = BASE.replace("name: hostile\n", "") if where.startswith("name") else BASE
    path = tmp_path / "laughs.yaml"
    path.write_text(text + where.format(_laughs()) + "\n")
    with pytest.raises(RecipeError, match=r"laughs\.yaml: .*aliases"):
        load_recipe(path, check_tasks=False)


def test_a_list_that_holds_itself_is_a_recipe_error_also_in_the_cli(tmp_path, capsys):
    path = tmp_path / "cycle.yaml"
    path.write_text(BASE + "description: &a [x, *a]\n")
    with pytest.raises(RecipeError, match=r"cycle\.yaml: .*holds itself"):
        load_recipe(path, check_tasks=False)
    assert main(["zoo", "build", str(path), "--out", str(tmp_path / "zoo")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "holds itself" in err[0], err
    assert not (tmp_path / "zoo").exists()


def test_a_recipe_mapping_nested_too_deeply_is_a_recipe_error():
    d: dict = {"count": 2, "tasks": ["digits"], "arch": {}}
    inner = d["arch"]
    for _ in range(100_000):
        inner["width"] = {}
        inner = inner["width"]
    with pytest.raises(RecipeError, match="nested too deeply"):
        load_recipe(d, check_tasks=False)


def test_a_mapping_built_in_python_that_shares_a_list_many_times_is_refused():
    shared: list = ["lol"] * 10
    for _ in range(8):
        shared = [shared] * 10
    with pytest.raises(RecipeError, match="aliases"):
        load_recipe({"count": 2, "tasks": ["digits"], "description": shared}, check_tasks=False)


def test_aliases_of_a_few_values_still_load(tmp_path):
    path = tmp_path / "anchors.yaml"
    path.write_text(BASE + "arch: {width: &w [16, 32]}\ntrain: {batch_size: *w}\n")
    r = load_recipe(path, check_tasks=False)
    assert r.to_dict()["train"]["batch_size"] == [16, 32]


def test_a_count_past_the_largest_is_refused_at_load():
    with pytest.raises(RecipeError, match=rf"'count' must be an integer in \[1, {MAX_RUNS}\]; got 1000000000000"):
        load_recipe({"count": 10**12, "tasks": ["digits"]}, check_tasks=False)
    assert load_recipe({"count": MAX_RUNS, "tasks": ["digits"]}, check_tasks=False).count == MAX_RUNS


def test_a_depth_past_what_metanet_reads_back_is_refused_at_load():
    # a network of more than MAX_LAYERS layers: metanet.load and Zoo.load refuse it
    with pytest.raises(RecipeError, match=r"arch\.depth"):
        load_recipe({"count": 2, "tasks": ["digits"], "arch": {"depth": [1, 10**6]}}, check_tasks=False)
    r = load_recipe({"count": 2, "tasks": ["digits"], "arch": {"depth": MAX_LAYERS - 1}}, check_tasks=False)
    assert r.arch["depth"].bounds() == [MAX_LAYERS - 1]
