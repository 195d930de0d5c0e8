"""Round 27b: what metanet.save / metanet.load accept and what their errors say (non-regular files, zoo shards,
checkpoints, metanet.generate's result, graphs, arguments given in the wrong order)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import torch

from generated_helpers import ARCH, fake_generated

import metanet
from metanet import io
from metanet.cli import main
from metanet.errors import ArchError, FileFormatError, MetadataError
from metanet.graph import to_graph
from metanet.nets import build


# --- files that are not regular files -----------------------------------------------------------------------
def test_a_device_or_a_pipe_is_not_reported_as_missing(tmp_path):
    # /dev/null and a FIFO exist: "no such file" sent the user looking for a typo
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    for path in ("/dev/null", fifo):
        for fn in (io.load, io.load_meta):
            with pytest.raises(FileFormatError, match="is not a regular file") as info:
                fn(path)
            assert str(path) in str(info.value) and "no such file" not in str(info.value)


def test_a_broken_link_and_a_path_under_a_file_say_why_there_is_no_file(tmp_path):
    link = tmp_path / "net.safetensors"
    link.symlink_to(tmp_path / "gone.safetensors")
    with pytest.raises(FileFormatError, match=r"broken symbolic link \(to .*gone.safetensors\)"):
        io.load(link)
    plain = tmp_path / "plain.txt"
    plain.write_text("x")
    with pytest.raises(FileFormatError, match=r"no such file \(.*plain.txt is a file, not a directory\)"):
        io.load(plain / "net.safetensors")
    with pytest.raises(FileFormatError, match=r"nowhere.safetensors: no such file; give a network"):
        io.load(tmp_path / "nowhere.safetensors")


def test_cli_graph_of_dev_null_says_what_it_is(capsys):
    assert main(["graph", "/dev/null"]) == 2
    err = capsys.readouterr().err
    assert "/dev/null: is not a regular file" in err and "no such file" not in err


# --- safetensors files that hold something else than one network -------------------------------------------
def test_loading_a_zoo_shard_points_to_the_zoo(tiny_zoo):
    shard = sorted((tiny_zoo / "shards").glob("*.safetensors"))[0]
    zoo = metanet.Zoo(tiny_zoo)
    ids = sorted(n.id for n in zoo if Path(n.shard).name == shard.name)
    assert ids
    with pytest.raises(FileFormatError, match="is a zoo shard holding") as info:
        io.load(shard)
    msg = str(info.value)
    assert f"metanet.Zoo({str(tiny_zoo)!r}).load(id)" in msg and "without a metanet architecture" not in msg
    assert f"{len(ids)} networks (ids {ids[0]}, " in msg and f"{ids[-1]})" in msg


def test_a_shard_outside_its_zoo_still_says_what_it_is(tiny_zoo, tmp_path):
    shard = sorted((tiny_zoo / "shards").glob("*.safetensors"))[0]
    copy = tmp_path / "copied.safetensors"
    copy.write_bytes(shard.read_bytes())
    with pytest.raises(FileFormatError, match=r"is a zoo shard holding .*metanet.Zoo\('ZOO_DIR'\).load\(id\)"):
        io.load(copy)


def test_loading_a_writer_or_reader_checkpoint_names_its_loader():
    from metanet import checkpoints

    here = Path(checkpoints.__file__).parent
    for kind in ("writer", "reader"):
        with pytest.raises(FileFormatError, match=rf"is a metanet {kind} checkpoint, not a network; load it with "
                                                  rf"metanet.{kind.capitalize()}.load\(path\)"):
            io.load(here / f"{kind}.safetensors")


# --- what save() accepts ------------------------------------------------------------------------------------
def test_save_of_a_generated_network_is_what_its_save_writes(tmp_path):
    # metanet.verify took metanet.generate's result, metanet.save refused it ("unsupported module Generated")
    g = fake_generated()
    a = io.save(g, tmp_path / "a.safetensors")
    b = g.save(tmp_path / "b.safetensors")
    assert a.read_bytes() == b.read_bytes()
    assert io.load_meta(a)["test_accuracy"] == 0.75 and io.load_meta(a)["candidate"] == 1
    loaded = io.load(a)
    assert all(torch.equal(loaded.state_dict()[k], v) for k, v in g.model.state_dict().items())
    assert metanet.save(g, tmp_path / "c.safetensors").read_bytes() == b.read_bytes()


def test_save_of_a_generated_network_with_metadata_of_its_own_is_refused(tmp_path):
    g = fake_generated()
    out = tmp_path / "g.safetensors"
    with pytest.raises(MetadataError, match=r"generation report.*metanet.save\(g.model, path, \*\*meta\)"):
        io.save(g, out, note="mine")
    assert not out.exists() and list(tmp_path.iterdir()) == []


def test_save_of_a_graph_saves_the_network_it_encodes(tmp_path):
    m = build(ARCH, seed=3)
    a = io.save(to_graph(m), tmp_path / "a.safetensors", note="x")
    b = io.save(m, tmp_path / "b.safetensors", note="x")
    assert a.read_bytes() == b.read_bytes()


def test_save_with_the_path_first_says_the_order(tmp_path):
    m = build(ARCH, seed=0)
    src = io.save(m, tmp_path / "src.safetensors")
    for given in (str(src), src):
        with pytest.raises(ArchError, match=r"takes the network first, then the path: save\(model, path"):
            io.save(given, tmp_path / "dst.safetensors")
    assert not (tmp_path / "dst.safetensors").exists()
