"""A network none of the reader's tasks fits (no task of its input size and class count) is read by the heads
alone: its task logits are the head's own, not every task masked out (which made task_probabilities uniform and
named the first task whatever the weights said), and its accuracy gets no probe evidence (the probes never ran on
it: their zero accuracy, weighted by the head's task probabilities, would pull it towards 0)."""

from __future__ import annotations

import torch

from metanet.graph import to_graph
from metanet.nets import build
from metanet.reader import Reader


def _reader(**kw) -> Reader:
    torch.manual_seed(0)
    r = Reader(tasks=["digits", "digits[0,1,2]"], hidden=8, layers=1, probes=0, data_probes=6,
               probe_inputs=(64,), task_evidence=3.0, **kw).eval()
    r.set_data_probes("digits", torch.rand(6, 64), torch.tensor([0, 1, 2, 0, 1, 2]))
    return r


def test_a_network_no_task_fits_is_read_by_the_heads_alone() -> None:
    g = to_graph(build("mlp:30-8-10:relu", seed=0))  # 30 inputs: no task of this reader has them
    for cap in (0.0, 4.0):
        r = _reader(task_cap=cap)
        with torch.no_grad():
            r.heads["task"].bias.copy_(torch.tensor([-2.0, 2.0]))  # the head prefers the second task
            out = r(g)
        assert not bool(out["task_fits"][0])
        head = r.heads["task"](out["embedding"])
        if cap:
            head = cap * torch.tanh(head / cap)
        torch.testing.assert_close(out["task"], head)
        assert int(out["task"][0].argmax()) == 1
        torch.testing.assert_close(out["accuracy"], torch.sigmoid(r.heads["accuracy"](out["embedding"]).squeeze(-1)))


def test_only_the_tasks_a_network_fits_are_masked_out() -> None:
    """A 3-class digits network fits 'digits[0,1,2]' only: the 10-class task is masked, the other is not."""
    r = _reader()
    with torch.no_grad():
        out = r(to_graph(build("mlp:64-8-3:relu", seed=0)))
    assert bool(out["task_fits"][0])
    assert float(out["task"][0, 0]) == -1e4 and float(out["task"][0, 1]) > -1e3
