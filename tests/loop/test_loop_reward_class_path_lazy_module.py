"""A reward ``class_path`` is looked up in its (already imported) module's own names, never through the module's
lazy ``__getattr__``: that hook runs code (torch's imports its lazy submodules), which a checkpoint naming
``module.anything`` must not trigger."""

import sys
import types

import pytest

from metanet.errors import ConfigError
from metanet.loop.lightning import _reward_from_class_path


def test_a_lazy_module_attribute_is_not_resolved(monkeypatch):
    calls = []
    mod = types.ModuleType("_lazy_rewards_mod")

    def __getattr__(name):
        calls.append(name)
        raise AttributeError(name)

    mod.__getattr__ = __getattr__
    monkeypatch.setitem(sys.modules, "_lazy_rewards_mod", mod)
    with pytest.raises(ConfigError, match="module _lazy_rewards_mod has no Planted"):
        _reward_from_class_path({"class_path": "_lazy_rewards_mod.Planted"})
    assert calls == []
