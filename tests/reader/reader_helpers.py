"""Helpers of the reader tests (imported by name: pytest puts this folder on sys.path)."""

from __future__ import annotations

from pathlib import Path

import pytest

from metanet.checkpoints import shipped

SHIPPED = shipped("reader")
TINY = Path("/work/zoos/tiny")
needs_shipped = pytest.mark.skipif(not SHIPPED.is_file(), reason=f"no shipped reader checkpoint at {SHIPPED} yet")
needs_tiny = pytest.mark.skipif(not (TINY / "index.sqlite").is_file(),
                                reason=f"no tiny zoo at {TINY} (build it: metanet zoo build tiny --out {TINY})")
#: documented error of the shipped reader's accuracy head on freshly trained mnist MLPs (README, "reader")
SHIPPED_MAX_ABS_ERROR = 0.12
