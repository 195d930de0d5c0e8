"""`metanet.verify` of a stacked list of networks and memory: the guard for K large networks on a large batch (verified
in chunks that fit, a clear error naming what to pass when even one example does not fit, default sizes in one pass,
an estimate that does not run the caller's hooks), and a list mixing float32 and float64 models refused.
"""

from __future__ import annotations

import sys

import pytest
import torch
from torch import nn

import metanet
import metanet.verify  # noqa: F401 - the module (``metanet.verify`` the attribute is the function)
from metanet.errors import ArchError, ConfigError
from metanet.tasks import from_examples


V = sys.modules["metanet.verify"]


@pytest.fixture(scope="module")
def task():
    g = torch.Generator().manual_seed(0)
    x = torch.rand(300, 6, generator=g)
    return from_examples(x, (x[:, 0] > 0.5).long() + (x[:, 1] > 0.5).long(), val_fraction=0, test_fraction=0)


class _Recorder(nn.Module):
    """An MLP with a 32-wide hidden layer that records the batch sizes it is run on (a class attribute: verify runs
    a copy of it), after the one-example probe of check_fits."""

    seen: list[int] = []

    def __init__(self, seed: int) -> None:
        super().__init__()
        torch.manual_seed(seed)
        self.net = nn.Sequential(nn.Linear(6, 32), nn.ReLU(), nn.Linear(32, 3))

    def forward(self, x):
        if x.device.type != "meta":
            _Recorder.seen.append(x.shape[0])
        return self.net(x)


def test_large_batches_are_verified_in_chunks_that_fit_memory(task, monkeypatch):
    """K networks' activations on one batch of batch_size examples had no bound (a raw RuntimeError or the OOM
    killer inside vmap): batches are run in chunks that fit, with the same scores."""
    models = [_Recorder(s) for s in range(4)]
    _Recorder.seen.clear()
    full = metanet.verify(models, task, split="train")
    assert _Recorder.seen[1:] == [300]  # the whole split in one pass: enough memory
    # 3 layers' outputs of 4 networks, 32 numbers each, float32: 1536 bytes per example; a quarter of the memory
    # holds 64 of them
    monkeypatch.setattr(V, "physical_memory", lambda: 4 * 64 * 1536, raising=False)
    _Recorder.seen.clear()
    chunked = metanet.verify(models, task, split="train")
    # halved until it fits: 300 -> 150 -> 75 -> 38 examples a chunk (38 <= 64; 19 would be twice as many passes).
    # One example's activations per example: the probe's batch of two counted whole gave chunks of 19
    assert _Recorder.seen[1:] == [38] * 7 + [34]
    for a, b in zip(full, chunked):
        assert (a.accuracy, a.per_class, a.n) == (b.accuracy, b.per_class, b.n)
        assert b.loss == pytest.approx(a.loss, rel=1e-6)


def test_networks_too_large_for_memory_even_one_example_at_a_time(task, monkeypatch):
    monkeypatch.setattr(V, "physical_memory", lambda: 1000, raising=False)
    with pytest.raises(ConfigError, match=r"verifying 4 networks at once needs about .* GiB .*verify fewer"):
        metanet.verify([_Recorder(s) for s in range(4)], task, split="train")


class _Hungry(nn.Module):
    """Runs out of memory (as torch's allocator says it) on batches of more than two examples (the shape probe's)."""

    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(6, 3)

    def forward(self, x):
        if x.device.type != "meta" and x.shape[0] > 2:
            raise RuntimeError("[enforce fail at alloc_cpu.cpp:116] DefaultCPUAllocator: can't allocate memory: "
                               "you tried to allocate 123456789 bytes.")
        return self.fc(x)


def test_running_out_of_memory_names_what_to_pass(task):
    with pytest.raises(ConfigError, match=r"not enough memory to verify 2 networks .*GiB.*smaller batch_size"):
        metanet.verify([_Hungry(), _Hungry()], task, split="train")


def test_default_sizes_run_in_one_pass(task):
    """The guard leaves ordinary verification alone: one forward pass per batch, as before."""
    _Recorder.seen.clear()
    metanet.verify([_Recorder(s) for s in range(8)], task, split="train", batch_size=128)
    assert _Recorder.seen[1:] == [128, 128, 44]


def test_list_mixing_float32_and_float64_models_is_refused(task):
    """The stack was promoted to float64 silently: the float32 models were scored as float64 networks."""
    a, b = _Recorder(0), _Recorder(1).double()
    with pytest.raises(ArchError, match=r"one dtype: net\.0\.weight is float32 in model 0 but float64 in model 1"):
        metanet.verify([a, b], task, split="train")
    # one dtype, whichever: fine
    assert len(metanet.verify([a.double(), b], task, split="train")) == 2


def test_the_memory_estimate_does_not_run_the_callers_hooks(task):
    """The activation sizes are measured on a meta-device copy: a hook collecting activations sees real ones only."""
    net = _Recorder(0)
    seen = []
    net.net[0].register_forward_hook(lambda _m, _i, out: seen.append(out.device.type))
    metanet.verify([net, _Recorder(1)], task, split="train")
    assert seen and "meta" not in seen
