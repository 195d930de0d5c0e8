"""The reader on CNNs of inputs other than 28x28. A CNN's global average pooling runs it on images of any size, so
its weights do not say which it reads: the reader ran every CNN on its 28x28 probes, and a digits CNN (8x8) was
read as ``mnist`` with a predicted accuracy of 0.09, ``task_fits`` True, and trigger-scanned on mnist images. The
size now comes from ``read(input_shape=...)``, metanet.generate's result or the task a file records; without one
the reading says it rests on 28x28 images (``task_fits`` None, ``input_size_unknown``)."""

from __future__ import annotations

import pytest
import torch

import metanet
from metanet.errors import ConfigError
from metanet.graph import to_graph
from metanet.nets import build
from metanet.reader import Reader, read
from metanet.reader.scan import scan_features, scan_problem
from reader_helpers import SHIPPED_MAX_ABS_ERROR, needs_shipped


def _reading(out: dict) -> dict:
    """What the reader read (without what the file records)."""
    return {k: v for k, v in out.items() if k not in ("recorded_task", "class_names")}


@pytest.fixture(scope="module")
def digits_reader() -> Reader:
    """A reader whose only probe images are digits' 8x8 ones."""
    torch.manual_seed(0)
    return Reader(tasks=["digits"], hidden=8, layers=1, probes=2, data_probes=8).fill_data_probes("val").eval()


@needs_shipped
def test_a_digits_cnn_is_read_on_digits_images_when_its_size_is_known(tmp_path):
    g = metanet.generate("digits", arch="cnn:1-8-8-10:relu:k3:s2", candidates=1, seed=0)
    true = g.report.test.accuracy
    bare = read(g.model, scan=False)  # a module alone: nothing tells its size
    assert bare["task_fits"] is None and "28x28" in bare["input_size_unknown"]
    assert "input_shape=(1, H, W)" in bare["input_size_unknown"]
    known = read(g, scan=False)  # metanet.generate's result: its task gives 8x8
    assert known["task"] == "digits" and known["task_fits"] is True and "input_size_unknown" not in known
    assert abs(known["accuracy"] - true) <= SHIPPED_MAX_ABS_ERROR, (known["accuracy"], true)
    assert read(g.model, scan=False, input_shape=(1, 8, 8)) == known
    saved = read(g.save(tmp_path / "cnn.safetensors"), scan=False)  # the file's recorded task
    assert saved["recorded_task"] == "digits"
    assert _reading(saved) == _reading(known)


def test_forward_runs_cnns_on_probes_of_the_given_size(digits_reader):
    g = to_graph(build("cnn:1-4-8-10:relu:k3:s2", seed=0))
    with torch.no_grad():
        default, small = digits_reader(g), digits_reader(g, image_size=(8, 8))
    assert not bool(default["task_fits"][0]) and bool(small["task_fits"][0])  # the 8x8 digits probes fit it
    assert not torch.equal(default["accuracy"], small["accuracy"])
    mnist = Reader(tasks=["mnist"], hidden=8, layers=1, probes=2, data_probes=8).fill_data_probes("val").eval()
    with torch.no_grad():  # the default is 28x28: told so, the same reading bit for bit
        a, b = mnist(g), mnist(g, image_size=[28, 28])
    assert all(torch.equal(a[k], b[k]) for k in a)
    for bad in ((8,), (8, 0), (8.5, 8), "8x8", 8, (True, 8)):
        with pytest.raises(ConfigError, match=r"image_size must be \(H, W\), two whole numbers >= 1"):
            digits_reader(g, image_size=bad)


def test_the_scan_runs_a_cnn_on_images_of_its_size(scan_reader, monkeypatch):
    import metanet.edit.cleanse as cleanse

    seen = []
    real = cleanse.neural_cleanse

    def spy(forward, x, *a, **kw):
        seen.append(tuple(x.shape[1:]))
        return real(forward, x, *a, **kw)

    monkeypatch.setattr(cleanse, "neural_cleanse", spy)
    net = build("cnn:1-4-4-10:relu:k3:s2", seed=0)
    out = read(net, reader=scan_reader, input_shape=(1, 8, 8))
    assert seen == [(1, 8, 8)] and out["trigger_scan"] is not None and "input_size_unknown" not in out
    seen.clear()
    out = read(net, reader=scan_reader)  # unknown: scanned on 28x28 images, and said so
    assert seen == [(1, 28, 28)] and out["task_fits"] is None
    assert "read and trigger-scanned on the reader's 28x28 probe images (mnist)" in out["input_size_unknown"]
    assert "input_size_unknown" not in read(build("mlp:64-8-10:relu", seed=0), reader=scan_reader, scan=False)


