"""Building: storage format, determinism, resume, --shard I/N (plain decimal digits only) + merge, integrity checks,
an output directory that is not empty and not a zoo refused before anything is written (a zoo directory holds only its
recipe, index and shards, DESIGN.md "Zoo directory"), a failed write stopping the worker pool at once, the progress
bar (on a terminal only) and the build summary's counts in the singular."""

from __future__ import annotations

import importlib
import io
import json
import copy
import sqlite3
import time
from contextlib import closing

import pytest
from safetensors import safe_open

from metanet.errors import ZooError
from metanet.zoo import Zoo, build, merge, tensor_sha256
from metanet.zoo.build import BuildSummary, parse_shard
from metanet.zoo.store import NET_COLUMNS, Store
from zoo_helpers import _tree, rows, shard_bytes

build_mod = importlib.import_module("metanet.zoo.build")  # metanet.zoo.build is also the function

DESIGN_COLUMNS = ["id", "run", "recipe", "task", "arch", "hparams", "seed", "epoch", "train_acc", "val_acc", "test_acc",
                  "test_loss", "backdoor", "shard", "sha256", "created"]


def test_layout_and_columns(small_zoo, small_recipe):
    assert (small_zoo / "recipe.yaml").is_file() and (small_zoo / "index.sqlite").is_file()
    con = sqlite3.connect(str(small_zoo / "index.sqlite"))
    cols = [r[1] for r in con.execute("PRAGMA table_info(nets)")]
    assert all(c in cols for c in DESIGN_COLUMNS) and cols == list(NET_COLUMNS)
    n = con.execute("SELECT COUNT(*) FROM nets").fetchone()[0]
    assert n == small_recipe["count"] * len(small_recipe["checkpoints"])
    assert con.execute("SELECT COUNT(DISTINCT run) FROM nets").fetchone()[0] == small_recipe["count"]
    r = con.execute("SELECT * FROM nets WHERE id=4").fetchone()
    con.close()
    d = dict(zip(cols, r))
    arch = json.loads(d["arch"])
    assert arch["family"] == "mlp" and arch["widths"][0] == 64 and arch["widths"][-1] == 10
    hp = json.loads(d["hparams"])
    for k in ("optimizer", "lr", "weight_decay", "batch_size", "epochs", "init_scale", "dropout", "label_noise",
              "activation"):
        assert k in hp
    assert d["backdoor"] is None and 0 <= d["test_acc"] <= 1 and d["shard"].startswith("shards/")
    with safe_open(str(small_zoo / d["shard"]), framework="pt") as f:
        keys = [k for k in f.keys() if k.startswith("4/")]
        state = {k.split("/", 1)[1]: f.get_tensor(k) for k in keys}
    assert sorted(state) == sorted(f"layers.{i}.{w}" for i in range(len(arch["widths"]) - 1) for w in ("weight", "bias"))
    assert tensor_sha256(state) == d["sha256"]
    assert Zoo(small_zoo).check().ok


def test_deterministic_bit_identical(small_zoo, small_recipe, tmp_path):
    again = tmp_path / "again"
    build(small_recipe, again, progress=False, workers=2)  # worker processes must not change a bit
    assert rows(again) == rows(small_zoo)
    assert shard_bytes(again) == shard_bytes(small_zoo)


def test_tiny_recipe_is_deterministic(tmp_path):
    """zoo/tiny.yaml (first 8 runs): two builds give bit-identical weights and rows (all but `created`)."""
    a, b = tmp_path / "a", tmp_path / "b"
    build("tiny", a, limit=8, progress=False)
    build("tiny", b, limit=8, progress=False)
    ra = rows(a)
    assert len(ra) == 32 and ra == rows(b)
    assert shard_bytes(a) == shard_bytes(b)
    assert {r["task"] for r in ra} == {"digits", "mnist"}


