"""Fuzz: generated arguments given to the public Python API not fuzzed elsewhere -- ``generate`` (spec, arch,
candidates, seed, shots), ``verify`` (models, task forms, split, batch_size), ``read`` (objects, reader, scan),
``metanet.edit.*`` (neuron specs, factors, values, sparsity, regions, precision plans, formats, saving),
``inspect`` (split, max_examples, top_k, reader), ``tasks.from_examples`` (class names), ``to_graph`` /
``from_graph`` (edge_dim, tampered graphs) and ``Zoo.select`` / ``Zoo.dataset`` / ``Zoo(...)`` on the prebuilt
tiny zoo. Every call either works or raises a :class:`~metanet.errors.MetanetError` (never a raw KeyError,
TypeError, RuntimeError...), and a refused call writes nothing."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import torch
from fuzz_helpers import fuzz_settings, only_metanet_errors
from hypothesis import example, given
from hypothesis import strategies as st

import metanet
from metanet import edit, tasks
from metanet.errors import MetanetError
from metanet.nets import build

ARCH = "mlp:64-8-10:relu"  # a digits network: every call below is a fraction of a second

#: values of the wrong type or range, for any argument
ODD = [None, 0, -1, 1, 2, 1.5, -0.5, math.nan, math.inf, -math.inf, True, False, "", " ", "x", "test", "val",
       "train", "\x00", [], [1], [None], {}, {"a": 1}, (1, 2), b"x", 2**70, -(2**70), 10**12, np.array(["test"]),
       torch.tensor(3), torch.tensor([1, 2]), torch.tensor(0.5), np.int64(2), np.float32(0.5), np.array([1, 2]),
       object()]
odd = st.sampled_from(ODD + [2**31, 2**63, -(2**63)]) | st.integers(-5, 20) | st.floats() | st.text(max_size=8)


@pytest.fixture(scope="module")
def net() -> torch.nn.Module:
    return build(ARCH, seed=0)


class Net(str):
    """Names one of the ``models`` fixture's networks in a strategy (and in a pinned @example)."""


MODEL_NAMES = ["mlp", "float64", "float16", "meta", "skip", "nobias", "mnist-mlp", "cnn", "linear", "flatten-linear",
               "empty-sequential", "lstm", "identity", "torchscript"]
model_names = st.sampled_from(MODEL_NAMES).map(Net)


@pytest.fixture(scope="module")
def models(net) -> dict:
    """Networks of every kind a user may hand over (a few of which fit digits); built once (TorchScript too)."""
    return dict(zip(MODEL_NAMES, [
        net, build(ARCH, seed=1).double(), build(ARCH, seed=1).half(), build(ARCH).to("meta"),
        build("mlp:64-8-8-10:tanh:skip"), build("mlp:64-8-10:relu:nobias"), build("mlp:784-8-10"),
        build("cnn:1-4-10:relu"), torch.nn.Linear(64, 10),
        torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(64, 10)), torch.nn.Sequential(), torch.nn.LSTM(2, 2),
        torch.nn.Identity(), torch.jit.trace(build(ARCH), torch.zeros(1, 64)),
    ]))


def _resolve(models: dict, v):
    """``v`` with every :class:`Net` name replaced by its network."""
    if isinstance(v, Net):
        return models[v]
    if isinstance(v, list):
        return [_resolve(models, x) for x in v]
    return v


def _task_forms() -> list:
    rng = np.random.default_rng(0)
    x = rng.random((30, 64)).astype(np.float32)
    y = np.arange(30) % 10
    return ["digits", "digits[3,8]", "a network that can read digits", "mnist1d", "nope", "", (x, y), (x,),
            (x, y, 3), (x[:, :10], y), (torch.tensor(x), torch.tensor(y)), (x, y.astype(np.float32)),
            (x[:0], y[:0]), [x, y], {"x": x, "y": y}, (x, y % 2), (x, y + 5), (x[:, None], y), (x, -y),
            ("digits",), ("digits", "mnist")]


TASK_FORMS = _task_forms()


def _no_new_files(d: Path, before: set[str]) -> None:
    assert {p.name for p in d.iterdir()} == before, "a refused call left a file behind"


