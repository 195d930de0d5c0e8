"""`metanet.read` / `metanet read FILE`: output contract, errors, and the shipped checkpoint's accuracy. Graphs it
cannot read (meta device, values lost in float32) are GraphErrors; networks outside the reader's class range are
marked and warned about; a reader's warnings point at the user's call; an unfitted trigger scan says what to do;
``metanet.generate``'s result reads as its model."""

from __future__ import annotations

import json
import warnings

import pytest
import torch
from torch import nn

import metanet
from metanet.errors import GraphError
from metanet.graph import to_graph
from metanet.nets import build
from metanet.reader import Reader, read
from reader_helpers import SHIPPED_MAX_ABS_ERROR, needs_shipped


def test_read_contract(small_reader):
    from metanet.nets import build

    out = read(build("mlp:20-6-5-3:relu", seed=0), reader=small_reader)
    assert set(out) >= {"accuracy", "task", "backdoor", "hyperparameters", "neurons"}
    assert 0.0 <= out["accuracy"] <= 1.0 and 0.0 <= out["backdoor"] <= 1.0
    assert out["task"] in ("digits", "mnist") and out["task_fits"] is None  # no labelled probes: cannot tell
    assert set(out["hyperparameters"]) == {"lr", "epoch", "optimizer", "activation"}
    assert len(out["neurons"]) == 11
    assert [(n["layer"], n["index"]) for n in out["neurons"][:7]] == [(1, i) for i in range(6)] + [(2, 0)]
    assert all(n["role"] in ("dead", "polysemantic", "selective") for n in out["neurons"])
    assert all(("class" in n) == (n["role"] == "selective") for n in out["neurons"])


def test_read_errors(tmp_path, small_reader):
    from safetensors.torch import save_file

    from metanet.errors import FileFormatError, GraphError

    with pytest.raises(GraphError, match="LSTM"):
        read(nn.Sequential(nn.LSTM(4, 4)), reader=small_reader)
    with pytest.raises(GraphError, match="nn.Module"):
        read(42, reader=small_reader)
    bare = tmp_path / "bare.safetensors"
    save_file({"w": torch.zeros(2, 2)}, str(bare))
    with pytest.raises(FileFormatError, match=r"bare.safetensors is a safetensors file without a metanet architecture"):
        read(bare, reader=small_reader)
    with pytest.raises(FileFormatError, match="no such file"):
        read(tmp_path / "missing.safetensors", reader=small_reader)
    # a Linear reading a flattened 13x13 map: the error names the layer and what the reader can read
    flat = nn.Sequential(nn.Conv2d(1, 4, 3, stride=2), nn.ReLU(), nn.Flatten(), nn.Linear(4 * 13 * 13, 3))
    with pytest.raises(GraphError, match=r"into neuron layer\(s\) \[2\].*169 values.*valid: kernels up to 3x3"):
        read(flat, reader=small_reader)
    with pytest.raises(GraphError, match=r"into neuron layer\(s\) \[1\].*25 values"):
        read(nn.Sequential(nn.Conv2d(1, 4, 5), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(4, 3)),
             reader=small_reader)


