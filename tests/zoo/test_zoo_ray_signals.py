"""The Ray backend keeps the caller's SIGTERM handler: ``ray.init`` installs its own ``sys.exit(15)``, so a
``metanet zoo build --backend ray`` stopped by SIGTERM exited 15 without cleaning up or saying so (the metanet
command's handler: clean up, one line, exit 143). No Ray needed: a stand-in module records what the build sees."""

from __future__ import annotations

import signal
import sys
import types

import pytest

from metanet.zoo.build import _build_ray


class _Stop(Exception):
    pass


def test_the_callers_sigterm_handler_is_back_after_ray_init(monkeypatch):
    seen = {}

    def callers(signum, frame):  # e.g. metanet.cli's: raise, so the command cleans up and exits 143
        pass

    def init(**kwargs):
        signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(15))  # what ray.init does in the driver

    def remote(**kwargs):  # the first call after ray.init: record the handler there, then stop the build
        seen["handler"] = signal.getsignal(signal.SIGTERM)
        raise _Stop

    ray = types.SimpleNamespace(is_initialized=lambda: False, init=init, remote=remote,
                                shutdown=lambda: seen.setdefault("shutdown", True))
    monkeypatch.setitem(sys.modules, "ray", ray)
    before = signal.signal(signal.SIGTERM, callers)
    try:
        with pytest.raises(_Stop):
            _build_ray([object()], {}, store=None, bar=None, address=None, threads=1)
        assert seen["handler"] is callers and seen["shutdown"]
        assert signal.getsignal(signal.SIGTERM) is callers
    finally:
        signal.signal(signal.SIGTERM, before)
