"""metanet.inspect takes a network in every form metanet.verify / metanet.read take: a module, the path of a
network saved with metanet.save (only read), metanet.generate's result (its .model) and a NeuralGraph (decoded
with from_graph); each was an ArchError "unsupported module str / Generated / NeuralGraph". A path that is no
network is a FileFormatError, a malformed graph a GraphError."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import torch
from inspect_helpers import digits_mlp

import metanet
from metanet.errors import FileFormatError, GraphError
from metanet.graph import to_graph
from metanet.inspect.netview import NetView
from metanet.writer.generate import Generated

ARCH = "mlp:64-16-10:relu"


@pytest.fixture(scope="module")
def net():
    return digits_mlp(ARCH, epochs=5)


@pytest.fixture
def saved(net, tmp_path):
    path = tmp_path / "my nets" / "n 1.safetensors"  # a space in the folder and the name
    path.parent.mkdir()
    metanet.save(net, path)
    return path


def _rows(db) -> str:
    return json.dumps(db.rows, sort_keys=True, default=str)


@pytest.mark.parametrize("form", ["str", "Path", "Generated", "NeuralGraph"])
def test_inspect_takes_every_form_verify_takes_with_the_same_rows(net, saved, form):
    obj = {"str": str(saved), "Path": saved, "Generated": Generated(net, None, [net]),
           "NeuralGraph": to_graph(net)}[form]
    before = saved.read_bytes()
    db = metanet.inspect(obj, "digits", reader=None, max_examples=200)
    ref = metanet.inspect(net, "digits", reader=None, max_examples=200)
    assert len(db) == len(ref) == 16
    assert _rows(db) == _rows(ref)
    assert saved.read_bytes() == before  # the file is only read


def test_inspect_of_a_path_that_is_no_network_is_a_file_format_error(tmp_path):
    bad = tmp_path / "notes.txt"
    bad.write_text("not a network")
    with pytest.raises(FileFormatError):
        metanet.inspect(str(bad), "digits", reader=None)
    with pytest.raises(FileFormatError, match="empty path"):
        metanet.inspect("", "digits", reader=None)


def test_inspect_of_a_malformed_graph_is_a_graph_error(net):
    g = to_graph(net)
    g.edge_attr = g.edge_attr[:-3]  # edges missing
    with pytest.raises(GraphError):
        metanet.inspect(g, "digits", reader=None)


def test_netview_and_as_model_take_the_forms(net, saved):
    from metanet.inspect.netview import as_model

    v = NetView(os.fsencode(saved))  # a bytes path too, as metanet.verify reads one
    assert [L.width for L in v.layers] == [16]
    assert all(torch.equal(a, b) for a, b in zip(v.model.state_dict().values(), net.state_dict().values()))
    g = Generated(net, None, [net])
    assert as_model(g) == (net, "Generated.model") and as_model(net) == (net, None)
    assert as_model(Path(saved))[1] == str(saved)
