"""A reward ``class_path`` may name a Reward class by its metanet package, as users import it
(``metanet.loop.SizePenalty``): the package imports its submodules on first use, so the class is not among the
package's own names until then; it is resolved from the package's own lazy table (metanet's submodule, no code a
checkpoint chose), as it was when the package imported every submodule eagerly. Any other module's ``__getattr__``
is still never called (tests/loop/test_loop_reward_class_path_lazy_module.py)."""

import pytest

import metanet.loop
from metanet.errors import ConfigError
from metanet.loop.lightning import _reward_from_class_path
from metanet.loop.rewards import AccuracyReward, SizePenalty


@pytest.mark.parametrize("name, cls", [("AccuracyReward", AccuracyReward), ("SizePenalty", SizePenalty)])
def test_a_reward_named_by_its_package_is_made(monkeypatch, name, cls):
    # as in a fresh process: the package has not yet bound the name (another test may have used it)
    monkeypatch.delattr(metanet.loop, name, raising=False)
    assert name not in vars(metanet.loop)
    init = {"weight": 0.1} if cls is SizePenalty else {}
    reward = _reward_from_class_path({"class_path": f"metanet.loop.{name}", "init_args": init})
    assert type(reward) is cls


def test_a_name_the_package_does_not_define_is_still_refused(monkeypatch):
    with pytest.raises(ConfigError, match="module metanet.loop has no Planted"):
        _reward_from_class_path({"class_path": "metanet.loop.Planted"})
    # nor is a submodule imported for a name: `cli` would be a module, never a Reward
    with pytest.raises(ConfigError, match="module metanet.loop has no cli|is not a Reward"):
        _reward_from_class_path({"class_path": "metanet.loop.cli"})
