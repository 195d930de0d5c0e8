"""Reader training data (`metanet.reader.data`): the neuron-role targets come from the train split, never from the data
probes' val split; bad sizes are named; MLPs and CNNs of a zoo batch together. The zoo splits are Zoo.dataset's:
over a partial zoo they warn the same way (the split moves when the build completes, so a run now in val/test can
later land in train). Bad fractions, seeds and list arguments of ``zoo_graphs`` are named by a MetanetError, and
``role_examples=1`` (no spread to measure roles on) is refused when roles are read. Its splits and targets are the
zoo rows' own."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
import torch

from metanet.errors import ConfigError, ZooError
from metanet.reader.data import zoo_graphs
from metanet.zoo import Zoo


def _roles_on(tiny_zoo, graphs, split: str) -> torch.Tensor:
    from metanet import tasks
    from metanet.graph import layout
    from metanet.reader.roles import hidden_activations, role_codes
    from metanet.zoo import Zoo

    out = []
    with Zoo(tiny_zoo) as zoo:
        x, y = tasks.get("digits").split(split)
        for g in graphs:
            module, params = zoo.stacked([int(g.zoo_id)])
            lay = layout(module)
            role = torch.full((lay.num_nodes,), -1, dtype=torch.long)
            with torch.no_grad():
                acts = hidden_activations(lay, params, x[:256])
            for l, a in enumerate(acts, start=1):
                role[lay.nodes(l)] = role_codes(a, y[:256], 10)[0]
            out.append(role)
    return torch.cat(out)


def test_role_targets_are_measured_on_train_images_not_on_the_probe_split(tiny_zoo, tiny_graphs):
    from metanet.reader.roles import ROLE_SPLIT

    assert ROLE_SPLIT == "train"
    graphs = [g for g in tiny_graphs["train"] if float(g.y_log_epoch) > 0][:24]  # trained networks (epoch > 0)
    stored = torch.cat([g.y_role for g in graphs])
    assert torch.equal(stored, _roles_on(tiny_zoo, graphs, "train"))
    # the val split (where the reader's data probes come from) would define other roles for some neurons: the check
    # above tells the two apart
    assert not torch.equal(stored, _roles_on(tiny_zoo, graphs, "val"))


def test_bad_sizes_are_named(tiny_zoo):
    """max_nets=-1 used to drop one network silently (a [:-1] slice); role_examples=0 crashed in median()."""
    import pytest

    from metanet.errors import ConfigError
    from metanet.reader.data import zoo_graphs

    for max_nets in (-1, 0, 2.5):
        with pytest.raises(ConfigError, match="max_nets"):
            zoo_graphs(tiny_zoo, "val", max_nets=max_nets, roles=False)
    with pytest.raises(ConfigError, match="role_examples"):
        zoo_graphs(tiny_zoo, "val", max_nets=2, role_examples=0)
    assert len(zoo_graphs(tiny_zoo, "val", max_nets=2, roles=False)) == 2


def test_bad_sizes_are_checked_by_the_shared_number_check(tiny_zoo):
    """max_nets and role_examples had hand-written copies of an integer check with messages of their own; they use
    metanet.errors.check_number: the option's name, what is valid, the value given."""
    import re

    import numpy as np
    import pytest

    from metanet.errors import ConfigError
    from metanet.reader.data import zoo_graphs

    for bad in (-1, 0, 2.5, True, float("inf"), "3"):
        msg = f"need max_nets >= 1 (or None: every network) (a finite integer), got {bad!r}"
        with pytest.raises(ConfigError, match=f"^{re.escape(msg)}$"):
            zoo_graphs(tiny_zoo, "val", max_nets=bad, roles=False)
        msg = (f"need role_examples >= 1 (images per task the neuron roles are measured on) (a finite integer), "
               f"got {bad!r}")
        with pytest.raises(ConfigError, match=f"^{re.escape(msg)}$"):
            zoo_graphs(tiny_zoo, "val", max_nets=2, role_examples=bad)
    # numpy integers are integers (as before); role_examples is not read when no roles are computed
    assert len(zoo_graphs(tiny_zoo, "val", max_nets=np.int64(2), roles=False, role_examples=0)) == 2


def test_mlps_and_cnns_of_a_zoo_batch_and_read_together(tmp_path):
    """zoo_graphs encoded each architecture at its own edge width (1 for MLPs, 9 for 3x3 kernels), so a zoo of both
    failed in torch.cat when batched; now every graph of a zoo (or of the zoos a ReaderDataModule reads) gets one
    width, and the zero padding changes nothing the reader reads."""
    from torch_geometric.data import Batch

    from metanet.graph import to_graph
    from metanet.reader import Reader
    from metanet.reader.data import zoo_graphs
    from metanet.zoo import Zoo, build

    build({"name": "mixed", "seed": 1, "count": 4, "population": 2, "tasks": ["digits"], "checkpoints": [1],
           "arch": {"family": ["mlp", "cnn"], "depth": 1, "width": 4, "activation": "relu"},
           "train": {"optimizer": "adam", "lr": 1e-2, "batch_size": 64, "epochs": 1, "train_examples": 200},
           "eval": {"train_examples": 100}}, tmp_path / "mixed", progress=False)
    zoo = Zoo(tmp_path / "mixed")
    assert {n.arch.family for n in zoo} == {"mlp", "cnn"}
    graphs = zoo_graphs(zoo, "all", ["digits"], roles=False)
    batch = Batch.from_data_list(graphs)
    assert batch.edge_attr.shape[1] == 9
    reader = Reader(["digits"]).eval()
    with torch.no_grad():
        together = reader(batch)["accuracy"]
        alone = torch.cat([reader(Batch.from_data_list([to_graph(zoo.load(n.id))]))["accuracy"] for n in zoo])
    torch.testing.assert_close(together, alone)
    assert zoo_graphs(zoo, "all", ["digits"], roles=False, edge_dim=16)[0].edge_attr.shape[1] == 16


