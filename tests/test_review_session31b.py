"""Review of session 31's second half of library changes (balanced head, canonical zoo task names, zoo data record,
cpu autocast, class names through read/edit/refine).

- the zoo index stores a task's canonical name since 6ac42c1, but a zoo begun before it stored the recipe's
  spelling ("Digits"): resumed by this version (or merged with shards built by it), it held one task under two
  names, ``Zoo.tasks == ['Digits', 'digits']``, two classes to a reader's task head and two rows of ``zoo info``;
- ``data_fingerprint`` cached the data it hashed even when ``clear_base_cache()`` (another thread) forgot that data
  during the hash: the forgotten arrays stayed in memory.
"""

from __future__ import annotations

import copy
import sqlite3
from contextlib import closing

from metanet.zoo import Zoo
from metanet.zoo.build import build, merge

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


# --- the data fingerprint cache ------------------------------------------------------------------------------------


def test_a_fingerprint_taken_while_the_cache_is_cleared_does_not_keep_the_forgotten_data(monkeypatch):
    # clear_base_cache() in another thread while data_fingerprint hashed (outside the lock) left the forgotten
    # data set in _PRINTS: its arrays stayed in memory after clear_base_cache() had forgotten them
    import hashlib

    from metanet.tasks import sources

    saved = dict(sources._CACHE), dict(sources._PRINTS)
    sources.clear_base_cache()
    real_sha256 = hashlib.sha256

    class ClearingSha:  # the other thread's clear_base_cache(), at the hash's first update
        def __init__(self):
            self.h, self.cleared = real_sha256(), False

        def update(self, b):
            if not self.cleared:
                self.cleared = True
                sources.clear_base_cache()
            self.h.update(b)

        def hexdigest(self):
            return self.h.hexdigest()

    try:
        monkeypatch.setattr(sources.hashlib, "sha256", ClearingSha)
        fp = sources.data_fingerprint("digits")
        monkeypatch.undo()
        assert fp["sizes"] == {"train": 1077, "val": 360, "test": 360}  # the caller still gets its fingerprint
        assert "digits" not in sources._CACHE and "digits" not in sources._PRINTS
        assert sources.data_fingerprint("digits") == fp  # and the next call hashes the data loaded again
        assert sources._PRINTS["digits"][0] is sources._CACHE["digits"]
    finally:
        monkeypatch.undo()
        sources.clear_base_cache()
        sources._CACHE.update(saved[0])
        sources._PRINTS.update(saved[1])
