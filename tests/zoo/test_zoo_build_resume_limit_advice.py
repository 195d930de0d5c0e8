"""Resuming a zoo build with another ``limit``: the error names the limit the zoo was built with, as the command
line and Python spell it, and resuming with it works (it said "(limit: '1', now 'null')", a JSON text)."""

from __future__ import annotations

import pytest

from metanet.errors import ZooError
from metanet.zoo import build


def test_the_error_names_the_limit_to_resume_with(small_recipe, tmp_path):
    out = tmp_path / "zoo"
    build(small_recipe, out, limit=1, progress=False)
    for other, now in ((None, "no --limit"), (2, "--limit 2")):
        with pytest.raises(ZooError, match=rf"built with a different --limit \(--limit 1, now {now}\); resume with "
                                           r"--limit 1 \(limit=1 in Python\), or build into another --out directory"):
            build(small_recipe, out, limit=other, progress=False)
    summary = build(small_recipe, out, limit=1, progress=False)  # the advice, followed: a resume with nothing to do
    assert summary.units_built == 0


def test_a_zoo_built_without_a_limit_says_so(small_recipe, tmp_path):
    out = tmp_path / "zoo"
    small_recipe["count"] = 2
    build(small_recipe, out, progress=False)
    with pytest.raises(ZooError, match=r"\(no --limit, now --limit 1\); resume with no --limit \(limit=None in "
                                       r"Python\)"):
        build(small_recipe, out, limit=1, progress=False)
    build(small_recipe, out, limit=None, progress=False)
