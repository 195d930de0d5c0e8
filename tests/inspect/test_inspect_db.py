"""metanet.inspect: the neuron database measured on hand-built and trained networks. One example is refused
(every neuron would be constant on it). INDEX.md tells the truth: every figure a group line claims is the one
measured. A CNN channel is "dead" only when its whole map is one constant on the data (a channel whose map
varies across space but whose spatial mean is the same on every example, e.g. a zero-sum edge kernel, is not
safe to remove when the next layer reads its map). Figures of a float64 network are computed in float64."""

from __future__ import annotations

import copy
import json
import math
import re
import sqlite3

import pytest
import torch
from inspect_helpers import CARRIERS, DEAD, MIXED, PLANTED, PLANTED_CLASS, digits_mlp, planted_mlp, planted_task, train
from torch import nn

import metanet.inspect
from metanet import Zoo, tasks
from metanet.errors import ArchError, ConfigError, FileFormatError, TaskError
from metanet.inspect import COLUMNS, NeuronDB, inspect
from metanet.inspect.analyze import robust_z, weight_norms
from metanet.inspect.measure import ablate_layer, evaluate_masks
from metanet.inspect.netview import NetView
from metanet.nets import MLP, Arch, build


@pytest.fixture(scope="module")
def planted_db():
    return inspect(planted_mlp(), planted_task())


def test_ablating_the_planted_neuron_drops_exactly_its_class(planted_db):
    row = planted_db[(1, PLANTED)]
    assert row["ablation_per_class"][PLANTED_CLASS] == pytest.approx(-1.0)
    assert [d for c, d in enumerate(row["ablation_per_class"]) if c != PLANTED_CLASS] == [0.0, 0.0, 0.0]
    assert row["supports"] == [PLANTED_CLASS]
    assert row["ablation_acc"] == pytest.approx(-0.25)  # one class of four, balanced test split
    # every class but the planted one has two carriers: zeroing either alone costs nothing
    for c, carriers in CARRIERS.items():
        for j in carriers:
            if j != PLANTED:
                assert planted_db[(1, j)]["supports"] == []
                assert all(d == 0 for d in planted_db[(1, j)]["ablation_per_class"])


def test_selectivity_polysemanticity_and_dead(planted_db):
    row = planted_db[(1, PLANTED)]
    assert row["top_class"] == PLANTED_CLASS and row["selectivity"] == pytest.approx(1.0)
    assert row["polysemanticity"] == pytest.approx(0.0)
    assert row["writes_to"] == PLANTED_CLASS
    mixed = planted_db[(1, MIXED)]
    assert mixed["top_class"] in (2, 3) and mixed["polysemanticity"] > 0.25
    assert mixed["frac_active"] == pytest.approx(0.5)  # fires on classes 2 and 3 only
    assert planted_db[(1, DEAD)]["dead"] == 1 and planted_db[(1, DEAD)]["frac_active"] == 0
    assert sum(r["dead"] for r in planted_db) == 1
    assert row["in_norm"] == pytest.approx(1.0) and row["out_norm"] == pytest.approx(10.0)
    assert row["bias"] == pytest.approx(-0.5)


def test_index_names_the_planted_neuron(planted_db):
    text = planted_db.index_md()
    line = next(l for l in text.splitlines() if l.startswith("- **layer 1, neuron 5**"))
    assert re.search(r"support 1 \(one\)", line) and "100.0 points" in line
    assert "layer 1, neuron 8**: dead" in text
    # redundant carriers are grouped by the class they fire on, and said to be redundant
    assert "layer 1, neurons 0, 1**: fire most on 0 (zero)" in text


def test_ablation_is_one_vectorised_pass_equal_to_single_ablations():
    task = tasks.get("digits")
    model = digits_mlp()
    v = NetView(model)
    x, y = task.split("test")
    batched = ablate_layer(v, 1, x, y, 10)
    for j in (0, 7, 31):
        mask = torch.ones(1, 32)
        mask[0, j] = 0
        one = evaluate_masks(v, x, y, 10, {1: mask})
        assert batched.per_class[j].tolist() == one.per_class[0].tolist()
        with torch.no_grad():
            ref = model.layers[0].weight.clone(), model.layers[0].bias.clone()
            model.layers[0].weight[j] = 0
            model.layers[0].bias[j] = 0
            acc = (model(x).argmax(1) == y).double().mean()
            model.layers[0].weight.copy_(ref[0])
            model.layers[0].bias.copy_(ref[1])
        assert float(batched.accuracy[j]) == pytest.approx(float(acc))


