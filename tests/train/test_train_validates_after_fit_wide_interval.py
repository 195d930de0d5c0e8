"""Whether a resumed fit must first run the validation its checkpoint was saved before: with
``check_val_every_n_epoch=None`` Lightning validates every ``val_check_interval`` training batches of the whole fit,
not of the epoch, so that is the count `_validates_after` tests."""

from __future__ import annotations

from types import SimpleNamespace

from metanet.train.stage import _validates_after


def _trainer(interval: int, every: int | None) -> SimpleNamespace:
    return SimpleNamespace(enable_validation=True, _val_check_time_interval=None, check_val_every_n_epoch=every,
                           val_check_interval=interval)


def test_an_interval_across_epochs_counts_the_batches_of_the_whole_fit():
    t = _trainer(4, None)  # 6 batches an epoch: validation after fit batches 4, 8, 12, ...
    assert _validates_after(t, epoch=1, in_epoch=2, in_fit=8, last=False) is True
    assert _validates_after(t, epoch=1, in_epoch=4, in_fit=10, last=False) is False
    per_epoch = _trainer(4, 1)  # every epoch: batches of the epoch count, and its last batch
    assert _validates_after(per_epoch, epoch=1, in_epoch=4, in_fit=10, last=False) is True
    assert _validates_after(per_epoch, epoch=1, in_epoch=2, in_fit=8, last=False) is False
