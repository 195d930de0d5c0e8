"""One check of a seed (:func:`metanet.errors.check_seed`): the loop's functions and the writer's and loop's Lightning
data modules refuse the same values (bools, floats, text, None) with the same ConfigError, naming the option.
The writer's data module said "(an integer)" where the rest say "(any integer)", and the loop's data module reported
the sampler's "episode seed must be an integer" from setup, naming none of its options."""

from __future__ import annotations

import re

import numpy as np
import pytest

from metanet.errors import ConfigError, check_seed

BAD = [True, False, 1.5, 1.0, float("nan"), "0", None, [0]]


def _entry_points():
    from metanet.loop import from_task
    from metanet.loop.lightning import LoopDataModule
    from metanet.writer.lightning import EpisodeDataModule

    return {
        "seed": lambda s: check_seed(s),
        "loop task seed": lambda s: from_task("digits", seed=s),
        "writer data seed": lambda s: EpisodeDataModule(bases=("digits",), seed=s).setup("fit"),
        "loop data seed": lambda s: LoopDataModule(bases=("digits",), seed=s).prepare_data(),
    }


@pytest.mark.parametrize("entry", ["seed", "loop task seed", "writer data seed", "loop data seed"])
@pytest.mark.parametrize("seed", BAD, ids=repr)
def test_every_seed_option_refuses_the_same_values_alike(entry, seed):
    name = "seed" if entry == "loop task seed" else entry  # from_task's argument is plain `seed`
    with pytest.raises(ConfigError, match=rf"^need {name} \(any integer\) \(a finite integer\), "
                                          rf"got {re.escape(repr(seed))}$"):
        _entry_points()[entry](seed)


@pytest.mark.parametrize("seed", [0, -3, 2**70, np.int64(7), np.uint8(3)])
def test_integers_are_taken_as_python_ints(seed):
    got = check_seed(seed)
    assert got == int(seed) and type(got) is int
