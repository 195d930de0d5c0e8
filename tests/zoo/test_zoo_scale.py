"""Reading a large zoo: the per-network costs that grow with the zoo or with its shards.

A zoo of 10^4-10^5 networks is read row by row (``Zoo`` parses its index once) and network by network (a
``DataLoader`` over ``Zoo.dataset``). These tests count the work behind that, never time it: the index parses each
distinct architecture once (it parsed every row's), a shard is opened once for the networks read from it in a row
(it was opened and all its keys scanned for every network), and ``load`` builds no initialised network to overwrite
(it seeded torch and initialised every network, then replaced all of its weights). The results are unchanged: the
same rows, the same tensors.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file, save_file

import metanet.zoo.store as store_mod
import metanet.zoo.zoo as zoo_mod
from metanet.errors import ZooError
from metanet.nets import Arch, build
from metanet.zoo import Zoo


@pytest.fixture
def opens(monkeypatch):
    """The paths ``safe_open`` is called with by the zoo's reading code, in order."""
    seen: list[str] = []
    real = store_mod.safe_open

    def counting(path, *a, **k):
        seen.append(str(path))
        return real(path, *a, **k)

    monkeypatch.setattr(store_mod, "safe_open", counting)
    return seen


def _fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def test_reading_the_index_parses_each_architecture_once(small_zoo, monkeypatch):
    calls = []
    real = Arch.from_dict.__func__

    def counting(cls, d):
        calls.append(d)
        return real(cls, d)

    if hasattr(zoo_mod, "_arch"):  # parsed by an earlier test: parse again
        zoo_mod._arch.cache_clear()
    monkeypatch.setattr(Arch, "from_dict", classmethod(counting))
    with Zoo(small_zoo) as z:
        nets = list(z)
        archs = {str(n.arch) for n in nets}
        assert len(nets) > 2 * len(archs)  # the check below can tell one parse per row from one per architecture
        assert len(calls) <= len(archs)
        # the shared Arch objects are the rows' architectures, as parsed one by one
        rows = z._store.rows()
        assert [str(n.arch) for n in nets] == [str(real(Arch, json.loads(r["arch"]))) for r in rows]
        assert all(n.arch == Arch.parse(str(n.arch)) for n in nets)


def test_loading_a_shards_networks_opens_it_once_and_no_fd_is_left_growing(small_zoo, opens):
    with Zoo(small_zoo) as z:
        ids = [n.id for n in z]
        shards = {z.info(i).shard for i in ids}
        before = _fds()
        first = {i: z.state_dict(i) for i in ids}
        assert len(opens) == len(shards) < len(ids)
        for i in ids:  # read again: the same tensors, and handles stay bounded
            z.load(i)
            assert _fds() <= before + min(len(shards), store_mod.OPEN_SHARDS)
        again = {i: z.state_dict(i) for i in ids}
    assert all(first[i].keys() == again[i].keys() and all(torch.equal(first[i][k], again[i][k]) for k in first[i])
               for i in ids)
    assert _fds() <= before  # close() released the shards


def test_state_dict_returns_exactly_the_networks_tensors(small_zoo):
    with Zoo(small_zoo) as z:
        for n in z:
            stored = load_file(str(z.path / n.shard))
            want = {k.split("/", 1)[1]: v for k, v in stored.items() if k.split("/", 1)[0] == str(n.id)}
            got = z.state_dict(n.id)
            assert got.keys() == want.keys() and all(torch.equal(got[k], want[k]) for k in want)


def test_load_neither_seeds_torch_nor_builds_a_network_per_check(small_zoo, monkeypatch):
    seeds, builds = [], []
    real_seed, real_build = torch.manual_seed, zoo_mod.build
    monkeypatch.setattr(torch, "manual_seed", lambda *a, **k: (seeds.append(a), real_seed(*a, **k))[1])
    monkeypatch.setattr(zoo_mod, "build", lambda *a, **k: (builds.append(a), real_build(*a, **k))[1])
    if hasattr(zoo_mod, "_shapes"):
        zoo_mod._shapes.cache_clear()
    with Zoo(small_zoo) as z:
        nets = list(z)
        models = [z.load(n.id) for n in nets]
    assert seeds == []
    assert len(builds) <= len(nets) + len({str(n.arch) for n in nets})  # one per load, plus one per architecture
    monkeypatch.undo()
    for n, m in zip(nets, models):  # the same module as an initialised network given the stored weights
        ref = build(n.arch, seed=0)
        ref.load_state_dict(m.state_dict())
        assert not m.training and type(m) is type(ref)
        assert all(p.device.type == "cpu" and p.requires_grad for p in m.parameters())
        got, want = m.state_dict(), ref.state_dict()
        assert got.keys() == want.keys() and all(torch.equal(got[k], want[k]) for k in want)


def test_stacked_reuses_the_open_shards(small_zoo, opens):
    with Zoo(small_zoo) as z:
        arch = z.archs[0]
        ids = [n.id for n in z.select(arch=arch)]
        _, p1 = z.stacked(ids)
        n_open = len(opens)
        _, p2 = z.stacked(ids)
        assert len(opens) == n_open == len({z.info(i).shard for i in ids})
        assert all(torch.equal(p1[k], p2[k]) for k in p1)


