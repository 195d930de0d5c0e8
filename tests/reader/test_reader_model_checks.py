"""The Reader's (``metanet.reader.model``) option checks are the shared ones: ``task_cap`` / ``task_evidence`` through
``errors.check_number`` (an int beyond float range is their ConfigError, not a raw OverflowError), its memory check
through ``_state.check_fits_memory``; and ``batch_graphs`` batches MLP and CNN graphs of different edge widths, which
PyG's own collate cannot."""

from __future__ import annotations

import pytest
import torch

import metanet._state as state
from metanet.errors import ConfigError
from metanet.graph import from_graph, to_graph
from metanet.nets import build
from metanet.reader.model import Reader, batch_graphs


@pytest.mark.parametrize("kw, message", [
    ({"task_cap": 10**400}, r"task_cap must be >= 0 \(0: no cap\), got 1000.*; give a finite number within float "
                            r"range \(e\.g\. 4\.0\)"),
    ({"task_cap": "4"}, r"task_cap must be >= 0 \(0: no cap\), got '4'"),
    ({"task_evidence": -(10**400)}, r"Reader task_evidence must be a finite number \(0: no probe evidence\), got "
                                    r"-1000.*; give one within float range"),
    ({"task_evidence": float("inf")}, r"task_evidence must be a finite number .*got inf"),
])
def test_reader_task_options_beyond_float_range_are_config_errors(kw, message):
    with pytest.raises(ConfigError, match=message):
        Reader(tasks=["digits"], **kw)


def test_reader_task_options_still_take_finite_numbers():
    r = Reader(tasks=["digits"], task_cap=10**30, task_evidence=-2)  # large, but within float32 logits' range
    assert r.task_cap == 1e30 and r.task_evidence == -2.0


def test_reader_beyond_memory_names_its_parameters(monkeypatch):
    monkeypatch.setattr(state, "physical_memory", lambda: 1000)
    with pytest.raises(ConfigError, match=r"^the parameters of a Reader of hidden=8, .* need about [\d,]+ float32 "
                                          r"values, .* GiB, more than this machine's 0\.0 GiB of memory; give smaller"):
        Reader(tasks=["digits"], hidden=8)


def test_batch_graphs_pads_mlp_and_cnn_graphs_to_one_edge_width():
    nets = [build("mlp:4-3-2:relu", seed=0), build("cnn:1-2-3:relu:k3", seed=1)]
    graphs = [to_graph(n) for n in nets]
    assert [g.edge_dim for g in graphs] == [1, 9]  # Batch.from_data_list(graphs) is a raw torch.cat size mismatch
    batch = batch_graphs(graphs)
    assert batch.edge_attr.shape[-1] == 9 and [g.edge_dim for g in graphs] == [1, 9]  # the caller's graphs kept
    for net, g in zip(nets, batch.to_data_list()):
        sa, sb = net.state_dict(), from_graph(g).state_dict()
        assert all(torch.equal(sa[k], sb[k]) for k in sa)
