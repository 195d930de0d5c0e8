"""Round 28 follow-ups: '~' in recipe paths, inspect's output folder without os.umask(0), one "is it a graph" rule,
role_examples=1, refine's history, improve() keeping the writer's training mode."""

from __future__ import annotations

import os
import shutil
import stat
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parents[1]


# --- (1) recipe paths with '~' ---------------------------------------------------------------------------------------

def test_recipe_paths_expand_the_home_folder(tmp_path, monkeypatch):
    """find_recipe / load_recipe('~/r.yaml') were "recipe '~/r.yaml' not found" (only zoo build expanded '~')."""
    from metanet.zoo.recipe import find_recipe, load_recipe

    home = tmp_path / "my home"
    home.mkdir()
    shutil.copy(ROOT / "zoo" / "tiny.yaml", home / "r.yaml")
    monkeypatch.setenv("HOME", str(home))
    assert find_recipe("~/r.yaml") == home / "r.yaml"
    assert find_recipe(Path("~") / "r.yaml") == home / "r.yaml"
    assert load_recipe("~/r.yaml", check_tasks=False).to_dict() == load_recipe("tiny", check_tasks=False).to_dict()


def test_recipe_not_found_with_home_names_what_was_given(tmp_path, monkeypatch):
    from metanet.errors import RecipeError
    from metanet.zoo.recipe import load_recipe

    monkeypatch.setenv("HOME", str(tmp_path))
    with pytest.raises(RecipeError, match=r"recipe '~/missing.yaml' not found"):
        load_recipe("~/missing.yaml", check_tasks=False)


# --- (2) inspect's staged output folder ------------------------------------------------------------------------------

def test_a_new_output_folder_gets_the_umask_without_changing_it(tmp_path, monkeypatch):
    """staged() read the umask with os.umask(0) then back: the whole process had umask 0 for a moment (a file another
    thread created then was world-writable). The kernel applies the umask to the new folder now."""
    from metanet.inspect.output import staged

    calls = []
    real = os.umask
    old = real(0o027)
    try:
        monkeypatch.setattr(os, "umask", lambda mask: calls.append(mask) or real(mask))
        out = tmp_path / "new out"
        with staged(out) as stage:
            (stage / "INDEX.md").write_text("x")
        monkeypatch.undo()
    finally:
        real(old)
    assert calls == []
    assert stat.S_IMODE(out.stat().st_mode) == 0o750
    assert sorted(p.name for p in out.iterdir()) == ["INDEX.md"]
    assert [p.name for p in tmp_path.iterdir()] == ["new out"]  # no staging folder left


def test_a_failed_run_leaves_no_new_output_folder(tmp_path):
    from metanet.inspect.output import staged

    out = tmp_path / "out"
    with pytest.raises(RuntimeError):
        with staged(out) as stage:
            (stage / "INDEX.md").write_text("x")
            raise RuntimeError("interrupted")
    assert list(tmp_path.iterdir()) == []


# --- (3) one "is it a graph" rule ------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def graph():
    from metanet.graph import to_graph
    from metanet.nets import build

    torch.manual_seed(0)
    return to_graph(build("mlp:4-3-2:relu"))


def test_statnn_refuses_a_tensor_in_a_sequence_clearly():
    """A tensor has a ``layout`` attribute, so it passed as a graph: a raw AttributeError 'Tensor' object has no
    attribute 'x'."""
    import numpy as np

    from metanet.errors import ConfigError
    from metanet.reader.statnn import StatNN, statnn_features

    with pytest.raises(ConfigError, match=r"got a sequence of Tensor of 46 values .*\(networks, 46\) matrix"):
        StatNN().fit([torch.zeros(46)], [1])
    with pytest.raises(ConfigError, match="got ndarray"):
        statnn_features(np.zeros(46))
    with pytest.raises(ConfigError, match="got Data that is not a NeuralGraph"):
        statnn_features(__import__("torch_geometric").data.Data(x=torch.zeros(2, 6)))


def test_statnn_of_a_graph_and_of_a_batch_as_before(graph):
    from torch_geometric.data import Batch

    from metanet.errors import GraphError
    from metanet.reader.statnn import statnn_features

    assert statnn_features(graph).shape == (46,)
    with pytest.raises(GraphError, match="batch of 2 graphs"):
        statnn_features(Batch.from_data_list([graph, graph]))