# --- verify ---------------------------------------------------------------------------------------------------
@fuzz_settings(60)
@given(model=model_names | st.lists(model_names, max_size=3) | odd,
       task=st.sampled_from(TASK_FORMS) | odd, split=st.sampled_from(["test", "train", "val"]) | odd,
       batch_size=st.sampled_from([4096, 1, 7]) | odd)
@example(model=Net("lstm"), task="digits", split="test", batch_size=4096)  # was a raw ValueError from the LSTM
@example(model=[Net("mlp"), Net("float64")], task="digits", split="val", batch_size=7)  # a valid call
def test_verify(models, model, task, split, batch_size):
    model = _resolve(models, model)
    r = only_metanet_errors(lambda: metanet.verify(model, task, split=split, batch_size=batch_size))
    if not isinstance(r, MetanetError):
        for rep in r if isinstance(r, list) else [r]:
            assert 0 <= rep.accuracy <= 1 and rep.n >= 1


# --- generate -------------------------------------------------------------------------------------------------
ARCH_PIECES = ["mlp", "cnn", ":", "-", "64", "8", "10", "1", "relu", "tanh", "gelu", "skip", "nobias", "k3", "0"]
arch_values = (st.sampled_from([ARCH, "mlp:64-10", "mlp:64-8-8-10:tanh:skip", "mlp:784-8-10", "mlp:64-8-3",
                                "cnn:1-4-10:relu", {"family": "mlp", "widths": [64, 8, 10]}, {"family": "mlp"}, {}])
               | st.lists(st.sampled_from(ARCH_PIECES), max_size=7).map("".join) | odd)


@fuzz_settings(40)
@given(spec=st.sampled_from(["digits", "digits[3,8]", "digits+invert"]) | odd, arch=arch_values,
       candidates=st.integers(-1, 3) | odd, seed=st.integers(-3, 2**64) | odd,
       shots=st.none() | st.integers(-1, 5) | odd, verify=st.booleans() | odd)
@example(spec="digits", arch=ARCH, candidates=2, seed=0, shots=2, verify=True)
def test_generate(tmp_path, monkeypatch, spec, arch, candidates, seed, shots, verify):
    monkeypatch.chdir(tmp_path)  # generate writes nothing (a Generated is saved only on request)
    g = only_metanet_errors(lambda: metanet.generate(spec, arch=arch, candidates=candidates, seed=seed, shots=shots,
                                                     verify=verify))
    _no_new_files(tmp_path, set())
    if not isinstance(g, MetanetError):
        assert isinstance(g.model, torch.nn.Module)


# --- read -----------------------------------------------------------------------------------------------------
class File(str):
    """Names a file (or graph) made in test_read's folder: a saved network, junk, a folder, a missing path."""


@fuzz_settings(30)
@given(model=model_names | st.sampled_from(["saved", "saved-str", "dir", "junk", "missing", "graph"]).map(File) | odd,
       reader=st.none() | st.sampled_from(["saved", "junk", "dir"]).map(File) | model_names | odd,
       scan=st.sampled_from([False, None]) | odd)
def test_read(models, tmp_path_factory, model, reader, scan):
    d = tmp_path_factory.mktemp("read me")
    saved = metanet.save(models["mlp"], d / "n.safetensors", task="digits")
    (d / "junk.safetensors").write_bytes(b"\x00" * 20)
    files = {"saved": saved, "saved-str": str(saved), "dir": d, "junk": d / "junk.safetensors",
             "missing": d / "missing", "graph": metanet.to_graph(models["mlp"])}
    model, reader = (files[v] if isinstance(v, File) else _resolve(models, v) for v in (model, reader))
    if scan is None or (isinstance(scan, int) and scan == 1):
        scan = False  # the trigger scan takes seconds per network: only its argument check is fuzzed here
    before = sorted(p.name for p in d.iterdir())
    r = only_metanet_errors(lambda: metanet.read(model, reader=reader, scan=scan))
    assert sorted(p.name for p in d.iterdir()) == before  # reading writes nothing
    if not isinstance(r, MetanetError):
        assert 0 <= r["backdoor"] <= 1 and isinstance(r["neurons"], list)