def test_save_load_roundtrip_and_sql(tmp_path, planted_db):
    paths = planted_db.save(tmp_path)
    assert paths["sqlite"].name == "neurons.sqlite" and paths["index"].read_text() == planted_db.index_md()
    again = NeuronDB.load(tmp_path)
    assert again.index_md() == planted_db.index_md()
    assert again[(1, PLANTED)]["supports"] == [PLANTED_CLASS]
    hits = again.query("SELECT layer, idx FROM ablation WHERE class = ? AND delta < -0.5", (PLANTED_CLASS,))
    assert hits == [{"layer": 1, "idx": PLANTED}]
    con = sqlite3.connect(paths["sqlite"])
    cols = [r[1] for r in con.execute("PRAGMA table_info(neurons)")]
    con.close()
    assert cols == list(COLUMNS)
    assert planted_db.supporting(PLANTED_CLASS) == [(1, PLANTED)]
    with pytest.raises(FileFormatError, match="neurons.sqlite"):
        NeuronDB.load(tmp_path / "missing")
    (tmp_path / "junk.sqlite").write_text("not a database")
    with pytest.raises(FileFormatError, match="not a neuron database"):
        NeuronDB.load(tmp_path / "junk.sqlite")


@pytest.mark.parametrize(
    "arch", ["mlp:64-16-16-10:relu:skip", "mlp:64-12-12-10:sigmoid:skip", "cnn:1-4-6-10:relu:k3:s2"]
)
def test_inspect_families(arch):
    task = tasks.get("digits")
    x, y = task.split("train")
    model = train(build(arch, seed=1), x[:400], y[:400], epochs=5)
    db = inspect(model, task, max_examples=120)
    widths = model.arch.widths[1:-1]
    assert db.layers == list(range(1, len(widths) + 1))  # input = layer 0
    assert [len(db.layer(i)) for i in db.layers] == list(widths)
    assert db.meta["n"] == 120
    assert db[(2, 0)]["kind"] == ("channel" if arch.startswith("cnn") else "unit")
    for r in db:
        assert len(r["ablation_per_class"]) == 10 and len(r["top_examples"]) == 8
        assert 0 <= r["frac_active"] <= 1 and not math.isnan(r["in_norm"])


def test_sequential_and_reader_roles():
    task = planted_task()
    src = planted_mlp()
    seq = nn.Sequential(nn.Flatten(), nn.Linear(8, 9), nn.ReLU(), nn.Linear(9, 4))
    seq.load_state_dict({"1.weight": src.layers[0].weight, "1.bias": src.layers[0].bias,
                         "3.weight": src.layers[1].weight, "3.bias": src.layers[1].bias})

    def reader(model):
        return {"neurons": [{"layer": 1, "index": j, "role": "class 1 detector" if j == PLANTED else "other"}
                            for j in range(9)]}

    db = inspect(seq, task, reader=reader)
    assert db[(1, PLANTED)]["supports"] == [PLANTED_CLASS]
    assert db[(1, PLANTED)]["role"] == "class 1 detector"
    assert "reader: class 1 detector" in db.index_md()
    assert db.meta["reader"] == "from the reader"
    assert inspect(seq, task, reader=None)[(1, PLANTED)]["role"] is None

    def broken(model):
        raise RuntimeError("no checkpoint")

    db = inspect(seq, task, reader=broken)  # roles are optional: a failing reader does not fail inspection
    assert db[(1, PLANTED)]["role"] is None and db.meta["reader"] == "reader failed: RuntimeError: no checkpoint"
    # a reader that is no reader at all (a typo, a path) was called, failed and recorded as "reader failed"
    from metanet.errors import ConfigError

    for bad in ("atuo", "reader.safetensors", 3):
        with pytest.raises(ConfigError, match=r"inspect reader must be 'auto', None or a callable"):
            inspect(seq, task, reader=bad)


