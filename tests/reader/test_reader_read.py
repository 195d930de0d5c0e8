"""`metanet.read` / `metanet read FILE`: output contract, errors, and the shipped checkpoint's accuracy."""

from __future__ import annotations

import json

import pytest
import torch
from torch import nn

from metanet.reader import Reader, read
from reader_helpers import SHIPPED_MAX_ABS_ERROR, needs_shipped


@pytest.fixture(scope="module")
def small_reader():
    torch.manual_seed(0)
    return Reader(tasks=["digits", "mnist"], hidden=8, layers=1).eval()


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