# --- edit -----------------------------------------------------------------------------------------------------
NEURON_PIECES = ["1", "2", "0", "3", "7", "8", ":", ",", ";", "-", "=", "0.5", " ", "-1", "99"]
neuron_specs = (st.lists(st.sampled_from(NEURON_PIECES), max_size=8).map("".join)
                | st.dictionaries(st.integers(-1, 3) | st.sampled_from(["1", "x"]),
                                  st.lists(st.integers(-2, 9), max_size=3) | st.integers(-1, 9), max_size=2)
                | st.lists(st.tuples(st.integers(-1, 3), st.integers(-2, 9)), max_size=3)
                | st.tuples(st.integers(-1, 3), st.integers(-2, 9))
                | st.dictionaries(st.tuples(st.integers(0, 2), st.integers(0, 8)), st.floats(-3, 3), max_size=2)
                | odd)


@fuzz_settings(60)
@given(op=st.sampled_from(["remove", "scale", "clamp"]), neurons=neuron_specs,
       factor=st.floats(-2, 2) | odd, value=st.none() | st.floats(-2, 2) | odd,
       split=st.sampled_from(["test", "val"]) | odd, trigger=st.none() | odd)
@example(op="clamp", neurons="1:0", factor=1.0, value=torch.tensor(3.0), split="test", trigger=None)  # round()
@example(op="remove", neurons=torch.tensor(3), factor=1.0, value=None, split="test", trigger=None)  # 0-d tensor
@example(op="scale", neurons={1: [0, 2]}, factor=0.5, value=None, split="val", trigger=None)  # a valid call
def test_neuron_edits(net, op, neurons, factor, value, split, trigger):
    before = {k: v.clone() for k, v in net.state_dict().items()}
    if op == "remove":
        fn = lambda: edit.remove(net, neurons, "digits", split=split, trigger=trigger)  # noqa: E731
    elif op == "scale":
        fn = lambda: edit.scale(net, neurons, factor, "digits", split=split, trigger=trigger)  # noqa: E731
    else:
        fn = lambda: edit.clamp(net, neurons, "digits", value=value, split=split, trigger=trigger)  # noqa: E731
    r = only_metanet_errors(fn)
    assert all(torch.equal(before[k], v) for k, v in net.state_dict().items()), "a copy's edit changed the original"
    if not isinstance(r, MetanetError):
        assert 0 <= r.report.after.accuracy <= 1


PLAN_PIECES = ["0", "1", "*", "=", ",", "-", "int8", "int4", "fp16", "bf16", "fp32", "float16", "fp8", " ", ";"]


@fuzz_settings(60)
@given(sparsity=st.floats(-0.5, 1.5) | odd, method=st.sampled_from(["magnitude", "necessity"]) | odd,
       scope=st.sampled_from([None, "layer", "global"]) | odd,
       regions=st.none() | st.sampled_from(["0", "0,1", "1", "5", "-1", "x"]) | st.lists(st.integers(-2, 3), max_size=3)
       | odd,
       plan=st.lists(st.sampled_from(PLAN_PIECES), max_size=6).map("".join)
       | st.dictionaries(st.integers(-1, 3) | st.sampled_from(["*", "0"]), st.sampled_from(PLAN_PIECES) | odd,
                         max_size=2) | odd,
       fmt=st.sampled_from(list(edit.FORMATS)) | odd, max_examples=st.sampled_from([2000, 1, 50]) | odd)
@example(sparsity=0.5, method="magnitude", scope=None, regions=math.nan, plan="0=int8", fmt="fp32", max_examples=50)
@example(sparsity=0.5, method="magnitude", scope=None, regions=torch.tensor(1), plan="0=int8", fmt="fp32",
         max_examples=50)
@example(sparsity=0.5, method="magnitude", scope=None, regions="¹", plan="0=int8", fmt="fp32", max_examples=50)
@example(sparsity=0.5, method=np.array([1, 2]), scope=None, regions=None, plan="0=int8", fmt="fp32", max_examples=50)
@example(sparsity=0.5, method="magnitude", scope=np.array([1, 2]), regions=None, plan="0=int8", fmt="fp32",
         max_examples=50)
