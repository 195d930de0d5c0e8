"""Helpers of the writer tests (imported by name: pytest puts this folder on sys.path)."""

from __future__ import annotations

import pytest

from metanet.checkpoints import shipped

SHIPPED = shipped("writer")
needs_shipped = pytest.mark.skipif(
    not SHIPPED.is_file(),
    reason=f"no shipped writer checkpoint at {SHIPPED} yet (the meta-trained writer is copied there when training ends)",
)
