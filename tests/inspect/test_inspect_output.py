"""A run of `metanet inspect` owns the files it writes: a second run into the same directory, on another network,
leaves no picture of the first behind, never touches other files, and an interrupted run changes nothing; a new
output folder (`staged`) gets the process umask without the umask ever being changed, and a failed run leaves no
new output folder."""

from __future__ import annotations

import os
import stat

import pytest

from metanet.cli import main
from metanet.inspect import NeuronDB, inspect
from metanet.inspect.pictures import save_pictures
from metanet.io import save
from metanet.nets import build

CNN = "cnn:1-2-3-10:relu:k3:s2"  # two hidden layers: pictures of layers 1 and 2
MLP = "mlp:64-5-10:relu"  # one hidden layer
CNN_PICTURES = {"weights_layer1.png", "top_examples_layer1.png", "top_examples_layer2.png", "ablation_layer1.png",
                "ablation_layer2.png"}
MLP_PICTURES = {"weights_layer1.png", "top_examples_layer1.png", "ablation_layer1.png"}
DB = {"neurons.sqlite", "INDEX.md"}
#: files of the user's in the output directory, some named like pictures, that inspect must never remove
USER = {"notes.txt": "mine", "my_ablation_layer2.png": "not a picture of inspect's", "ablation_layer2.png.bak": "x"}


def _net(tmp_path, arch):
    return save(build(arch, seed=0), tmp_path / f"{arch.split(':')[0]}.safetensors", task="digits")


def _inspect(net, out, *flags):
    return main(["inspect", str(net), "--out", str(out), "--no-reader", "--max-examples", "30", *flags])


def _names(d):
    return {p.name for p in d.iterdir()}


@pytest.fixture
def first_run(tmp_path, capsys):
    """The output directory after inspecting the two-layer CNN, with the user's own files in it."""
    out = tmp_path / "out"
    assert _inspect(_net(tmp_path, CNN), out) == 0
    for name, text in USER.items():
        (out / name).write_text(text)
    assert _names(out) == DB | CNN_PICTURES | set(USER)
    capsys.readouterr()
    return out


def test_second_run_on_a_smaller_network_removes_the_first_runs_pictures(tmp_path, first_run):
    assert _inspect(_net(tmp_path, MLP), first_run) == 0
    assert _names(first_run) == DB | MLP_PICTURES | set(USER)  # no layer-2 picture of the CNN is left
    assert NeuronDB.load(first_run).meta["network"].startswith("mlp:64-5-10")
    for name, text in USER.items():
        assert (first_run / name).read_text() == text


def test_no_pictures_run_removes_the_stale_pictures(tmp_path, first_run):
    assert _inspect(_net(tmp_path, MLP), first_run, "--no-pictures") == 0
    assert _names(first_run) == DB | set(USER)


def test_interrupted_run_leaves_the_directory_as_it_was(tmp_path, first_run, monkeypatch, capsys):
    import metanet.inspect.pictures as pictures

    before = {p.name: p.read_bytes() for p in first_run.iterdir()}

    def broken(*args, **kwargs):
        raise KeyboardInterrupt  # as if the user pressed Ctrl-C while the pictures were drawn

    monkeypatch.setattr(pictures, "ablation_heatmap", broken)
    assert _inspect(_net(tmp_path, MLP), first_run) == 130
    assert "metanet: interrupted" in capsys.readouterr().err
    assert {p.name: p.read_bytes() for p in first_run.iterdir()} == before  # no half-written run, no staging dir
    fresh = tmp_path / "fresh"
    assert _inspect(_net(tmp_path, MLP), fresh) == 130
    assert not fresh.exists()  # a new directory appears only once complete
    assert {p.name for p in tmp_path.iterdir()} == {"out", "cnn.safetensors", "mlp.safetensors"}


def test_save_pictures_replaces_its_own_pictures_only(tmp_path):
    from metanet import tasks

    task = tasks.get("digits")
    out = tmp_path / "pics"
    cnn = build(CNN, seed=0)
    assert {p.name for p in save_pictures(cnn, task, inspect(cnn, task, reader=None, max_examples=30), out)} \
        == CNN_PICTURES
    (out / "neurons.sqlite").write_text("written by NeuronDB.save: not a picture")
    (out / "notes.txt").write_text("mine")
    mlp = build(MLP, seed=0)
    paths = save_pictures(mlp, task, inspect(mlp, task, reader=None, max_examples=30), out)
    assert {p.name for p in paths} == MLP_PICTURES and all(p.parent == out for p in paths)
    assert _names(out) == MLP_PICTURES | {"neurons.sqlite", "notes.txt"}


def test_an_output_folder_that_cannot_be_made_is_named(tmp_path, monkeypatch):
    # the error named the hidden staging folder ('/proc/.foo.inspect-bkst1skj.tmp'), not the --out the user gave
    import errno
    import tempfile

    from metanet.inspect.output import staged

    def refuse(*args, **kwargs):
        raise PermissionError(errno.EACCES, "Permission denied", str(tmp_path / ".out.inspect-x.tmp"))

    monkeypatch.setattr(tempfile, "mkdtemp", refuse)
    with pytest.raises(OSError) as e:
        with staged(tmp_path / "out"):
            pass
    assert e.value.filename == str(tmp_path / "out") and "Permission denied" in str(e.value)
    assert list(tmp_path.iterdir()) == []


def test_a_new_output_folder_gets_the_umask_without_changing_it(tmp_path, monkeypatch):
    """staged() read the umask with os.umask(0) then back: the whole process had umask 0 for a moment (a file another
    thread created then was world-writable). The kernel applies the umask to the new folder now."""
    from metanet.inspect.output import staged

    calls = []
    real = os.umask
    old = real(0o027)
    try:
        monkeypatch.setattr(os, "umask", lambda mask: calls.append(mask) or real(mask))
        out = tmp_path / "new out"
        with staged(out) as stage:
            (stage / "INDEX.md").write_text("x")
        monkeypatch.undo()
    finally:
        real(old)
    assert calls == []
    assert stat.S_IMODE(out.stat().st_mode) == 0o750
    assert sorted(p.name for p in out.iterdir()) == ["INDEX.md"]
    assert [p.name for p in tmp_path.iterdir()] == ["new out"]  # no staging folder left


def test_a_failed_run_leaves_no_new_output_folder(tmp_path):
    from metanet.inspect.output import staged

    out = tmp_path / "out"
    with pytest.raises(RuntimeError):
        with staged(out) as stage:
            (stage / "INDEX.md").write_text("x")
            raise RuntimeError("interrupted")
    assert list(tmp_path.iterdir()) == []
