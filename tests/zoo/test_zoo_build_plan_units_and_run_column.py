"""The build's plan and the ``run`` column, as :mod:`metanet.zoo.build` and DESIGN.md ("Zoo directory") state them:
a group's runs, sorted by task, are cut into units of at most ``population`` runs (consecutive chunks, each full but
the last), and every stored network's ``run`` is the index of the recipe run it is a checkpoint of."""

from __future__ import annotations

from metanet.zoo import Zoo
from metanet.zoo.build import plan
from metanet.zoo.recipe import load_recipe


def test_units_are_chunks_of_at_most_population_runs(small_recipe):
    small_recipe["arch"].update(depth=1, activation="relu", skip=0.0)
    small_recipe["train"]["optimizer"] = "adam"
    recipe = load_recipe(small_recipe)  # 8 runs in one group, population 3: units of 3, 3 and 2 runs
    units = plan(recipe)
    assert [u.index for u in units] == list(range(len(units)))
    by_group: dict[tuple, list[list[int]]] = {}
    for u in units:
        keys = {r.group_key() for r in u.runs}
        assert len(keys) == 1  # one architecture and training setup per population
        by_group.setdefault(keys.pop(), []).append([r.index for r in u.runs])
    assert sorted(r for g in by_group.values() for chunk in g for r in chunk) == list(range(8))
    for chunks in by_group.values():
        assert all(len(c) == recipe.population for c in chunks[:-1]) and 1 <= len(chunks[-1]) <= recipe.population
        flat = [r for c in chunks for r in c]
        assert flat == sorted(flat)  # one task: sorted by run index, cut in order
    assert [len(u.runs) for u in units] == [3, 3, 2]


def test_run_column_is_the_recipe_run_index(small_zoo, small_recipe):
    owner = {nid: r.index for r in load_recipe(small_recipe).runs() for nid in r.ids}
    with Zoo(small_zoo) as zoo:
        nets = list(zoo)
    assert len(nets) == len(owner)
    assert all(n.run == owner[n.id] for n in nets)
    assert sorted({n.run for n in nets}) == list(range(8))


def test_a_groups_runs_are_sorted_by_task_before_they_are_cut(small_recipe):
    """Two tasks in one group: units hold runs of one task where they can (sorted by task, then run index)."""
    small_recipe.update(tasks=["digits+invert", "digits"], count=12, population=4)
    small_recipe["arch"].update(depth=1, activation="relu", skip=0.0)
    small_recipe["train"]["optimizer"] = "adam"
    units = plan(load_recipe(small_recipe))
    runs = [r for u in units for r in u.runs]
    assert len({r.task for r in runs}) == 2 and len({r.group_key() for r in runs}) == 1
    assert [(r.task, r.index) for r in runs] == sorted((r.task, r.index) for r in runs)
    assert [r.index for r in runs] != sorted(r.index for r in runs)  # the tasks interleave in run order
