"""`metanet inspect --reader PATH`: the neuron roles come from that reader checkpoint, as
`metanet.read(net, reader=Reader.load(PATH), scan=False)` reads them; its checkpoint errors are those of
`metanet read --reader` (one line, exit 2), and `--reader` with `--no-reader` is a usage error."""

from __future__ import annotations

import sqlite3

import pytest
import torch

import metanet
from metanet.cli import main
from metanet.io import save
from metanet.nets import build
from metanet.reader import Reader


@pytest.fixture
def net_and_reader(tmp_path):
    torch.manual_seed(0)
    net = tmp_path / "n.safetensors"
    save(build("mlp:64-8-10"), net, task="digits")
    reader = tmp_path / "reader.safetensors"
    Reader(tasks=["digits"], hidden=8, layers=1).eval().save(reader)  # untrained: roles unlike the shipped one's
    return net, reader


def _roles(neurons: list[dict]) -> dict[tuple[int, int], str]:
    """``metanet.read``'s neurons as the inspect database writes their roles (``role:class`` where a class is given)."""
    return {(n["layer"], n["index"]): n["role"] + (f":{n['class']}" if n.get("class") is not None else "")
            for n in neurons}


def test_inspect_reads_roles_with_the_given_reader_checkpoint(net_and_reader, tmp_path, capsys):
    net, reader = net_and_reader
    out = tmp_path / "out"
    assert main(["inspect", str(net), "--out", str(out), "--reader", str(reader), "--no-pictures",
                 "--max-examples", "64"]) == 0
    with sqlite3.connect(out / "neurons.sqlite") as con:
        got = {(layer, idx): role for layer, idx, role in con.execute("SELECT layer, idx, role FROM neurons")}
    want = _roles(metanet.read(metanet.load(net), reader=Reader.load(reader), scan=False)["neurons"])
    shipped = _roles(metanet.read(metanet.load(net), scan=False)["neurons"])
    assert got == want and len(got) == 8
    assert want != shipped  # the flag made a difference: these are not the default reader's roles


@pytest.mark.parametrize("bad, message", [
    ("missing.safetensors", "no reader checkpoint at"),
    ("", "is a directory; give a reader checkpoint file"),  # the test's folder itself
])
def test_a_bad_reader_checkpoint_is_one_line(net_and_reader, tmp_path, capsys, bad, message):
    net, _ = net_and_reader
    path = tmp_path / bad if bad else tmp_path
    code = main(["inspect", str(net), "--out", str(tmp_path / "out"), "--reader", str(path), "--no-pictures"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and err[0].startswith("metanet: error: ") and message in err[0], err
    assert str(path) in err[0]
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())  # nothing measured or written


def test_reader_and_no_reader_together_are_a_usage_error(net_and_reader, tmp_path, capsys):
    net, reader = net_and_reader
    with pytest.raises(SystemExit) as e:
        main(["inspect", str(net), "--out", str(tmp_path / "out"), "--reader", str(reader), "--no-reader"])
    assert e.value.code == 2
    assert "--no-reader: not allowed with argument --reader" in capsys.readouterr().err