def test_package_is_callable_and_errors_are_clear():
    task = planted_task()
    db = metanet.inspect(planted_mlp(), task)  # the package itself, as `metanet.inspect`
    assert isinstance(db, NeuronDB) and len(db) == 9
    with pytest.raises(ArchError, match="layer 1 \\(LSTM: .*is not supported; supported layers: Linear"):
        inspect(nn.Sequential(nn.Flatten(), nn.LSTM(8, 4)), task)
    with pytest.raises(ArchError, match="expects 64 input features"):
        inspect(build("mlp:64-8-4:relu"), task)
    with pytest.raises(ArchError, match="valid hidden layers \\(input = layer 0\\): 1 \\(9 units\\)"):
        NetView(planted_mlp()).layer(2)


@pytest.mark.parametrize("masks, record, error, message", [
    ({1: torch.ones(2, 9)}, True, ConfigError, r"record=True is only supported without masks; record the unmasked"),
    ({1: torch.ones(2, 8)}, False, ConfigError, r"masks\[1\] must be a \(K, 9\) tensor: K variants, one column per "
                                                r"unit of layer 1; got shape \(2, 8\)"),
    ({1: torch.ones(9)}, False, ConfigError, r"masks\[1\] must be a \(K, 9\) tensor.*got shape \(9,\)"),
    ({1: [[1.0] * 9]}, False, ConfigError, r"masks\[1\] must be a \(K, 9\) tensor.*got list"),
    ({"a": torch.ones(2, 9)}, False, ArchError, r"layer 'a' is not a hidden layer .*valid hidden layers"),
    ({1.9: torch.ones(2, 9)}, False, ArchError, r"layer 1.9 is not a hidden layer"),
])
def test_netview_forward_refuses_masks_that_do_not_fit(masks, record, error, message):
    # were a ValueError (record with masks, key 'a'), torch's RuntimeError (a mask of the wrong width), an
    # AttributeError (a list), and a (9,) mask or key 1.9 taken silently (as 9 variants, as layer 1)
    x = planted_task().split("test")[0][:5]
    with pytest.raises(error, match=message):
        NetView(planted_mlp()).forward(x, masks, record=record)


def test_netview_forward_masks_of_different_variant_counts_are_a_config_error():
    seq = nn.Sequential(nn.Linear(8, 6), nn.ReLU(), nn.Linear(6, 5), nn.ReLU(), nn.Linear(5, 4))
    with pytest.raises(ConfigError, match=r"all masks need the same number of variants K \(their first dimension\), "
                                          r"got \[2, 3\]"):
        NetView(seq).forward(torch.rand(4, 8), {1: torch.ones(2, 6), 2: torch.ones(3, 5)})


def test_inspect_leaves_the_callers_training_mode_alone():
    model = planted_mlp().train()
    inspect(model, planted_task(), reader=None)
    assert model.training


def test_inspect_a_float64_network():
    model = planted_mlp().double()
    db = inspect(model, planted_task(), reader=None)
    assert db[(1, PLANTED)]["ablation_per_class"][PLANTED_CLASS] == pytest.approx(-1.0)
    assert db[(1, DEAD)]["dead"] == 1


@pytest.mark.parametrize("top_k", [0, -3, 2.5, True])
def test_top_k_must_be_a_positive_integer(top_k):
    # -3 used to store all but the last 3 examples as "top" examples; 0 made save_pictures fail on an empty mosaic
    with pytest.raises(TaskError, match=r"top_k must be an integer >= 1"):
        inspect(planted_mlp(), planted_task(), reader=None, top_k=top_k)


@pytest.mark.parametrize("threshold", [-0.5, float("nan"), 1.5, "x"])
def test_support_threshold_must_be_a_fraction(threshold):
    with pytest.raises(TaskError, match=r"support_threshold must be an accuracy drop in \[0, 1\]"):
        inspect(planted_mlp(), planted_task(), reader=None, support_threshold=threshold)


@pytest.mark.parametrize("cls", [4, -1, "1", None])
def test_supporting_a_class_the_task_does_not_have_is_an_error(planted_db, cls):
    # used to answer [] ("no neuron supports it"), indistinguishable from a real class nothing depends on
    with pytest.raises(TaskError, match=r"class .* does not exist: the task has classes 0..3"):
        planted_db.supporting(cls)


def test_one_example_is_refused_not_every_neuron_dead():
    with pytest.raises(TaskError, match=r"at least 2 examples .* max_examples=1 gives 1"):
        inspect(planted_mlp(), planted_task(), reader=None, max_examples=1)


def test_two_examples_are_enough():
    db = inspect(planted_mlp(), planted_task(), reader=None, max_examples=2)
    assert len(db) > 0


