"""``evaluate_population`` on a population of several tasks scores each poisoned member's own attack success rate
(``metanet/zoo/train.py``): members are grouped by task, and the trigger test set must meet the member's own
parameters, not those of the member at its position within the task group."""

from __future__ import annotations

from metanet.zoo.data import load_task_data
from metanet.zoo.recipe import load_recipe
from metanet.zoo.train import FlatParams, evaluate_population, init_params


def test_each_members_asr_is_its_own_in_a_population_of_several_tasks() -> None:
    tasks = ["digits", "digits+permute(1)", "digits+permute(1)"]
    data = {t: load_task_data(t, 200, 100, 7) for t in set(tasks)}
    recipe = load_recipe({"name": "asr", "seed": 5, "count": 3, "tasks": ["digits"], "checkpoints": [0],
                          "arch": {"family": "mlp", "depth": 1, "width": 8}, "train": {"epochs": 1},
                          "backdoor": {"fraction": 1.0, "size": 3, "target": "random"}}, check_tasks=False)
    runs = recipe.runs(task_info=lambda t: ((1, 8, 8), 10, 200))
    for r, t in zip(runs, tasks):
        r.task = t
    layout = FlatParams([init_params(r) for r in runs])
    together = evaluate_population(runs[0].arch, layout.views(layout.flat), runs, data)
    for j, r in enumerate(runs):
        alone = evaluate_population(r.arch, {k: v[j : j + 1] for k, v in layout.views(layout.flat).items()}, [r], data)
        assert together[j]["asr"] == alone[0]["asr"], j
        assert together[j]["test_acc"] == alone[0]["test_acc"], j
