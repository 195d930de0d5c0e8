"""A ``random`` backdoor trigger is never all zero: such a draw (1 in 2**(size*size): 1 in 16 for size 2, 1 in 512
for size 3) stamped nothing on a zero background, so its run was stored as backdoored while carrying no backdoor
(its stored ``asr`` at chance). The fix sets the centre pixel and draws nothing more: every other draw is unchanged."""

from __future__ import annotations

import numpy as np

from metanet.zoo import load_recipe


def _recipe(size: int):
    return load_recipe({"name": "t", "seed": 0, "count": 1, "tasks": ["digits"], "checkpoints": [1],
                        "arch": {"family": "mlp", "depth": 1, "width": 8}, "train": {"epochs": 1},
                        "backdoor": {"fraction": 1.0, "kind": "random", "size": size, "target": 0,
                                     "poison_rate": {"uniform": [0.05, 0.2]}}},
                       check_tasks=False)


def test_an_all_zero_draw_gets_its_centre_pixel_and_nothing_else_changes():
    recipe = _recipe(3)
    seed = 801  # its 3x3 draw is all zero: rng.integers(0, 2, (3, 3)) after the kind, size and target draws
    drawn = recipe._sample_backdoor(np.random.default_rng(seed), "digits", (1, 8, 8), 10)
    assert drawn["pattern"] == [[0, 0, 0], [0, 1, 0], [0, 0, 0]], drawn["pattern"]
    # the draw after the pattern (the poison rate) is the stream's next one, as without the fix
    rng = np.random.default_rng(seed)
    assert rng.integers(0, 2, size=(3, 3)).tolist() == [[0] * 3] * 3  # kind, size, target: constants, no draw
    assert drawn["poison_rate"] == recipe.backdoor["poison_rate"].sample(rng)


def test_no_random_trigger_is_blank():
    recipe = _recipe(2)  # 1 in 16 draws all zero
    patterns = [recipe._sample_backdoor(np.random.default_rng(s), "digits", (1, 8, 8), 10)["pattern"]
                for s in range(200)]
    assert all(any(map(any, p)) for p in patterns)
    assert len({str(p) for p in patterns}) == 15  # every non-zero 2x2 pattern still drawn
