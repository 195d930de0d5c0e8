"""Review of session 32's inference-mode commit: Neural Cleanse over networks built inside
``torch.inference_mode()`` (their weights inference tensors, which autograd cannot use)."""

from __future__ import annotations

import copy

import pytest
import torch

import metanet
from metanet.edit.cleanse import neural_cleanse
from metanet.nets import build


@pytest.fixture(scope="module")
def x() -> torch.Tensor:
    return metanet.tasks.get("digits").split("val")[0][:32]


@pytest.mark.parametrize("called_inside", [False, True], ids=["called-outside", "called-inside"])
def test_neural_cleanse_names_a_network_built_inside_inference_mode(x, called_inside):
    # the search runs outside inference mode; through the weights of a network built inside it the mask's forward
    # was torch's raw RuntimeError 'Inference tensors cannot be saved for backward'
    with torch.inference_mode():
        net = build("mlp:64-16-10:relu", seed=3)
    assert net.layers[0].weight.is_inference()
    with torch.inference_mode() if called_inside else torch.enable_grad():
        with pytest.raises(metanet.ConfigError, match=r"inference tensors.*outside inference mode"):
            neural_cleanse(lambda xs: net(xs[0])[None], x, 10, 1, steps=2)


def test_neural_cleanse_runs_a_copy_made_outside_inference_mode_as_the_error_says(x):
    with torch.inference_mode():
        net = build("mlp:64-16-10:relu", seed=3)
    plain = build("mlp:64-16-10:relu", seed=3)
    copied = copy.deepcopy(net)  # outside inference mode: normal tensors
    got = neural_cleanse(lambda xs: copied(xs[0])[None], x, 10, 1, steps=3)
    want = neural_cleanse(lambda xs: plain(xs[0])[None], x, 10, 1, steps=3)
    assert all(torch.equal(g, w) for g, w in zip(got, want))


def test_neural_cleanse_passes_other_runtime_errors_on(x):
    # only the inference-tensor error is translated: a network's own failure is not hidden behind it
    def forward(xs):
        raise RuntimeError("mat1 and mat2 shapes cannot be multiplied")

    with pytest.raises(RuntimeError, match="mat1 and mat2"):
        neural_cleanse(forward, x, 10, 1, steps=1)
