"""A short training run on the tiny zoo reduces validation loss and beats predicting the mean; Lightning wiring."""

from __future__ import annotations

import pytest
import torch
from torch_geometric.loader import DataLoader

from metanet.reader import Reader
from metanet.reader.lightning import predict_graphs, reader_losses


def test_short_training_reduces_val_loss_and_beats_mean(tiny_graphs):
    torch.manual_seed(0)
    train, val = tiny_graphs["train"], tiny_graphs["val"]
    reader = Reader(tasks=["digits", "fashion-mnist", "mnist"], hidden=16, layers=2).fit_normalisation(train)

    def val_mse() -> float:
        pred, tgt = predict_graphs(reader, val)
        return float(((pred["accuracy"] - tgt["y_acc"]) ** 2).mean())

    before = val_mse()
    opt = torch.optim.AdamW(reader.parameters(), lr=3e-3)
    reader.train()
    for _ in range(6):
        for batch in DataLoader(train, batch_size=16, shuffle=True):
            loss = reader_losses(reader(batch), batch)["total"]
            opt.zero_grad()
            loss.backward()
            opt.step()
    after = val_mse()
    y_val = torch.cat([g.y_acc for g in val])
    mean_pred = torch.cat([g.y_acc for g in train]).mean()
    mse_mean = float(((y_val - mean_pred) ** 2).mean())
    assert after < before
    assert after < mse_mean, (after, mse_mean)


def test_lightning_fast_dev_run(tmp_path, tiny_zoo):
    import lightning as L

    from metanet.reader.lightning import ReaderDataModule, ReaderModule

    dm = ReaderDataModule(zoos=[str(tiny_zoo)], batch_size=8, max_nets=24, role_examples=64)
    module = ReaderModule(tasks=["digits", "mnist"], hidden=8, layers=1, data_probes=16, saliency=True,
                          export=str(tmp_path / "r.safetensors"))
    trainer = L.Trainer(fast_dev_run=2, accelerator="cpu", logger=False, enable_progress_bar=False,
                        default_root_dir=str(tmp_path), enable_checkpointing=False,
                        enable_model_summary=False)
    with pytest.warns(UserWarning, match="not exported"):
        trainer.fit(module, dm)
    assert not (tmp_path / "r.safetensors").exists()  # a smoke test exports nothing (see test_reader_lightning.py)
    module.reader.save(tmp_path / "r.safetensors")
    assert bool(module.reader.fitted)
    # the data probes were filled in setup from each task's val split, never its test split
    from metanet import tasks

    r = module.reader
    for t, name in enumerate(r.tasks):
        n = int(r.dprobe_n[t])
        probes = r.dprobe_x[t, :, :n]
        for split, inside in (("val", True), ("test", False)):
            x = tasks.get(name).split(split)[0].reshape(-1, n)
            found = torch.cdist(probes, x, compute_mode="donot_use_mm_for_euclid_dist").min(1).values < 1e-6
            assert bool(found.all()) if inside else not bool(found.any()), (name, split)
    assert (tmp_path / "r.safetensors").is_file()
    again = Reader.load(tmp_path / "r.safetensors")
    assert again.tasks == ["digits", "mnist"]
    trainer.save_checkpoint(tmp_path / "r.ckpt")
    from_ckpt = Reader.load(tmp_path / "r.ckpt")  # inference without Lightning from a Lightning checkpoint
    for a, b in zip(from_ckpt.state_dict().values(), module.reader.state_dict().values()):
        assert torch.equal(a, b)


def test_statnn_baseline_fits(tiny_graphs):
    import numpy as np

    from metanet.reader.statnn import StatNN, statnn_features

    train, val = tiny_graphs["train"], tiny_graphs["val"]
    assert statnn_features(train[0]).shape == (46,)
    y = [float(g.y_acc) for g in train]
    model = StatNN(max_iter=50).fit(train, y)
    pred = model.predict(val)
    assert pred.shape == (len(val),) and np.isfinite(pred).all()


def test_statnn_errors_and_edge_cases(tiny_graphs):
    """Too few networks or one-class labels: a clear error, not numpy's "need at least one array to stack" -- and
    never a classifier fitted on all-backdoored networks that predicts a backdoor probability of 0."""
    import numpy as np
    import pytest

    from metanet.errors import ConfigError
    from metanet.reader.statnn import StatNN

    train = tiny_graphs["train"][:6]
    with pytest.raises(ConfigError, match="at least one network"):
        StatNN().fit([], [])
    with pytest.raises(ConfigError, match="6 networks but 2 targets"):
        StatNN().fit(train, [0.5, 0.6])
    for labels in ([1] * 6, [0] * 6):
        with pytest.raises(ConfigError, match="both classes"):
            StatNN(classifier=True).fit(train, labels)
    with pytest.raises(ConfigError, match="0/1"):
        StatNN(classifier=True).fit(train, [0, 2, 2, 0, 2, 0])
    with pytest.raises(ConfigError, match="not fitted"):
        StatNN().predict(train)
    model = StatNN(max_iter=5).fit(train, [float(g.y_acc) for g in train])
    assert model.predict([]).shape == (0,)
    p = StatNN(classifier=True, max_iter=5).fit(train, [0, 1, 1, 0, 1, 0]).predict(train)
    assert p.shape == (6,) and np.all((p >= 0) & (p <= 1))


def test_lightning_options_out_of_range_are_config_errors():
    """Options that were silently ignored (a misspelt loss weight, an unknown schedule: constant lr) or crashed
    deep inside torch (batch size 0) are one clear ConfigError when the module is made."""
    import pytest

    from metanet.errors import ConfigError
    from metanet.reader.lightning import ReaderDataModule, ReaderModule

    with pytest.raises(ConfigError, match=r"loss_weights.*'backdor'.*backdoor"):
        ReaderModule(hidden=8, layers=1, loss_weights={"backdor": 4.0})
    with pytest.raises(ConfigError, match="loss_weights"):
        ReaderModule(hidden=8, layers=1, loss_weights={"task": -1.0})
    with pytest.raises(ConfigError, match="loss_weights must be finite numbers >= 0"):  # was accepted: an inf loss
        ReaderModule(hidden=8, layers=1, loss_weights={"task": float("inf")})
    with pytest.raises(ConfigError, match="schedule must be 'constant' or 'cosine', got 'Cosine'"):
        ReaderModule(hidden=8, layers=1, schedule="Cosine")
    # were AdamW's ValueError ("Invalid learning rate: -1.0") once the fit had started: a traceback
    for lr in (0, -1.0, float("nan"), float("inf"), "0.1"):
        with pytest.raises(ConfigError, match=rf"need lr > 0 \(a finite number\), got {lr!r}"):
            ReaderModule(hidden=8, layers=1, lr=lr)
    with pytest.raises(ConfigError, match=r"need weight_decay >= 0 \(a finite number\), got -1.0"):
        ReaderModule(hidden=8, layers=1, weight_decay=-1.0)
    assert ReaderModule(hidden=8, layers=1, weight_decay=0.0).hparams.weight_decay == 0.0
    assert ReaderModule(hidden=8, layers=1, loss_weights={"backdoor": 4.0},
                        schedule="cosine").hparams.schedule == "cosine"
    for bad in (0, -2, 1.5, True):
        with pytest.raises(ConfigError, match="batch_size must be a whole number >= 1"):
            ReaderDataModule(batch_size=bad)
    with pytest.raises(ConfigError, match="at least one zoo"):
        ReaderDataModule(zoos=[])