def test_reader_graphs_of_a_partial_zoo_warn_that_the_split_will_change(partial_tiny_zoo):
    with Zoo(partial_tiny_zoo) as zoo:
        with pytest.warns(UserWarning, match=r"4 of its recipe's 96 runs \(92 missing.*will change"):
            graphs = zoo_graphs(zoo, split="train", max_nets=2)
        assert 1 <= len(graphs) <= 2


def test_reader_graphs_of_a_complete_zoo_do_not_warn(tiny_zoo):
    with Zoo(tiny_zoo) as zoo, warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        assert len(zoo_graphs(zoo, split="val", max_nets=2)) == 2


@pytest.mark.parametrize("fractions", [0.8, None])
def test_zoo_graphs_names_fractions_that_are_not_three_numbers(tiny_zoo, fractions):
    """fractions=0.8 was a raw TypeError ('float' object is not iterable) from tuple()."""
    with pytest.raises(ZooError, match="fractions .* must be three non-negative numbers summing to 1"):
        zoo_graphs(tiny_zoo, "val", fractions=fractions, roles=False, max_nets=1)


@pytest.mark.parametrize("seed", ["x", None, 1.5, -5])
@pytest.mark.parametrize("split", ["all", "heldout"])
def test_zoo_graphs_checks_the_seed_for_every_split(tiny_zoo, seed, split):
    """With split "all" the seed was never checked: a bad one was a raw TypeError from the max_nets sample
    (seed + 17), and a negative one was accepted though train/val/test refuse it."""
    with pytest.raises(ZooError, match="split seed .* must be an integer >= 0"):
        zoo_graphs(tiny_zoo, split, seed=seed, roles=False, max_nets=1)


@pytest.mark.parametrize("name, value", [("exclude_archs", None), ("exclude_archs", 3), ("tasks", 5)])
def test_zoo_graphs_names_list_arguments_that_are_not_lists(tiny_zoo, name, value):
    """exclude_archs=None or tasks=5 was a raw TypeError ('... object is not iterable')."""
    with pytest.raises(ConfigError, match=f"zoo_graphs {name} must be a list of names, got {value}"):
        zoo_graphs(tiny_zoo, "val", roles=False, max_nets=1, **{name: value})


def test_zoo_graphs_defaults_and_lists_still_work(tiny_zoo):
    a = zoo_graphs(tiny_zoo, "val", roles=False, max_nets=2)
    b = zoo_graphs(tiny_zoo, "val", tasks=None, exclude_archs=[], fractions=[0.8, 0.1, 0.1], roles=False,
                   max_nets=2, seed=np.int64(0))
    assert [int(g.zoo_id) for g in a] == [int(g.zoo_id) for g in b] and len(a) == 2


def test_role_examples_one_is_refused(tiny_zoo):
    """One example has no spread: NaN std, and every live neuron was marked polysemantic."""
    from metanet.errors import ConfigError
    from metanet.reader.data import zoo_graphs

    with pytest.raises(ConfigError, match=r"need role_examples >= 2 .*got 1$"):
        zoo_graphs(tiny_zoo, "val", max_nets=2, role_examples=1)
    assert len(zoo_graphs(tiny_zoo, "val", max_nets=2, roles=False, role_examples=1)) == 2  # not read then


def test_zoo_graphs_splits_and_targets_follow_the_zoo_rows(tiny_zoo):
    from metanet.reader.data import zoo_graphs
    from metanet.zoo import Zoo

    zoo = Zoo(tiny_zoo)
    rows = {n.id: n for n in zoo.select()}
    held = "mlp:64-16-10:relu"
    kw = dict(tasks=["mnist", "digits"], exclude_archs=[held], roles=False)
    ids = {s: [int(g.zoo_id) for g in zoo_graphs(zoo, s, **kw)] for s in ("train", "val", "test", "heldout", "all")}
    runs = {s: {rows[i].run for i in v} for s, v in ids.items()}
    # train / val / test split by run and together are "all"; heldout is every network of the excluded architecture
    assert not (runs["train"] & runs["val"] or runs["train"] & runs["test"] or runs["val"] & runs["test"])
    assert sorted(ids["train"] + ids["val"] + ids["test"]) == sorted(ids["all"])
    assert sorted(ids["heldout"]) == sorted(i for i, n in rows.items() if str(n.arch) == held)
    assert len(ids["all"]) + len(ids["heldout"]) == len(rows)
    # the targets are the rows' own values, and the weights the checkpoint's
    graphs = zoo_graphs(zoo, "test", **kw)
    for g in graphs[::7]:
        n = rows[int(g.zoo_id)]
        assert float(g.y_acc) == np.float32(n.test_acc) and int(g.run) == n.run
        assert int(g.y_task) == ["mnist", "digits"].index(n.task) and float(g.y_backdoor) == 0.0
        assert math.isclose(float(g.y_log_epoch), math.log1p(n.epoch), rel_tol=1e-6)
        assert math.isclose(float(g.y_log_lr), math.log10(n.hparams["lr"]), rel_tol=1e-6)
        module, params = zoo.stacked([n.id])
        assert torch.equal(g.edge_attr[: params["layers.0.weight"].numel(), 0], params["layers.0.weight"].flatten())
