"""refine() on networks and examples in the forms a PyTorch user has them: half-precision networks, parameters with
requires_grad=False, examples as numpy arrays, uint8 images or int32 labels."""

from __future__ import annotations

import copy
import math

import pytest
import torch

from metanet.errors import TaskError
from metanet.loop import refine


@pytest.fixture(scope="module")
def net(digits_net):
    return digits_net


@pytest.mark.parametrize("method", ["perturbation", "activity", "sgd"])
@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
def test_refine_a_half_precision_network(net, method, dtype):
    """The perturbation rules failed with a raw 'expected scalar type Float but found Half' (float32 noise / inputs
    met half weights); sgd on a float16 network ran, and gave back a network at chance (accuracy 0.10 against 0.91:
    Adam's state in float16). Now refined as the float32 copy and given back in the network's dtype, the caller's
    left alone."""
    half = copy.deepcopy(net).to(dtype)
    before = {k: v.clone() for k, v in half.state_dict().items()}
    res = refine(half, "digits", method=method, steps=3, population=4)
    assert {p.dtype for p in res.model.parameters()} == {dtype}
    assert all(torch.equal(v, half.state_dict()[k]) and v.dtype == dtype for k, v in before.items())
    want = refine(copy.deepcopy(half).float(), "digits", method=method, steps=3, population=4)
    assert res.after.accuracy == pytest.approx(want.after.accuracy, abs=0.02)
    assert all(math.isfinite(h) for h in res.history)


@pytest.mark.parametrize("method", ["perturbation", "activity", "sgd"])
def test_refine_a_network_with_requires_grad_false(net, method):
    """sgd raised a raw 'element 0 of tensors does not require grad'; every method refines every parameter, and the
    refined copy keeps the caller's flags."""
    frozen = copy.deepcopy(net).requires_grad_(False)
    res = refine(frozen, "digits", method=method, steps=3, population=4)
    want = refine(net, "digits", method=method, steps=3, population=4)
    assert res.history == want.history
    assert not any(p.requires_grad for p in res.model.parameters())
    assert not any(p.requires_grad for p in frozen.parameters())


def test_refine_examples_as_numpy_uint8_or_int32(net, digits_pool):
    """numpy examples were an AttributeError, uint8 ones and int32 labels raw RuntimeErrors; uint8 images are read
    as from_examples reads them (divided by 255), not used as 0..255."""
    x, y = digits_pool
    want = refine(net, (x, y), steps=3, verify_on=(x, y))
    for given in [(x.numpy(), y.numpy()), (x, y.int())]:
        res = refine(net, given, steps=3, verify_on=given)
        assert res.history == want.history and res.after.loss == want.after.loss
    x8 = (x * 255).round().to(torch.uint8)
    res = refine(net, (x8, y), steps=3, verify_on=(x8, y))
    assert res.before.accuracy == pytest.approx(want.before.accuracy, abs=0.01)
    assert res.history == pytest.approx(want.history, abs=0.01)
    with pytest.raises(TaskError, match="int64.*uint8"):
        refine(net, (x.long(), y), steps=1, verify_on=None)
    with pytest.raises(TaskError, match="labels must be integer"):
        refine(net, (x, y.float()), steps=1, verify_on=None)
    with pytest.raises(TaskError, match="class ids"):
        refine(net, (x, y - 1), steps=1, verify_on=None)
