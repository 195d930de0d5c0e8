"""``metanet read FILE --input-shape CxHxW``: the image size of a CNN whose file records no task, as
``metanet.read(..., input_shape=...)`` takes it (the command line had no way to give it: such a CNN was always read
on 28x28 images)."""

from __future__ import annotations

import json

import pytest

import metanet
from metanet.cli import dumps_json, main
from metanet.nets import build
from metanet.reader import read


@pytest.fixture
def files(scan_reader, tmp_path):
    net = metanet.save(build("cnn:1-4-4-10:relu:k3:s2", seed=0), tmp_path / "cnn.safetensors")  # no task recorded
    return str(net), str(scan_reader.save(tmp_path / "reader.safetensors"))


def test_input_shape_reads_a_cnn_at_its_image_size(files, scan_reader, capsys):
    net, ckpt = files
    assert main(["read", net, "--reader", ckpt, "--no-scan", "--json", "--input-shape", "1x8x8"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out == json.loads(dumps_json(read(net, reader=scan_reader, scan=False, input_shape=(1, 8, 8))))
    assert out["task_fits"] is True and "input_size_unknown" not in out


def test_without_it_the_note_names_the_option(files, capsys):
    net, ckpt = files
    assert main(["read", net, "--reader", ckpt, "--no-scan"]) == 0
    assert "--input-shape 1xHxW" in capsys.readouterr().out


@pytest.mark.parametrize("text", ["8x", "1x0x8", "x", "1,8,8", "1x8.5x8", ""])
def test_a_malformed_input_shape_is_a_usage_error(files, capsys, text):
    net, ckpt = files
    with pytest.raises(SystemExit) as info:
        main(["read", net, "--reader", ckpt, "--input-shape", text])
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert "argument --input-shape: must be the shape of one input, channels first" in err and "e.g. 1x8x8" in err


def test_an_input_shape_the_network_cannot_read_is_one_error_line(files, capsys):
    net, ckpt = files
    assert main(["read", net, "--reader", ckpt, "--no-scan", "--input-shape", "3x8x8"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    # the CLI's spelling of the shapes, which --input-shape takes back
    assert captured.err.splitlines() == ["metanet: error: --input-shape 3x8x8 is not what this CNN reads: images "
                                         "(C, H, W) of 1 channel, e.g. 1x28x28"]


def test_an_input_shape_an_mlp_cannot_read_is_spelt_as_the_flag(files, capsys, tmp_path):
    _, ckpt = files
    net = metanet.save(build("mlp:64-8-10:relu", seed=0), tmp_path / "mlp.safetensors")
    assert main(["read", str(net), "--reader", ckpt, "--no-scan", "--input-shape", "65"]) == 2
    assert capsys.readouterr().err.splitlines() == [
        "metanet: error: --input-shape 65 has 65 values, but the network's first layer reads 64 input features"]
