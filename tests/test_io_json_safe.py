"""json_safe makes strict JSON of what file headers and ``--json`` output hold: every NaN and ±inf, at any depth of
dicts, lists and tuples, becomes None (json.dumps would write the invalid ``NaN`` / ``Infinity``)."""

from __future__ import annotations

import json
import math

from metanet.io import json_safe


def test_non_finite_floats_in_nested_dicts_lists_and_tuples_become_none():
    obj = {"loss": math.inf, "scores": (1.0, math.nan, [-math.inf, 2]), "pair": ((math.nan,),), "name": "x"}
    safe = json_safe(obj)
    assert safe == {"loss": None, "scores": [1.0, None, [None, 2]], "pair": [[None]], "name": "x"}
    assert json.loads(json.dumps(safe, allow_nan=False)) == safe  # strict JSON, as written


def test_finite_values_are_kept_as_they_are():
    obj = {"a": [0.5, -1, True, None, "nan"], "b": {"c": 1e308}}
    assert json_safe(obj) == obj
