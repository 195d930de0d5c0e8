"""Modules and networks made inside the caller's ``torch.inference_mode()``, and the optimising calls run under it or
under ``torch.no_grad()``: a Writer / Reader built there is trainable (its Lightning stage fits), an ``inplace`` edit
writes into a network built there, and the Neural-Cleanse search optimises its mask whatever the caller's grad mode.
:mod:`tests.test_caller_state` covers generate, read, refine and improve inside inference mode."""

from __future__ import annotations

import warnings

import lightning as L
import pytest
import torch

import metanet
from metanet import edit
from metanet.edit.cleanse import neural_cleanse
from metanet.edit.repair import reconstruct_trigger
from metanet.nets import build
from metanet.reader import Reader
from metanet.reader.lightning import ReaderDataModule, ReaderModule
from metanet.writer import Writer
from metanet.writer.lightning import EpisodeDataModule, WriterModule

MODES = {"inference_mode": torch.inference_mode, "no_grad": torch.no_grad}


def _inference(module: torch.nn.Module) -> list[str]:
    return [n for n, t in module.state_dict().items() if t.is_inference()]


def _seeded(make):
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        return make()


@pytest.mark.parametrize("make", [lambda: Writer(hidden=8, message=4),
                                  lambda: Reader(["digits", "mnist"], hidden=8, layers=1, probes=2, data_probes=8,
                                                 scan_steps=2)], ids=["writer", "reader"])
def test_a_module_built_inside_inference_mode_is_the_one_built_outside(make):
    # its parameters and buffers were inference tensors: no gradient step could train them, and an in-place update
    # outside inference mode (fit_scan filling the scan head, an optimiser step) was a raw RuntimeError
    want = _seeded(make)
    with torch.inference_mode():
        got = _seeded(make)
        assert torch.is_inference_mode_enabled() and not torch.is_grad_enabled()  # the caller's modes stay
    assert _inference(got) == []
    assert got.state_dict().keys() == want.state_dict().keys()
    assert all(torch.equal(got.state_dict()[k], want.state_dict()[k]) for k in want.state_dict())
    assert all(p.requires_grad for p in got.parameters())
    with torch.no_grad():
        for t in got.state_dict(keep_vars=True).values():
            t.copy_(t.clone())  # an in-place update outside inference mode (an optimiser step, fit_scan)


def _fit(module: L.LightningModule, data: L.LightningDataModule) -> list[str]:
    """Names of the module's tensors one fast_dev_run step changed."""
    before = {k: v.clone() for k, v in module.state_dict().items()}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # fast_dev_run's 'not exported' and Lightning's own
        L.Trainer(fast_dev_run=True, accelerator="cpu", logger=False, enable_progress_bar=False,
                  enable_model_summary=False).fit(module, data)
    return [k for k, v in module.state_dict().items() if not torch.equal(v, before[k])]


@pytest.mark.parametrize("mode", MODES)
def test_a_writer_module_built_inside_inference_mode_or_no_grad_is_trained(mode):
    # inference mode: 'Inference tensors cannot be saved for backward' at the first training step
    with MODES[mode]():
        module = WriterModule(hidden=8, message=4)
    data = EpisodeDataModule(bases=("digits",), tasks_per_step=1, shots_min=5, shots_max=10, query=5, val_episodes=1,
                             steps_per_epoch=1, seed=0)
    changed = _fit(module, data)
    assert "writer.log_ridge" in changed and len(changed) == len(module.state_dict())


@pytest.fixture(scope="module")
def reader_data(tiny_zoo):
    dm = ReaderDataModule(zoos=[str(tiny_zoo)], batch_size=8, max_nets=24, role_examples=32)
    dm.setup("fit")
    return dm


def test_a_reader_module_built_inside_inference_mode_is_trained(reader_data):
    # 'Inplace update to inference tensor outside InferenceMode' as setup filled the data probes
    with torch.inference_mode():
        module = ReaderModule(tasks=["digits", "mnist"], hidden=8, layers=1, probes=2, data_probes=8)
    changed = _fit(module, reader_data)
    assert "reader.dprobe_x" in changed  # the data probes filled
    assert any(k.startswith("reader.head") or ".lin" in k for k in changed), changed


@pytest.mark.parametrize("mode, inside", [("inference_mode", False), ("inference_mode", True), ("no_grad", True)])
def test_an_inplace_edit_writes_into_a_network_built_inside_inference_mode(mode, inside):
    # the edit ran, then copying its weights into the caller's module (inference tensors) was a raw RuntimeError
    # 'Error(s) in loading state_dict ... Inplace update to inference tensor outside InferenceMode', also when
    # called inside inference mode (metanet computes outside it)
    want = edit.prune(build("mlp:64-16-10:relu", seed=3), 0.5, "digits").model.state_dict()
    with MODES[mode]():
        net = build("mlp:64-16-10:relu", seed=3)
    with MODES[mode]() if inside else torch.enable_grad():
        out = edit.prune(net, 0.5, "digits", inplace=True)
    assert out.model is net
    assert all(torch.equal(net.state_dict()[k], want[k]) for k in want)
    assert float((net.layers[0].weight == 0).float().mean()) == 0.5


@pytest.mark.parametrize("mode", MODES)
def test_the_trigger_search_optimises_under_no_grad_and_inference_mode(mode):
    # it optimises a mask and pattern with autograd: under the caller's no_grad / inference_mode it was a raw
    # 'element 0 of tensors does not require grad'
    net = build("mlp:64-16-10:relu", seed=3)
    x = metanet.tasks.get("digits").split("val")[0][:64]
    want = reconstruct_trigger(net, x, 10, steps=5)[1]
    cleanse = lambda: neural_cleanse(lambda xs: net(xs[0])[None], x, 10, 1, steps=5)[0]  # noqa: E731
    want_l1 = cleanse()
    with MODES[mode]():
        got = reconstruct_trigger(net, x, 10, steps=5)[1]
        got_l1 = cleanse()
        assert not torch.is_grad_enabled()
    assert got == want
    assert torch.equal(got_l1, want_l1)


def test_improve_trains_a_writer_built_inside_inference_mode_and_refuses_a_copy_made_there():
    # built there, it trains (it was refused as inference tensors); a deepcopy made there still holds inference
    # tensors, which improve names (tests/test_caller_state_dtype_and_flags.py)
    import copy

    from metanet.loop import split_examples

    x, y = metanet.tasks.get("digits").split("train")
    lts = [split_examples(x, y, "mlp:64-16-10:relu", shots=5, val=10, test=10, seed=0)]
    with torch.inference_mode():
        writer = Writer(hidden=8, message=4, start_mix=1.0)
    before = {k: v.clone() for k, v in writer.state_dict().items()}
    trained, _ = metanet.improve(writer, lts, rounds=1, candidates=2, seed=0, track=False)
    assert any(not torch.equal(v, before[k]) for k, v in trained.state_dict().items())
    with torch.inference_mode():
        copied = copy.deepcopy(writer)
    with pytest.raises(metanet.ConfigError, match=r"inference tensor.*outside inference mode"):
        metanet.improve(copied, lts, rounds=1, candidates=2, seed=0, track=False)
