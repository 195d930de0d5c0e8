"""Helpers of the reader tests (imported by name: pytest puts this folder on sys.path)."""

from __future__ import annotations


import pytest

from metanet.checkpoints import shipped

SHIPPED = shipped("reader")
needs_shipped = pytest.mark.skipif(not SHIPPED.is_file(), reason=f"no shipped reader checkpoint at {SHIPPED} yet")
#: documented error of the shipped reader's accuracy head on freshly trained mnist MLPs (README, "reader")
SHIPPED_MAX_ABS_ERROR = 0.12
