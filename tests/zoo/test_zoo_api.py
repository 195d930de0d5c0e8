"""`Zoo`: selection (including numpy / torch filter values and task-name typos), ids of any integer kind
(``id in zoo`` agreeing with ``zoo.load(id)``), loading (module / stacked / graph), the summary and its text in the
singular, the PyG dataset view, and the CLI."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from metanet.errors import ZooError
from metanet.verify import verify, verify_stacked
from metanet.zoo import Zoo, ZooDataset, build
from metanet.zoo.zoo import format_summary


def test_len_iter_select(small_zoo, small_recipe):
    zoo = Zoo(small_zoo)
    n_ck = len(small_recipe["checkpoints"])
    assert len(zoo) == small_recipe["count"] * n_ck == len(list(zoo))
    assert zoo.tasks == ["digits"]
    finals = zoo.select(final=True)
    assert len(finals) == small_recipe["count"] and all(n.epoch == 2 for n in finals)
    assert len(zoo.select(epoch=0)) == small_recipe["count"]
    import numpy as np

    assert zoo.select(epoch=np.int64(0)) == zoo.select(epoch=0)  # numpy integers, e.g. from an array of epochs
    good = zoo.select(min_acc=0.5)
    assert all(n.test_acc >= 0.5 for n in good)
    assert len(zoo.select(max_acc=0.5)) + len(good) >= len(zoo)
    arch = zoo.archs[0]
    assert {str(n.arch) for n in zoo.select(arch=arch)} == {arch}
    assert zoo.select(task="mnist") == [] and zoo.select(backdoor=True) == []
    assert len(zoo.select(backdoor=False)) == len(zoo)
    assert {n.run for n in zoo.select(run=[0, 1])} == {0, 1}
    with pytest.raises(ZooError, match="no network with id"):
        zoo.info(10_000)


def test_load_reproduces_stored_accuracy(small_zoo):
    zoo = Zoo(small_zoo)
    from metanet import tasks

    task = tasks.get("digits")
    for n in zoo.select(final=True)[:3]:
        model = zoo.load(n.id)
        assert not model.training and str(model.arch) == str(n.arch)
        rep = verify(model, task)
        assert rep.accuracy == pytest.approx(n.test_acc, abs=1e-9)
        assert rep.loss == pytest.approx(n.test_loss, rel=1e-4)


def test_stacked_and_vectorised_verify(small_zoo):
    zoo = Zoo(small_zoo)
    arch = max(zoo.archs, key=lambda a: len(zoo.select(arch=a)))
    nets = zoo.select(arch=arch)
    module, params = zoo.stacked([n.id for n in nets])
    assert all(v.shape[0] == len(nets) for v in params.values())
    reps = verify_stacked(module, params, "digits")
    assert [r.accuracy for r in reps] == pytest.approx([n.test_acc for n in nets], abs=1e-9)
    for j in (0, len(nets) - 1):
        sd = zoo.state_dict(nets[j].id)
        assert all(torch.equal(params[k][j], sd[k]) for k in sd)
    if len(zoo.archs) > 1:
        with pytest.raises(ZooError, match="one architecture"):
            zoo.stacked([n.id for n in zoo.select()])


def test_graph(small_zoo):
    zoo = Zoo(small_zoo)
    from metanet.graph import from_graph

    n = zoo.select(final=True)[0]
    g = zoo.graph(n.id)
    model = zoo.load(n.id)
    x = torch.rand(4, 1, 8, 8)
    with torch.no_grad():
        assert torch.equal(from_graph(g)(x), model(x))
    batch = zoo.graphs([m.id for m in zoo.select(arch=n.arch)][:3])
    assert batch.num_graphs == min(3, len(zoo.select(arch=n.arch)))


def test_dataset_splits_keep_runs_together(small_zoo):
    zoo = Zoo(small_zoo)
    parts = {s: zoo.dataset(split=s, fractions=(0.5, 0.25, 0.25), seed=3) for s in ("train", "val", "test")}
    runs = {s: {n.run for n in d.nets} for s, d in parts.items()}
    assert not (runs["train"] & runs["val"]) and not (runs["train"] & runs["test"]) and not (runs["val"] & runs["test"])
    assert sum(len(d) for d in parts.values()) == len(zoo)
    for d in parts.values():  # every checkpoint of a run is on its side
        for r in {n.run for n in d.nets}:
            assert len([n for n in d.nets if n.run == r]) == len(zoo.select(run=r))
    again = zoo.dataset(split="train", fractions=(0.5, 0.25, 0.25), seed=3)
    assert again.ids == parts["train"].ids
    other = zoo.dataset(split="train", fractions=(0.5, 0.25, 0.25), seed=4)
    assert isinstance(other, ZooDataset)


def test_dataset_items_and_targets(small_zoo):
    zoo = Zoo(small_zoo)
    ds = zoo.dataset(split="all", target="test_acc")
    g = ds[0]
    n = ds.nets[0]
    assert g.y.shape == (1,) and g.y.item() == pytest.approx(n.test_acc, abs=1e-6)
    assert g.zoo_id.item() == n.id and g.epoch.item() == n.epoch
    multi = zoo.dataset(split="all", target=["task", "log_lr", "backdoor", "epoch"])
    assert multi[1].y.shape == (1, 4)
    cls = zoo.dataset(split="all", target="activation")
    assert cls[0].y.dtype == torch.long
    from torch_geometric.loader import DataLoader

    batch = next(iter(DataLoader(zoo.dataset(split="all", arch=n.arch), batch_size=4)))
    assert batch.y.shape[0] == batch.num_graphs
    with pytest.raises(ZooError, match="target"):
        zoo.dataset(target="colour")
    with pytest.raises(ZooError, match="split"):
        zoo.dataset(split="holdout")
    with pytest.raises(ZooError, match="fractions"):
        zoo.dataset(fractions=(0.5, 0.5, 0.5))


def test_summary_is_plain_data(small_zoo, small_recipe):
    s = Zoo(small_zoo).summary()
    json.dumps(s)
    assert s["networks"] == small_recipe["count"] * 3 and s["runs"] == small_recipe["count"]
    assert s["tasks"] == {"digits": s["networks"]}
    q = s["test_acc_final"]
    assert q["min"] <= q["q25"] <= q["median"] <= q["q75"] <= q["max"]
    assert set(s["test_acc_by_epoch"]) == {0, 1, 2}
    assert s["backdoor"]["poisoned_networks"] == 0


def test_cli_info_check_merge(small_zoo, tmp_path, capsys):
    from metanet.cli import main

    assert main(["zoo", "info", str(small_zoo)]) == 0
    out = capsys.readouterr().out
    assert "digits" in out and "median" in out and "backdoor" in out and "mlp:" in out
    assert main(["zoo", "info", str(small_zoo), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["networks"] == len(Zoo(small_zoo))
    assert main(["zoo", "check", str(small_zoo)]) == 0
    assert "OK" in capsys.readouterr().out
    assert main(["zoo", "merge", str(tmp_path / "copy"), str(small_zoo)]) == 0
    assert len(Zoo(tmp_path / "copy")) == len(Zoo(small_zoo))
    assert main(["zoo", "info", str(tmp_path / "nope")]) == 2
    assert "not a zoo" in capsys.readouterr().err
    assert main(["zoo", "build", str(tmp_path / "missing.yaml"), "--out", str(tmp_path / "o")]) == 2
    assert "not found" in capsys.readouterr().err


@pytest.mark.parametrize(
    "filters, name",
    [
        ({"backdoor": "no"}, "backdoor"),  # was bool("no") == True: the poisoned networks
        ({"final": "false"}, "final"),  # was bool("false") == True: the final checkpoints
        ({"diverged": 0.5}, "diverged"),
        ({"epoch": [1.5]}, "epoch"),  # was int(1.5) == 1: epoch-1 networks
        ({"epoch": 1.5}, "epoch"),  # was TypeError: 'float' object is not iterable
        ({"epoch": True}, "epoch"),  # was epoch 1
        ({"run": "a"}, "run"),  # was ValueError: invalid literal for int()
        ({"run": [0, None]}, "run"),
        ({"min_acc": "0.5"}, "min_acc"),  # was TypeError inside the comparison
        ({"max_acc": [0.5]}, "max_acc"),
        ({"family": "transformer"}, "family"),  # was silently empty
        ({"task": 5}, "task"),
        ({"task": ["digits", 5]}, "task"),
    ],
)
def test_select_refuses_wrong_types(small_zoo, filters, name):
    with pytest.raises(ZooError, match=f"select\\(\\) filter '{name}'"):
        Zoo(small_zoo).select(**filters)


def test_select_accepts_the_documented_types(small_zoo):
    import numpy as np

    zoo = Zoo(small_zoo)
    n = len(zoo)
    assert len(zoo.select(epoch=np.array([0, 1]), run=range(8), family=["mlp"], task=("digits",))) == n * 2 // 3
    assert len(zoo.select(backdoor=np.bool_(False), final=np.True_, min_acc=np.float32(0.0), max_acc=1)) == n // 3
    assert zoo.select(epoch=7) == [] and zoo.select(family="cnn") == [] and zoo.select(epoch="1") == zoo.select(epoch=1)
    import torch  # 0-d tensors, as for min_acc and run (a bool tensor was refused)

    assert zoo.select(backdoor=torch.tensor(False), final=torch.tensor(True)) == zoo.select(backdoor=False, final=True)


@pytest.mark.parametrize("bad", [3.7, True, None, "x", [3]])
def test_info_refuses_non_integer_ids(small_zoo, bad):
    """``load(3.7)`` loaded network 3 and ``load(True)`` network 1."""
    zoo = Zoo(small_zoo)
    with pytest.raises(ZooError, match="no network with id"):
        zoo.info(bad)
    with pytest.raises(ZooError, match="no network with id"):
        zoo.load(bad)


def test_info_accepts_integer_likes(small_zoo):
    import numpy as np

    zoo = Zoo(small_zoo)
    assert zoo.info(np.int64(3)).id == zoo.info(torch.tensor(3)).id == zoo.info("3").id == zoo.info(3.0).id == 3


def test_dataset_split_does_not_depend_on_filters(small_zoo):
    """The split was drawn over the runs left by the filters: ``dataset("train", <filter>)`` and ``dataset("test")``
    shared runs (checkpoints of one run on both sides), and disagreed with the reader's split over all runs."""
    zoo = Zoo(small_zoo)
    fr = dict(fractions=(0.5, 0.25, 0.25), seed=3)
    sides = {s: {n.run for n in zoo.dataset(split=s, **fr).nets} for s in ("train", "val", "test")}
    for filters in ({"run": [0, 1, 2, 3, 4]}, {"min_acc": sorted(n.test_acc for n in zoo.select(final=True))[4],
                                               "final": True}):
        for s in ("train", "val", "test"):
            runs = {n.run for n in zoo.dataset(split=s, **fr, **filters).nets}
            assert runs == sides[s] & {n.run for n in zoo.select(**filters)}, (s, filters)
    from metanet.zoo.dataset import split_runs

    assert sides == split_runs([n.run for n in zoo.select()], (0.5, 0.25, 0.25), 3)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"target": None}, "target"),  # were TypeError: object is not iterable
        ({"target": 5}, "target"),
        ({"fractions": "abc"}, "fractions"),  # was TypeError: '<' not supported
        ({"fractions": (0.5, "0.25", 0.25)}, "fractions"),
        ({"seed": -1}, "seed"),  # was numpy's ValueError: expected non-negative integer
        ({"seed": "a"}, "seed"),
        ({"seed": 1.5}, "seed"),
    ],
)
def test_dataset_bad_arguments_are_zoo_errors(small_zoo, kwargs, match):
    with pytest.raises(ZooError, match=match):
        Zoo(small_zoo).dataset(**kwargs)


