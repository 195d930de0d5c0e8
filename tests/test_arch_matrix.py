"""Every documented architecture option through the whole pipeline, one small real case each.

generate -> verify -> save/load -> to_graph/from_graph -> read -> inspect -> edits: each step must take the network
the previous one gave, and every figure two steps report about the same network must agree (the generated test
accuracy with a fresh verify, inspect's accuracy and single-neuron ablations with verify and remove, an edit's
``after`` with a fresh verify of the edited network).
"""

from __future__ import annotations

import pytest
import torch

import metanet
from metanet import edit
from metanet.cli import main
from metanet.graph import from_graph, to_graph
from metanet.tasks import resolve

CASES = [
    ("digits", "mlp:64-16-10:relu"),
    ("digits", "mlp:64-10:relu"),  # no hidden layer
    ("digits", "mlp:64-1-10:leaky_relu"),  # a hidden width of 1
    ("digits", "mlp:64-8-8-10:tanh:skip"),
    ("digits", "mlp:64-8-8-8-10:gelu:skip:nobias"),
    ("digits", "mlp:64-8-4-10:silu:skip"),  # skip asked for, no equal widths: no residual layer
    ("digits", "mlp:64-8-10:sigmoid"),
    ("digits", "mlp:64-8-10:identity"),
    ("digits", "cnn:1-4-10:relu:k3:s1"),
    ("digits", "cnn:1-2-2-10:tanh:k2:s2:nobias"),  # an even kernel
    ("digits", "cnn:1-2-10:relu:k3:s8"),  # a stride as large as the image: one position left
    ("digits[3,8]", "mlp:64-4-2:relu"),  # K = 2
    ("digits[3,8]", "cnn:1-2-2:relu:k3:s1"),
    ("mnist1d", "mlp:40-8-8-10:relu:skip"),
]


def _out(net: torch.nn.Module, x: torch.Tensor) -> torch.Tensor:
    with torch.no_grad():
        return net(x)


@pytest.mark.parametrize("task,arch", CASES, ids=[f"{t}-{a}" for t, a in CASES])
def test_pipeline(task: str, arch: str, tmp_path) -> None:
    g = metanet.generate(task, arch=arch, candidates=1, shots=10, seed=0)
    net = g.model
    assert str(net.arch) == str(metanet.Arch.parse(arch))
    report = metanet.verify(net, task)
    assert report.accuracy == g.report.test.accuracy

    x = resolve(task).split("test")[0][:32]
    ref = _out(net, x)
    path = tmp_path / "net.safetensors"
    metanet.save(net, path)
    loaded = metanet.load(path)
    assert loaded.arch == net.arch and torch.equal(_out(loaded, x), ref)
    decoded = from_graph(to_graph(net))
    assert decoded.arch == net.arch and torch.equal(_out(decoded, x), ref)

    hidden = sum(net.arch.hidden)
    reading = metanet.read(net, scan=False)
    assert len(reading["neurons"]) == hidden and 0 <= reading["accuracy"] <= 1

    db = metanet.inspect(net, task, reader=None)
    assert db.meta["accuracy"] == report.accuracy and db.meta["loss"] == report.loss
    rows = list(db.rows)
    assert len(rows) == hidden
    row = next((r for r in rows if net.arch.widths[r["layer"]] > 1), None)  # removing a layer's only unit is refused
    if row is not None:
        removed, rep = edit.remove(net, f"{row['layer']}:{row['idx']}", task)
        assert rep.before.accuracy == report.accuracy
        assert rep.after.accuracy == metanet.verify(removed, task).accuracy
        assert rep.after.accuracy - rep.before.accuracy == pytest.approx(row["ablation_acc"], abs=1e-12)

    for edited, rep in (edit.prune(net, 0.5, task), edit.precision(net, "*=int4", task)):
        after = metanet.verify(edited, task)
        assert (rep.after.accuracy, rep.after.loss) == (after.accuracy, after.loss)


def test_cli_pipeline_cnn(tmp_path, capsys) -> None:
    net, pruned = tmp_path / "cnn.safetensors", tmp_path / "pruned.safetensors"
    assert main(["generate", "digits", "--arch", "cnn:1-2-2-10:relu:k3:s1", "--candidates", "1", "--shots", "10",
                 "--out", str(net)]) == 0
    assert main(["read", str(net), "--no-scan"]) == 0
    assert main(["inspect", str(net), "--task", "digits", "--out", str(tmp_path / "ins"), "--no-pictures",
                 "--no-reader"]) == 0
    assert (tmp_path / "ins" / "neurons.sqlite").is_file()
    assert main(["edit", str(net), "--task", "digits", "--prune", "0.5", "--out", str(pruned)]) == 0
    assert metanet.load(pruned).arch == metanet.load(net).arch
    assert "4 hidden: 4 not read (the reader reads no CNN's roles)" in capsys.readouterr().out


def test_cli_read_of_a_network_without_hidden_layer(tmp_path, capsys) -> None:
    """``metanet read`` of an MLP with no hidden layer printed a dangling ``0 hidden: `` with nothing after it."""
    path = tmp_path / "linear.safetensors"
    metanet.save(metanet.nets.build("mlp:64-10:relu"), path, task="digits")
    assert main(["read", str(path), "--no-scan"]) == 0
    line = next(s for s in capsys.readouterr().out.splitlines() if s.strip().startswith("neurons"))
    assert line.split() == ["neurons", "0", "hidden", "(no", "hidden", "layer)"]
