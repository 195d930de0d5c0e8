"""The benchmarks' protocols hold: held-out images are never in the writer's meta-training pools, the scored
(query / test) examples never drive a choice, the baselines train on the same examples and choose on val, the loop
bench's disjointness check checks something, the speed ratio's lower bound is one, and the reader bench's test
networks and probes are held out as its docstring says.

Real data (the data sets' splits), small sizes; no full bench run. The committed results are never touched.
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path

import pytest
import torch
import yaml

from bench_helpers import load_bench

ROOT = Path(__file__).resolve().parents[2]
BASES = ("mnist", "fashion-mnist", "digits", "mnist1d")


def _keys(x: torch.Tensor) -> list[bytes]:
    """One key per row: the bytes of its float32 values."""
    return [r.tobytes() for r in x.detach().float().reshape(len(x), -1).contiguous().numpy()]


@pytest.fixture
def gen(monkeypatch):
    return load_bench("generate", monkeypatch)


@pytest.fixture(scope="module")
def writer():
    from metanet.writer import Writer

    return Writer.load().eval()


# ------------------------------------------------------------------------------------------ held-out images
def test_heldout_images_are_never_in_the_writers_meta_training_pools(gen, monkeypatch):
    """Every support and query image of the 24 held-out tasks (before their permutation / inversion) is a row of its
    data set's test split, and none is in a pool the writer's meta-training data module draws from (train episodes)
    or validates on (val episodes)."""
    from metanet.writer.lightning import EpisodeDataModule

    dm = EpisodeDataModule(bases=list(BASES), shots_max=1000, fresh_episodes=False)  # as train/writer.yaml
    dm.setup("fit")
    pools = {}
    for b in BASES:
        train, val = set(_keys(dm.train_set._data(b)[0])), set(_keys(dm.val_set._data(b)[0]))
        test = _keys(gen.test_split(b)[0])
        # exact duplicates across a data set's own files would be a property of the data set: there are none
        assert len(set(test)) == len(test) and not (set(test) & train) and not (set(test) & val), b
        pools[b] = (train, val, set(test))

    made = []
    real = gen.make_episode

    def recording(x, y, classes, shots, query, g, permute=False, invert=False, name=""):
        plain_g = torch.Generator()
        plain_g.set_state(g.get_state())  # the same draws: the transforms are drawn after the rows
        plain = real(x, y, classes, shots, query, plain_g, False, False, name)
        out = real(x, y, classes, shots, query, g, permute, invert, name)
        made.append((plain, out, permute, invert))
        return out

    monkeypatch.setattr(gen, "make_episode", recording)
    specs = gen.heldout_specs(False)
    for i, spec in enumerate(specs):
        gen.make_heldout(i, spec, 50, 100)
    assert len(made) == len(specs) == 24
    for spec, (plain, out, permute, invert) in zip(specs, made):
        (sx, sy), (qx, qy) = plain[0], plain[1]
        (tx, ty), (ux, uy) = out[0], out[1]
        assert torch.equal(sy, ty) and torch.equal(qy, uy)
        if not permute:  # the captured rows are the task's rows, untransformed
            assert torch.equal(1 - sx if invert else sx, tx) and torch.equal(1 - qx if invert else qx, ux)
        else:
            flip = (lambda v: 1 - v) if invert else (lambda v: v)
            assert torch.equal(flip(sx).flatten(1).sort(1).values, tx.flatten(1).sort(1).values)
        bases = ("mnist", "fashion-mnist") if spec["base"] == "mix" else (spec["base"],)
        s, q = _keys(sx), _keys(qx)
        assert not set(s) & set(q), out[2]
        for k in s + q:
            assert any(k in pools[b][2] for b in bases), f"{out[2]}: an image not of the test split"
            assert not any(k in pools[b][0] or k in pools[b][1] for b in bases), f"{out[2]}: a meta-training image"


# ------------------------------------------------------------------------------------------ choices vs query
def _small_task(gen):
    ep = gen.make_heldout(0, dict(base="digits", k=3), 50, 100)
    full, query = ep["support"], ep["query"]
    fit, val = gen.split_fit_val(*full, 3)
    return ep, full, fit, val, query


def test_fit_and_val_partition_the_support_and_the_query_is_apart(gen):
    ep, full, fit, val, query = _small_task(gen)
    f, v, s, q = _keys(fit[0]), _keys(val[0]), _keys(full[0]), _keys(query[0])
    assert not set(f) & set(v) and sorted(f + v) == sorted(s)
    assert not (set(s) & set(q))
    for c in range(3):  # 4:1 per class
        n = int((full[1] == c).sum())
        assert int((val[1] == c).sum()) == max(1, n // 5)


def test_choices_never_depend_on_the_query(gen, writer, monkeypatch):
    """The writer's best-of-K and Adam's recipe are chosen on val: scrambling the query labels changes neither; Adam
    trains on fit (sweep, with val) and on the whole support (refit), never on a query row."""
    ep, full, fit, val, query = _small_task(gen)
    arch = gen.Arch.default_for(ep["input_shape"], 3)
    cfg = {"sweep_lrs": (1e-2, 3e-2), "sweep_epochs": (5, 10), "sgd_seeds": 1}
    calls = []
    real = gen.train_adam

    def spy(arch_, x, y, **kw):
        calls.append((_keys(x), None if kw.get("val") is None else _keys(kw["val"][0])))
        return real(arch_, x, y, **kw)

    monkeypatch.setattr(gen, "train_adam", spy)
    scrambled = (query[0], (query[1] + 1) % 3)
    g1 = gen.gen_same_examples(writer, arch, fit, val, full, query, 3, 4)
    g2 = gen.gen_same_examples(writer, arch, fit, val, full, scrambled, 3, 4)
    assert g1["chosen"] == g2["chosen"] and g1["candidates_val"] == g2["candidates_val"]
    assert g1["candidates_query"] != g2["candidates_query"]  # the query did change what is scored
    s1 = gen.sgd_same_examples(arch, fit, val, full, query, 3, cfg)
    s2 = gen.sgd_same_examples(arch, fit, val, full, scrambled, 3, cfg)
    assert s1["chosen"] == s2["chosen"] and s1["sweep"] == s2["sweep"]
    q = set(_keys(query[0]))
    sweeps = [c for c in calls if c[1] is not None]
    refits = [c for c in calls if c[1] is None]
    assert len(sweeps) == 4 and len(refits) == 2
    assert all(sorted(x) == sorted(_keys(fit[0])) and sorted(v) == sorted(_keys(val[0])) for x, v in sweeps)
    assert all(sorted(x) == sorted(_keys(full[0])) for x, _ in refits)
    assert not any(set(x) & q for x, _ in calls)


def test_loop_rewards_and_updates_never_use_the_test_examples(monkeypatch, writer):
    """One loop round on the bench's held-out tasks gives the same writer update and the same rewards whether the
    test labels are right or scrambled: the loop trains and rewards on fit / val only."""
    import copy

    from metanet.loop import improve

    mod = load_bench("loop", monkeypatch)
    results = []
    for scramble in (False, True):
        tasks = mod.heldout_tasks(True, 2)
        lts = [t["lt"] for t in tasks]
        for lt in lts:
            lt.check_disjoint()
            if scramble:
                lt.test = (lt.test[0], (lt.test[1] + 1) % lt.num_classes)
        w, hist = improve(copy.deepcopy(writer), lts, rounds=1, method="expert", candidates=4, heldout=lts, seed=0,
                          track=False)
        results.append((w.state_dict(), hist.rounds))
    (w1, h1), (w2, h2) = results
    assert all(torch.equal(w1[k], w2[k]) for k in w1)
    for r1, r2 in zip(h1, h2):
        for key in ("reward_mean", "reward_best", "heldout_reward", "loss"):
            assert r1.get(key) == r2.get(key), key
    assert h1[0]["heldout_best_of_k"] != h2[0]["heldout_best_of_k"]  # test accuracy did see the scrambled labels


def test_loop_bench_disjointness_check_catches_a_leaky_task(monkeypatch):
    """bench/loop.py checks every held-out task's support / val / test for shared examples. It gave each task a
    made-up index (fit as rows 0..n of a pool, the query as a pool of its own) under which nothing was ever compared:
    a query holding support images passed."""
    from metanet.errors import TaskError

    mod = load_bench("loop", monkeypatch)
    for t in mod.heldout_tasks(True, 2):  # the real tasks pass
        t["lt"].check_disjoint()
    real = mod.G.make_heldout

    def leaky(i, spec, shots, query):
        ep = real(i, spec, shots, query)
        (sx, sy), (qx, qy) = ep["support"], ep["query"]
        ep["query"] = (torch.cat([sx[:2], qx]), torch.cat([sy[:2], qy]))  # two support images scored as test
        return ep

    monkeypatch.setattr(mod.G, "make_heldout", leaky)
    lt = mod.heldout_tasks(True, 1)[0]["lt"]
    with pytest.raises(TaskError, match="share examples"):
        lt.check_disjoint()


# ------------------------------------------------------------------------------------------ speed
def test_speed_lower_bound_is_a_lower_bound_of_the_median(gen, writer, monkeypatch):
    """When the median SGD run never reaches the generated accuracy, the ratio's lower bound takes, per run, the
    reach time of a run that reached it and the whole training time of one that did not. The median of the whole
    training times was no bound: a run that reached the target early counted with its longer total."""
    real = gen.train_adam
    totals = {0: 3.0, 1: 5.0, 2: 2.0}  # run 1 reaches the target at 0.1 s, then trains on to 5 s

    def fake(arch, x, y, **kw):
        r = real(arch, x[:64], y[:64], lr=kw["lr"], epochs=1, seed=kw["seed"], batch=kw.get("batch", 128))
        seed = kw["seed"]
        r["seconds"] = totals[seed]
        r["reach"] = {t: ((0.1, 1, 1) if seed == 1 else None) for t in kw.get("targets", ())}
        r["best_val"] = 0.5
        return r

    monkeypatch.setattr(gen, "train_adam", fake)
    cfg = {"max_epochs": 1, "step_budget": 1, "patience_steps": 1, "eval_every": 5, "sgd_seeds": 3}
    res, _ = gen.bench_seen(writer, ["digits"], 2, cfg, zoos=())
    for key in ("k2", "k1"):
        s = res["tasks"][0]["speed"][key]
        assert s["ratio"] is None and s["reached"] == 1
        # bounds 3.0, 0.1 and 2.0 s: median 2.0 s (the totals' median, 3.0 s, overstated it by half)
        assert math.isclose(s["ratio_lower_bound"] * s["generate_seconds"], 2.0, rel_tol=0.02)


# ------------------------------------------------------------------------------------------ reader
def test_shipped_reader_probes_are_val_images_never_test_ones():
    """The shipped reader's labelled data probes are rows of each base data set's val split: none is a test image
    (the zoos' test accuracies, the bench's targets, are measured there) nor a training one."""
    from metanet import tasks
    from metanet.reader import Reader

    r = Reader.load()
    assert r.probe_bases
    for b, name in enumerate(r.probe_bases):
        width, rows = int(r.dprobe_n[b]), (r.dprobe_y[b] >= 0).nonzero().flatten()
        assert len(rows) > 0, name
        probes = _keys(r.dprobe_x[b, rows, :width])
        t = tasks.get(name)
        split = {s: set(_keys(t.split(s)[0])) for s in ("train", "val", "test")}
        assert all(k in split["val"] for k in probes), name
        assert not any(k in split["test"] or k in split["train"] for k in probes), name


def test_reader_bench_tests_on_runs_and_architectures_the_reader_never_trained_on(monkeypatch, tmp_path, tiny_zoo):
    """bench/reader.py's defaults are train/reader.yaml's split; its StatNN is fitted on exactly the reader's training
    networks; its test networks are of other runs and its held-out networks of the excluded architectures only."""
    import metanet.reader.data as data
    from metanet.reader.lightning import ReaderDataModule

    mod = load_bench("reader", monkeypatch)
    monkeypatch.setattr(mod, "speed", lambda reader, threads, **kw: {"networks_per_minute": 1})  # not measured here
    calls = {}
    real = data.zoo_graphs

    def spy(zoo, split="train", *a, **kw):
        out = real(zoo, split, *a, **kw)
        calls[split] = out
        return out

    monkeypatch.setattr(data, "zoo_graphs", spy)
    # the held-out architecture: one the tiny zoo has
    held = "mlp:64-32-10:relu"
    mod.main(["--zoos", str(tiny_zoo), "--no-generated", "--exclude-archs", held, "--threads", "1",
              "--out", str(tmp_path / "r.json")])
    assert set(calls) == {"train", "test", "heldout"}

    # the bench's defaults, read from its own parser (stopped before any work)
    d = yaml.safe_load((ROOT / "train" / "reader.yaml").read_text())["data"]["init_args"]

    def parsed(self, argv=None):
        raise StopIteration(self.parse_known_args([])[0])

    monkeypatch.setattr(argparse.ArgumentParser, "parse_args", parsed)
    with pytest.raises(StopIteration) as stop:
        mod.main([])
    seen = vars(stop.value.args[0])
    assert [Path(z).name for z in seen["zoos"]] == [Path(z).name for z in d["zoos"]]
    assert seen["exclude_archs"] == d["exclude_archs"] and seen["seed"] == d["seed"]
    assert seen["max_nets"] == d["max_nets"]

    dm = ReaderDataModule(zoos=[str(tiny_zoo)], seed=0, exclude_archs=[held])
    train = dm._load("train", None)[str(tiny_zoo)]
    ids = lambda gs: {int(g.zoo_id) for g in gs}  # noqa: E731
    runs = lambda gs: {int(g.run) for g in gs}  # noqa: E731
    assert ids(calls["train"]) == ids(train)  # StatNN: the reader's training networks, no more, no fewer
    assert calls["test"] and calls["heldout"]
    assert not runs(calls["test"]) & runs(train)
    from metanet.zoo import Zoo

    with Zoo(tiny_zoo) as z:
        assert {str(z.info(i).arch) for i in ids(calls["heldout"])} == {held}
        assert held not in {str(z.info(i).arch) for i in ids(train)}
    trained = {g.edge_attr.numpy().tobytes() for g in train}
    assert not any(g.edge_attr.numpy().tobytes() in trained for g in calls["test"] + calls["heldout"])
