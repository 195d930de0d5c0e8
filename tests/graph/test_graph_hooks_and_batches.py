"""Forward hooks are not encoded (to_graph / save warn about the user's), and batch_params refuses the graphs
from_graph refuses when it reads values from the batch."""

from __future__ import annotations

import functools
import warnings

import pytest
import torch
import torch_geometric.transforms as T
from torch import nn
from torch_geometric.data import Batch

import metanet
from metanet.errors import GraphError
from metanet.graph import NODE_BIAS, batch_params, from_graph, to_graph


def _mlp(seed: int = 0) -> nn.Sequential:
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 2))


def _cnn(seed: int = 0) -> nn.Sequential:
    torch.manual_seed(seed)
    return nn.Sequential(nn.Conv2d(1, 2, 3, padding=1), nn.ReLU(), nn.Flatten(), nn.Linear(2 * 4 * 4, 2))


def _hook_warnings(fn) -> list[str]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fn()
    return [str(w.message) for w in caught if issubclass(w.category, UserWarning) and "hooks" in str(w.message)]


# --- hooks -----------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("register", [
    lambda m: m[0].register_forward_hook(lambda mod, i, o: o * 2),
    lambda m: m[0].register_forward_pre_hook(lambda mod, args: (args[0] * 2,)),
    lambda m: m[0].register_forward_hook(lambda mod, a, kw, o: o * 2, with_kwargs=True),
], ids=["hook", "pre_hook", "with_kwargs"])
def test_to_graph_warns_about_a_user_hook_that_the_decoded_network_lacks(register):
    net = _mlp()
    register(net)
    got = []
    msgs = _hook_warnings(lambda: got.append(to_graph(net)))
    assert len(msgs) == 1
    assert "'0' (Linear)" in msgs[0] and "not part of the neural graph" in msgs[0] and "weights are" in msgs[0]
    x = torch.randn(5, 4)
    back = from_graph(got[0])
    # what the warning is about: the decoded network computes without the hook
    assert not torch.equal(net(x), back(x))


def test_save_warns_naming_every_module_with_hooks_and_load_gives_the_weights(tmp_path):
    net = _mlp()
    net.register_forward_pre_hook(lambda mod, args: None)
    net[2].register_forward_hook(lambda mod, i, o: None)  # a recording hook warns too: it is not in the file either
    path = tmp_path / "n.safetensors"
    msgs = _hook_warnings(lambda: metanet.save(net, path))
    assert len(msgs) == 1
    assert "the Sequential itself" in msgs[0] and "'2' (Linear)" in msgs[0] and "'0'" not in msgs[0]
    assert "not part of the file" in msgs[0]
    loaded = metanet.load(path)
    assert all(torch.equal(a, b) for a, b in zip(net.state_dict().values(), loaded.state_dict().values()))


def test_no_warning_without_hooks_or_after_removing_them(tmp_path):
    net = _mlp()
    handle = net[0].register_forward_hook(lambda mod, i, o: o)
    handle.remove()
    assert _hook_warnings(lambda: (to_graph(net), metanet.save(net, tmp_path / "n.safetensors"))) == []


def test_hooks_of_torch_itself_do_not_warn_and_refused_networks_do_not_warn_first(tmp_path):
    from torch.nn.utils import prune

    from metanet.io import _own_hook

    assert _own_hook(torch.nn.utils.prune.L1Unstructured(0.5)) and not _own_hook(lambda mod, i, o: o)
    weight_norm, pruned, lazy = _mlp(), _mlp(), nn.Sequential(nn.LazyLinear(3), nn.ReLU(), nn.Linear(3, 2))
    torch.nn.utils.weight_norm(weight_norm[0])  # each carries a forward pre-hook torch registered
    prune.l1_unstructured(pruned[0], "weight", 0.5)
    for net in (weight_norm, pruned, lazy):
        assert any(net[0]._forward_pre_hooks.values())
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            with pytest.raises(GraphError):
                to_graph(net)
            with pytest.raises(metanet.errors.ArchError):
                metanet.save(net, tmp_path / "w.safetensors")
        assert not [w for w in caught if "forward hooks" in str(w.message)]
    assert not (tmp_path / "w.safetensors").exists()


def test_generated_result_save_warns_about_hooks_on_its_model(tmp_path):
    g = metanet.generate("digits", candidates=1, seed=0)
    handle = g.model.register_forward_hook(lambda mod, i, o: o)
    try:
        msgs = _hook_warnings(lambda: metanet.save(g, tmp_path / "g.safetensors"))
        assert len(msgs) == 1 and "itself" in msgs[0]
        assert len(_hook_warnings(lambda: to_graph(g))) == 1
    finally:
        handle.remove()


