"""`metanet.read` on networks outside the reader's class range, and where the reader's warnings point."""

from __future__ import annotations

import warnings

import pytest
import torch

from metanet.nets import build
from metanet.reader import Reader, read


def _reader(**kw) -> Reader:
    torch.manual_seed(0)
    return Reader(tasks=["digits"], hidden=8, layers=1, **kw).eval()


def test_more_classes_than_the_reader_knows_is_marked_and_warned():
    # an 11- or 20-class network read every neuron as "dead", as confidently as any in-range reading
    r = _reader()
    for k in (11, 20):
        with pytest.warns(UserWarning, match=rf"has {k} outputs \(classes\) but this reader was trained on networks "
                                             r"of at most 10") as rec:
            out = read(build(f"mlp:64-16-{k}:relu", seed=0), reader=r, scan=False)
        assert "at most 10" in out["out_of_range"]
        assert rec[0].filename == __file__  # the user's call, not metanet's internals
    with warnings.catch_warnings():  # networks in range: no warning, no extra key (their readings are unchanged)
        warnings.simplefilter("error")
        for k in (2, 10):
            assert "out_of_range" not in read(build(f"mlp:64-16-{k}:relu", seed=0), reader=r, scan=False)


def test_a_role_class_is_always_one_of_the_networks_classes():
    # the role head names classes 0..9 whatever the network: a 2-class network's neuron read as "selective:9"
    r = _reader()
    with torch.no_grad():
        r.node_head[-1].bias[2 + 9] = 50.0  # the head's likeliest role: selective for class 9
        r.node_head[-1].bias[2 + 1] = 40.0  # then class 1
    out = read(build("mlp:64-16-2:relu", seed=0), reader=r, scan=False)
    assert {(n["role"], n.get("class")) for n in out["neurons"]} == {("selective", 1)}
    assert all(0 < n["confidence"] < 1e-3 for n in out["neurons"])  # not renormalised: honestly unsure
    out = read(build("mlp:64-16-10:relu", seed=0), reader=r, scan=False)  # in range: as the head says
    assert {(n["role"], n.get("class")) for n in out["neurons"]} == {("selective", 9)}


def test_the_checkpoint_warning_points_at_the_users_call(tmp_path):
    # Reader.load's warning about a Lightning .ckpt's unfitted scan head named predict.py when it came from
    # read(reader=path) (a fixed stacklevel)
    from metanet.reader.lightning import ReaderModule

    module = ReaderModule(tasks=["digits"], hidden=8, layers=1, probes=2, data_probes=8, scan_steps=2)
    path = tmp_path / "a dir" / "last.ckpt"
    path.parent.mkdir()
    torch.save({"hyper_parameters": dict(module.hparams), "state_dict": module.state_dict()}, path)
    with pytest.warns(UserWarning, match="trigger-scan head is not fitted") as rec:
        read(build("mlp:64-16-10:relu", seed=0), reader=path, scan=False)
    assert [w.filename for w in rec if "trigger-scan" in str(w.message)] == [__file__]
    with pytest.warns(UserWarning, match="trigger-scan head is not fitted") as rec:
        Reader.load(path)
    assert [w.filename for w in rec if "trigger-scan" in str(w.message)] == [__file__]


def test_cli_read_says_a_network_is_out_of_range(tmp_path, capsys):
    import metanet
    from metanet.cli import main

    path = metanet.save(build("mlp:64-16-12:relu", seed=0), tmp_path / "a net.safetensors")
    ckpt = _reader().save(tmp_path / "reader.safetensors")
    with pytest.warns(UserWarning, match="has 12 outputs"):
        assert main(["read", str(path), "--reader", str(ckpt), "--no-scan"]) == 0
    assert "  WARNING    the network has 12 outputs (classes) but this reader was trained on networks of at most 10" \
        in capsys.readouterr().out
