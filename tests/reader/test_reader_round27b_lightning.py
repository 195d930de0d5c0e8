"""The reader's data module loads only the splits a stage needs; validating without a checkpoint says so."""

from __future__ import annotations

import warnings

import lightning as L
import pytest

from metanet.reader.lightning import ReaderDataModule, ReaderModule


def _dm(tiny_zoo) -> ReaderDataModule:
    return ReaderDataModule(zoos=[str(tiny_zoo)], batch_size=8, max_nets=16, role_examples=16)


def test_setup_loads_only_the_splits_of_its_stage(tiny_zoo):
    # setup("validate") built the whole train split (every zoo's training networks and their roles) and the test
    # split too, only to evaluate the val split
    dm = _dm(tiny_zoo)
    dm.setup("validate")
    assert dm.train_graphs is None and dm.test_graphs is None and len(dm.val_graphs) > 0
    assert list(dm.val_zoos) == [str(tiny_zoo)]
    val = dm.val_graphs
    dm.setup("test")
    assert dm.train_graphs is None and len(dm.test_graphs) > 0 and dm.val_graphs is val
    dm.setup("fit")  # then fit: the train split too, the others kept as they are
    assert len(dm.train_graphs) > 0 and dm.val_graphs is val
    whole = _dm(tiny_zoo)
    whole.setup("fit")  # the same networks as a fit's setup alone loads
    for a, b in ((dm.train_graphs, whole.train_graphs), (dm.val_graphs, whole.val_graphs),
                 (dm.test_graphs, whole.test_graphs)):
        assert [int(g.zoo_id) for g in a] == [int(g.zoo_id) for g in b]


def _trainer() -> L.Trainer:
    return L.Trainer(accelerator="cpu", logger=False, enable_progress_bar=False, enable_model_summary=False,
                     enable_checkpointing=False, limit_val_batches=1, limit_test_batches=1)


def test_validating_an_untrained_reader_warns_to_pass_a_checkpoint(tiny_zoo):
    # `metanet train validate -c train/reader.yaml` without --ckpt_path evaluated random weights, without a word
    module = ReaderModule(tasks=["digits", "fashion-mnist", "mnist"], hidden=8, layers=1, probes=2, data_probes=8)
    dm = _dm(tiny_zoo)
    with pytest.warns(UserWarning, match=r"metanet train validate: no checkpoint was given, so an untrained reader "
                                         r"is evaluated .*data probes empty\); pass one with --ckpt_path PATH"):
        _trainer().validate(module, dm, verbose=False)
    with pytest.warns(UserWarning, match=r"metanet train test: no checkpoint was given.*--ckpt_path PATH"):
        _trainer().test(module, dm, verbose=False)
    module.reader.fitted.fill_(True)  # as after loading a checkpoint of a fit: no warning
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        _trainer().validate(module, dm, verbose=False)
    assert not [w for w in rec if "no checkpoint was given" in str(w.message)]