def test_resume_skips_done_units_and_rebuilds_the_rest(small_zoo, small_recipe, tmp_path):
    out = tmp_path / "resume"
    first = build(small_recipe, out, shard="0/2", progress=False)
    assert 0 < first.units_built < first.units_planned
    # simulate a crash after the shard rename but before the commit: an orphan shard and a temp file
    missing = sorted(set(range(first.units_planned)) - Store(out).done_units())[0]
    (out / "shards" / f"{missing:05d}.safetensors").write_bytes(b"garbage from an interrupted build")
    (out / "shards" / ".00001.safetensors.abc.tmp").write_bytes(b"partial")
    rep = Zoo(out).check()
    assert rep.ok and any("orphan" in n for n in rep.notes) and any("temporary" in n for n in rep.notes)
    second = build(small_recipe, out, progress=False)
    assert second.units_skipped == first.units_built
    assert second.units_built == first.units_planned - first.units_built
    assert rows(out) == rows(small_zoo) and shard_bytes(out) == shard_bytes(small_zoo)
    assert not list((out / "shards").glob(".*.tmp"))
    third = build(small_recipe, out, progress=False)
    assert third.units_built == 0 and third.nets_written == 0


def test_shards_and_merge_equal_the_full_build(small_zoo, small_recipe, tmp_path):
    parts = []
    for i in range(3):
        p = tmp_path / f"part{i}"
        build(small_recipe, p, shard=f"{i}/3", progress=False)
        parts.append(p)
    merged = tmp_path / "merged"
    res = merge(merged, parts)
    assert res["units_skipped"] == 0 and res["nets_copied"] == len(rows(small_zoo))
    assert rows(merged) == rows(small_zoo) and shard_bytes(merged) == shard_bytes(small_zoo)
    assert merge(merged, parts[:1])["units_copied"] == 0  # idempotent
    assert Zoo(merged).check().ok


def test_merge_refuses_other_recipes(small_zoo, small_recipe, tmp_path):
    small_recipe["seed"] = 99
    small_recipe["count"] = 2
    other = tmp_path / "other"
    build(small_recipe, other, progress=False)
    with pytest.raises(ZooError, match="different recipe"):
        merge(tmp_path / "m", [small_zoo, other])


def test_resume_with_another_recipe_is_refused(small_zoo, small_recipe, tmp_path):
    out = tmp_path / "z"
    small_recipe["count"] = 2
    build(small_recipe, out, progress=False)
    small_recipe["seed"] = 1
    with pytest.raises(ZooError, match="different recipe"):
        build(small_recipe, out, progress=False)
    small_recipe["seed"] = 7
    with pytest.raises(ZooError, match="--limit"):
        build(small_recipe, out, limit=1, progress=False)


def test_check_reports_a_corrupted_shard(small_recipe, tmp_path):
    out = tmp_path / "corrupt"
    small_recipe["count"] = 3
    build(small_recipe, out, progress=False)
    shard = sorted((out / "shards").glob("*.safetensors"))[0]
    data = bytearray(shard.read_bytes())
    data[-5] ^= 0xFF  # flip bits inside the last tensor's data: still a readable safetensors file
    shard.write_bytes(bytes(data))
    rep = Zoo(out).check()
    assert not rep.ok
    assert any("sha256" in p and shard.name in p for p in rep.problems)
    assert any(p.startswith("network ") and "do not match" in p for p in rep.problems)
    (out / "shards" / sorted(x.name for x in (out / "shards").glob("*.safetensors"))[-1]).unlink()
    assert any("missing" in p for p in Zoo(out).check().problems)


def test_one_writer_per_directory(small_recipe, tmp_path):
    out = tmp_path / "locked"
    store = Store(out, create=True)
    store.lock()
    try:
        with pytest.raises(ZooError, match="another build"):
            build(small_recipe, out, progress=False)
    finally:
        store.close()


def test_bad_arguments(small_recipe, tmp_path):
    with pytest.raises(ZooError, match="I/N"):
        build(small_recipe, tmp_path / "x", shard="3/2")
    with pytest.raises(ZooError, match="backend"):
        build(small_recipe, tmp_path / "x", backend="slurm")
    with pytest.raises(ZooError, match="not a zoo"):
        Zoo(tmp_path / "nothing")


# --- fast population training (flat parameter buffer, fused optimizer, manual MLP backward) ----------------------
def _one_group(recipe: dict, n: int):
    from metanet.zoo import load_recipe

    runs = load_recipe(recipe).runs()[:n]
    for r in runs[1:]:
        r.arch = runs[0].arch
        r.hparams["optimizer"] = runs[0].hparams["optimizer"]
    return runs