@example(sparsity=0.5, method="magnitude", scope=None, regions=None, plan="0=int8", fmt="fp8", max_examples=50)
@example(sparsity=0.5, method="magnitude", scope=None, regions=None, plan="0=int8", fmt=[], max_examples=50)
def test_weight_edits(net, sparsity, method, scope, regions, plan, fmt, max_examples):
    r = only_metanet_errors(lambda: edit.prune(net, sparsity, "digits", method=method, scope=scope, regions=regions,
                                               max_examples=max_examples))
    if not isinstance(r, MetanetError):
        assert abs(edit.sparsity(r.model, regions) - float(sparsity)) < 0.05 or method == "necessity"
    only_metanet_errors(lambda: edit.sparsity(net, regions))
    r = only_metanet_errors(lambda: edit.precision(net, plan, "digits"))
    if not isinstance(r, MetanetError):
        assert 0 <= r.report.after.accuracy <= 1
    w = torch.randn(4, 3)
    q = only_metanet_errors(lambda: edit.quantize(w, fmt))
    if not isinstance(q, MetanetError):
        assert q.shape == w.shape and q.dtype == w.dtype


@fuzz_settings(30)
@given(trigger=st.none() | st.fixed_dictionaries({}, optional={
           "target": st.integers(-1, 12) | odd, "pattern": st.sampled_from(["square", "x", [[1, 0], [0, 1]]]) | odd,
           "size": st.integers(-1, 9) | odd, "location": st.sampled_from([[0, 0], [7, 7], [9, 9], [0]]) | odd,
           "kind": st.sampled_from(["square", "checker", "reconstructed"]) | odd}) | odd,
       meta=st.none() | st.dictionaries(st.sampled_from(["edits", "task", "x"]), odd, max_size=2) | odd,
       reports=st.sampled_from(["ok", "none"]) | st.lists(odd, max_size=2))
@example(trigger=None, meta={"edits": 5}, reports="ok")
@example(trigger=None, meta={1: 2}, reports="ok")
@example(trigger=None, meta={"edits": torch.tensor([1, 2])}, reports="ok")
@example(trigger=None, meta={"path": "x"}, reports="ok")
@example(trigger={"target": 0}, meta={"edits": [], "task": "digits"}, reports="ok")  # a valid call
@example(trigger=None, meta=5, reports="ok")
@example(trigger=None, meta=None, reports=[5])
def test_trigger_and_save_edited(net, tmp_path_factory, trigger, meta, reports):
    only_metanet_errors(lambda: edit.attack_success_rate(net, "digits", trigger))
    only_metanet_errors(lambda: edit.as_trigger(trigger, (1, 8, 8), 10))
    d = tmp_path_factory.mktemp("edited")
    res = edit.remove(net, "1:0", "digits")
    reps = [res.report] if reports == "ok" else [] if reports == "none" else reports
    r = only_metanet_errors(lambda: edit.save_edited(res.model, d / "e.safetensors", reps, meta))
    if isinstance(r, MetanetError):
        _no_new_files(d, set())
    else:
        assert len(metanet.load_meta(r)["edits"]) == len(reps) + len((meta or {}).get("edits") or [])


# --- inspect --------------------------------------------------------------------------------------------------
@fuzz_settings(25)
@given(split=st.sampled_from(["test", "val"]) | odd, max_examples=st.sampled_from([40, 1, None]) | odd,
       top_k=st.sampled_from([8, 1, 1000]) | odd, support=st.sampled_from([0.02, 0.0, 1.0]) | odd,
       reader=st.sampled_from([None, lambda m: 5, lambda m: {"neurons": 5}, np.array([1, 2]),
                               lambda m: {"neurons": "x"}, lambda m: {"neurons": [{"layer": 9}]}, lambda m: {"neurons": [None, [1]]},
                               lambda m: {}, lambda m: 1 / 0]) | odd)
