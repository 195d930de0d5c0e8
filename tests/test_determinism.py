"""Determinism as the project promises it: the same seed gives the same zoo, the same trained meta-network and the
same generated network on the same machine, in fresh processes with different hash seeds (``PYTHONHASHSEED``), and
a different seed gives a different result; and the entry points leave the caller's torch state as it was.

Results are compared as sha256 digests of tensors (dtype, shape and bytes), file bytes and index rows; wall-clock
fields (``seconds``, the index's ``created`` column: ``metanet.zoo.store.DETERMINISTIC_COLUMNS``) are left out.
"""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import torch
from process_helpers import run_workers


# One worker runs every case: ``python -c WORKER OUT SEED [SEED ...]`` writes {seed: {case: digest}} to OUT.
WORKER = r'''
import dataclasses, hashlib, json, os, sqlite3, sys, tempfile
from pathlib import Path
import torch
torch.set_num_threads(1)  # results are promised for the same thread count
import metanet
from metanet import tasks

def clean(o):
    if dataclasses.is_dataclass(o) and not isinstance(o, type):
        o = {f.name: getattr(o, f.name) for f in dataclasses.fields(o)}
    if isinstance(o, dict):
        return {str(k): clean(v) for k, v in o.items() if "seconds" not in str(k)}
    if isinstance(o, (list, tuple)):
        return [clean(v) for v in o]
    if isinstance(o, torch.Tensor):
        return digest(o)
    if isinstance(o, torch.nn.Module):
        return digest(o.state_dict())
    return repr(o)

def digest(*objs):
    h = hashlib.sha256()
    def add(o):
        if isinstance(o, torch.Tensor):
            t = o.detach().cpu().contiguous()
            h.update(f"{t.dtype}{tuple(t.shape)}".encode()); h.update(t.numpy().tobytes())
        elif isinstance(o, torch.nn.Module):
            add(o.state_dict())
        elif isinstance(o, dict):
            for k in sorted(o):
                h.update(str(k).encode()); add(o[k])
        elif isinstance(o, (list, tuple)):
            for v in o:
                add(v)
        elif isinstance(o, bytes):
            h.update(o)
        else:
            h.update(json.dumps(clean(o), sort_keys=True).encode())
    for o in objs:
        add(o)
    return h.hexdigest()

X, Y = tasks.get("digits").split("train")
x, y = X[:300], Y[:300]
ZOO = os.environ["METANET_TINY_ZOO"]

def tiny_writer():
    from metanet.writer import Writer
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        return Writer(hidden=8, message=4, start_mix=1.0)

def trained_net():
    from metanet.nets import build
    net = build("mlp:64-16-10:relu", seed=3)
    opt = torch.optim.Adam(net.parameters(), 1e-2)
    for _ in range(20):
        opt.zero_grad(); torch.nn.functional.cross_entropy(net(x), y).backward(); opt.step()
    return net.eval()

def gen(s, **kw):
    g = metanet.generate(kw.pop("spec", "digits"), seed=s, **kw)
    return digest(g.model, g.candidates, g.report)

def zoo_build(s, tmp):
    from metanet.zoo import build
    from metanet.zoo.store import DETERMINISTIC_COLUMNS
    rec = dict(name="det", seed=s, count=4, population=2, tasks=["digits"], checkpoints=[0, 1],
               arch=dict(family="mlp", depth=[1], width=[8, 16], activation=["relu", "tanh"]),
               train=dict(optimizer=["adam", "sgd"], lr={"log_uniform": [1e-3, 1e-2]}, batch_size=32, epochs=1,
                          dropout=[0.0, 0.1], label_noise=[0.0, 0.1], train_examples=200),
               backdoor=dict(fraction=0.5, poison_rate={"uniform": [0.05, 0.1]}, kind=["square"], size=[2],
                             location=["random"], target="random"))
    out = Path(tmp) / "zoo"
    build(rec, out, progress=False)
    con = sqlite3.connect(out / "index.sqlite")
    rows = con.execute(f"SELECT {', '.join(DETERMINISTIC_COLUMNS)} FROM nets ORDER BY id").fetchall()
    con.close()
    return digest(rows, {p.name: p.read_bytes() for p in (out / "shards").iterdir()})

def reader_dm(s, tmp):
    from metanet.reader.lightning import ReaderDataModule
    dm = ReaderDataModule(zoos=[ZOO], batch_size=8, max_nets=24, role_examples=16, seed=s)
    dm.setup("fit")
    return digest([sorted(int(g.zoo_id) for g in gs) for gs in (dm.train_graphs, dm.val_graphs)])

def lightning_fit(kind, s, tmp):
    import lightning as L
    L.seed_everything(s, verbose=False)
    export = Path(tmp) / f"{kind}.safetensors"
    if kind == "reader":
        from metanet.reader.lightning import ReaderDataModule, ReaderModule
        data = ReaderDataModule(zoos=[ZOO], batch_size=4, max_nets=16, role_examples=16, seed=s)
        module = ReaderModule(tasks=["digits", "mnist"], hidden=8, layers=1, probes=4, export=str(export))
    else:
        from metanet.writer.lightning import EpisodeDataModule, WriterModule
        module = WriterModule(hidden=8, message=4, export=str(export))
        data = EpisodeDataModule(bases=("digits",), tasks_per_step=1, shots_min=5, shots_max=10, query=5,
                                 val_episodes=1, steps_per_epoch=2, seed=s)
    L.Trainer(max_steps=2, accelerator="cpu", logger=False, enable_progress_bar=False, enable_model_summary=False,
              enable_checkpointing=False, limit_val_batches=0, num_sanity_val_steps=0, deterministic=True,
              default_root_dir=tmp).fit(module, data)
    return digest(export.read_bytes())

def inspect_rows(s, tmp):
    from metanet.nets import build
    db = metanet.inspect(build("mlp:64-16-10:relu", seed=s), "digits", reader=None)
    db.save(Path(tmp) / "i")
    con = sqlite3.connect(Path(tmp) / "i" / "neurons.sqlite")
    tables = [t for (t,) in con.execute("SELECT name FROM sqlite_master WHERE type='table' ORDER BY name")]
    rows = {t: [r for r in con.execute(f"SELECT * FROM {t} ORDER BY rowid") if "seconds" not in r] for t in tables}
    con.close()
    return digest(rows, (Path(tmp) / "i" / "INDEX.md").read_bytes())

def improve(s, tmp):
    from metanet.loop import split_examples
    lts = [split_examples(X, Y, "mlp:64-16-10:relu", shots=5, val=10, test=10, seed=i, name=f"d{i}") for i in range(2)]
    w, hist = metanet.improve(tiny_writer(), lts, rounds=2, candidates=2, seed=s, track=False)
    return digest(w, hist)

def refine(method, s, tmp):
    from metanet.nets import build
    r = metanet.refine(build("mlp:64-16-10:relu", seed=3), (x[:200], y[:200]), method=method, steps=3,
                       population=4, seed=s)
    return digest(r.model, [v for k, v in r._asdict().items() if k != "model"])

def repair(s, tmp):
    import metanet.edit as E
    model, rep = E.repair_backdoor(trained_net(), "digits", blind=True, seed=s, max_rounds=1)
    return digest(model, rep)

def save(s, tmp):
    from metanet.nets import build
    p = metanet.save(build("mlp:64-16-10:relu", seed=s), Path(tmp) / "n.safetensors", note="x", task="digits")
    return digest(p.read_bytes())

def from_examples(s, tmp):
    t = tasks.from_examples(x[:200], y[:200], seed=s)
    return digest([t.split(sp) for sp in ("train", "val", "test")])

def zoo_dataset(s, tmp):
    z = metanet.Zoo(ZOO)
    return digest([[int(g.zoo_id) for g in z.dataset(split=sp, seed=s)] for sp in ("train", "val", "test")])

def write(s, tmp):
    return digest(tiny_writer().write("mlp:64-16-16-10:relu", x[:100], y[:100], candidates=2, seed=s))

CASES = {
    "generate K=1": lambda s, tmp: gen(s, candidates=1, shots=30),
    "generate K=8": lambda s, tmp: gen(s, candidates=8, shots=30),
    "generate CNN": lambda s, tmp: gen(s, arch="cnn:1-8-10:relu:k3:s1", candidates=2, shots=20),
    "generate MLP depth 2": lambda s, tmp: gen(s, arch="mlp:64-16-16-10:relu", candidates=3, shots=20),
    "generate (x, y)": lambda s, tmp: gen(s, spec=(x, y), candidates=2),
    "Writer.write": write,
    "improve": improve,
    "refine perturbation": lambda s, tmp: refine("perturbation", s, tmp),
    "refine activity": lambda s, tmp: refine("activity", s, tmp),
    "refine sgd": lambda s, tmp: refine("sgd", s, tmp),
    "zoo build": zoo_build,
    "Zoo.dataset": zoo_dataset,
    "ReaderDataModule": reader_dm,
    "reader fit": lambda s, tmp: lightning_fit("reader", s, tmp),
    "writer fit": lambda s, tmp: lightning_fit("writer", s, tmp),
    "inspect": inspect_rows,
    "repair blind": repair,
    "from_examples": from_examples,
    "save": save,
}

out = {}
for s in map(int, sys.argv[2:]):
    out[s] = {}
    for name, f in CASES.items():
        with tempfile.TemporaryDirectory() as tmp:
            out[s][name] = f(s, tmp)
Path(sys.argv[1]).write_text(json.dumps(out))
'''