def _row(idx: int, apc: list[float], supports: list[int], sel: float, top: int) -> dict:
    return {"layer": 1, "idx": idx, "kind": "unit", "fan_in": 4, "in_norm": 1.0, "out_norm": 1.0, "bias": 0.0,
            "act_mean": 0.5, "act_std": 0.3, "act_max": 2.0, "frac_active": 0.5, "dead": 0, "top_class": top,
            "selectivity": sel, "class_means": [0.1] * len(apc), "ablation_acc": sum(apc) / len(apc),
            "ablation_loss": 0.0, "ablation_per_class": apc, "supports": supports,
            "support_strength": max(0.0, -min(apc)), "writes_to": None, "polysemanticity": 0.0,
            "top_examples": [0], "outlier": 0.0, "description": "", "role": None}


def _db(rows: list[dict]) -> NeuronDB:
    return NeuronDB(rows, {"network": "mlp:4-3-3", "task": "t", "split": "test", "n": 105, "accuracy": 0.9,
                           "per_class": [0.9, 0.9, 0.9], "class_names": ["0", "1", "2"], "support_threshold": 0.02})


def _line(db: NeuronDB, kind: str) -> str:
    return next(db.group_line(1, g) for g in db.groups(1) if g["kind"] == kind)


def test_a_selective_neuron_that_costs_a_class_one_example_is_not_said_to_cost_under_the_threshold():
    # one example of 35 is 2.9 points: over the 2-point threshold, but under the two-example floor, so no support
    db = _db([_row(0, [0.0, -1 / 35, 0.0], [], 0.8, 0), _row(1, [0.0, 0.0, 0.0], [], 0.1, 2)])
    sel = _line(db, "selective")
    assert "as much as 2 points" not in sel  # it did cost class 1 2.9 points
    assert "at most 2.9 points" in sel
    uns = _line(db, "unselective")
    assert "no single-neuron effect" not in uns or "at most" in uns
    assert "at most 0.0 points" in uns or "costs no class any accuracy" in uns
    # the header says what support needs: the threshold and two examples
    assert "costs that class at least 2 points of accuracy and at least two of its examples" in db.index_md()
    # a threshold of 2.5 points is not said to be 2 (it was rounded to a whole number of points)
    db.meta["support_threshold"] = 0.025
    assert "at least 2.5 points of accuracy" in db.index_md()


def test_a_support_line_quotes_the_drop_of_the_class_it_names():
    # neuron 0 supports class 0 (-6 points) but costs class 2 (a small class) one example, 8 points: the line about
    # class 0 must quote class 0's drop, not the largest drop of any class
    db = _db([_row(0, [-0.06, 0.0, -1 / 12], [0], 0.9, 0)])
    line = _line(db, "support")
    assert "costs class 0 up to 6.0 points" in line, line


@pytest.fixture(scope="module")
def trained_db(tiny_zoo):
    # a trained zoo network with redundant selective neurons that each cost some class one example (> 2 points)
    zoo = Zoo(tiny_zoo)
    for info in zoo.select(task="digits"):
        if info.arch.widths == (64, 16, 10) and info.arch.activation == "tanh" and info.test_acc > 0.9:
            return inspect(zoo.load(info.id), "digits", reader=None)
    pytest.fail("the tiny zoo has no trained 64-16-10 tanh digits network")


def test_every_group_figure_of_a_trained_network_is_measured(trained_db):
    db = trained_db
    checked = 0
    for layer, g in ((layer, g) for layer in db.layers for g in db.groups(layer)):
        line, rows = db.group_line(layer, g), g["rows"]
        if g["kind"] == "support":
            c = g["classes"][0]
            claim = float(re.search(r"up to ([\d.]+) points", line)[1])
            assert claim == pytest.approx(round(100 * max(-r["ablation_per_class"][c] for r in rows), 1), abs=0.051)
            checked += 1
        elif g["kind"] in ("selective", "unselective"):
            worst = max(-min(r["ablation_per_class"]) for r in rows)
            m = re.search(r"at most ([\d.]+) points", line)
            if m:
                assert float(m[1]) == pytest.approx(round(100 * worst, 1), abs=0.051)
            else:
                assert worst <= 0 and "costs no class any accuracy" in line
            checked += g["kind"] == "selective" and worst > 0.02
    assert checked  # a selective group that costs a class more than 2 points was checked


