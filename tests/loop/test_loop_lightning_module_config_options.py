"""Every LoopConfig option is a LoopModule option that reaches the loop's config: a mutant that dropped
``temperature`` on the way (every Lightning run distilling at the default 2.0) passed the tests, and
``refine_population`` / ``refine_sigma`` could not be set from a Lightning config at all (``improve`` took them)."""

from __future__ import annotations

from dataclasses import asdict, fields

from metanet.loop import LoopConfig
from metanet.loop.lightning import LoopModule

GIVEN = dict(method="awr", candidates=3, keep=2, temperature=3.5, beta=0.7, sigma=0.2, mixup=2, ce_weight=0.3,
             refine_steps=5, refine_method="perturbation", refine_population=7, refine_sigma=0.03, selection="crossfit",
             folds=3)


def test_every_loop_option_of_the_module_reaches_its_loop_config():
    defaults = asdict(LoopConfig())
    assert set(GIVEN) == {f.name for f in fields(LoopConfig)}  # a new LoopConfig option is added here too
    assert all(GIVEN[k] != defaults[k] for k in GIVEN)  # each differs from its default, so a dropped one shows
    module = LoopModule(writer=None, hidden=8, message=4, **GIVEN)
    assert asdict(module.cfg) == GIVEN
