"""A zoo's stored values, recomputed with no metanet code between the files and the numbers.

The other ground-truth tests load data through ``metanet.tasks`` and weights through ``Zoo``; a mistake shared by
those paths and the trainer (a split drawn differently from the documented one, a shard read under the wrong id)
would pass them. Here the digits splits come from scikit-learn as ``metanet.tasks.sources`` documents them (stratified
60/20/20, ``random_state=0``, values / 16), the index from sqlite3, the tensors from the shard file with safetensors,
and each network is a hand-written forward pass: the recorded data fingerprint, sha256, scores, the epoch-0
initialisation and ``select(min_acc=...)`` must all agree with that.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from safetensors import safe_open
from torch import nn

from metanet.zoo import Zoo
from metanet.zoo.recipe import derived_seeds

ACTS = {"relu": torch.relu, "tanh": torch.tanh}


def _digits_splits() -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """scikit-learn's digits cut as documented: test = 20% stratified, val = 25% of the rest, seed 0 (uint8 0..16)."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    d = load_digits()
    x, y = d.data.astype(np.uint8).reshape(-1, 1, 8, 8), d.target.astype(np.int64)
    rest, test = train_test_split(np.arange(len(y)), test_size=0.2, stratify=y, random_state=0)
    train, val = train_test_split(np.arange(len(rest)), test_size=0.25, stratify=y[rest], random_state=0)
    return {s: (x[i], y[i]) for s, i in (("train", rest[train]), ("val", rest[val]), ("test", test))}


def _fingerprint(splits: dict) -> str:
    """sha256 of every split's x then y, each as dtype, shape and raw bytes (the documented record)."""
    h = hashlib.sha256()
    for s in ("train", "val", "test"):
        for a in splits[s]:
            a = np.ascontiguousarray(a)
            h.update(f"{a.dtype.str}{a.shape};".encode())
            h.update(a.tobytes())
    return h.hexdigest()


def _tensor_sha256(state: dict[str, torch.Tensor]) -> str:
    """The index's sha256: per parameter in sorted order, 'name|dtype|[shape]\\n' and the raw bytes."""
    h = hashlib.sha256()
    for k in sorted(state):
        t = state[k].contiguous()
        h.update(f"{k}|{str(t.dtype).removeprefix('torch.')}|{list(t.shape)}\n".encode())
        h.update(t.numpy().tobytes())
    return h.hexdigest()


def _forward(arch: dict, w: dict[str, torch.Tensor], x: torch.Tensor) -> torch.Tensor:
    """flatten; per hidden layer linear + activation (+ its input where the arch has a residual of equal widths)."""
    widths, act = arch["widths"], ACTS[arch["activation"]]
    n = len(widths) - 1
    h = x.flatten(1)
    for i in range(n - 1):
        z = act(F.linear(h, w[f"layers.{i}.weight"], w[f"layers.{i}.bias"]))
        h = h + z if arch["skips"] and i >= 1 and widths[i] == widths[i + 1] else z
    return F.linear(h, w[f"layers.{n - 1}.weight"], w[f"layers.{n - 1}.bias"])


@pytest.fixture(scope="module")
def stored(small_zoo):
    con = sqlite3.connect(f"file:{small_zoo / 'index.sqlite'}?mode=ro", uri=True)
    con.row_factory = sqlite3.Row
    rows = [dict(r) for r in con.execute("SELECT * FROM nets ORDER BY id")]
    meta = dict(con.execute("SELECT key, value FROM meta").fetchall())
    con.close()
    weights: dict[int, dict[str, torch.Tensor]] = {}
    for shard in sorted({r["shard"] for r in rows}):
        with safe_open(str(small_zoo / shard), "pt") as f:
            for key in f.keys():
                net, name = key.split("/", 1)
                weights.setdefault(int(net), {})[name] = f.get_tensor(key)
    return rows, meta, weights


def test_the_recorded_data_is_the_documented_digits_split(stored):
    _, meta, _ = stored
    splits = _digits_splits()
    rec = json.loads(meta["data"])["digits"]
    assert rec["sizes"] == {s: len(splits[s][1]) for s in ("train", "val", "test")} == {
        "train": 1077, "val": 360, "test": 360}
    assert rec["sha256"] == _fingerprint(splits)


def test_every_stored_value_is_the_shard_tensors_own_on_that_split(stored, small_recipe):
    rows, _, weights = stored
    splits = {s: (torch.from_numpy(x).float() / 16, torch.from_numpy(y)) for s, (x, y) in _digits_splits().items()}
    # the recipe's training subset: a permutation seeded with the recipe seed, kept in data order
    x_tr, y_tr = splits["train"]
    g = torch.Generator().manual_seed(small_recipe["seed"])
    keep = torch.randperm(len(y_tr), generator=g)[: small_recipe["train"]["train_examples"]].sort().values
    k_eval = small_recipe["eval"]["train_examples"]
    x_ev, y_ev = x_tr[keep][:k_eval], y_tr[keep][:k_eval]
    assert {r["id"] for r in rows} == set(weights) and len(rows) == 8 * 3
    for r in rows:
        w, arch, h = weights[r["id"]], json.loads(r["arch"]), json.loads(r["hparams"])
        assert r["task"] == "digits" and _tensor_sha256(w) == r["sha256"]
        with torch.no_grad():
            for col, (x, y) in (("val_acc", splits["val"]), ("test_acc", splits["test"]), ("train_acc", (x_ev, y_ev))):
                assert (_forward(arch, w, x).argmax(1) == y).double().mean().item() == pytest.approx(r[col], abs=1e-12)
            loss = F.cross_entropy(_forward(arch, w, splits["test"][0]), splits["test"][1]).item()
        assert loss == pytest.approx(r["test_loss"], rel=1e-5)
        if r["epoch"] == 0:
            # nn.Linear's default initialisation, seeded with the run's init seed, times the stored init scale
            with torch.random.fork_rng():
                torch.manual_seed(derived_seeds(r["seed"])["init"])
                layers = [nn.Linear(a, b) for a, b in zip(arch["widths"][:-1], arch["widths"][1:])]
            for i, lin in enumerate(layers):
                for name in ("weight", "bias"):
                    want = getattr(lin, name).detach() * h["init_scale"]
                    assert torch.equal(w[f"layers.{i}.{name}"], want), (r["id"], i, name)


def test_min_and_max_acc_select_by_the_stored_test_accuracy_inclusively(stored, small_zoo):
    rows = stored[0]
    with Zoo(small_zoo) as zoo:
        for t in sorted({r["test_acc"] for r in rows}):  # every stored value is a boundary once
            assert [n.id for n in zoo.select(min_acc=t)] == [r["id"] for r in rows if r["test_acc"] >= t]
            assert [n.id for n in zoo.select(max_acc=t)] == [r["id"] for r in rows if r["test_acc"] <= t]