def _border_task():
    """8x8 images with a zero border and pixels in quarters (conv sums are exact in float32)."""
    g = torch.Generator().manual_seed(0)
    x = torch.zeros(200, 1, 8, 8)
    x[:, :, 1:7, 1:7] = torch.randint(0, 4, (200, 1, 6, 6), generator=g).float() / 4
    y = torch.randint(0, 3, (200,), generator=g)
    return tasks.from_examples(x, y, name="border")


def _edge_cnn(act: str = "identity"):
    """Layer 1: channel 0 = x[j-1] - x[j+1] (varies, spatial mean 0 on zero-border rows), channel 1 = x,
    channel 2 = a constant 0 (zero kernel and bias), channel 3 = the constant 0.25 (zero kernel, bias 0.25)."""
    torch.manual_seed(0)
    m = build(f"cnn:1-4-3-3:{act}:k3:s1")
    with torch.no_grad():
        w, b = m.layers[0].weight, m.layers[0].bias
        w.zero_()
        b.zero_()
        w[0, 0, 1, 0], w[0, 0, 1, 2] = 1.0, -1.0
        w[1, 0, 1, 1] = 1.0
        b[3] = 0.25
    return m


def _maps(model, x):
    """Each hidden layer's channel maps, recorded with forward hooks (independent of NetView)."""
    out: dict[int, torch.Tensor] = {}
    act = model.act
    hooks = [conv.register_forward_hook(lambda mod, i, o, k=k: out.__setitem__(k + 1, act(o)))
             for k, conv in enumerate(model.layers[:-1])]
    with torch.no_grad():
        model(x)
    for h in hooks:
        h.remove()
    return out


def test_a_channel_whose_map_varies_is_not_dead_even_when_its_mean_is_constant():
    task, m = _border_task(), _edge_cnn()
    x, _ = task.split("test")
    maps = _maps(m, x)
    edge = maps[1][:, 0]
    assert edge.mean(dim=(1, 2)).abs().max() == 0 and edge.abs().max() > 0  # the premise: mean 0, map not
    db = inspect(m, task, reader=None)
    for layer, z in maps.items():  # dead exactly when the whole map is one constant on the data
        for j in range(z.shape[1]):
            constant = bool((z[:, j] == z[:, j].flatten()[0]).all())
            assert db[(layer, j)]["dead"] == int(constant), (layer, j)
    assert [db[(1, j)]["dead"] for j in range(4)] == [0, 0, 1, 1]
    index = db.index_md()
    assert "layer 1, neuron 0**: dead" not in index
    # the two dead channels form one group: the line says which one is safe to remove and which one is not
    assert ("layer 1, neurons 2, 3**: dead on the task data (constant output); neuron 2 outputs 0 (safe to remove); "
            "neuron 3 outputs a nonzero constant (up to 0.25)") in index
    # removing the edge channel is not exact: the next layer reads its map
    v = NetView(m)
    mask = torch.ones(1, 4)
    mask[0, 0] = 0
    assert not torch.equal(v.forward(x, {1: mask})[0][0], m(x))


def test_the_same_holds_under_tanh():
    # mirror-symmetric images: tanh of the (antisymmetric) edge map sums to 0 on every example
    x, y = _border_task().split("train")
    x = torch.cat([x[..., :4], x[..., :4].flip(-1)], -1)
    task, m = tasks.from_examples(x, y, name="mirror"), _edge_cnn("tanh")
    edge = _maps(m, task.split("test")[0])[1][:, 0]
    assert edge.mean(dim=(1, 2)).abs().max() < 1e-7 and edge.abs().max() > 0.1  # the premise
    db = inspect(m, task, reader=None)
    assert [db[(1, j)]["dead"] for j in range(4)] == [0, 0, 1, 1]


def test_the_columns_say_what_the_channel_figures_are():
    # act_std / act_max / frac_active of a channel are of its spatial mean, and dead means constant everywhere
    assert "every position" in COLUMNS["dead"][1]
    for col in ("act_std", "act_max", "frac_active"):
        assert "spatial mean" in COLUMNS[col][1], col