def _max_diff(a: dict, b: dict) -> float:
    return max((a[k] - b[k]).abs().max().item() for k in a)


@pytest.mark.parametrize("per_member", [True, False])
@pytest.mark.parametrize("optimizer, momentum", [("sgd", 0.0), ("sgd", {"uniform": [0.5, 0.9]}), ("adam", None),
                                                 ("adamw", None)])
def test_both_optimizer_strategies_match_torch_optim(small_recipe, monkeypatch, per_member, optimizer, momentum):
    """One fused kernel call per member and whole-population passes are the same optimizer as torch.optim."""
    from metanet.zoo import train as T
    from metanet.zoo.data import load_task_data

    monkeypatch.setattr(T, "_PER_MEMBER_MIN", 0 if per_member else 10**9)
    small_recipe["arch"] = {"family": "mlp", "depth": 1, "width": 12, "activation": "relu"}
    small_recipe["train"].update(optimizer=optimizer, weight_decay=[1e-3, 1e-2], dropout=0.0, label_noise=0.0)
    if optimizer == "sgd":
        small_recipe["train"].update(lr={"log_uniform": [0.05, 0.2]}, momentum=momentum)
    runs = _one_group(small_recipe, 3)
    data = load_task_data("digits", 600, 300, 7)
    pop = T.train_population(runs, {"digits": data})
    for j, run in enumerate(runs):
        ref = T.train_one(run, data)
        assert _max_diff(pop[j].checkpoints[-1].state, ref.checkpoints[-1].state) <= 2e-5
    # the members moved, by different amounts (their own lr/wd)
    moved = [_max_diff(p.checkpoints[-1].state, p.checkpoints[0].state) for p in pop]
    assert min(moved) > 1e-3 and len({round(m, 6) for m in moved}) == 3


def test_optimizer_strategy_follows_member_size():
    import torch

    from metanet.zoo import train as T

    lr = torch.tensor([1e-3, 2e-3])
    big = T.PopulationOptimizer("adam", [torch.zeros(2, T._PER_MEMBER_MIN)], lr, torch.zeros(2))
    small = T.PopulationOptimizer("adam", [torch.zeros(2, 10)], lr, torch.zeros(2))
    assert big.per_member == T._FUSED and not small.per_member
    with pytest.raises(ValueError, match="valid: sgd, adam, adamw"):
        T.PopulationOptimizer("rmsprop", [torch.zeros(2, 3)], lr, torch.zeros(2))


@pytest.mark.parametrize("activation, skip, bias", [("gelu", 1.0, True), ("silu", 0.0, False),
                                                    ("leaky_relu", 1.0, True), ("sigmoid", 0.0, True),
                                                    ("identity", 1.0, False), ("tanh", 0.0, True)])
def test_manual_mlp_backward_matches_autograd(small_recipe, activation, skip, bias):
    """The hand-written MLP backward pass (every activation, residual skips, no-bias layers, dropout) matches the
    plain nn.Module + autograd + torch.optim loop."""
    from metanet.zoo import train as T
    from metanet.zoo.data import load_task_data

    small_recipe["arch"] = {"family": "mlp", "depth": 2, "width": 10, "activation": activation, "skip": skip,
                            "bias": bias}
    small_recipe["train"].update(optimizer="adam", dropout=[0.0, 0.3], label_noise=[0.0, 0.2])
    runs = _one_group(small_recipe, 3)
    assert bool(runs[0].arch.skip_layers()) == (skip > 0) and runs[0].arch.bias == bias
    data = load_task_data("digits", 600, 300, 7)
    pop = T.train_population(runs, {"digits": data})
    for j, run in enumerate(runs):
        ref = T.train_one(run, data)
        for cp, cr in zip(pop[j].checkpoints, ref.checkpoints):
            assert _max_diff(cp.state, cr.state) <= 2e-5
            assert cp.metrics["test_acc"] == pytest.approx(cr.metrics["test_acc"], abs=2 / 360)


