"""Round 27c: refine(method="sgd") ignores the perturbation-only settings (population, sigma) it does not use;
a value of the wrong kind (text, NaN, a fraction of a pair) is still refused for every method."""

import pytest
import torch
from torch import nn

from metanet.errors import ConfigError
from metanet.loop import refine


def _net() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(nn.Flatten(), nn.Linear(64, 16), nn.ReLU(), nn.Linear(16, 10))


@pytest.mark.parametrize("kwargs", [{"population": 0}, {"population": -3}, {"sigma": 0.0}, {"sigma": -1.0}])
def test_sgd_ignores_perturbation_settings_out_of_their_range(digits_pool, kwargs):
    x, y = digits_pool
    res = refine(_net(), (x[:64], y[:64]), method="sgd", steps=2, verify_on=None, **kwargs)
    plain = refine(_net(), (x[:64], y[:64]), method="sgd", steps=2, verify_on=None)
    assert res.history == plain.history  # ignored: the same steps as with the defaults
    for a, b in zip(res.model.parameters(), plain.model.parameters()):
        assert torch.equal(a, b)


@pytest.mark.parametrize("method", ["perturbation", "activity"])
@pytest.mark.parametrize("kwargs, message", [({"population": 0}, "population >= 1"), ({"sigma": 0.0}, "sigma > 0")])
def test_the_perturbation_methods_still_refuse_them(digits_pool, method, kwargs, message):
    x, y = digits_pool
    with pytest.raises(ConfigError, match=message):
        refine(_net(), (x[:64], y[:64]), method=method, steps=2, verify_on=None, **kwargs)


@pytest.mark.parametrize("kwargs, message", [({"population": "32"}, "population"), ({"population": 2.5}, "population"),
                                             ({"population": True}, "population"), ({"sigma": "0.02"}, "sigma"),
                                             ({"sigma": float("nan")}, "sigma")])
def test_sgd_still_refuses_values_of_the_wrong_kind(digits_pool, kwargs, message):
    x, y = digits_pool
    with pytest.raises(ConfigError, match=message):
        refine(_net(), (x[:64], y[:64]), method="sgd", steps=2, verify_on=None, **kwargs)
