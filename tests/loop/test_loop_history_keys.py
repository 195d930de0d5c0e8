"""The stats ``improve`` records per round, and its config, are the keys ``History``'s docstring names: it said
"one dict of stats per round" and named none of them (``loss`` is absent after the last round, the held-out
figures come from ``evaluate`` with a ``heldout_`` prefix)."""

from __future__ import annotations

import dataclasses
import re

import torch
from loop_helpers import as_documented as _as_documented

from metanet.loop import History, LoopConfig, improve, split_examples

ARCH = "mlp:4-8-3:relu"


def test_improve_history_keys_are_the_documented_ones(tiny_writer):
    g = torch.Generator().manual_seed(0)
    y = torch.arange(3).repeat_interleave(30)
    x = (torch.nn.functional.one_hot(y, 4).float() + 0.3 * torch.randn(90, 4, generator=g)).clamp(0, 1)
    loop, held = (split_examples(x, y, ARCH, shots=5, val=5, test=5, seed=s, name=f"blobs-{s}") for s in (0, 1))
    _, hist = improve(tiny_writer, [loop], rounds=1, candidates=2, heldout=[held], folds=2,
                      compare_selections=True)
    doc = History.__doc__
    stats_part, config_part = doc[doc.index("``rounds[r]``"):].split("``config``:")
    # besides the keys, the paragraph names improve's arguments ``track`` / ``heldout``, the prefix and ``r``
    stats = _named(stats_part) - {"r", "track", "heldout", "heldout_"}
    rows = [{_as_documented(k) for k in r} for r in hist.rounds]
    assert "loss" in rows[0] and "loss" not in rows[-1]  # the last round only scores
    assert set().union(*rows) == stats
    assert set(hist.config) == _named(config_part) | {f.name for f in dataclasses.fields(LoopConfig)}


def _named(text: str) -> set[str]:
    return {t for t in re.findall(r"``([^`]+)``", text) if re.fullmatch(r"\w+(?:_<selection>)?", t)}
