"""Review of session 31's library changes: checks they introduced that refused valid input.

- the misspelt-"fashion" detector took real words for typos: "old-fashioned handwritten digits" and "flashing
  digits" were errors instead of MNIST;
- batch_params checked a batch's ``x`` that it does not read (biases given): a GNN's normalised input features
  made it refuse a batch whose edge values it reads correctly;
- the user-hook warning took the hooks of Lightning's profiler (``functools.partial`` of Lightning's methods, on
  every module of a profiled run) for the user's.
"""

from __future__ import annotations

import functools
import warnings

import pytest
import torch
import torch_geometric.transforms as T
from torch import nn
from torch_geometric.data import Batch

import metanet
from metanet import tasks
from metanet.errors import GraphError, TaskError
from metanet.graph import NODE_BIAS, batch_params, to_graph


# --- the misspelt-"fashion" detector ---------------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["old-fashioned handwritten digits", "handwritten digits in an old fashioned style",
                                  "flashing handwritten digits", "mnist digits, flashing"])
def test_real_words_near_fashion_are_not_taken_for_a_typo(text):
    assert tasks.text_to_spec(text) == "mnist"


@pytest.mark.parametrize("text", ["fasion mnist", "fahsion mnist", "fashiom mnist", "fashhion mnist", "fashions mnist"])
def test_one_letter_typos_of_fashion_are_still_errors(text):
    with pytest.raises(TaskError, match="did you mean fashion-mnist"):
        tasks.text_to_spec(text)


# --- batch_params checks what it reads, not more ---------------------------------------------------------------------


def _mlp(seed: int = 0) -> nn.Sequential:
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 2))


@pytest.mark.parametrize("mixed", [False, True])
def test_batch_params_does_not_check_an_x_it_does_not_read(mixed):
    nets = [_mlp(0), nn.Sequential(nn.Linear(4, 2))] if mixed else [_mlp(0)]
    b = Batch.from_data_list([to_graph(n, edge_dim=9) for n in nets])
    nb = b.x[:, NODE_BIAS].clone()
    normalised = T.NormalizeFeatures()(b.clone())  # a GNN's input features: x rescaled, edge_attr untouched
    with pytest.raises(GraphError, match="graph 0 of the batch"):
        batch_params(normalised)  # its biases would be read from the rescaled x: refused
    out = batch_params(normalised, node_bias=nb)  # x is not read: the batch's edge weights are
    for k, v in nets[0].state_dict().items():
        assert torch.equal(out[0].params[k][0], v)
    # its edges are still checked
    bad = normalised.clone()
    ea = bad.edge_attr.clone()
    ea[0, 0] = float("nan")
    bad.edge_attr = ea
    with pytest.raises(GraphError, match="graph 0 of the batch: .*weights must be finite"):
        batch_params(bad, node_bias=nb)


# --- the user-hook warning -------------------------------------------------------------------------------------------


def _hook_warnings(fn) -> list[str]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fn()
    return [str(w.message) for w in caught if "hooks" in str(w.message)]


def test_lightning_profiler_hooks_are_not_the_users(tmp_path):
    from lightning.pytorch.profilers.pytorch import RegisterRecordFunction

    net = _mlp()
    with RegisterRecordFunction(net):  # what Lightning's PyTorchProfiler puts on every module of a profiled run
        assert net[0]._forward_pre_hooks and net[0]._forward_hooks
        assert _hook_warnings(lambda: to_graph(net)) == []
        assert _hook_warnings(lambda: metanet.save(net, tmp_path / "n.safetensors")) == []


def test_a_users_partial_hook_still_warns():
    def scale(factor, module, inputs, output):
        return output * factor

    net = _mlp()
    handle = net[0].register_forward_hook(functools.partial(scale, 2.0))
    try:
        (msg,) = _hook_warnings(lambda: to_graph(net))
        assert "'0' (Linear)" in msg
    finally:
        handle.remove()
