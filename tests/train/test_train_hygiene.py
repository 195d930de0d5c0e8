"""Lightning hygiene of the reader, writer and loop stages, and the plain-module contract of the science modules:
constructing a stage touches no data (a bad zoo or data set is an error at ``prepare_data`` / ``setup``); a data
module's checks hold when ``setup`` runs without ``prepare_data`` (Lightning runs that on one process per node only);
a ReaderModule fitted on plain dataloaders has its normalisation fitted like one fitted on a ReaderDataModule; the
Writer and Reader rebuild from their config, round-trip their state dict bit-identically, and a Reader in another
dtype is refused clearly."""

from __future__ import annotations

import copy
import io
import warnings

import lightning as L
import pytest
import torch

from metanet.errors import ConfigError, TaskError, ZooError
from metanet.graph import to_graph
from metanet.nets import build
from metanet.reader import Reader
from metanet.reader.model import batch_graphs
from metanet.writer import Writer


# --- construction: no data touched, errors at prepare_data / setup ------------------------------------------------
def test_data_modules_open_nothing_until_prepare_data_or_setup(tmp_path):
    from metanet.loop.lightning import LoopDataModule
    from metanet.reader.lightning import ReaderDataModule
    from metanet.writer.lightning import EpisodeDataModule, WriterModule

    missing = str(tmp_path / "no-zoo")
    rdm = ReaderDataModule(zoos=[missing])  # constructed: the zoo is opened by setup
    with pytest.raises(ZooError, match="no-zoo"):
        rdm.setup("fit")
    module = WriterModule(zoo=missing)  # the teachers' zoo is opened when a fit is set up
    with pytest.raises(ZooError, match="no-zoo"):
        module.setup("fit")
    for dm in (EpisodeDataModule(bases=("no-such-set",)), LoopDataModule(bases=("no-such-set",))):
        with pytest.raises(TaskError, match="no-such-set"):
            dm.prepare_data()
    assert not any(tmp_path.iterdir())


def test_loop_data_checks_its_sizes_in_setup_too():
    # Lightning runs prepare_data on one process per node; the other processes (and a notebook calling setup) got
    # torch's "batch_size should be a positive integer value" when the first batch was drawn, or nothing at all
    from metanet.loop.lightning import LoopDataModule

    for kw, name in ((dict(tasks_per_round=0), "tasks_per_round"), (dict(rounds_per_epoch=0), "rounds_per_epoch"),
                     (dict(heldout_tasks=0), "heldout_tasks"), (dict(query=1), "query")):
        dm = LoopDataModule(bases=("digits",), **kw)
        with pytest.raises(ConfigError, match=name):
            dm.setup("fit")
    dm = LoopDataModule(bases=("digits",), tasks_per_round=2, rounds_per_epoch=1, heldout_tasks=1)
    for stage in ("fit", "validate", None):  # idempotent, every stage
        dm.setup(stage)
    assert len(dm.train_dataloader()) == 1 and len(dm.val_set) == 1


# --- ReaderModule on plain dataloaders ------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def digits_graphs(tiny_zoo):
    from metanet.reader.data import zoo_graphs

    gs = zoo_graphs(tiny_zoo, "train", ["digits", "mnist"], max_nets=16, role_examples=16)
    return [g for g in gs if int(g.x.shape[0]) < 200][:6]  # the digits (8x8 input) networks: small graphs


def test_a_reader_fitted_on_plain_dataloaders_has_its_normalisation_fitted(digits_graphs):
    # setup fitted the normalisation only from a ReaderDataModule: with plain dataloaders the reader trained (and was
    # exported) on raw weights, and a validate afterwards warned that "an untrained reader is evaluated"
    from torch_geometric.loader import DataLoader

    from metanet.reader.lightning import ReaderModule

    module = ReaderModule(tasks=["digits", "mnist"], hidden=8, layers=1, probes=2)
    t = L.Trainer(max_steps=1, accelerator="cpu", logger=False, enable_progress_bar=False, enable_model_summary=False,
                  enable_checkpointing=False, num_sanity_val_steps=0)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*(num_workers|does not have many workers|GPU|TPU).*")
        t.fit(module, DataLoader(digits_graphs, batch_size=3))
    want = Reader(tasks=["digits", "mnist"], hidden=8, layers=1, probes=2).fit_normalisation(digits_graphs)
    assert bool(module.reader.fitted)
    for name in ("w_norm", "b_norm", "s_norm"):
        assert torch.equal(getattr(module.reader, name), getattr(want, name)), name
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*(num_workers|does not have many workers|GPU|TPU).*")
        warnings.filterwarnings("error", message=".*untrained reader.*")
        t.validate(module, DataLoader(digits_graphs, batch_size=3), verbose=False)


# --- the science modules without Lightning --------------------------------------------------------------------------
def _round_trip(module: torch.nn.Module) -> dict:
    buf = io.BytesIO()
    torch.save(module.state_dict(), buf)
    buf.seek(0)
    return torch.load(buf, weights_only=True)


