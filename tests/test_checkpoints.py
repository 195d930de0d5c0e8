"""Loading and saving meta-network checkpoints (metanet.checkpoints): no silent filling of missing config from code
defaults, files of the other stage or format named, non-path inputs, float64 callers, the shipped files' configs
pinned; Lightning checkpoints asking for huge models checked before allocating, and ``~`` / metadata JSON cannot hold
in ``load_lightning`` / ``save_module`` / ``load_module``.
"""

from __future__ import annotations

import hashlib
import inspect
import json
import os
import pickle
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors import safe_open
from safetensors.torch import load_file, save_file
from torch import nn

from metanet.checkpoints import ABSENT_MEANS, INIT_ONLY, load_lightning, load_module, save_module, shipped
from metanet.errors import CheckpointError, MetanetError
from metanet.io import load_meta
from metanet.reader import Reader
from metanet.writer import Writer


ROOT = Path(__file__).resolve().parents[1]


def _writer_ckpt(path: Path, drop: tuple[str, ...] = (), **hp) -> Path:
    """A Lightning-format .ckpt of a small WriterModule (hyperparameters as save_hyperparameters stores them)."""
    from metanet.writer.lightning import WriterModule

    m = WriterModule(hidden=8, message=4)
    hparams = {**dict(m.hparams), **hp}
    for k in drop:
        hparams.pop(k)
    torch.save({"state_dict": m.state_dict(), "hyper_parameters": hparams, "epoch": 0}, path)
    return path


def _shipped_writer_with(tmp: Path, config_edit) -> Path:
    with safe_open(str(shipped("writer")), "pt") as f:
        tensors = {k: f.get_tensor(k) for k in f.keys()}
        meta = f.metadata()
    config = json.loads(meta["metanet.config"])
    config_edit(config)
    path = tmp / "w.safetensors"
    save_file(tensors, str(path), metadata={**meta, "metanet.config": json.dumps(config)})
    return path


def test_a_lightning_checkpoint_lacking_writer_config_is_refused_not_filled_from_defaults(tmp_path):
    # a LoopModule's last.ckpt holds 'writer.' weights but only hidden/message: it loaded as Writer(max_rows=8192,
    # steps=1, ...) whatever writer the loop had improved (the shipped one has max_rows 4096)
    path = _writer_ckpt(tmp_path / "last.ckpt", drop=("max_rows", "steps"))
    with pytest.raises(CheckpointError, match=r"last\.ckpt: the hyperparameters .* lack Writer's steps, max_rows.*"
                                              r"model\.export"):
        Writer.load(path)
    w = Writer.load(_writer_ckpt(tmp_path / "ok.ckpt", max_rows=1234))
    assert w.max_rows == 1234


def test_a_safetensors_config_lacking_a_key_is_refused_not_filled_from_defaults(tmp_path):
    path = _shipped_writer_with(tmp_path, lambda c: c.pop("max_rows"))
    with pytest.raises(CheckpointError, match=r"w\.safetensors: its config lacks Writer's max_rows"):
        Writer.load(path)


def test_keys_older_files_leave_out_mean_the_pinned_values(tmp_path):
    # files written before head / augment existed (bench/data/writer_steps2.safetensors until 2026-12-06) load as they did
    path = _shipped_writer_with(tmp_path, lambda c: [c.pop(k) for k in ("head", "head_iters", "augment",
                                                                         "augment_below")])
    assert Writer.load(path).config() == {**Writer.load().config(), **ABSENT_MEANS["writer"]}
    # every table entry names a real constructor argument
    for cls, kind in ((Writer, "writer"), (Reader, "reader")):
        names = set(inspect.signature(cls).parameters)
        assert set(ABSENT_MEANS[kind]) | set(INIT_ONLY.get(kind, ())) <= names


