"""torch >= 2.9's per-backend float32 precision settings (``torch.backends.mkldnn.matmul.fp32_precision`` and
the like) of a caller: metanet's calls run in full float32 whatever they are, give the same results as under the
defaults, and leave them as the caller set them (``metanet._state.metanet_defaults``)."""

from __future__ import annotations

import pytest
import torch

import metanet
from metanet._state import metanet_defaults

mkldnn = torch.backends.mkldnn
pytestmark = pytest.mark.skipif(not hasattr(getattr(mkldnn, "matmul", None), "fp32_precision"),
                                reason="torch < 2.9 has no per-backend fp32_precision")


def _settings() -> tuple:
    """Every per-backend value metanet could touch, and the legacy setting (or that reading it raises)."""
    try:
        legacy = torch.get_float32_matmul_precision()
    except RuntimeError:  # "mix of the legacy and new APIs"
        legacy = "raises"
    return (torch.backends.fp32_precision, mkldnn.fp32_precision, mkldnn.matmul.fp32_precision,
            mkldnn.conv.fp32_precision, torch.backends.cuda.matmul.fp32_precision, legacy)


@pytest.fixture(autouse=True)
def default_precision():
    """torch's defaults (every value "none", inheriting) before and after each test, whatever ran before."""

    def reset():
        torch.set_float32_matmul_precision("highest")
        for leaf in (mkldnn.matmul, mkldnn.conv, torch.backends.cuda.matmul):
            leaf.fp32_precision = "none"
        torch.backends.fp32_precision = "none"

    reset()
    yield
    reset()


def _results() -> tuple:
    from metanet.nets import build

    net = build("mlp:64-16-10:relu", seed=3)
    g = metanet.generate("digits", seed=0, candidates=2, shots=10)
    return (metanet.verify(net, "digits").per_class, [t.clone() for t in g.model.state_dict().values()])


def _same(a: tuple, b: tuple) -> bool:
    return a[0] == b[0] and all(torch.equal(x, y) for x, y in zip(a[1], b[1]))


SETTINGS = {
    "mkldnn matmul bf16": lambda: setattr(mkldnn.matmul, "fp32_precision", "bf16"),
    "mkldnn conv bf16": lambda: setattr(mkldnn.conv, "fp32_precision", "bf16"),
    "mkldnn bf16": lambda: setattr(mkldnn, "fp32_precision", "bf16"),  # torch's setter writes the global value
    "cuda matmul tf32": lambda: setattr(torch.backends.cuda.matmul, "fp32_precision", "tf32"),
    "legacy medium": lambda: torch.set_float32_matmul_precision("medium"),
}


@pytest.mark.parametrize("setting", SETTINGS)
def test_a_callers_per_backend_precision_changes_no_result_and_is_given_back(setting):
    # torch.get_float32_matmul_precision() raises once the per-backend API set what the legacy name cannot express:
    # every metanet call was that RuntimeError ('mix of the legacy and new APIs') under all but the conv setting
    want = _results()
    SETTINGS[setting]()
    before = _settings()
    got = _results()
    assert _settings() == before
    assert _same(got, want)


@pytest.mark.parametrize("setting", SETTINGS)
def test_inside_a_call_matmuls_and_convolutions_are_full_float32(setting):
    SETTINGS[setting]()
    with metanet_defaults():
        # "none" inherits from the backend's and the global value: full float32 only when nothing reduced is set
        assert {mkldnn.matmul.fp32_precision, mkldnn.conv.fp32_precision} <= {"ieee", "none"}


def test_a_call_leaves_the_callers_none_so_a_later_backend_setting_reaches_matmuls():
    # set_float32_matmul_precision("highest") on the way out wrote "ieee" over "none" (inherit): a later
    # torch.backends.mkldnn.fp32_precision = "bf16" no longer reached the caller's matmuls
    metanet.verify(metanet.nets.build("mlp:64-16-10:relu", seed=3), "digits")
    assert (mkldnn.matmul.fp32_precision, torch.backends.cuda.matmul.fp32_precision) == ("none", "none")
    mkldnn.fp32_precision = "bf16"
    assert mkldnn.matmul.fp32_precision == "bf16"