@example(split="test", max_examples=40, top_k=8, support=0.02, reader=None)  # a valid call
@example(split="test", max_examples=40, top_k=8, support=0.02, reader=lambda m: {"neurons": [{"layer": 9}]})
@example(split="test", max_examples=40, top_k=8, support=0.02, reader=lambda m: 5)  # a raw AttributeError
@example(split="test", max_examples=40, top_k=8, support=0.02, reader=np.array([1, 2]))  # a raw ValueError
@example(split=np.array([1, 2]), max_examples=40, top_k=8, support=0.02, reader=None)  # Task.split: a raw ValueError
def test_inspect(net, split, max_examples, top_k, support, reader):
    if max_examples is None or (isinstance(reader, str) and reader == "auto"):
        max_examples, reader = 40, None  # the whole split, the shipped reader: slow and fuzzed elsewhere
    db = only_metanet_errors(lambda: metanet.inspect(net, "digits", split, max_examples=max_examples, top_k=top_k,
                                                     support_threshold=support, reader=reader))
    if not isinstance(db, MetanetError):
        assert len(db) == 8


# --- tasks.from_examples ----------------------------------------------------------------------------------------
@fuzz_settings(60)
@given(shape=st.sampled_from([(12, 4), (12, 1, 2, 2), (12,), (12, 0), (1, 4), (0, 4)]),
       dtype=st.sampled_from([np.float32, np.float64, np.float16, np.uint8, np.int64, np.bool_]),
       k=st.integers(1, 4), class_names=st.none() | st.lists(st.text(max_size=3) | odd, max_size=5) | odd,
       val=st.sampled_from([0.2, 0.0]) | odd, test=st.sampled_from([0.2, 0.0]) | odd,
       seed=st.integers(0, 3) | odd, name=st.none() | odd)
@example(shape=(12, 4), dtype=np.float32, k=2, class_names=0, val=0.2, test=0.2, seed=0, name=None)
@example(shape=(12, 4), dtype=np.float32, k=2, class_names=torch.tensor(3), val=0.2, test=0.2, seed=0, name=None)
@example(shape=(12, 4), dtype=np.float32, k=3, class_names=["a", "b", "c"], val=0.2, test=0.2, seed=0, name=None)
def test_from_examples_arguments(shape, dtype, k, class_names, val, test, seed, name):
    x = (np.arange(math.prod(shape)) % 7 / 6).reshape(shape).astype(dtype)  # in [0, 1], as task inputs must be
    y = np.arange(shape[0]) % k
    t = only_metanet_errors(lambda: tasks.from_examples(x, y, name, val_fraction=val, test_fraction=test, seed=seed,
                                                        class_names=class_names))
    if not isinstance(t, MetanetError):
        assert len(t.class_names) == t.num_classes and sum(t.sizes().values()) == shape[0]


# --- graph ------------------------------------------------------------------------------------------------------
#: edge_dim values: none that torch would try to allocate (a 10^9-column graph could exhaust an overcommitting host)
edge_dims = (st.none() | st.integers(-2, 12) | st.sampled_from([2**31, 2**62, 2**63, 2**70, 10**12, -(2**70)])
             | st.sampled_from([v for v in ODD if not isinstance(v, int) or v < 100]) | st.floats()
             | st.text(max_size=4))


@fuzz_settings(40)
@given(model=model_names, edge_dim=edge_dims)
@example(model=Net("mlp"), edge_dim=2**70)  # a raw TypeError from torch's pad
@example(model=Net("mlp"), edge_dim=2**62)  # a raw RuntimeError (storage size overflow)
@example(model=Net("mlp"), edge_dim=10**12)  # a raw RuntimeError (can't allocate memory)
def test_to_graph_edge_dim(models, model, edge_dim):
    model = models[model]
    g = only_metanet_errors(lambda: metanet.to_graph(model, edge_dim=edge_dim))
    if isinstance(g, MetanetError):
        return
    back = only_metanet_errors(lambda: metanet.from_graph(g))
    if not isinstance(back, MetanetError) and model.__class__.__name__ in ("MLP", "CNN") and not g.x.is_meta:
        sd = model.state_dict()
        assert all(torch.equal(sd[k].to(v.dtype), v) for k, v in back.state_dict().items())


