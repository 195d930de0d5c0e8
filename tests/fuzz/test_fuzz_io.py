"""Fuzz: files given as networks and checkpoints (random bytes, truncated, corrupted, crafted headers), NaN / inf
weights through every consumer, and interrupted saves that must leave no half-written file."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
import torch
from hypothesis import example, given
from hypothesis import strategies as st
from safetensors.torch import save_file

import metanet
from metanet.errors import ArchError, CheckpointError, FileFormatError, MetanetError
from metanet.io import load, load_meta, save
from metanet.nets import build
from fuzz_helpers import fuzz_settings, only_metanet_errors

ARCH = "mlp:64-16-10:relu"


def _write(tmp: Path, data: bytes, name: str = "net.safetensors") -> Path:
    p = tmp / name
    p.write_bytes(data)
    return p


def _valid_bytes(tmp: Path) -> bytes:
    p = tmp / "valid.safetensors"
    save(build(ARCH, seed=0), p, task="digits")
    return p.read_bytes()


def _load_all(path: Path) -> None:
    """Every reader of a network file: each must work or raise FileFormatError (a MetanetError)."""
    for fn in (load, load_meta, lambda p: metanet.verify(p, "digits")):
        r = only_metanet_errors(lambda: fn(path))
        if isinstance(r, MetanetError):
            assert isinstance(r, FileFormatError), repr(r)
            assert str(path) in str(r)


# --- random bytes, truncation, corruption --------------------------------------------------------------------
@fuzz_settings(60)
@given(data=st.binary(max_size=600))
@example(data=b"")
@example(data=b"\x08\x00\x00\x00\x00\x00\x00\x00{}      ")
@example(data=(2**63).to_bytes(8, "little") + b"{}")
def test_random_bytes_as_network(tmp_path_factory, data):
    _load_all(_write(tmp_path_factory.mktemp("rb"), data))


@fuzz_settings(40)
@given(cut=st.floats(0, 1, exclude_max=True))
def test_truncated_network(tmp_path_factory, cut):
    tmp = tmp_path_factory.mktemp("tr")
    good = _valid_bytes(tmp)
    _load_all(_write(tmp, good[: int(len(good) * cut)]))


@fuzz_settings(80)
@given(flips=st.lists(st.tuples(st.floats(0, 1, exclude_max=True), st.integers(0, 255)), min_size=1, max_size=8),
       header_only=st.booleans())
def test_corrupted_network(tmp_path_factory, flips, header_only):
    tmp = tmp_path_factory.mktemp("co")
    good = bytearray(_valid_bytes(tmp))
    hlen = 8 + int.from_bytes(good[:8], "little")
    span = hlen if header_only else len(good)  # header bytes are where corruption changes meaning
    for pos, byte in flips:
        good[int(pos * span)] = byte
    _load_all(_write(tmp, bytes(good)))


# --- crafted headers: a valid safetensors file whose metanet header is anything ------------------------------
json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**40), 2**40) | st.floats() | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)
spec_keys = st.sampled_from(["family", "widths", "activation", "bias", "skips", "kernel", "stride", "layers", "x"])
spec_dicts = st.fixed_dictionaries(
    {"family": st.sampled_from(["mlp", "cnn", "sequential", "rnn"]) | json_values},
    optional={
        "widths": st.lists(st.integers(-3, 70) | json_values, max_size=4)
        | st.lists(st.integers(10**5, 10**7), min_size=2, max_size=3),
        "activation": st.sampled_from(["relu", "tanh", "nope"]) | json_values,
        "bias": json_values, "skips": json_values, "kernel": json_values, "stride": json_values,
        "layers": st.lists(st.dictionaries(st.sampled_from(["type", "in", "out", "bias", "kernel", "stride", "padding",
                                                            "name", "dilation", "ceil_mode"]),
                                           st.sampled_from(["linear", "act", "conv2d", "flatten", "gap", "relu"])
                                           | st.integers(-2, 10**6) | json_values, max_size=6), max_size=4),
    },
)


def _crafted(tmp: Path, spec_text: str | None, meta_text: str | None, tensors: dict | None = None) -> Path:
    header = {"metanet.format": "1"}
    if spec_text is not None:
        header["metanet.spec"] = spec_text
    if meta_text is not None:
        header["metanet.meta"] = meta_text
    if tensors is None:
        tensors = build(ARCH, seed=0).state_dict()
    p = tmp / "crafted.safetensors"
    save_file({k: v.contiguous() for k, v in tensors.items()}, str(p), metadata=header)
    return p


@fuzz_settings(120)
@given(spec=spec_dicts | json_values, meta=json_values | st.text(max_size=20), raw=st.booleans())
@example(spec={"family": "mlp", "widths": [10**6, 10**6, 10]}, meta={}, raw=False)  # 10^12 weights: no OOM
@example(spec={"family": "mlp", "widths": [64, 16, 10], "activation": ["relu"]}, meta={}, raw=False)
@example(spec={"family": "cnn", "widths": [1, 4, 10], "kernel": "3"}, meta={}, raw=False)
@example(spec="[" * 100_000, meta="{}", raw=True)  # nesting deeper than json's recursion limit
def test_crafted_header(tmp_path_factory, spec, meta, raw):
    tmp = tmp_path_factory.mktemp("hd")
    spec_text = spec if raw and isinstance(spec, str) else json.dumps(spec)
    meta_text = meta if raw and isinstance(meta, str) else json.dumps(meta)
    _load_all(_crafted(tmp, spec_text, meta_text))


@fuzz_settings(40)
@given(shapes=st.dictionaries(st.sampled_from(["layers.0.weight", "layers.0.bias", "layers.1.weight", "layers.1.bias",
                                               "extra"]),
                              st.lists(st.integers(0, 70), max_size=3), max_size=5),
       dtype=st.sampled_from([torch.float32, torch.float16, torch.int64, torch.bool, torch.uint8]))
def test_tensors_not_matching_header(tmp_path_factory, shapes, dtype):
    tmp = tmp_path_factory.mktemp("tm")
    tensors = {k: torch.zeros(s, dtype=dtype) for k, s in shapes.items()}
    _load_all(_crafted(tmp, json.dumps(metanet.Arch.parse(ARCH).to_dict()), "{}", tensors))


# --- checkpoints -------------------------------------------------------------------------------------------------
def _checkpoint_loaders():
    from metanet.checkpoints import load_module
    from metanet.reader import Reader
    from metanet.writer import Writer

    return [Writer.load, Reader.load, lambda p: load_module(Writer, p, "writer")]


def _load_checkpoint(path: Path) -> None:
    for fn in _checkpoint_loaders():
        r = only_metanet_errors(lambda: fn(path))
        if isinstance(r, MetanetError):
            assert isinstance(r, CheckpointError), repr(r)


@fuzz_settings(40)
@given(data=st.binary(max_size=400))
def test_random_bytes_as_checkpoint(tmp_path_factory, data):
    _load_checkpoint(_write(tmp_path_factory.mktemp("ck"), data, "ck.safetensors"))


@fuzz_settings(40)
@given(kind=st.sampled_from(["writer", "reader"]), cut=st.floats(0, 1, exclude_max=True),
       flips=st.lists(st.tuples(st.floats(0, 1, exclude_max=True), st.integers(0, 255)), max_size=6))
def test_corrupted_checkpoint(tmp_path_factory, kind, cut, flips):
    from metanet.checkpoints import shipped

    good = bytearray(shipped(kind).read_bytes())
    hlen = 8 + int.from_bytes(good[:8], "little")
    for pos, byte in flips:  # corrupt the header (config, kind, shapes): the data bytes are just numbers
        good[int(pos * hlen)] = byte
    if cut > 0.5:  # and truncate half of the cases
        good = good[: int(len(good) * (cut - 0.5) * 2)]
    _load_checkpoint(_write(tmp_path_factory.mktemp("ckc"), bytes(good), "ck.safetensors"))


@fuzz_settings(50)
@given(config=st.dictionaries(st.sampled_from(["hidden", "message", "steps", "max_rows", "tasks", "layers",
                                               "edge_dim", "stats", "bogus"]),
                              st.integers(-5, 10**9) | json_values, max_size=5) | json_values,
       kind=st.sampled_from(["writer", "reader", "zoo", None]))
@example(config={"hidden": 10**8}, kind="writer")  # a header asking for a 10^16-weight meta-network
def test_crafted_checkpoint_header(tmp_path_factory, config, kind):
    from safetensors import safe_open

    from metanet.checkpoints import shipped

    tmp = tmp_path_factory.mktemp("ckh")
    src = shipped("writer")
    with safe_open(str(src), framework="pt") as f:
        tensors = {k: f.get_tensor(k) for k in f.keys()}
    header = {"metanet.config": json.dumps(config)}
    if kind is not None:
        header["metanet.kind"] = kind
    p = tmp / "ck.safetensors"
    save_file(tensors, str(p), metadata=header)
    _load_checkpoint(p)


# --- NaN / inf weights ---------------------------------------------------------------------------------------
bad_values = st.sampled_from([math.nan, math.inf, -math.inf])


def _poisoned(arch: str, where: list[tuple[float, float]], value: float) -> torch.nn.Module:
    model = build(arch, seed=0)
    params = list(model.parameters())
    with torch.no_grad():
        for which, pos in where:
            p = params[int(which * len(params))].view(-1)
            p[int(pos * p.numel())] = value
    return model


poison = st.lists(st.tuples(st.floats(0, 1, exclude_max=True), st.floats(0, 1, exclude_max=True)), min_size=1,
                  max_size=4)


@fuzz_settings(25)
@given(where=poison, value=bad_values, arch=st.sampled_from([ARCH, "mlp:64-8-8-10:tanh:skip", "cnn:1-4-10:relu:k3:s2"]))
def test_nan_weights_verify_graph_save(tmp_path_factory, where, value, arch):
    from metanet.graph import describe, from_graph, to_graph

    model = _poisoned(arch, where, value)
    report = metanet.verify(model, "digits")
    assert 0 <= report.accuracy <= 1 and report.n == 360
    g = only_metanet_errors(lambda: to_graph(model))
    if not isinstance(g, MetanetError):
        only_metanet_errors(lambda: describe(model))
        r = only_metanet_errors(lambda: from_graph(g))  # decoding refuses non-finite values with a GraphError
        assert isinstance(r, MetanetError) and "finite" in str(r)
    path = save(model, tmp_path_factory.mktemp("nan") / "n.safetensors")
    back = load(path)
    for a, b in zip(model.parameters(), back.parameters()):
        assert torch.equal(a.isnan(), b.isnan()) and torch.equal(a.nan_to_num(), b.nan_to_num())


@fuzz_settings(6)
@given(where=poison, value=bad_values)
def test_nan_weights_inspect(tmp_path_factory, where, value):
    model = _poisoned(ARCH, where, value)
    db = only_metanet_errors(lambda: metanet.inspect(model, "digits", reader=None, max_examples=120))
    if not isinstance(db, MetanetError):
        out = tmp_path_factory.mktemp("insp")
        db.save(out)
        db.index_md()


@fuzz_settings(12)
@given(where=poison, value=bad_values,
       op=st.sampled_from(["remove", "scale", "clamp", "prune", "prune-necessity", "precision"]))
def test_nan_weights_edit(where, value, op):
    from metanet import edit

    model = _poisoned(ARCH, where, value)
    calls = {
        "remove": lambda: edit.remove(model, "1:0,3", "digits"),
        "scale": lambda: edit.scale(model, "1:2", 0.5, "digits"),
        "clamp": lambda: edit.clamp(model, "1:1", "digits"),
        "prune": lambda: edit.prune(model, 0.5, "digits"),
        "prune-necessity": lambda: edit.prune(model, 0.3, "digits", method="necessity"),
        "precision": lambda: edit.precision(model, "bf16", "digits"),
    }
    only_metanet_errors(calls[op])


@fuzz_settings(6)
@given(where=poison, value=bad_values, method=st.sampled_from(["perturbation", "sgd"]))
def test_nan_weights_refine(where, value, method):
    from metanet.loop import refine

    model = _poisoned(ARCH, where, value)
    res = only_metanet_errors(lambda: refine(model, "digits", method=method, steps=3, population=4))
    if not isinstance(res, MetanetError):
        assert res.after is not None


@fuzz_settings(4)
@given(where=poison, value=bad_values)
def test_nan_writer_generate(where, value):
    """A writer whose own weights went NaN still returns (a useless network, honestly scored), or a MetanetError."""
    from metanet.writer import Writer

    w = Writer.load()
    params = list(w.parameters())
    with torch.no_grad():
        for which, pos in where:
            p = params[int(which * len(params))].view(-1)
            p[int(pos * p.numel())] = value
    g = only_metanet_errors(lambda: metanet.generate("digits", candidates=2, writer=w, shots=20))
    if not isinstance(g, MetanetError):
        assert 0 <= g.report.test.accuracy <= 1


# --- no half-written files ---------------------------------------------------------------------------------------
def _leftovers(d: Path) -> list[str]:
    return sorted(p.name for p in d.iterdir() if p.name.endswith(".tmp"))


class _Boom(OSError):
    pass


def _half_then_fail(real):
    """A file write that writes half of the bytes, then fails (disk full, killed, ...)."""

    def fail(self, data):
        real(self, data[: len(data) // 2])
        raise _Boom("no space left on device")

    return fail


@fuzz_settings(10)
@given(existing=st.booleans(), what=st.sampled_from(["save", "generated", "checkpoint", "edited"]))
def test_interrupted_save_leaves_nothing_half_written(tmp_path_factory, monkeypatch_session, existing, what):
    import metanet.checkpoints
    import metanet.io

    d = tmp_path_factory.mktemp("atomic")
    target = d / "out.safetensors"
    old = b"old content"
    if existing:
        target.write_bytes(old)
    model = build(ARCH, seed=1)
    if what == "save":
        call = lambda: save(model, target, note="x")  # noqa: E731
    elif what == "generated":
        g = metanet.generate("digits", candidates=1, shots=5)
        call = lambda: g.save(target)  # noqa: E731
    elif what == "edited":
        from metanet.edit import save_edited

        call = lambda: save_edited(model, target, [])  # noqa: E731
    else:
        from metanet.writer import Writer

        w = Writer.load()
        call = lambda: w.save(target)  # noqa: E731
    with monkeypatch_session.context() as m:
        # every safetensors file metanet writes goes through metanet.io.save_safetensors's one write
        m.setattr(metanet.io.Path, "write_bytes", _half_then_fail(Path.write_bytes))
        with pytest.raises(_Boom):
            call()
    if existing:
        assert target.read_bytes() == old
    else:
        assert not target.exists()
    assert _leftovers(d) == [], "a temporary file was left behind"
    call()  # and with a working serializer the same call writes a loadable file
    assert target.read_bytes() != old


@pytest.fixture(scope="session")
def monkeypatch_session():
    mp = pytest.MonkeyPatch()
    yield mp
    mp.undo()


def test_verify_accepts_a_path(tmp_path):
    p = save(build(ARCH, seed=0), tmp_path / "v.safetensors")
    assert metanet.verify(p, "digits").accuracy == metanet.verify(load(p), "digits").accuracy
    assert metanet.verify(str(p), "digits").n == 360
    with pytest.raises(FileFormatError, match="no such file"):
        metanet.verify(tmp_path / "missing.safetensors", "digits")
    with pytest.raises(ArchError, match="nn.Module"):
        metanet.verify([build(ARCH), 42], "digits")


# --- neuron databases (metanet inspect's output) -----------------------------------------------------------------
@fuzz_settings(30)
@given(data=st.binary(max_size=300), sql=st.sampled_from([None, "UPDATE neurons SET class_means='{'",
                                                          "UPDATE neurons SET class_means='3'", "DROP TABLE meta",
                                                          "UPDATE meta SET value='['", "DELETE FROM neurons"]))
def test_neuron_db_load(tmp_path_factory, neuron_db, data, sql):
    import shutil
    import sqlite3

    from metanet.inspect import NeuronDB

    tmp = tmp_path_factory.mktemp("ndb")
    p = tmp / "neurons.sqlite"
    if sql is None:
        p.write_bytes(data)
    else:
        shutil.copy(neuron_db, p)
        con = sqlite3.connect(p)
        con.execute(sql)
        con.commit()
        con.close()
    r = only_metanet_errors(lambda: NeuronDB.load(tmp))
    if isinstance(r, MetanetError):
        assert isinstance(r, FileFormatError), repr(r)
    else:
        r.index_md()


@pytest.fixture(scope="module")
def neuron_db(tmp_path_factory) -> Path:
    db = metanet.inspect(build(ARCH, seed=0), "digits", reader=None, max_examples=100)
    return db.save(tmp_path_factory.mktemp("ndb0"))["sqlite"]