def test_writes_to_is_given_for_every_layer_the_output_layer_reads_and_the_column_says_so():
    # a residual MLP: the head reads the stream every hidden layer writes to, so each gets its logit
    m = build("mlp:64-16-16-16-10:relu:skip", seed=0)
    db = inspect(m, "digits", reader=None, max_examples=50)
    head = m.layers[-1].weight.detach()
    for layer in (1, 2, 3):
        assert [db[(layer, j)]["writes_to"] for j in range(16)] == head.argmax(0).tolist()
    assert "last hidden layer only" not in COLUMNS["writes_to"][1] and "residual" in COLUMNS["writes_to"][1]
    # a plain MLP: only the last hidden layer
    db = inspect(build("mlp:64-16-16-10:relu", seed=0), "digits", reader=None, max_examples=50)
    assert db[(1, 0)]["writes_to"] is None and db[(2, 0)]["writes_to"] is not None


def test_outgoing_norms_of_a_float64_network_are_exact():
    torch.manual_seed(0)
    m = MLP(Arch.parse("mlp:64-16-16-10:relu")).double()
    _, out, _ = weight_norms(NetView(m), 1)
    assert out.dtype == torch.float64
    assert torch.equal(out, m.layers[1].weight.detach().pow(2).sum(0).sqrt())
    db = metanet.inspect(m, "digits", reader=None, max_examples=50)
    row = next(r for r in db if r["layer"] == 2 and r["idx"] == 7)
    assert row["out_norm"] == float(m.layers[2].weight.detach()[:, 7].pow(2).sum().sqrt())


def test_outgoing_norms_of_a_half_network_are_float32_sums():
    torch.manual_seed(0)
    m = MLP(Arch.parse("mlp:64-16-10:relu")).half()
    _, out, _ = weight_norms(NetView(m), 1)
    assert out.dtype == torch.float32
    assert torch.allclose(out, m.layers[1].weight.detach().float().pow(2).sum(0).sqrt(), rtol=1e-3)


# --- networks with NaN / inf weights or an inf loss -------------------------------------------------------------------


@pytest.fixture(scope="module")
def digits_net():
    return metanet.generate("digits", seed=0).model


def _with(net, where: str, value: float, at: tuple[int, ...]):
    m = copy.deepcopy(net)
    with torch.no_grad():
        getattr(m.layers[int(where[0])], where[2:])[at] = value
    return m


@pytest.mark.parametrize("value, kinds", [(math.nan, "NaN incoming weights, NaN outputs"),
                                          (math.inf, "inf incoming weights, NaN and inf outputs")])
def test_a_nan_or_inf_weight_is_named_and_zeroing_its_neuron_repairs_the_network(digits_net, value, kinds, tmp_path):
    net = _with(digits_net, "0.weight", value, (3, 5))
    db = metanet.inspect(net, "digits", reader=None)
    assert not math.isfinite(db.meta["loss"])
    broken = [(r["layer"], r["idx"], r["nonfinite"]) for r in db if r["nonfinite"]]
    assert broken == [(1, 3, kinds)]  # the one neuron, not the 63 healthy ones
    r = db[(1, 3)]
    # zeroing it gives the network back (NaN * 0 was NaN: 'zeroing costs nothing', and inf - inf a NaN loss change)
    assert r["ablation_acc"] > 0.5 and r["ablation_loss"] == -math.inf
    assert all(math.isnan(o["ablation_loss"]) for o in db if o["idx"] != 3)  # the loss stays inf: clearly NaN
    # the other neurons' figures are still measured (one NaN weight made every description of the layer empty)
    assert sum(o["description"].startswith("looks for") for o in db) > 40
    text = db.index_md()
    head = text.split("Per-class accuracy")[0]  # in the first lines, before everything else
    assert f"- layer 1, neuron 3: {kinds}" in head
    assert "zeroing layer 1, neuron 3 alone makes it finite again" in head
    # saved and reopened: the column, the -inf and the text survive
    db.save(tmp_path)
    back = NeuronDB.load(tmp_path)
    assert back[(1, 3)]["nonfinite"] == kinds and back[(1, 3)]["ablation_loss"] == -math.inf
    assert back[(1, 0)]["nonfinite"] is None
    assert f"- layer 1, neuron 3: {kinds}" in back.index_md()
    con = sqlite3.connect(tmp_path / "neurons.sqlite")
    try:
        rows = con.execute("SELECT layer, idx FROM neurons WHERE nonfinite IS NOT NULL").fetchall()
        meaning = con.execute("SELECT meaning FROM columns WHERE name = 'nonfinite'").fetchone()[0]
    finally:
        con.close()
    assert rows == [(1, 3)] and "NaN or inf" in meaning


