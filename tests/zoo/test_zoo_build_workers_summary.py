"""A ``--workers`` build reports what it wrote as a serial build does: ``nets_written`` counts networks (runs x
checkpoints: a unit's rows), not units, and the summary's "built N units (M networks)" and nets/s agree with the
zoo's index. The pool is an in-process stand-in (spawned workers would take seconds to import torch)."""

from __future__ import annotations

import concurrent.futures as cf

from metanet.zoo import Zoo, build


class _InProcessPool:
    """A ProcessPoolExecutor stand-in: runs each job in this process when it is submitted."""

    def __init__(self, **kw) -> None:
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return None

    def submit(self, fn, *args):
        fut: cf.Future = cf.Future()
        fut.set_result(fn(*args))
        return fut


def test_a_pooled_build_counts_networks_not_units(small_recipe, tmp_path, monkeypatch):
    monkeypatch.setattr(cf, "ProcessPoolExecutor", lambda **kw: _InProcessPool(**kw))
    out = tmp_path / "zoo"
    summary = build(small_recipe, out, workers=2, limit=4, progress=False)  # a few units
    with Zoo(out) as zoo:
        nets = len(zoo)
    assert summary.units_built == summary.units_in_shard > 1
    assert nets > summary.units_built  # several networks per unit: the test can tell the two counts apart
    assert summary.nets_written == nets
    assert f"({nets} networks)" in str(summary)
