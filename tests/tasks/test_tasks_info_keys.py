"""``metanet.tasks.info`` rows have exactly the keys its docstring names (``missing`` only for a base data set
whose files are absent), so the listing ``metanet tasks`` prints and its docs cannot drift apart."""

from __future__ import annotations

import re

from metanet import tasks


def test_info_rows_have_exactly_the_documented_keys():
    doc = tasks.info.__doc__
    documented = set(re.findall(r"``(\w+)``", doc[doc.index("Keys:"):]))
    assert "missing" in documented
    (row,) = tasks.info(["digits"])
    assert set(row) == documented - {"missing"}