def test_a_shard_replaced_or_deleted_after_a_read_is_read_again(small_zoo, tmp_path):
    path = shutil.copytree(small_zoo, tmp_path / "z")
    with Zoo(path) as z:
        n = next(iter(z))
        z.state_dict(n.id)  # the shard is open now
        shard = Path(path) / n.shard
        tensors = load_file(str(shard))
        changed = {k: (v + 1 if k.startswith(f"{n.id}/") else v) for k, v in tensors.items()}
        tmp = shard.with_name(".new.tmp")
        save_file(changed, str(tmp))
        os.replace(tmp, shard)  # as a repair replaces it
        got = z.state_dict(n.id)
        assert all(torch.equal(got[k], changed[f"{n.id}/{k}"]) for k in got)
        shard.unlink()
        with pytest.raises(ZooError, match="cannot read"):
            z.state_dict(n.id)


def test_a_forked_process_opens_its_own_shard_handles(small_zoo, opens, monkeypatch):
    with Zoo(small_zoo) as z:
        n = next(iter(z))
        z.state_dict(n.id)
        z.state_dict(n.id)
        assert len(opens) == 1
        monkeypatch.setattr(store_mod.os, "getpid", lambda: -1)  # as in a DataLoader worker forked from here
        z.state_dict(n.id)
        assert len(opens) == 2


def test_a_dataloader_with_two_workers_reads_what_one_process_reads(small_zoo):
    from torch_geometric.loader import DataLoader

    with Zoo(small_zoo) as z:
        ds = z.dataset(split="all", target="test_acc")
        z.state_dict(ds.nets[0].id)  # handles open in the parent before the workers fork
        one = [b for b in DataLoader(ds, batch_size=4)]
        two = [b for b in DataLoader(ds, batch_size=4, num_workers=2)]
        assert len(one) == len(two)
        for a, b in zip(one, two):
            assert torch.equal(a.zoo_id, b.zoo_id) and torch.equal(a.x, b.x) and torch.equal(a.edge_attr, b.edge_attr)


def test_rows_of_a_unit_are_found_by_index_in_new_and_older_zoos(tmp_path):
    # writing a unit deletes its old rows (and a merge reads a source unit's rows) by unit: with no index on
    # nets(unit) each unit scanned the whole table, O(networks x units) over the build or merge of a large zoo
    import sqlite3

    from metanet.zoo.store import Store

    def plan(db) -> str:
        with sqlite3.connect(db) as c:
            return " ".join(str(r[-1]) for r in c.execute("EXPLAIN QUERY PLAN SELECT id FROM nets WHERE unit=?", (0,)))

    s = Store(tmp_path / "z", create=True)
    s.close()
    db = tmp_path / "z" / "index.sqlite"
    assert "nets_unit" in plan(db)
    with sqlite3.connect(db) as c:  # a zoo written before the index was in the schema
        c.execute("DROP INDEX nets_unit")
    assert "nets_unit" not in plan(db)
    s = Store(tmp_path / "z")
    assert "nets_unit" not in plan(db)  # only read: the index is not written
    s.lock()  # a resume or merge into it
    s.close()
    assert "nets_unit" in plan(db)


def test_a_forked_child_reads_even_if_the_parent_held_the_shard_lock(small_zoo, monkeypatch):
    # a fork while another thread of the parent was opening a shard: the child inherited the lock held by a thread
    # it does not have, and its first read waited forever
    import threading

    with Zoo(small_zoo) as z:
        n = next(iter(z))
        held = z._store._shards_lock
        held.acquire()  # as if another parent thread held it at the fork
        try:
            monkeypatch.setattr(store_mod.os, "getpid", lambda: -1)  # now in the child
            done = []
            t = threading.Thread(target=lambda: done.append(z.state_dict(n.id)), daemon=True)
            t.start()
            t.join(30)  # the timeout is only reached on failure: the read blocks on the inherited lock
            read = bool(done)
        finally:
            held.release()
        assert read, "the child's first read waited on the parent's shard lock"


def test_dropped_units_leave_no_deleted_shard_open(small_zoo, tmp_path):
    # a repair or resume drops a damaged unit and deletes its shard: the Store still held it open (its disk space
    # kept until the handle was evicted)
    from metanet.zoo.store import Store

    zoo = tmp_path / "zoo"
    shutil.copytree(small_zoo, zoo)
    s = Store(zoo)
    try:
        row = s.conn.execute("SELECT id, shard, unit FROM nets ORDER BY id LIMIT 1").fetchone()
        s.tensors(row["shard"], row["id"])
        path = str((zoo / row["shard"]).resolve())

        def held() -> bool:  # an open file descriptor of it, or a mapping of it (safetensors maps its files)
            fd_dir = "/proc/self/fd"
            fds = [os.path.realpath(os.path.join(fd_dir, f)) for f in os.listdir(fd_dir)]
            with open("/proc/self/maps") as f:
                return any(p.startswith(path) for p in fds) or path in f.read()

        assert held()
        s.lock()
        s.drop_units([row["unit"]])
        assert not held()
    finally:
        s.close()