def test_cli_read(tmp_path, small_reader, capsys):
    import metanet
    from metanet.cli import main
    from metanet.nets import build

    path = metanet.save(build("mlp:20-6-3:tanh", seed=0), tmp_path / "net.safetensors")
    ckpt = small_reader.save(tmp_path / "reader.safetensors")
    assert main(["read", str(path), "--reader", str(ckpt), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert len(out["neurons"]) == 6
    assert main(["read", str(tmp_path / "nope.safetensors"), "--reader", str(ckpt)]) == 2
    assert "no such file" in capsys.readouterr().err


@needs_shipped
def test_shipped_reader_on_freshly_trained_networks():
    """Three mnist MLPs trained here (never in any zoo) to different accuracies: the shipped reader's predicted
    accuracy is within its documented error, and it names the task."""
    from metanet import tasks, verify
    from metanet.nets import build

    task = tasks.get("mnist")
    x, y = task.split("train")
    x, y = x[:3000], y[:3000]
    g = torch.Generator().manual_seed(0)
    errors = []
    for steps, seed in ((0, 0), (30, 1), (400, 2)):
        torch.manual_seed(seed)
        model = build("mlp:784-32-10:relu", seed=seed)
        opt = torch.optim.Adam(model.parameters(), lr=3e-3)
        for _ in range(steps):
            i = torch.randint(len(x), (64,), generator=g)
            loss = nn.functional.cross_entropy(model(x[i]), y[i])
            opt.zero_grad()
            loss.backward()
            opt.step()
        true = verify(model.eval(), task).accuracy
        out = read(model)
        errors.append(abs(out["accuracy"] - true))
        assert out["task_fits"] is True
        if steps >= 400:
            assert out["task"] == "mnist"
    assert max(errors) <= SHIPPED_MAX_ABS_ERROR, errors
    assert read(build("mlp:17-8-3:relu", seed=0), scan=False)["task_fits"] is False  # no 17-input task


@needs_shipped
def test_shipped_reader_names_the_task_of_generated_networks():
    """Networks the shipped writer generates (never in any zoo) for fashion-mnist and mnist+invert: the reader before
    ``task_cap`` read both as mnist (predicted accuracy 0.12 and 0.10 for networks at 0.82 and 0.90); the evidence of
    their own task's probes now decides, and the predicted accuracy is within the documented error."""
    import metanet

    for name in ("fashion-mnist", "mnist+invert"):
        g = metanet.generate(name, candidates=1, seed=0)
        out = read(g.model, scan=False)
        assert out["task"] == name and out["task_fits"] is True, (name, out["task"])
        assert abs(out["accuracy"] - g.report.test.accuracy) <= SHIPPED_MAX_ABS_ERROR, (name, out["accuracy"])


def test_read_with_a_reader_that_is_not_one(small_reader):
    from metanet.errors import CheckpointError
    from metanet.nets import build

    with pytest.raises(CheckpointError, match="int"):  # was a TypeError from os.fspath
        read(build("mlp:20-6-3:relu", seed=0), reader=42)


_UNPICKLED: list[str] = []


class _Payload:
    """Pickles to a call that would record itself: loading must never run it."""

    def __reduce__(self):
        return (_UNPICKLED.append, ("ran",))


def test_a_checkpoint_with_pickled_objects_is_refused_without_running_them(tmp_path):
    from metanet.errors import CheckpointError

    path = tmp_path / "evil.ckpt"
    torch.save({"hyper_parameters": {"tasks": ["digits"]}, "state_dict": {}, "payload": _Payload()}, path)
    with pytest.raises(CheckpointError, match="pickled objects other than tensors.*never unpickles") as info:
        Reader.load(path)
    assert _UNPICKLED == [] and "\x1b[" not in str(info.value)  # nothing ran; no terminal colour codes


def test_a_directory_is_not_a_checkpoint(tmp_path):
    from metanet.errors import CheckpointError
    from metanet.writer import Writer

    for cls in (Reader, Writer):
        with pytest.raises(CheckpointError, match="is a directory; give a .* checkpoint file"):
            cls.load(tmp_path)
        with pytest.raises(CheckpointError, match="no .* checkpoint at"):
            cls.load(tmp_path / "missing.safetensors")


def test_a_network_with_nan_weights_is_refused(small_reader):
    from metanet.errors import GraphError
    from metanet.nets import build

    net = build("mlp:64-8-10:relu", seed=0)
    with torch.no_grad():
        net.layers[0].weight[0, 0] = float("nan")
    with pytest.raises(GraphError, match="1 NaN or infinite weights or biases"):
        read(net, reader=small_reader)


def _reader(**kw) -> Reader:
    torch.manual_seed(0)
    return Reader(tasks=["digits"], hidden=8, layers=1, **kw).eval()


def test_a_meta_device_graph_is_a_graph_error():
    # to_graph encodes a meta-device network (its architecture); read() then died in its value check with
    # "RuntimeError: Tensor.item() cannot be called on meta tensors"
    g = to_graph(build("mlp:64-16-10:relu", seed=0).to("meta"))
    with pytest.raises(GraphError, match=r"the graph's values are on the 'meta' device .*give a graph of a network "
                                         r"with real weights"):
        read(g, reader=_reader(), scan=False)


def test_values_lost_in_float32_are_counted_in_one_check():
    # NaN / inf first, then float64 values beyond float32's range: the same two messages as the two passes gave
    g = to_graph(build("mlp:64-16-10:relu", seed=0).double())
    g.edge_attr[0, 0], g.edge_attr[1, 0], g.x[0, 0] = 1e300, float("nan"), -1e300
    with pytest.raises(GraphError, match=r"the network has 1 NaN or infinite weights or biases"):
        read(g, reader=_reader(), scan=False)
    g.edge_attr[1, 0] = 0.0
    with pytest.raises(GraphError, match=r"the network has 2 weights or biases beyond float32's range"):
        read(g, reader=_reader(), scan=False)


def test_scan_true_on_an_unfitted_scan_head_says_what_to_do(tmp_path):
    from metanet.reader.lightning import ReaderModule

    net = build("mlp:64-16-10:relu", seed=0)
    with pytest.raises(GraphError, match=r"no fitted trigger scan .*built with scan_steps=0: read with scan=False"):
        read(net, reader=_reader(), scan=True)
    # a reader of a Lightning .ckpt (saved before the head is fitted): the error and Reader.load's warning name the
    # export and fit_scan, and the warning no longer says read() would fall back when scan=True raises
    module = ReaderModule(tasks=["digits"], hidden=8, layers=1, probes=2, data_probes=8, scan_steps=2)
    path = tmp_path / "last.ckpt"
    torch.save({"hyper_parameters": dict(module.hparams), "state_dict": module.state_dict()}, path)
    with pytest.warns(UserWarning, match=r"weights-only head \(scan=True is an error\).*exported \.safetensors "
                                         r"\(model\.export\).*fit_scan"):
        r = Reader.load(path)
    with pytest.raises(GraphError, match=r"no fitted trigger scan .*fit's exported \.safetensors or fit it with "
                                         r"metanet\.reader\.scan\.fit_scan, or read with scan=False"):
        read(net, reader=r, scan=True)
    assert read(net, reader=r)["trigger_scan"] is None  # the default reads without it


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


def test_read_of_a_generated_network_is_the_reading_of_its_model():
    g = metanet.generate("digits[3,8]", candidates=2, shots=20, seed=0, verify=False)
    assert repr(metanet.read(g)) == repr(metanet.read(g.model))