# --- batch_params reads the batch's values only if they are still the encoding ------------------------------------


def test_batch_params_refuses_normalised_features_as_from_graph_does():
    g = T.NormalizeFeatures()(to_graph(_mlp()).clone())
    with pytest.raises(GraphError) as ref:
        from_graph(g)
    with pytest.raises(GraphError) as got:
        batch_params(Batch.from_data_list([to_graph(_mlp(1)), g]))
    assert str(got.value) == f"graph 1 of the batch: {ref.value}"
    assert "(layer)" in str(got.value)


def test_batch_params_names_the_graph_in_a_mixed_batch():
    graphs = [to_graph(_cnn(), edge_dim=16), to_graph(_mlp(1), edge_dim=16), to_graph(_cnn(1), edge_dim=16)]
    bad = to_graph(_mlp(2), edge_dim=16)
    ea = bad.edge_attr.clone()
    ea[3, 0] = float("inf")
    bad.edge_attr = ea
    with pytest.raises(GraphError) as ref:
        from_graph(bad)
    with pytest.raises(GraphError) as got:
        batch_params(Batch.from_data_list([*graphs, bad]))
    assert str(got.value) == f"graph 3 of the batch: {ref.value}"
    assert "weights must be finite" in str(got.value)


def test_batch_params_checks_only_what_it_reads_from_the_batch():
    g = to_graph(_mlp())
    ea = g.edge_attr.clone()
    ea[0, 0] = float("nan")
    g.edge_attr = ea
    b = Batch.from_data_list([g])
    with pytest.raises(GraphError, match="weights must be finite"):
        batch_params(b)
    with pytest.raises(GraphError, match="weights must be finite"):
        batch_params(b, node_bias=b.x[:, NODE_BIAS])
    # the batch's edge values are not read: its own (valid) x is still checked and passes
    out = batch_params(b, edge_values=torch.zeros_like(ea))
    assert torch.equal(out[0].params["0.weight"], torch.zeros(1, 3, 4))
    # a writer's own values, NaN or not, are its business (nothing of the batch's is read)
    nb = torch.full((b.num_nodes,), float("nan"))
    out = batch_params(T.NormalizeFeatures()(b.clone()), edge_values=torch.zeros_like(ea), node_bias=nb)
    assert torch.isnan(out[0].params["0.bias"]).all()


def test_batch_params_of_valid_graphs_is_unchanged():
    nets = [_mlp(0), _mlp(1)]
    out = batch_params(Batch.from_data_list([to_graph(n) for n in nets]))
    assert len(out) == 1
    for i, n in enumerate(nets):
        for k, v in n.state_dict().items():
            assert torch.equal(out[0].params[k][i], v)


# --- mixed edge widths: no clean place in PyG's collate for a check (see the report); to_graph(edge_dim=) works -----


def test_mixed_architectures_batch_with_a_shared_edge_dim():
    graphs = [to_graph(_mlp(), edge_dim=16), to_graph(_cnn(), edge_dim=16)]
    out = batch_params(Batch.from_data_list(graphs))
    assert [len(p.graphs) for p in out] == [1, 1]
    assert torch.equal(out[1].params["0.weight"][0], _cnn()[0].weight)


# --- batch_params checks what it reads, not more ----------------------------------------------------------------------


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


# --- hooks that are not the user's: Lightning's profiler; a user's partial still warns --------------------------------


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


# --- the hook warning points at the caller's line ---------------------------------------------------------------------


def _hooked() -> nn.Module:
    m = nn.Sequential(nn.Linear(64, 8), nn.ReLU(), nn.Linear(8, 10))
    m[0].register_forward_hook(lambda *args: None)
    return m


@pytest.mark.parametrize("call", ["read", "to_graph", "save"])
def test_the_hook_warning_names_the_users_line(call, tmp_path):
    m = _hooked()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        if call == "read":  # read encodes through to_graph: the warning pointed at metanet/reader/predict.py
            metanet.read(m, scan=False)
        elif call == "to_graph":
            metanet.graph.to_graph(m)
        else:
            metanet.save(m, tmp_path / "m.safetensors")
    hooks = [w for w in caught if "forward hooks or pre-hooks" in str(w.message)]
    assert len(hooks) == 1
    assert hooks[0].filename == __file__, hooks[0].filename
