"""metanet's API under the torch global state a caller may have set: a default device, inference mode, a float32
matmul precision. Each call gives the result it gives under torch's defaults, and the caller's state back."""

from __future__ import annotations

import contextlib
import copy

import pytest
import torch

import metanet
from metanet import tasks
from metanet.loop import split_examples
from metanet.nets import build


def _net() -> torch.nn.Module:
    return build("mlp:64-16-10:relu", seed=3)


def _tensors(m: torch.nn.Module) -> list[torch.Tensor]:
    return [t.detach().clone() for t in m.state_dict().values()]


def _same(a: list[torch.Tensor], b: list[torch.Tensor]) -> bool:
    return len(a) == len(b) and all(x.device == y.device and torch.equal(x, y) for x, y in zip(a, b))


def _calls() -> dict:
    """Each API call as a function of a network returning what must not change (no timings)."""
    return {
        "verify": lambda n: metanet.verify(n, "digits").per_class,
        "read": lambda n: sorted((k, repr(v)) for k, v in metanet.read(n, scan=False).items()),
        "inspect": lambda n: len(metanet.inspect(n, "digits", reader=None)),
        "prune": lambda n: _tensors(metanet.edit.prune(n, 0.5, "digits").model),
        "refine": lambda n: _tensors(metanet.refine(n, "digits", steps=2, method="sgd").model),
    }


def _equal(a, b) -> bool:
    return _same(a, b) if isinstance(a, list) and a and isinstance(a[0], torch.Tensor) else a == b


@contextlib.contextmanager
def _default_device_meta():
    torch.set_default_device("meta")
    try:
        yield
    finally:
        torch.set_default_device(None)


@pytest.mark.parametrize("setting", [_default_device_meta, lambda: torch.device("meta")],
                         ids=["set_default_device", "with_device"])
def test_a_meta_default_device_gives_the_cpu_results(setting):
    # a CUDA user's set_default_device("cuda") on a cpu-only machine: metanet's own tensors (the task's inputs,
    # masks, the reader's checkpoint) were made there ('not on the expected device meta', 'repeat_interleave a meta
    # tensor'), and the reader loaded from its checkpoint as meta tensors (a warning per weight)
    for name, call in _calls().items():
        want = call(_net())
        net = _net()
        with setting():
            got = call(net)
            assert torch.get_default_device().type == "meta", name
        assert _equal(got, want), name


def _improve(writer, lts):
    w, hist = metanet.improve(writer, lts, rounds=1, candidates=2, seed=0, track=False)
    return _tensors(w), hist.rounds


def test_training_entry_points_work_inside_inference_mode():
    # enable_grad does not leave inference mode: refine(method="sgd") and improve failed with 'element 0 of
    # tensors does not require grad' inside torch.inference_mode()
    from metanet.writer import Writer

    X, Y = tasks.get("digits").split("train")
    lts = [split_examples(X, Y, "mlp:64-16-10:relu", shots=5, val=10, test=10, seed=i, name=f"d{i}")
           for i in range(2)]
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        writer = Writer(hidden=8, message=4, start_mix=1.0)
    refine = _calls()["refine"]
    want = refine(_net()), _improve(copy.deepcopy(writer), lts)
    net, writer = _net(), copy.deepcopy(writer)  # made outside: a copy made inside has inference tensors
    with torch.inference_mode():
        got = refine(net), _improve(writer, lts)
        assert torch.is_inference_mode_enabled() and not torch.is_grad_enabled()
    assert _same(got[0], want[0])
    assert _same(got[1][0], want[1][0])
    assert [{k: v for k, v in r.items() if "seconds" not in k} for r in got[1][1]] == \
        [{k: v for k, v in r.items() if "seconds" not in k} for r in want[1][1]]


def test_float32_matmul_precision_medium_changes_nothing_and_is_given_back():
    # "medium" lets float32 matmuls run in bfloat16 (oneDNN on a cpu that has it): generate's, read's and refine's
    # numbers changed. metanet computes in float32 at full precision and leaves the caller's setting as it was.
    calls = _calls()
    want = {k: calls[k](_net()) for k in ("read", "refine")}
    old = torch.get_float32_matmul_precision()
    torch.set_float32_matmul_precision("medium")
    try:
        got = {k: calls[k](_net()) for k in ("read", "refine")}
        assert torch.get_float32_matmul_precision() == "medium"
    finally:
        torch.set_float32_matmul_precision(old)
    for k in want:
        assert _equal(got[k], want[k]), k


def test_read_with_its_trigger_scan_inside_inference_mode_is_the_reading_outside():
    # the scan optimises a trigger mask with autograd: inside inference_mode it failed with 'element 0 of tensors
    # does not require grad' (and a reader first loaded there had inference tensors as weights)
    import metanet.checkpoints

    net = build("mlp:784-16-10:relu", seed=3)
    metanet.checkpoints._SHIPPED.clear()  # the reader is loaded inside inference mode, as a first call would
    with torch.inference_mode():
        inside = metanet.read(net)
        assert torch.is_inference_mode_enabled()
    assert inside["trigger_scan"] is not None
    assert inside == metanet.read(net)