CASES = ["generate K=1", "generate K=8", "generate CNN", "generate MLP depth 2", "generate (x, y)", "Writer.write",
         "improve", "refine perturbation", "refine activity", "refine sgd", "zoo build", "Zoo.dataset",
         "ReaderDataModule", "reader fit", "writer fit", "repair blind", "from_examples", "save"]


@pytest.fixture(scope="module")
def runs(tiny_zoo, tmp_path_factory):
    """Two fresh processes with different hash seeds: the first for seeds 0 and 1, the second for seed 0."""
    tmp = tmp_path_factory.mktemp("determinism")
    return run_workers(WORKER, [(f"hash{h}", {"PYTHONHASHSEED": h}, seeds) for h, seeds in (("1", ["0", "1"]),
                                                                                            ("2", ["0"]))],
                       tmp, tiny_zoo)


@pytest.mark.parametrize("case", CASES + ["inspect"])
def test_same_seed_same_result_in_fresh_processes(runs, case):
    first, second = runs
    assert first["0"][case] == second["0"][case], f"{case}: seed 0 gave different results in two processes"


@pytest.mark.parametrize("case", CASES + ["inspect"])
def test_another_seed_another_result(runs, case):
    assert runs[0]["1"][case] != runs[0]["0"][case], f"{case}: seeds 0 and 1 gave the same result"


