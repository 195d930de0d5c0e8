"""Neural Cleanse over several networks at once (`metanet.edit.cleanse`)."""

from __future__ import annotations

import copy

import pytest
import torch
from inspect_helpers import backdoored_digits_mlp, digits_mlp
from torch.func import functional_call, stack_module_state, vmap

import metanet
from metanet import tasks
from metanet.edit.cleanse import neural_cleanse
from metanet.edit.repair import reconstruct_trigger
from metanet.errors import MetanetError
from metanet.nets import build

# a 2x2 patch in the bottom-right corner of the 8x8 digits sends them to class 3
TRIGGER = {"kind": "square", "size": 2, "location": [6, 6], "pattern": [[1, 1], [1, 1]], "target": 3,
           "poison_rate": 0.1}


def _stacked(models):
    params, buffers = stack_module_state(list(models))
    base = models[0]
    return lambda xs: vmap(lambda p, b, x: functional_call(base, (p, b), (x,)))(params, buffers, xs)


def test_the_backdoored_network_has_one_small_mask_and_the_clean_one_none():
    bad, clean = backdoored_digits_mlp(TRIGGER), digits_mlp("mlp:64-32-10:relu", epochs=40, seed=1)
    x, _ = tasks.get("digits").split("val")
    l1, masks, patterns = neural_cleanse(_stacked([bad, clean]), x, 10, 2, steps=150, batch=64, seed=0)
    assert l1.shape == (2, 10) and masks.shape == (2, 10, 1, 8, 8) and patterns.shape == (2, 10, 1, 8, 8)
    assert torch.isfinite(l1).all()
    logs = l1.log()
    # the target's mask is the smallest by far on the backdoored network, and it sits on the trigger's corner
    others = torch.cat([logs[0, :3], logs[0, 4:]])
    assert int(logs[0].argmin()) == TRIGGER["target"] and float(others.min() - logs[0, 3]) > 0.7
    on = float(masks[0, 3, 0, 6:, 6:].mean())
    off = (float(masks[0, 3].sum()) - 4 * on) / 60
    assert on > 3 * off
    # the clean network's easiest class needs a larger mask than the trigger's
    assert float(logs[1].min()) > float(logs[0, 3]) + 0.5


def test_one_network_is_what_reconstruct_trigger_runs():
    bad = backdoored_digits_mlp(TRIGGER)
    x, _ = tasks.get("digits").split("val")
    l1, masks, _ = neural_cleanse(lambda xs: bad(xs[0])[None], x, 10, 1, steps=60, seed=3)
    trig, info = reconstruct_trigger(bad, x, 10, steps=60, seed=3)
    assert info["mask_l1"] == l1[0].tolist()  # the same optimisation, bit for bit
    assert info["suspect"] == TRIGGER["target"] and trig is not None
    assert torch.equal(trig["mask"], masks[0, TRIGGER["target"]].expand(1, 8, 8))


def test_cleanse_is_deterministic_per_seed():
    bad = backdoored_digits_mlp(TRIGGER)
    x, _ = tasks.get("digits").split("val")
    run = lambda seed: neural_cleanse(lambda xs: bad(xs[0])[None], x, 10, 1, steps=20, seed=seed)[0]  # noqa: E731
    assert torch.equal(run(0), run(0)) and not torch.equal(run(0), run(1))


@pytest.mark.parametrize(
    "kw, message",
    [
        ({"steps": 0}, r"steps 0 is not valid: a whole number >= 1"),
        ({"steps": -3}, r"steps -3 is not valid"),
        ({"batch": 0}, r"batch 0 is not valid: a whole number >= 1"),
        ({"num_classes": 5}, r"10 logits per input, num_classes is 5"),
        ({"x": torch.zeros(0, 1, 8, 8)}, "no clean inputs"),
    ],
)
def test_cleanse_arguments_are_checked(kw, message):
    net = digits_mlp(epochs=1)
    x, _ = tasks.get("digits").split("val")
    args = {"x": x, "num_classes": 10, "steps": 5, **kw}
    with pytest.raises(MetanetError, match=message):
        neural_cleanse(lambda xs: net(xs[0])[None], args.pop("x"), args.pop("num_classes"), 1, **args)


def test_a_batch_larger_than_the_data_uses_all_of_it():
    net = digits_mlp(epochs=1)
    x, _ = tasks.get("digits").split("val")
    l1, masks, _ = neural_cleanse(lambda xs: net(xs[0])[None], x[:7], 10, 1, steps=3, batch=500)
    assert l1.shape == (1, 10) and masks.shape == (1, 10, 1, 8, 8)


@pytest.mark.parametrize("target", [10, -1])
def test_reconstruct_trigger_refuses_a_target_outside_the_classes(target):
    net = digits_mlp(epochs=1)
    x, _ = tasks.get("digits").split("val")
    with pytest.raises(MetanetError, match=r"target .* is not a class \(0..9\)"):
        reconstruct_trigger(net, x, 10, steps=2, target=target)


# --- networks built inside torch.inference_mode() ---------------------------------------------------------------------


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
