"""A Ctrl-C (KeyboardInterrupt) in the middle of a metanet call leaves the caller's objects consistent.

Interrupts are injected deterministically: an internal function the call uses is patched to raise on its N-th call.
"""

from __future__ import annotations

import pytest
import torch

import metanet
from metanet import _state


def _raise_on(n: int, f):
    """``f``, raising KeyboardInterrupt instead on its ``n``-th call (only then)."""
    calls = {"n": 0}

    def wrapped(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == n:
            raise KeyboardInterrupt
        return f(*args, **kwargs)

    return wrapped


def test_defaults_interrupted_while_being_set_give_the_callers_dtype_back(monkeypatch):
    # the Ctrl-C lands between setting the default dtype and the float32 precision: the float32 default stayed
    monkeypatch.setattr(_state, "_full_float32_precision", _raise_on(1, _state._full_float32_precision))
    old = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    try:
        with pytest.raises(KeyboardInterrupt):
            with _state.metanet_defaults():
                pass
        assert torch.get_default_dtype() == torch.float64
    finally:
        torch.set_default_dtype(old)
    # the lock is free again: another thread's call would not wait forever
    assert _state._LOCK.acquire(blocking=False)
    _state._LOCK.release()


def test_improve_interrupted_mid_update_leaves_no_half_updated_writer(monkeypatch):
    import torch.optim.adam as adam_module

    from metanet.writer.model import Writer

    writer = Writer.load(None)
    writer.train()
    start = {k: v.clone() for k, v in writer.state_dict().items()}
    real = adam_module.adam

    def half_step(params, grads, exp_avgs, exp_avg_sqs, *args, **kwargs):
        # Adam on the cpu updates tensor by tensor: update the first, then the Ctrl-C arrives
        real(params[:1], grads[:1], exp_avgs[:1], exp_avg_sqs[:1], *[a[:1] for a in args[:2]], *args[2:], **kwargs)
        raise KeyboardInterrupt

    monkeypatch.setattr(adam_module, "adam", half_step)
    with pytest.raises(KeyboardInterrupt):
        metanet.improve(writer, ["digits[0-4]"], rounds=1, candidates=2, track=False)
    after = writer.state_dict()
    changed = [k for k in start if not torch.equal(start[k], after[k])]
    assert changed == []  # the interrupted update is undone, not half-applied
    assert all(m.training for m in writer.modules())  # its mode given back
    # and the next call works
    monkeypatch.setattr(adam_module, "adam", real)
    _, hist = metanet.improve(writer, ["digits[0-4]"], rounds=1, candidates=2, track=False)
    assert len(hist.rounds) == 2
    assert all(torch.isfinite(v).all() for v in writer.state_dict().values() if v.is_floating_point())


def test_generate_interrupted_then_same_result_as_fresh(monkeypatch):
    from metanet.checkpoints import _SHIPPED
    from metanet.writer.model import Writer

    fresh = metanet.generate("digits", seed=0).report.test.accuracy
    _SHIPPED.pop("writer", None)  # the interrupt lands while the shipped writer is loaded
    monkeypatch.setattr(Writer, "load", _raise_on(1, Writer.load))
    with pytest.raises(KeyboardInterrupt):
        metanet.generate("digits", seed=0)
    assert "writer" not in _SHIPPED  # nothing half-cached
    monkeypatch.setattr(Writer, "write", _raise_on(1, Writer.write))
    with pytest.raises(KeyboardInterrupt):  # and then while it writes
        metanet.generate("digits", seed=0)
    assert metanet.generate("digits", seed=0).report.test.accuracy == fresh


def test_inplace_edit_interrupted_leaves_the_network_unchanged(monkeypatch):
    import metanet.edit.report as report

    net = metanet.generate("digits", seed=0).model
    net.train()
    start = {k: v.clone() for k, v in net.state_dict().items()}
    monkeypatch.setattr(report, "verify", _raise_on(1, report.verify))
    with pytest.raises(KeyboardInterrupt):
        metanet.edit.prune(net, 0.5, "digits", inplace=True)
    assert all(torch.equal(start[k], v) for k, v in net.state_dict().items())
    assert net.training


def test_save_interrupted_leaves_no_file(monkeypatch, tmp_path):
    import metanet.io as io

    net = metanet.generate("digits", seed=0).model
    monkeypatch.setattr(io.os, "replace", _raise_on(1, io.os.replace))  # the Ctrl-C just before the rename
    with pytest.raises(KeyboardInterrupt):
        metanet.save(net, tmp_path / "net.safetensors")
    assert list(tmp_path.iterdir()) == []