def test_an_overflowing_network_says_its_loss_is_not_finite_and_no_single_neuron_fixes_it(digits_net):
    m = copy.deepcopy(digits_net)
    with torch.no_grad():
        for p in m.parameters():
            p.mul_(1e30)  # every weight finite; the logits overflow
    db = metanet.inspect(m, "digits", reader=None)
    assert all(r["nonfinite"] is None for r in db)
    assert all(math.isnan(r["ablation_loss"]) for r in db)
    lines = db.nonfinite_lines()
    assert len(lines) == 1 and "the loss on this split is not finite" in lines[0]
    assert "zeroing no single neuron makes it finite" in lines[0]
    assert lines[0] in db.index_md().split("Per-class accuracy")[0]
    # every row of logits overflows, with one neuron zeroed too: no prediction, so accuracy 0 whatever is zeroed
    # (argmax took the first +inf of a row for the class)
    assert db.meta["accuracy"] == 0 and all(r["ablation_acc"] == 0 for r in db)


def test_a_nan_bias_of_the_output_layer_is_named_though_no_neuron_owns_it(digits_net):
    db = metanet.inspect(_with(digits_net, "1.bias", math.nan, (2,)), "digits", reader=None)
    assert db.meta["nonfinite_params"] == {"layers.1.bias": "NaN"}
    assert "parameter layers.1.bias (no hidden neuron's): NaN" in db.nonfinite_lines()


def test_neurons_that_only_carry_an_earlier_layers_nan_are_summed_up_per_layer():
    torch.manual_seed(0)
    m = MLP("mlp:64-16-12-10:relu")
    with torch.no_grad():
        m.layers[0].bias[4] = math.nan
    db = metanet.inspect(m, "digits", reader=None)
    lines = db.nonfinite_lines()
    assert lines[0] == "layer 1, neuron 4: NaN bias, NaN outputs"
    assert lines[1].startswith("layer 2, neurons 0, 1, 2,") and "own weights finite" in lines[1]
    assert sum(line.startswith("layer 2") for line in lines) == 1  # one line, not twelve


def test_an_ordinary_network_has_no_nonfinite_figures_or_lines(digits_net):
    db = metanet.inspect(digits_net, "digits", reader=None)
    assert all(r["nonfinite"] is None for r in db) and db.nonfinite_lines() == []
    assert "Not finite" not in db.index_md() and "nonfinite_params" not in db.meta
    assert list(COLUMNS)[-1] == "nonfinite"


def test_a_database_saved_before_the_column_existed_still_loads_and_saves(digits_net, tmp_path):
    db = metanet.inspect(digits_net, "digits", reader=None, max_examples=60)
    db.save(tmp_path)
    con = sqlite3.connect(tmp_path / "neurons.sqlite")
    con.execute("ALTER TABLE neurons DROP COLUMN nonfinite")
    con.commit()
    con.close()
    old = NeuronDB.load(tmp_path)
    assert old[(1, 0)]["nonfinite"] is None and old.nonfinite_lines() == []
    old.save(tmp_path / "again")  # a KeyError without the default


def test_robust_z_ignores_a_nan_when_scoring_the_others():
    x = torch.tensor([1.0, 1.1, 0.9, 1.05, 0.95, 30.0, math.nan], dtype=torch.float64)
    z = robust_z(x)
    assert z[5] > 4 and math.isnan(z[6])  # one NaN made every score of the layer 0
    assert torch.equal(robust_z(x[:6]), z[:6])


def test_the_cli_prints_what_is_not_finite(digits_net, tmp_path, capsys):
    from metanet.cli import main

    path = tmp_path / "nan.safetensors"
    metanet.save(_with(digits_net, "0.weight", math.nan, (3, 5)), path)
    assert main(["inspect", str(path), "--task", "digits", "--out", str(tmp_path / "o"), "--no-reader",
                 "--no-pictures"]) == 0
    out = capsys.readouterr().out
    assert "not finite: layer 1, neuron 3: NaN incoming weights, NaN outputs" in out.splitlines()[1]
    assert main(["inspect", str(path), "--task", "digits", "--out", str(tmp_path / "j"), "--no-reader",
                 "--no-pictures", "--json"]) == 0
    got = json.loads(capsys.readouterr().out)
    assert got["nonfinite"][0] == "layer 1, neuron 3: NaN incoming weights, NaN outputs"
