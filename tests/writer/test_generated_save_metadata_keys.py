"""The metadata ``Generated.save`` writes is the metadata its docstring names: ``support``, ``generated_by`` and
``zero_gradient_steps`` were written but not documented, and the reproduction recipe the docstring gives reads
only keys the file has."""

from __future__ import annotations

import re

from generated_helpers import fake_generated

import metanet
from metanet.writer.generate import Generated


def test_generated_save_writes_the_metadata_keys_its_docstring_names(tmp_path):
    meta = metanet.load_meta(fake_generated().save(tmp_path / "g.safetensors"))
    doc = Generated.save.__doc__
    named = set(re.findall(r"``(\w+)``", doc))
    recipe = set(re.findall(r'm\["(\w+)"\]', doc))
    assert set(meta) <= named, f"written but not documented: {sorted(set(meta) - named)}"
    assert recipe and recipe <= set(meta)
    assert meta["generated_by"] == "metanet.writer" and meta["zero_gradient_steps"] is True and meta["support"] == 20