def test_shipped_checkpoints_carry_every_constructor_argument_they_need():
    # their configs must not lean on ABSENT_MEANS or the code's defaults (pinned: a change here is a new file)
    want = {
        "writer": {"hidden": 32, "message": 16, "steps": 1, "max_rows": 4096, "head": "ridge", "head_iters": 30,
                   "augment": "shift", "augment_below": 100},
        "reader": {"hidden": 32, "layers": 2, "edge_dim": 9, "max_layers": 8, "max_inputs": 1024, "num_classes": 10,
                   "stats": True, "probes": 32, "probe_inputs": [784, 64, 40], "data_probes": 1000,
                   "saliency": True, "derived_probes": 300, "task_evidence": 3.0, "scan_steps": 300,
                   "task_cap": 4.0},
    }
    for kind, cls in (("writer", Writer), ("reader", Reader)):
        with safe_open(str(shipped(kind)), "pt") as f:
            config = json.loads(f.metadata()["metanet.config"])
        tasks = config.pop("tasks", None)
        assert config == want[kind]
        assert set(inspect.signature(cls).parameters) - set(INIT_ONLY.get(kind, ())) == set(config) | (
            {"tasks"} if tasks else set())
    assert len(tasks) == 29
    # the sha256 the reader bench recorded is the shipped file's
    bench = json.loads((ROOT / "bench" / "results" / "reader.json").read_text())["shipped_as"]
    assert hashlib.sha256(shipped("reader").read_bytes()).hexdigest() == bench["sha256"]


def test_a_lightning_checkpoint_of_the_other_stage_is_named(tmp_path):
    path = _writer_ckpt(tmp_path / "w.ckpt")
    # was: "tensors ['act_emb.weight', ...] are missing, unexpected or of another shape"
    with pytest.raises(CheckpointError, match=r"holds no 'reader' weights \(its state dict has \['writer\.'\]\): "
                                              r"it is a Lightning checkpoint of another training stage"):
        Reader.load(path)


def test_invalid_hyperparameters_are_named_as_such(tmp_path):
    # was: "is not a writer Lightning checkpoint (ConfigError: ...)", as if it were some other file
    with pytest.raises(CheckpointError, match=r"hyperparameters of this Lightning checkpoint are not a valid Writer "
                                              r"\(unknown writer head 'bogus'"):
        Writer.load(_writer_ckpt(tmp_path / "w.ckpt", head="bogus"))
    with pytest.raises(CheckpointError, match=r"its config is not a valid Writer \(Writer hidden must be >= 1"):
        Writer.load(_shipped_writer_with(tmp_path, lambda c: c.update(hidden=0)))


@pytest.mark.parametrize("path", [3, "", b"", "  "])
def test_reader_load_of_no_path_is_a_checkpoint_error(path):
    # Reader.load(3) was a raw TypeError from os.fsdecode; Reader.load("") said "'.' is a directory"
    with pytest.raises(CheckpointError, match=r"a reader checkpoint (is a path .* got int 3|path is empty)"):
        Reader.load(path)


def test_a_safetensors_file_named_ckpt_is_read_as_safetensors(tmp_path):
    # was: "it holds pickled objects other than tensors and plain data" (torch.load's 'Unsupported operand')
    path = tmp_path / "writer.ckpt"
    path.write_bytes(shipped("writer").read_bytes())
    assert torch.equal(Writer.load(path).psi_f.weight, Writer.load().psi_f.weight)
    with pytest.raises(CheckpointError, match=r"is not a reader checkpoint: it is a writer checkpoint"):
        Reader.load(path)


def test_a_torch_checkpoint_not_named_ckpt_is_named(tmp_path):
    # was: "is not a readable safetensors checkpoint (Error while deserializing header: header too large)"
    path = _writer_ckpt(tmp_path / "last.pt")
    for load, kind in ((Writer.load, "writer"), (Reader.load, "reader")):
        with pytest.raises(CheckpointError, match=rf"last\.pt is a PyTorch / Lightning checkpoint \(torch\.save\), "
                                                  rf"not a safetensors file; a {kind} checkpoint .* ends in \.ckpt"):
            load(path)


class _Evil:
    def __reduce__(self):
        return (os.remove, (str(_Evil.target),))


