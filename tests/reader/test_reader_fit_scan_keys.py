"""``fit_scan``'s result holds the keys its docstring names (it named three of its eight: ``intercept``,
``features`` and the ``inputs`` record the head's default scan rests on were undocumented)."""

from __future__ import annotations

import re

import torch

from metanet.graph import to_graph
from metanet.nets import build
from metanet.reader.scan import SCAN_FEATURES, fit_scan


def test_fit_scan_returns_the_documented_keys(scan_reader):
    graphs = []
    for i in range(3):
        for bd in (0.0, 1.0):
            g = to_graph(build("mlp:64-8-10:relu", seed=i))
            g.y_backdoor, g.y_log_epoch = torch.tensor(bd), torch.tensor(1.0)
            graphs.append(g)
    fit = fit_scan(scan_reader, graphs)
    returns = fit_scan.__doc__.split("Returns:")[1]
    documented = {k for k in re.findall(r"``(\w+)``", returns)} - {"scan_inputs"}  # the buffer, named as the record
    assert set(fit) == documented
    assert fit["features"] == list(SCAN_FEATURES) and fit["inputs"] == [64]
    assert len(fit["coef"]) == 2 + 2 * len(SCAN_FEATURES) and fit["networks"] == 6 and fit["backdoored"] == 3
