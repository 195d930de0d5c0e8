"""Round 27e: ``metanet zoo info`` counts in the singular for one ("1 networks from 1 runs")."""

from __future__ import annotations

from metanet.zoo import Zoo, build
from metanet.zoo.zoo import format_summary


def test_info_of_a_one_run_zoo_is_in_the_singular(tmp_path, small_recipe):
    build(small_recipe, tmp_path / "z", limit=1, progress=False)
    with Zoo(tmp_path / "z") as zoo:
        s = zoo.summary()
        text = format_summary(s)
    assert "from 1 run;" in text and "1 runs" not in text
    assert "backdoor: 0 poisoned networks (0 runs)" in text