def test_layout_of_batches_and_plain_data(graph):
    """layout() of a one-graph Batch (DataLoader batch_size=1) was "cannot find the architecture of a
    NeuralGraphBatch", though graph.layout, from_graph and describe take it as its graph; a batch of several now says
    so, and a Data without an architecture says what is missing."""
    from torch_geometric.data import Batch, Data

    from metanet.errors import GraphError
    from metanet.graph import layout

    assert layout(Batch.from_data_list([graph])) is layout(graph)
    with pytest.raises(GraphError, match="batch of 2 graphs.*split"):
        layout(Batch.from_data_list([graph, graph]))
    with pytest.raises(GraphError, match="no 'arch' attribute"):
        layout(Data(x=torch.zeros(2, 6)))
    with pytest.raises(GraphError, match="cannot find the architecture of a Tensor"):
        layout(torch.zeros(3))


def test_verify_and_the_graph_code_share_one_rule(graph, monkeypatch):
    import metanet.graph.mapping as mapping
    from metanet.verify import _is_graph

    assert _is_graph(graph) and not _is_graph(torch.zeros(46)) and not _is_graph([graph])
    monkeypatch.setattr(mapping, "is_graph", lambda obj: False)
    assert not _is_graph(graph)  # verify asks the graph code's rule


def test_permute_hidden_hints_for_graphs_only(graph):
    from torch_geometric.data import Batch

    from metanet.errors import GraphError
    from metanet.graph import permute_hidden

    for g in (graph, Batch.from_data_list([graph, graph])):
        with pytest.raises(GraphError, match="for a graph use to_graph"):
            permute_hidden(g, 1, [0, 1, 2])
    with pytest.raises(GraphError) as e:
        permute_hidden(torch.zeros(3), 1, [0, 1, 2])
    assert "for a graph" not in str(e.value)


# --- (4) zoo_graphs(role_examples=1) ---------------------------------------------------------------------------------

def test_role_examples_one_is_refused(tiny_zoo):
    """One example has no spread: NaN std, and every live neuron was marked polysemantic."""
    from metanet.errors import ConfigError
    from metanet.reader.data import zoo_graphs

    with pytest.raises(ConfigError, match=r"need role_examples >= 2 .*got 1$"):
        zoo_graphs(tiny_zoo, "val", max_nets=2, role_examples=1)
    assert len(zoo_graphs(tiny_zoo, "val", max_nets=2, roles=False, role_examples=1)) == 2  # not read then


# --- (6) refine's history ---------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def small_net():
    from metanet.nets import build

    torch.manual_seed(0)
    return build("mlp:64-16-10:relu")


@pytest.mark.parametrize("objective", ["loss", "accuracy"])
def test_refine_history_is_the_clean_reward_for_every_method(small_net, objective):
    """perturbation recorded its perturbed population's mean reward, sgd and activity the network's own: the first
    step's reward (the unchanged network on the same batch) now agrees across the gradient-free methods, and with
    sgd's for the loss."""
    import torch.nn.functional as F

    from metanet import tasks
    from metanet.loop import refine

    x, y = tasks.get("digits").split("train")
    x, y = x[:200], y[:200]
    runs = {m: refine(small_net, (x, y), method=m, steps=2, population=3, batch_size=64, objective=objective,
                      verify_on=None, seed=1).history for m in ("perturbation", "activity", "sgd")}
    assert runs["perturbation"][0] == runs["activity"][0]
    if objective == "loss":
        assert runs["perturbation"][0] == runs["sgd"][0]
        idx = torch.randperm(len(y), generator=torch.Generator().manual_seed(1))[:64]
        with torch.no_grad():
            assert runs["perturbation"][0] == -F.cross_entropy(small_net(x[idx]), y[idx]).item()


# --- (7) improve() and the writer's training mode ---------------------------------------------------------------------

@pytest.fixture(scope="module")
def loop_task():
    from metanet import tasks
    from metanet.loop import split_examples

    x, y = tasks.get("digits").split("train")
    return split_examples(x, y, "mlp:64-16-10:relu", shots=5, val=20, test=20, seed=0, name="digits-0")


def test_improve_gives_the_writer_back_in_its_mode(loop_task):
    """improve() always ended with writer.eval(): a writer given in train mode came back in eval mode."""
    from metanet.loop import improve
    from metanet.writer import Writer

    torch.manual_seed(0)
    w = Writer(hidden=8, message=4).train()
    assert improve(w, [loop_task], rounds=0, candidates=2, track=False)[0] is w
    assert w.training and all(m.training for m in w.modules())
    w.eval()
    improve(w, [loop_task], rounds=0, candidates=2, track=False, heldout=[loop_task])
    assert not any(m.training for m in w.modules())
    w.train()
    sub = next(m for m in w.modules() if m is not w)
    sub.eval()  # each module's own mode
    improve(w, [loop_task], rounds=0, candidates=2, track=False)
    assert w.training and not sub.training