def test_flat_params_views_share_one_buffer():
    import torch

    from metanet.zoo.train import FlatParams

    states = [{"a": torch.full((2, 3), float(j)), "b": torch.arange(4.0) + j} for j in range(3)]
    fp = FlatParams(states)
    assert fp.flat.shape == (3, 10) and fp.names == ["a", "b"]
    v = fp.views(fp.flat)
    assert v["a"].shape == (3, 2, 3) and v["b"].shape == (3, 4)
    for j, s in enumerate(states):
        assert torch.equal(v["a"][j], s["a"]) and torch.equal(v["b"][j], s["b"])
    fp.flat.add_(1)  # views alias the buffer: an in-place optimizer step moves every layer
    assert torch.equal(v["b"][2], states[2]["b"] + 1)


@pytest.mark.parametrize("shard", [(0.5, 2), (True, 2), ("0", "2"), (0, 2.0), (0, 1, 2)])
def test_shard_tuple_must_be_two_integers(small_recipe, tmp_path, shard):
    """``build(shard=(0.5, 2))`` matched no unit (``u % 2 == 0.5``) and built nothing without a word;
    ``("0", "2")`` was a TypeError."""
    with pytest.raises(ZooError, match="shard"):
        build(small_recipe, tmp_path / "x", shard=shard, progress=False)
    assert not (tmp_path / "x").exists()


def test_merge_of_a_source_with_a_missing_shard_is_a_zoo_error(small_recipe, tmp_path):
    """Was a raw FileNotFoundError from the Python API."""
    small_recipe["count"] = 2
    src = tmp_path / "src"
    build(small_recipe, src, progress=False)
    victim = sorted((src / "shards").glob("*.safetensors"))[-1]
    victim.unlink()
    with pytest.raises(ZooError, match=f"{victim.name}.*zoo check"):
        merge(tmp_path / "dst", [src])


def test_merge_names_what_differs(small_zoo, small_recipe, tmp_path):
    """Said "different recipe ... ('small' vs 'small')" when only the contents (or --limit) differed."""
    small_recipe["seed"] = 99
    small_recipe["count"] = 2
    other = tmp_path / "other"
    build(small_recipe, other, progress=False)
    with pytest.raises(ZooError, match="different recipe contents") as e:
        merge(tmp_path / "m", [small_zoo, other])
    assert "'small' vs 'small'" not in str(e.value)
    limited = tmp_path / "limited"
    build(small_recipe, limited, limit=1, progress=False)
    with pytest.raises(ZooError, match="different --limit"):
        merge(other, [limited])


@pytest.mark.parametrize("limit", ["2", 1.5, True, 0, -1])
def test_limit_must_be_a_positive_integer(small_recipe, tmp_path, limit):
    """``limit="2"`` was a TypeError, ``limit=1.5`` built 2 runs and stored "1.5", ``limit=True`` one run."""
    with pytest.raises(ZooError, match="limit"):
        build(small_recipe, tmp_path / "x", limit=limit, progress=False)
    assert not (tmp_path / "x").exists()


def test_failed_build_restores_torch_threads(small_recipe, tmp_path, monkeypatch):
    """A build that raised (or was interrupted with Ctrl-C) left torch at ``threads`` (1) threads for the session."""
    import importlib

    import torch

    zb = importlib.import_module("metanet.zoo.build")  # the module: metanet.zoo.build is also the function

    def boom(*a, **k):
        raise KeyboardInterrupt

    monkeypatch.setattr(zb, "run_unit", boom)
    old = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        with pytest.raises(KeyboardInterrupt):
            build(small_recipe, tmp_path / "x", threads=1, progress=False)
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(old)


def test_planning_a_large_recipe_shows_progress(small_recipe, monkeypatch, capsys):
    # sampling takes about 0.2 ms a run: a recipe of millions of runs sat silent for minutes before the first
    # network's bar appeared
    import metanet.zoo.recipe as recipe_module
    from metanet.zoo.build import plan
    from metanet.zoo.recipe import parse_recipe

    recipe = parse_recipe(small_recipe)
    monkeypatch.setattr(recipe_module, "PLAN_PROGRESS_RUNS", 2)
    units = plan(recipe, progress=True)
    assert f"planning {recipe.name}" in capsys.readouterr().err
    assert plan(recipe) == units  # the same plan, silently without progress
    assert f"planning {recipe.name}" not in capsys.readouterr().err


