"""``Zoo.summary()["units_planned"]`` is the number of build units the recipe planned (index.sqlite's meta
``units``), not its count of networks: a zoo with every unit built says so ("4 of 4 units built")."""

from __future__ import annotations

from metanet.zoo import Zoo
from metanet.zoo.zoo import format_summary


def test_units_planned_is_the_planned_unit_count(small_zoo):
    with Zoo(small_zoo) as zoo:
        meta = zoo._store.meta()
        s = zoo.summary()
    assert int(meta["count"]) != int(meta["units"])  # else the two could not be told apart
    assert s["units_planned"] == int(meta["units"]) == s["units"]
    assert f"{s['units']} of {s['units_planned']} unit" in format_summary(s)
