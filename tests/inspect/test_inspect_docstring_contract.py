"""What ``metanet.inspect`` and its ``NeuronDB`` document, against what they do.

- ``inspect`` raised TaskError for an unknown split, too few examples and ``top_k`` / ``max_examples`` /
  ``support_threshold`` out of range, but its ``Raises:`` named no TaskError.
- ``NeuronDB.meta`` was documented as "network, task, split, accuracy, per-class accuracy, class names,
  thresholds"; it has ``family``, ``n``, ``loss``, ``input_shape``, ``reader``, ``layer_info`` (which the
  ``layer`` column's meaning points to) and ``seconds`` too.
- ``NeuronDB.supporting`` of a class the task lacks raised an undocumented TaskError.
"""

from __future__ import annotations

import re

import pytest

import metanet
from metanet.errors import MetanetError
from metanet.inspect import COLUMNS, NeuronDB
from metanet.inspect.analyze import inspect as inspect_fn
from metanet.nets import build

ARCH = "mlp:64-8-10:relu"


@pytest.fixture(scope="module")
def net():
    return build(ARCH, seed=0)


def _raises(doc: str) -> set[str]:
    return set(re.findall(r"^\s+(\w+):", doc.partition("Raises:")[2], re.M))


@pytest.mark.parametrize("kwargs", [
    {"split": "nope"},
    {"max_examples": 1},
    {"max_examples": 0},
    {"top_k": 0},
    {"support_threshold": -1},
    {"reader": 5},
])
def test_inspect_raises_only_the_classes_its_docstring_names(net, kwargs):
    options = {"reader": None, **kwargs}
    with pytest.raises(MetanetError) as info:
        metanet.inspect(net, "digits", **options)
    assert type(info.value).__name__ in _raises(inspect_fn.__doc__)


def test_neuron_db_rows_are_the_columns_and_meta_the_documented_keys(net):
    db = metanet.inspect(net, "digits", reader=None, max_examples=60)
    assert all(list(row) == list(COLUMNS) for row in db.rows)
    doc = NeuronDB.__doc__
    named = set(re.findall(r"``(\w+)``", doc[doc.index("meta:"):]))
    # nonfinite_params: only for a network with a NaN/inf tensor that no neuron's row covers
    assert set(db.meta) | {"nonfinite_params"} == named


def test_supporting_an_unknown_class_raises_what_its_docstring_names(net):
    db = metanet.inspect(net, "digits", reader=None, max_examples=60)
    with pytest.raises(MetanetError) as info:
        db.supporting(12)
    assert type(info.value).__name__ in _raises(NeuronDB.supporting.__doc__)