# --- the caller's torch state -------------------------------------------------------------------------------------

def _state() -> tuple:
    return (torch.random.get_rng_state(), torch.get_default_dtype(), torch.is_grad_enabled(), torch.get_num_threads())


@pytest.fixture
def odd_state():
    """A caller with float64 as default dtype, grad mode off, 2 threads and a seeded RNG; restored afterwards."""
    before = (torch.get_default_dtype(), torch.is_grad_enabled(), torch.get_num_threads())
    torch.set_default_dtype(torch.float64)
    torch.set_grad_enabled(False)
    torch.set_num_threads(2)
    torch.manual_seed(99)
    yield
    torch.set_default_dtype(before[0])
    torch.set_grad_enabled(before[1])
    torch.set_num_threads(before[2])


def _digits(n: int = 200):
    from metanet import tasks

    x, y = tasks.get("digits").split("train")
    return x[:n], y[:n]


def _calls(tmp: Path, zoo: Path) -> dict:
    import metanet
    import metanet.edit as E
    from metanet import tasks
    from metanet.checkpoints import check_float32
    from metanet.loop import split_examples
    from metanet.nets import build
    from metanet.reader.lightning import ReaderDataModule
    from metanet.writer import Writer

    x, y = _digits()
    with torch.random.fork_rng(devices=[]), torch.enable_grad():
        torch.set_default_dtype(torch.float32)  # the fixtures themselves are built as a float32 caller would
        try:
            torch.manual_seed(0)
            net = build("mlp:64-16-10:relu", seed=3)
            writer = Writer(hidden=8, message=4, start_mix=1.0)
        finally:
            torch.set_default_dtype(torch.float64)
    lts = [split_examples(x, y, "mlp:64-16-10:relu", shots=5, val=10, test=10, seed=i) for i in range(2)]
    recipe = dict(name="s", seed=0, count=2, population=2, tasks=["digits"], checkpoints=[0, 1],
                  arch=dict(family="mlp", depth=[1], width=[8], activation=["relu"]),
                  train=dict(optimizer=["adam"], lr=1e-2, batch_size=32, epochs=1, train_examples=100))
    return {
        # documented: "the caller's global state is left as it was" (metanet.writer.generate)
        "generate": lambda: metanet.generate((x, y), candidates=2, shots=10),
        "Writer.write": lambda: writer.write("mlp:64-16-10:relu", x, y, candidates=2),
        # documented: the loop runs in a fork of torch's RNG (metanet.loop.core.improve)
        "improve": lambda: metanet.improve(copy.deepcopy(writer), lts, rounds=1, candidates=2, track=False),
        "refine perturbation": lambda: metanet.refine(net, (x, y), steps=2, population=2),
        "refine activity": lambda: metanet.refine(net, (x, y), method="activity", steps=2, population=2),
        "refine sgd": lambda: metanet.refine(net, (x, y), method="sgd", steps=2),
        "repair blind": lambda: E.repair_backdoor(net, "digits", blind=True, max_rounds=1, max_examples=300),
        "prune": lambda: E.prune(net, 0.5, "digits"),
        "zoo build": lambda: metanet.zoo.build(recipe, tmp / "zoo", progress=False),
        "Zoo.dataset": lambda: metanet.Zoo(zoo).dataset(split="val"),
        "ReaderDataModule": lambda: ReaderDataModule(zoos=[str(zoo)], max_nets=8, role_examples=8).setup("fit"),
        "read": lambda: metanet.read(net),
        "Reader.load": lambda: check_float32(metanet.Reader.load()),  # a float64 reader was a ConfigError on use
        "inspect": lambda: metanet.inspect(net, "digits"),
        "from_examples": lambda: tasks.from_examples(x, y),
        "save": lambda: metanet.save(net, tmp / "n.safetensors"),
        "verify": lambda: metanet.verify(net, (x, y)),
        # documented: nets.build leaves the random state untouched
        "nets.build": lambda: build("mlp:64-16-10:relu", seed=1),
    }