def test_pickles_are_refused_with_the_right_reason_and_never_run(tmp_path):
    _Evil.target = tmp_path / "keep.txt"
    _Evil.target.write_text("still here")
    torch.save({"state_dict": {}, "hyper_parameters": {"x": _Evil()}}, tmp_path / "evil.ckpt")
    with pytest.raises(CheckpointError, match="holds pickled objects other than tensors and plain data"):
        Writer.load(tmp_path / "evil.ckpt")
    with open(tmp_path / "evil2.ckpt", "wb") as f:
        pickle.dump(_Evil(), f)
    with open(tmp_path / "plain.ckpt", "wb") as f:
        pickle.dump({"state_dict": {}, "hyper_parameters": {}}, f)  # protocol 4+: plain data, not torch.save's
    for name in ("evil2.ckpt", "plain.ckpt"):
        # was: "holds pickled objects other than tensors", for plain data too (and torch's protocol warning)
        with pytest.raises(CheckpointError, match=r"is not a file torch\.save \(or Lightning\) wrote"):
            with __import__("warnings").catch_warnings():
                __import__("warnings").simplefilter("error")
                Writer.load(tmp_path / name)
    assert _Evil.target.read_text() == "still here"


def test_a_lightning_checkpoint_loaded_under_a_float64_default_is_float32(tmp_path):
    # load_module built float32 under a float64 default, load_lightning float64 (a ConfigError on use)
    path = _writer_ckpt(tmp_path / "w.ckpt")
    old = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    try:
        w = load_lightning(Writer, path, "writer", "writer", tuple(inspect.signature(Writer).parameters))
        assert torch.get_default_dtype() == torch.float64
    finally:
        torch.set_default_dtype(old)
    assert {p.dtype for p in w.parameters()} == {torch.float32}