def test_writer_rebuilds_from_config_and_round_trips_bit_identically():
    from metanet import tasks

    torch.manual_seed(0)
    w = Writer(hidden=8, message=4, steps=2, head="logistic", head_iters=3)
    with torch.no_grad():  # weights of a trained writer: not the initial ones a fresh Writer has anyway
        for p in w.parameters():
            p.add_(0.01 * torch.randn_like(p))
    other = Writer(**w.config())
    assert other.config() == w.config()
    other.load_state_dict(_round_trip(w))
    x, y = tasks.get("digits").split("train")
    x, y = x[:200], y[:200]
    want = w.write("mlp:64-16-10:relu", x, y, seed=1)
    for m in (other, copy.deepcopy(w), copy.deepcopy(w).train(), copy.deepcopy(w).eval()):  # no mode dependence
        got = m.write("mlp:64-16-10:relu", x, y, seed=1)
        assert all(torch.equal(want[k], got[k]) for k in want)
    assert all(p.is_leaf and p.requires_grad for p in w.parameters())


def test_reader_rebuilds_from_config_and_round_trips_bit_identically():
    torch.manual_seed(0)
    r = Reader(tasks=["digits", "mnist"], hidden=8, layers=1, probes=2, saliency=True, scan_steps=2, task_cap=2.0)
    graphs = [to_graph(build("mlp:64-16-10:relu", seed=s)) for s in range(3)]
    r.fit_normalisation(graphs)
    other = Reader(**r.config)
    assert other.config == r.config
    other.load_state_dict(_round_trip(r))
    want = r(batch_graphs(graphs))
    for m in (other, copy.deepcopy(r), copy.deepcopy(r).train(), copy.deepcopy(r).eval()):  # no mode dependence
        got = m(batch_graphs(graphs))
        assert all(torch.equal(want[k], got[k]) for k in want)
    assert all(p.is_leaf and p.requires_grad for p in r.parameters())


@pytest.mark.parametrize("change", [lambda r: r.double(), lambda r: r.half(), lambda r: r.to("meta")])
def test_a_reader_in_another_dtype_is_refused_by_forward(change):
    # read() refused it, but the reader's own forward (a training step under precision="64-true" or "bf16-true")
    # raised torch's "expected scalar type Float but found Double" from inside a layer
    r = change(Reader(tasks=["digits"], hidden=8, layers=1, probes=2))
    with pytest.raises(ConfigError, match=r"float32|'meta' device"):
        r(to_graph(build("mlp:64-16-10:relu", seed=0)))


def test_reader_data_reads_its_zoos_task_names_once(tiny_zoo, monkeypatch):
    # ReaderModule remaps every batch's task labels through dm.task_names: with tasks=None each call opened every
    # zoo and read its whole index (seconds per batch on a large zoo), and left the zoo open
    import metanet.zoo as zoo_pkg
    from metanet.reader.lightning import ReaderDataModule

    opened = []
    real = zoo_pkg.Zoo

    class Counted(real):
        def __init__(self, *a, **kw):
            opened.append(a)
            super().__init__(*a, **kw)

    monkeypatch.setattr(zoo_pkg, "Zoo", Counted)
    dm = ReaderDataModule(zoos=[str(tiny_zoo)], tasks=None)
    first = dm.task_names
    for _ in range(5):
        assert dm.task_names == first
    assert len(opened) == 1
    with real(tiny_zoo) as z:
        assert first == z.tasks


class _Stream(torch.utils.data.IterableDataset):
    """An endless stream of graphs; one that is read much further than training asks stands for 'for ever'."""

    def __init__(self, graphs, limit: int):
        self.graphs, self.limit = graphs, limit

    def __iter__(self):
        for i in range(self.limit):
            yield self.graphs[i % len(self.graphs)]
        raise AssertionError("the stream was read far beyond what the training steps take: an endless one hangs")


def test_a_reader_fitted_on_an_endless_stream_trains_and_says_its_normalisation_was_not_fitted(digits_graphs):
    # on_train_start read the whole training dataset with list(): an IterableDataset that never ends hung the fit
    from torch_geometric.loader import DataLoader

    from metanet.reader.lightning import ReaderModule

    module = ReaderModule(tasks=["digits", "mnist"], hidden=8, layers=1, probes=2)
    t = L.Trainer(max_steps=1, accelerator="cpu", logger=False, enable_progress_bar=False, enable_model_summary=False,
                  enable_checkpointing=False, num_sanity_val_steps=0, limit_val_batches=0)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*(num_workers|does not have many workers|GPU|TPU).*")
        with pytest.warns(UserWarning, match=r"normalisation was not fitted: its training data is an IterableDataset"):
            t.fit(module, DataLoader(_Stream(digits_graphs, 10 * len(digits_graphs)), batch_size=3))
    assert t.global_step == 1
    assert not bool(module.reader.fitted)