def test_the_progress_bar_counts_networks(small_recipe, tmp_path, monkeypatch):
    # it counted runs under the label "nets" (8 runs of 3 checkpoints: "8/8 nets" for 24 networks); the bar is
    # drawn on a terminal only, so stderr is one here
    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    tty = Tty()
    monkeypatch.setattr("sys.stderr", tty)
    small_recipe["count"] = 2
    build(small_recipe, tmp_path / "z", progress=True)
    assert "6/6 nets" in tty.getvalue()


def _job(payload, ctx, threads):
    """Stand-in for build._unit_job in the pool's workers: unit 0 is done at once, the others train 'forever'."""
    if payload["index"] == 0:
        return 0, b"", [], 0.0
    time.sleep(120)
    return payload["index"], b"", [], 0.0


def test_a_failed_write_stops_the_pool_at_once(small_recipe, tmp_path, monkeypatch):
    # a full disk in write_unit: leaving `with ProcessPoolExecutor` waited for the units still training before the
    # error showed (here 120 s), and the workers lived on meanwhile
    assert len(build_mod.plan(build_mod.load_recipe(small_recipe))) >= 3
    monkeypatch.setattr(build_mod, "_unit_job", _job)
    failed_at = []

    def full(self, *a, **k):
        failed_at.append(time.monotonic())
        raise ZooError("cannot write the shard: No space left on device")

    monkeypatch.setattr(Store, "write_unit", full)
    with pytest.raises(ZooError, match="No space left"):
        build(small_recipe, tmp_path / "z", workers=2, progress=False)
    assert failed_at and time.monotonic() - failed_at[0] < 30


def test_the_build_bar_is_not_drawn_into_a_log(small_recipe, tmp_path, capsys, monkeypatch):
    # progress=True (the CLI's default) wrote tqdm's '\r' frames into captured stderr, a log file or a pipe
    build(small_recipe, tmp_path / "a", limit=1, progress=True)
    err = capsys.readouterr().err
    assert "\r" not in err and "nets" not in err

    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    tty = Tty()
    monkeypatch.setattr("sys.stderr", tty)
    build(small_recipe, tmp_path / "b", limit=1, progress=True)  # a terminal still gets its bar, over networks
    assert "3/3 nets" in tty.getvalue()


def test_build_refuses_a_non_empty_directory_that_is_not_a_zoo(tmp_path, small_recipe):
    out = tmp_path / "my docs"
    out.mkdir()
    (out / "thesis.tex").write_text("years of work")
    (out / "figures").mkdir()
    with pytest.raises(ZooError) as info:
        build(small_recipe, out, limit=1, progress=False)
    message = str(info.value)
    assert str(out) in message and "'figures', 'thesis.tex'" in message and "not a zoo" in message
    assert "new or empty directory" in message
    assert _tree(out) == ["figures", "thesis.tex"]  # no index, shards or recipe scattered among the user's files


def test_build_names_only_a_few_of_many_files(tmp_path, small_recipe):
    for i in range(7):
        (tmp_path / f"f{i}.txt").write_text("")
    with pytest.raises(ZooError, match=r"'f0.txt', 'f1.txt', 'f2.txt' and 4 more"):
        build(small_recipe, tmp_path, limit=1, progress=False)


def test_empty_directory_a_stopped_build_and_a_zoo_of_the_recipe_are_built_into(tmp_path, small_recipe):
    out = tmp_path / "zoo"
    (out / "shards").mkdir(parents=True)  # what a build stopped before its index was written leaves
    (out / ".lock").write_text("")
    first = build(small_recipe, out, limit=1, progress=False)
    assert first.units_built >= 1
    (out / "NOTES.md").write_text("built for the paper")  # a zoo (it has its index): resumed, not refused
    again = build(small_recipe, out, limit=1, progress=False)
    assert again.units_built == 0 and again.units_skipped == first.units_built

    empty = tmp_path / "empty"
    empty.mkdir()
    assert build(small_recipe, empty, limit=1, progress=False).units_built == first.units_built


def test_merge_refuses_a_non_empty_directory_that_is_not_a_zoo(tmp_path, small_recipe):
    src = tmp_path / "shard"
    build(small_recipe, src, limit=1, progress=False)
    out = tmp_path / "my docs"
    out.mkdir()
    (out / "thesis.tex").write_text("years of work")
    with pytest.raises(ZooError, match=r"not empty and not a zoo .*'thesis.tex'"):
        merge(out, [src])
    assert _tree(out) == ["thesis.tex"]


