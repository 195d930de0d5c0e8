"""The reader's Lightning stage when the fit ends: the trigger-scan head's fit never costs the export, says when it
did not happen, and is skipped by a fast_dev_run."""

from __future__ import annotations

import warnings

import lightning as L
import pytest
import torch

from metanet.reader import Reader
from metanet.reader.lightning import ReaderDataModule, ReaderModule


def _data(tiny_zoo, backdoored: int) -> ReaderDataModule:
    """The tiny zoo (no backdoors) with ``backdoored`` of its val networks labelled as backdoored (past epoch 0)."""
    dm = ReaderDataModule(zoos=[str(tiny_zoo)], batch_size=8, max_nets=32, role_examples=32)
    dm.setup("fit")
    (val,) = dm.val_zoos.values()
    assert len(val) == 4
    for g in val[:backdoored]:
        g.y_backdoor = torch.ones_like(g.y_backdoor)
        g.y_log_epoch = torch.ones_like(g.y_log_epoch)
    return dm


def _fit(dm, export, **trainer) -> ReaderModule:
    module = ReaderModule(tasks=["digits", "mnist"], hidden=8, layers=1, probes=2, data_probes=8, scan_steps=2,
                          export=str(export))
    opts = {"max_steps": 1, "limit_val_batches": 0, "num_sanity_val_steps": 0, **trainer}
    L.Trainer(accelerator="cpu", logger=False, enable_progress_bar=False, enable_model_summary=False,
              enable_checkpointing=False, **opts).fit(module, dm)
    return module


@pytest.mark.parametrize("backdoored, why", [
    (1, r"on 4 val networks: fit_scan needs at least two networks of each label; got 4 with 1 backdoored"),
    (0, r"no val network of the zoos is backdoored"),
])
def test_a_scan_head_that_cannot_be_fitted_warns_and_the_fit_still_exports(tiny_zoo, tmp_path, backdoored, why):
    # one backdoored val network: fit_scan's GraphError ended the whole fit as it finished (after every epoch), and
    # nothing was exported (`metanet train fit` exited 2); none: the export's scan head was unfitted without a word
    export = tmp_path / "out dir" / "reader.safetensors"
    export.parent.mkdir()
    with pytest.warns(UserWarning, match=rf"scan_steps=2 but the reader's trigger-scan head was not fitted \({why}\)"
                                         r".*add a zoo with backdoored networks to data.zoos"):
        _fit(_data(tiny_zoo, backdoored), export)
    r = Reader.load(export)
    assert r.scan_steps == 2 and not bool(r.scan_fitted)


def test_a_scan_head_with_both_labels_is_fitted_without_a_warning(tiny_zoo, tmp_path):
    export = tmp_path / "reader.safetensors"
    with warnings.catch_warnings():
        warnings.filterwarnings("error", message=".*trigger-scan head")
        _fit(_data(tiny_zoo, 2), export)
    assert bool(Reader.load(export).scan_fitted)


def test_fast_dev_run_does_not_fit_the_scan_head(tiny_zoo, tmp_path, monkeypatch):
    # it runs Neural Cleanse on every val network of the backdoor zoos (minutes with train/reader.yaml's), for an
    # export the smoke test does not write
    import metanet.reader.scan as scan

    calls = []
    monkeypatch.setattr(scan, "fit_scan", lambda *a, **k: calls.append(a) or {})
    dm = _data(tiny_zoo, 2)
    with pytest.warns(UserWarning, match="fast_dev_run: the trained ReaderModule was not exported"):
        _fit(dm, tmp_path / "smoke.safetensors", max_steps=-1, limit_val_batches=None, fast_dev_run=True)
    assert calls == [] and not (tmp_path / "smoke.safetensors").exists()
    _fit(dm, tmp_path / "real.safetensors")
    assert len(calls) == 1  # a real fit does fit it