def test_zoo_on_a_file_says_it_is_a_file(small_zoo):
    """``Zoo(".../index.sqlite")`` said "(no such directory)" about a file that exists."""
    with pytest.raises(ZooError, match="not a zoo") as e:
        Zoo(small_zoo / "index.sqlite")
    assert "no such directory" not in str(e.value) and "is a file" in str(e.value)


def test_select_a_task_typo_is_an_error_naming_the_zoo_tasks(small_zoo):
    with Zoo(small_zoo) as zoo:
        with pytest.raises(ZooError, match=r"'digts' is not a task name.*tasks are 'digits'"):
            zoo.select(task="digts")
        with pytest.raises(ZooError, match=r"'dgits' is not a task name"):
            zoo.select(task=["digits", "dgits"])
        assert zoo.select(task="mnist[3,8]") == []  # a valid task the zoo lacks: nothing, as documented
        every = zoo.select(task="digits")
        assert every and zoo.select(task=" Digits ") == every  # another spelling of the same task
        assert "a valid task name that the zoo lacks matches nothing" in " ".join(Zoo.select.__doc__.split()).lower()


def test_id_in_zoo_agrees_with_load(zoo):
    """`torch.tensor(3) in zoo` was False (hashed by identity) though zoo.load(torch.tensor(3)) works, `True in
    zoo` was True though load(True) is refused, and `np.array(3) in zoo` was a TypeError (unhashable)."""
    i = [n.id for n in zoo][3]
    for good in (i, np.int64(i), np.int32(i), torch.tensor(i), np.array(i), float(i), str(i)):
        assert good in zoo, good
        assert zoo.info(good).id == i
    for bad in (True, False, [i], torch.tensor([i, i]), i + 0.5, None, "x", 10**9, -1):
        assert bad not in zoo, bad


def test_select_takes_one_element_numpy_bools_as_tensors(zoo):
    """select(final=torch.tensor(True)) worked but select(final=np.array(True)) was a ZooError."""
    want = [n.id for n in zoo.select(final=True)]
    assert [n.id for n in zoo.select(final=np.array(True))] == want
    assert [n.id for n in zoo.select(final=np.array([True]))] == want
    assert [n.id for n in zoo.select(backdoor=np.array(False))] == [n.id for n in zoo]
    with pytest.raises(Exception, match="True, False or None"):
        zoo.select(final=np.array([True, False]))


def test_info_of_a_one_run_zoo_is_in_the_singular(tmp_path, small_recipe):
    build(small_recipe, tmp_path / "z", limit=1, progress=False)
    with Zoo(tmp_path / "z") as zoo:
        s = zoo.summary()
        text = format_summary(s)
    assert "from 1 run;" in text and "1 runs" not in text
    assert "backdoor: 0 poisoned networks (0 runs)" in text