@pytest.mark.parametrize("text", ["1_0/20", "1/2_0", "+1/2", "1/+2", "-0/2", "1 /2", "1/ 2", "0x1/2", "１/2",
                                  "1.0/2", "1/2/3", "", "/", "1/", "/2", "0/" + "9" * 5000])
def test_a_shard_that_is_not_plain_decimal_i_slash_n_is_malformed(text):
    with pytest.raises(ZooError) as info:
        parse_shard(text)
    message = str(info.value)
    assert "malformed" in message and "I/N" in message and "0/4" in message
    assert repr(text)[:30] in message and len(message) < 300  # names the text, a long one cut short


@pytest.mark.parametrize("text, want", [("1/20", (1, 20)), (" 1/2", (1, 2)), ("0/4\n", (0, 4)), ("03/10", (3, 10))])
def test_plain_i_slash_n_with_surrounding_whitespace_is_accepted(text, want):
    assert parse_shard(text) == want


def test_the_build_summary_says_one_unit_and_one_network_in_the_singular():
    text = str(BuildSummary(path="z", units_planned=1, units_in_shard=1, units_built=1, units_skipped=0,
                            nets_written=1, seconds=1.0))
    assert "built 1 unit (1 network)" in text and "1 of 1 unit belongs to this shard" in text
    many = str(BuildSummary(path="z", units_planned=4, units_in_shard=2, units_built=2, units_skipped=0,
                            nets_written=6, seconds=1.0))
    assert "built 2 units (6 networks)" in many and "2 of 4 units belong to this shard" in many


# --- a task spelt as the recipe spells it, stored before names were canonical -----------------------------------------


#: two runs of a tiny digits MLP, one unit each, with the task spelt as a recipe may spell it
SPELT = {
    "name": "spelt", "seed": 3, "count": 2, "population": 1, "tasks": ["Digits"], "checkpoints": [1],
    "arch": {"family": "mlp", "depth": 1, "width": 4},
    "train": {"optimizer": "adam", "lr": 0.01, "batch_size": 32, "epochs": 1, "train_examples": 100},
    "eval": {"train_examples": 50},
}


def _as_before_canonical_names(zoo, task: str = "Digits") -> None:
    """Store the recipe's spelling in the index rows, as metanet did before 6ac42c1."""
    with closing(sqlite3.connect(zoo / "index.sqlite")) as con, con:
        con.execute("UPDATE nets SET task=?", (task,))


def test_a_zoo_begun_with_the_recipes_spelling_is_one_task_after_a_resume(tmp_path):
    zoo = tmp_path / "z"
    build(copy.deepcopy(SPELT), zoo, shard="0/2", progress=False)
    _as_before_canonical_names(zoo)
    build(copy.deepcopy(SPELT), zoo, progress=False)  # this version trains unit 1 and stores 'digits'
    with Zoo(zoo) as z:
        assert len(z) == 2
        assert z.tasks == ["digits"] and {n.task for n in z} == {"digits"}
        assert z.summary()["tasks"] == {"digits": 2}
        assert len(z.select(task="Digits")) == 2
        assert z.dataset(target="task").task_names == ["digits"]


def test_merging_an_old_shard_with_a_new_one_is_one_task(tmp_path):
    old, new = tmp_path / "s0", tmp_path / "s1"
    build(copy.deepcopy(SPELT), old, shard="0/2", progress=False)
    _as_before_canonical_names(old)
    build(copy.deepcopy(SPELT), new, shard="1/2", progress=False)
    merge(tmp_path / "m", [old, new])
    with Zoo(tmp_path / "m") as z:
        assert z.tasks == ["digits"]


def test_a_stored_name_outside_the_grammar_is_kept_as_stored(tmp_path):
    zoo = tmp_path / "z"
    build(copy.deepcopy(SPELT), zoo, shard="0/2", progress=False)
    _as_before_canonical_names(zoo, "hand edited!")
    with Zoo(zoo) as z:
        assert z.tasks == ["hand edited!"] and z.info(z.select()[0].id).task == "hand edited!"