def test_checkpoints_load_through_spaces_tilde_and_symlinks(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    d = tmp_path / "my ckpts"
    d.mkdir()
    (d / "w x.safetensors").write_bytes(shipped("writer").read_bytes())
    _writer_ckpt(d / "last one.CKPT")
    (tmp_path / "link.ckpt").symlink_to(d / "last one.CKPT")
    want = Writer.load().psi_f.weight
    assert torch.equal(Writer.load(d / "w x.safetensors").psi_f.weight, want)
    assert Writer.load(tmp_path / "link.ckpt").psi_f.weight.shape == (8, Writer.load(d / "last one.CKPT")
                                                                     .psi_f.weight.shape[1])
    from metanet.checkpoints import load_module

    assert torch.equal(load_module(Writer, "~/my ckpts/w x.safetensors", "writer").psi_f.weight, want)
    (tmp_path / "dangling.safetensors").symlink_to(tmp_path / "gone")
    with pytest.raises(CheckpointError, match="no writer checkpoint at"):
        Writer.load(tmp_path / "dangling.safetensors")
    with pytest.raises(CheckpointError, match="is a directory; give a reader checkpoint file"):
        Reader.load(d)


def test_the_readme_states_the_shipped_writers_sha256():
    import hashlib

    from metanet.checkpoints import SHIPPED_DIR, shipped

    digest = hashlib.sha256(shipped("writer").read_bytes()).hexdigest()
    assert digest in (SHIPPED_DIR / "README.md").read_text()


def test_a_network_file_given_as_a_checkpoint_says_what_it_is(tmp_path):
    from metanet.io import save
    from metanet.nets import build

    net = save(build("mlp:4-3-2:relu", seed=0), tmp_path / "net.safetensors")
    with pytest.raises(CheckpointError, match=r"is not a writer checkpoint: it is a network saved with metanet.save "
                                              r"\(open it with metanet.load\)"):
        Writer.load(net)


class _Probe(nn.Module):
    built: list[str] = []

    def __init__(self, n: int = 2) -> None:
        super().__init__()
        self.lin = nn.Linear(n, n)
        _Probe.built.append(self.lin.weight.device.type)


def test_lightning_checkpoint_shapes_are_checked_before_allocating(tmp_path):
    # hyperparameters asking for a huge model were built with real memory before the weights were compared
    path = tmp_path / "huge.ckpt"
    torch.save({"hyper_parameters": {"n": 30_000}, "state_dict": {"net.lin.weight": torch.zeros(2, 2),
                                                                  "net.lin.bias": torch.zeros(2)}}, path)
    _Probe.built.clear()
    with pytest.raises(CheckpointError, match=r"do not match _Probe.*lin.bias"):
        load_lightning(_Probe, path, "probe", "net", ("n",))
    assert _Probe.built == ["meta"]


def test_lightning_and_safetensors_checkpoints_round_trip_with_tilde(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    probe = _Probe(3)
    torch.save({"hyper_parameters": {"n": 3}, "state_dict": {f"net.{k}": v for k, v in probe.state_dict().items()}},
               tmp_path / "p.ckpt")
    loaded = load_lightning(_Probe, "~/p.ckpt", "probe", "net", ("n",))
    assert torch.equal(loaded.lin.weight, probe.lin.weight)
    path = save_module(probe, "~/p.safetensors", "probe", {"n": 3}, score=np.float32(0.5), bad=float("nan"))
    assert path == tmp_path / "p.safetensors"
    assert torch.equal(load_module(_Probe, "~/p.safetensors", "probe").lin.bias, probe.lin.bias)
    assert load_meta(path) == {"score": 0.5, "bad": None}


def test_save_module_refuses_metadata_json_cannot_hold(tmp_path):
    with pytest.raises(MetanetError, match="'x'"):
        save_module(_Probe(), tmp_path / "p.safetensors", "probe", {"n": 2}, x=object())
    assert os.listdir(tmp_path) == []


def test_a_checkpoint_of_another_versions_layers_says_so(tmp_path):
    # a writer shipped by an earlier version (layers renamed since, config keys the same) was "tensors [...] are
    # missing, unexpected or of another shape", without saying why or what to do
    with safe_open(str(shipped("writer")), "pt") as f:
        tensors = {k: f.get_tensor(k) for k in f.keys()}
        meta = f.metadata()
    old = sorted(tensors)[0]
    tensors["an_old_layer.weight"] = tensors.pop(old)
    path = tmp_path / "old.safetensors"
    save_file(tensors, str(path), metadata=meta)
    with pytest.raises(CheckpointError, match=r"are missing, unexpected or of another shape; it was written by a "
                                              r"metanet version whose Writer had other layers: load it with the "
                                              r"version that wrote it"):
        Writer.load(path)


# --- a config option this version does not take -----------------------------------------------------------------------


MAKE = {"writer": lambda: Writer(hidden=8, message=4),
        "reader": lambda: Reader(["digits"], hidden=8, layers=1, probes=2)}


def _with_config(module, path, **extra):
    """``module`` saved to ``path`` with ``extra`` added to its stored config (a file of another version)."""
    module.save(path)
    with safe_open(str(path), "pt") as f:
        meta = f.metadata()
    config = {**json.loads(meta["metanet.config"]), **extra}
    save_file(load_file(str(path)), str(path), metadata={**meta, "metanet.config": json.dumps(config)})
    return path


@pytest.mark.parametrize("kind", MAKE)
def test_a_config_option_this_version_does_not_take_is_named_as_another_versions_file(kind, tmp_path):
    # was: "checkpoint does not match Writer: TypeError: Writer.__init__() got an unexpected keyword argument
    # 'new_option'", which said neither where it came from nor what to do
    path = _with_config(MAKE[kind](), tmp_path / f"{kind}.safetensors", new_option=3, other=True)
    cls = type(MAKE[kind]())
    with pytest.raises(CheckpointError) as e:
        cls.load(path)
    message = str(e.value)
    assert "'new_option', 'other'" in message and f"this version's {cls.__name__} does not take" in message
    assert "load it with the version that wrote it" in message and "TypeError" not in message
