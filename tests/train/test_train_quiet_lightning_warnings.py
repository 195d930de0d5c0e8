"""``metanet train`` leaves out Lightning's warnings that hold for none of metanet's stages and that no option turns
off: the writer's (and loop's) own ``transfer_batch_to_device`` "overridden in LightningModule but ... a
LightningDataModule", the writer's stream "IterableDataset has __len__ defined" (it takes no workers), torch's
deprecation of the ``LeafSpec`` Lightning itself uses (every fit of the writer printed all three), jsonargparse's
(>= 4.49) deprecations of the calls LightningCLI itself makes (``add_instantiator``, ``instantiate_classes``,
``skip_none``) with the header it puts before its first one, and
ModelCheckpoint's "dirpath has changed ... won't be reloaded" on a validate of an earlier run's checkpoint (which
saves none). The filters name those messages only."""

from __future__ import annotations

import warnings

from lightning_helpers import tiny_writer_fit
from metanet.train import cli_main

FIT_NOISE = ("You have overridden `transfer_batch_to_device`", "Your `IterableDataset` has `__len__` defined",
             "`isinstance(treespec, LeafSpec)` is deprecated")
DIRPATH = "The dirpath has changed from"
LIGHTNING_CLI_CALLS = ("``ArgumentParser.add_instantiator`` was deprecated", "``instantiate_classes`` was deprecated",
                       "skip_none parameter was deprecated", "By default only one JsonargparseDeprecationWarning")


def _warned(args: list[str]) -> list[str]:
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        assert cli_main(args) == 0
    return [str(w.message) for w in seen]


def test_writer_fit_and_validate_print_no_lightning_noise(tmp_path, monkeypatch):
    import jsonargparse
    from lightning.pytorch.trainer.connectors import data_connector

    data_connector.warning_cache.clear()  # Lightning warns of the hook once a process: an earlier test's fit
    # jsonargparse, each deprecation once a process (where it has them)
    monkeypatch.setattr(getattr(jsonargparse, "_deprecated", None), "shown_deprecation_warnings", set(), raising=False)
    fit = tiny_writer_fit(tmp_path, f"--trainer.logger.init_args.save_dir={tmp_path / 'runs'}", max_steps=1,
                          logger=None)
    messages = _warned(fit)
    assert not [m for m in messages if m.startswith(FIT_NOISE)], messages
    assert not [m for m in messages if m.strip().startswith(LIGHTNING_CLI_CALLS)], messages
    # the fit's last.ckpt, validated in a run (a logger version, a checkpoint folder) of its own
    messages = _warned(["validate", *fit[1:], "--ckpt_path=last"])
    assert not [m for m in messages if m.startswith(DIRPATH)], messages
    assert (tmp_path / "runs" / "writer" / "version_1").is_dir()
    # narrow: the same warnings of another hook, and the dirpath one outside a validate (a fit's), still show
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        warnings.warn("You have overridden `on_before_batch_transfer` in `LightningModule` but ...", UserWarning)
        warnings.warn(f"{DIRPATH} 'a' to 'b', therefore ...", UserWarning)
        warnings.warn("\n    skip_none parameter was deprecated in v4.49.0\n", DeprecationWarning)  # not Lightning's
    assert len(seen) == 3