def test_a_cnn_of_a_size_no_probe_images_have_is_named(digits_reader, scan_reader):
    g = to_graph(build("cnn:1-4-4-10:relu:k3:s2", seed=0))
    assert scan_problem(scan_reader, g, (8, 8)) is None
    why = scan_problem(digits_reader, g, (32, 32))
    assert "no probe images for a CNN of 32x32 images (1024 inputs) and 10 output(s)" in why
    assert "valid: 64 inputs with 10 classes" in why
    f = scan_features(scan_reader, g, steps=2, image_size=(32, 32))
    assert bool(f.isnan().all())  # no 32x32 probe images: not run on others
    out = read(g, reader=digits_reader, scan=False, input_shape=(1, 32, 32))
    assert out["task_fits"] is False and "input_size_unknown" not in out  # the size is known: nothing fits it


def test_cnns_no_size_could_fit_keep_task_fits_false(digits_reader):
    for arch in ("cnn:3-4-4-10:relu:k3:s2", "cnn:1-4-4-7:relu:k3:s2"):  # 3 channels; 7 classes: no task at any size
        out = read(build(arch, seed=0), reader=digits_reader, scan=False)
        assert out["task_fits"] is False and "input_size_unknown" not in out, arch


def test_a_file_records_the_size_of_its_task(scan_reader, tmp_path):
    net = build("cnn:1-4-4-10:relu:k3:s2", seed=0)
    # fashion-mnist: no probe bank of this reader, so its data tells the size
    for task, size in (("digits[0-9]+invert", (1, 8, 8)), ("fmnist", (1, 28, 28))):
        path = metanet.save(net, tmp_path / "net.safetensors", task=task)
        out = read(path, reader=scan_reader, scan=False)
        assert out["task_fits"] is True and "input_size_unknown" not in out, task
        assert _reading(out) == _reading(read(net, reader=scan_reader, scan=False, input_shape=size))
    # a name that is no task (free text) tells nothing: read as unknown
    path = metanet.save(net, tmp_path / "free.safetensors", task="my own photos")
    assert read(path, reader=scan_reader, scan=False)["task_fits"] is None


def test_input_shape_is_checked_against_the_network(scan_reader):
    cnn, mlp = build("cnn:1-4-4-10:relu:k3:s2", seed=0), build("mlp:64-8-10:relu", seed=0)
    with pytest.raises(ConfigError, match=r"input_shape \(3, 8, 8\) is not what this CNN reads: images \(C, H, W\) "
                                          r"of 1 channel, e\.g\. \(1, 28, 28\)"):
        read(cnn, reader=scan_reader, scan=False, input_shape=(3, 8, 8))
    with pytest.raises(ConfigError, match=r"input_shape \(8, 8\) is not what this CNN reads"):
        read(cnn, reader=scan_reader, scan=False, input_shape=(8, 8))
    with pytest.raises(ConfigError, match=r"input_shape \(1, 28, 28\) has 784 values, but the network's first layer "
                                          r"reads 64 input features"):
        read(mlp, reader=scan_reader, scan=False, input_shape=(1, 28, 28))
    for bad in ("1x8x8", (1, 0, 8), (1, 8.5, 8), 64):
        with pytest.raises(ConfigError, match="input_shape must be the shape of one input"):
            read(cnn, reader=scan_reader, scan=False, input_shape=bad)
    # an MLP's size is its first layer's: a shape that agrees changes nothing
    assert read(mlp, reader=scan_reader, scan=False, input_shape=(1, 8, 8)) == read(mlp, reader=scan_reader,
                                                                                      scan=False)


def test_cli_read_notes_a_cnn_read_on_an_assumed_size(scan_reader, tmp_path, capsys):
    from metanet.cli import main

    path = metanet.save(build("cnn:1-4-4-10:relu:k3:s2", seed=0), tmp_path / "net.safetensors")
    ckpt = scan_reader.save(tmp_path / "reader.safetensors")
    assert main(["read", str(path), "--reader", str(ckpt), "--no-scan"]) == 0
    line = next(x for x in capsys.readouterr().out.splitlines() if x.startswith("  NOTE"))
    assert "a CNN's weights do not say which image size it reads" in line
