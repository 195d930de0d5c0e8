"""The Ray backend on a local Ray instance with 2 CPUs: the same zoo as the local backend, written by the driver."""

from __future__ import annotations

import os
import signal

import pytest

from zoo_helpers import ROOT
from metanet.zoo import Zoo, build

pytestmark = pytest.mark.ray


def test_ray_backend_matches_local(small_zoo, small_recipe, tmp_path):
    ray = pytest.importorskip("ray")
    pp = os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p)
    # ray.init installs a SIGTERM handler of its own that ray.shutdown leaves behind: later tests of SIGTERM saw it
    term = signal.getsignal(signal.SIGTERM)
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False,
             runtime_env={"env_vars": {"PYTHONPATH": pp, "OMP_NUM_THREADS": "1"}})
    try:
        out = tmp_path / "ray"
        summary = build(small_recipe, out, backend="ray", progress=False)
        assert summary.backend == "ray" and summary.units_built == summary.units_planned
        # resume through Ray: nothing left to do
        assert build(small_recipe, out, backend="ray", progress=False).units_built == 0
    finally:
        ray.shutdown()
        signal.signal(signal.SIGTERM, term)
    local, remote = Zoo(small_zoo), Zoo(out)
    assert remote.check().ok
    assert [(n.id, n.sha256, n.test_acc, n.hparams) for n in remote] == \
        [(n.id, n.sha256, n.test_acc, n.hparams) for n in local]