STATE_CASES = ["generate", "Writer.write", "improve", "refine perturbation", "refine activity", "refine sgd",
               "repair blind", "prune", "zoo build", "Zoo.dataset", "ReaderDataModule", "read", "Reader.load",
               "inspect", "from_examples", "save", "verify", "nets.build"]




@pytest.mark.parametrize("case", STATE_CASES)
def test_the_callers_torch_state_is_left_as_it_was(case, odd_state, tmp_path, tiny_zoo, capsys, monkeypatch):
    # a float64 default dtype made improve skip every round ('expected scalar type Float but found Double'),
    # refine, repair, zoo build, read and the reader's data module raise raw RuntimeErrors and Reader.load build a
    # float64 reader; refine(method='sgd') and blind repair failed inside torch.no_grad(); the first read() (and
    # inspect, which calls it) consumed torch's global RNG building the shipped reader
    call = _calls(tmp_path, tiny_zoo)[case]
    import metanet.checkpoints

    monkeypatch.setattr(metanet.checkpoints, "_SHIPPED", {})  # as the first read() of a process
    before = _state()
    call()
    after = _state()
    assert torch.equal(after[0], before[0]), f"{case} consumed torch's global RNG"
    assert after[1:] == before[1:], f"{case} changed (default dtype, grad mode, threads) {before[1:]} -> {after[1:]}"
    seen = capsys.readouterr()
    assert "round skipped" not in seen.out + seen.err


def test_improve_under_a_float64_default_updates_the_writer(odd_state):
    # its rounds were skipped one by one: the writer came back untouched, with only a message per task
    from metanet.loop import improve, split_examples
    from metanet.writer import Writer

    x, y = _digits()
    with torch.random.fork_rng(devices=[]):
        torch.set_default_dtype(torch.float32)
        torch.manual_seed(0)
        w = Writer(hidden=8, message=4, start_mix=1.0)
        torch.set_default_dtype(torch.float64)
    before = {k: v.clone() for k, v in w.state_dict().items()}
    lts = [split_examples(x, y, "mlp:64-16-10:relu", shots=5, val=10, test=10, seed=0)]
    improve(w, lts, rounds=1, candidates=2, track=False, lr=1e-2)
    assert any(not torch.equal(before[k], v) for k, v in w.state_dict().items())
    assert all(v.dtype == torch.float32 for v in w.state_dict().values())
