"""``run_demo`` returns the keys its ``Returns:`` section names: ``seed`` and ``quick`` were returned but not
documented. The stages are stubbed (their own results are tested in ``test_demo``); the keys around them are
``run_demo``'s."""

from __future__ import annotations

import re

from demo_helpers import stub_stages

from metanet.demo import run_demo


def test_run_demo_returns_the_documented_keys(tmp_path, monkeypatch):
    stub_stages(monkeypatch)
    result = run_demo(tmp_path / "demo", seed=3, progress=False, verbose=False)
    doc = run_demo.__doc__
    named = set(re.findall(r"``(\w+)``", doc[doc.index("Returns:"):doc.index("Raises:")]))
    assert set(result) <= named, f"returned but not documented: {sorted(set(result) - named)}"
    assert set(result["tags"]) <= named and all(set(row) <= named for row in result["stages"])
    assert result["seed"] == 3 and result["quick"] is False