@fuzz_settings(40)
@given(key=st.sampled_from(["x", "edge_index", "edge_attr", "edge_kind", "node_kind", "node_layer", "node_act",
                            "node_pos", "arch", "num_nodes"]),
       value=odd | st.sampled_from([torch.zeros(0), torch.zeros(3, 3), torch.ones(2, 2, dtype=torch.long)]),
       scan=st.just(False))
@example(key="node_act", value=1.5, scan=False)  # read: a raw IndexError in the reader
@example(key="node_pos", value=None, scan=False)  # read: a raw AttributeError
@example(key="num_nodes", value=-1, scan=False)  # read: a raw RuntimeError
@example(key="node_layer", value={}, scan=False)  # read: a raw KeyError
def test_tampered_graph_read_and_decode(net, key, value, scan):
    g = metanet.to_graph(net)
    try:
        setattr(g, key, value)
    except MetanetError:
        return
    except (TypeError, ValueError, AttributeError):
        return  # PyG refusing the attribute itself (not metanet's to check)
    for fn in (metanet.from_graph, lambda g: metanet.read(g, scan=scan)):
        only_metanet_errors(lambda: fn(g))


# --- zoo ----------------------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def zoo(tiny_zoo):
    from metanet.zoo import Zoo

    z = Zoo(tiny_zoo)  # the session's tiny zoo (built in CI); select/dataset/info only read the index and shards
    yield z
    z.close()


SELECT_KEYS = ["task", "arch", "min_acc", "max_acc", "backdoor", "epoch", "final", "family", "run", "diverged"]
select_values = (st.sampled_from(["digits", "mnist", ["digits", "mnist"], "mlp:64-16-10:relu", "mlp", "cnn", 0.5, 3,
                                  [0, 6], True, False, [], "digits[3,8]", "mlp:64-16-10"]) | odd)


@fuzz_settings(80)
@given(filters=st.dictionaries(st.sampled_from(SELECT_KEYS), select_values, max_size=3))
def test_zoo_select(zoo, filters):
    r = only_metanet_errors(lambda: zoo.select(**filters))
    if not isinstance(r, MetanetError):
        assert all(info.id in zoo for info in r)


@fuzz_settings(40)
@given(split=st.sampled_from(["train", "val", "test"]) | odd,
       target=st.sampled_from(["test_acc", ["test_acc", "epoch"], "nope", []]) | odd,
       fractions=st.sampled_from([(0.8, 0.1, 0.1), (1, 0, 0), (0.5, 0.5), (0.5, 0.5, 0.5)])
       | st.tuples(st.floats(-1, 2), st.floats(-1, 2), st.floats(-1, 2)) | odd,
       seed=st.integers(0, 3) | odd, edge_dim=edge_dims,
       filters=st.dictionaries(st.sampled_from(SELECT_KEYS + ["junk"]), select_values, max_size=2),
       ident=st.integers(-2, 400) | odd)
@example(split="train", target="test_acc", fractions=(0.8, 0.1, 0.1), seed=0, edge_dim=None, filters={"task": "digits"},
         ident=0)  # a valid call
@example(split=np.array([1, 2]), target="test_acc", fractions=(0.8, 0.1, 0.1), seed=0, edge_dim=None, filters={},
         ident=0)  # a raw ValueError
def test_zoo_dataset_and_rows(zoo, split, target, fractions, seed, edge_dim, filters, ident):
    ds = only_metanet_errors(lambda: zoo.dataset(split=split, target=target, fractions=fractions, seed=seed,
                                                 edge_dim=edge_dim, **filters))
    if not isinstance(ds, MetanetError) and len(ds):
        assert ds[0].num_nodes >= 1
    for fn in (zoo.info, zoo.state_dict):
        only_metanet_errors(lambda: fn(ident))


@fuzz_settings(30)
@given(path=odd)
@example(path=None)
@example(path=0)
def test_zoo_paths(tmp_path, monkeypatch, path):
    from metanet.zoo import Zoo

    monkeypatch.chdir(tmp_path)  # a relative path names a missing zoo here, never one of the repository's
    only_metanet_errors(lambda: Zoo(path))
    _no_new_files(tmp_path, set())
