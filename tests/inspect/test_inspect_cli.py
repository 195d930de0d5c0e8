"""Pictures, TensorBoard logging and the `metanet inspect` command."""

from __future__ import annotations

import pytest
from inspect_helpers import digits_mlp, planted_mlp, planted_task

from metanet import tasks
from metanet.cli import main
from metanet.inspect import NeuronDB, inspect
from metanet.inspect.pictures import save_pictures
from metanet.io import save
from metanet.nets import build

PNG = b"\x89PNG\r\n\x1a\n"


def test_pictures_png_and_tensorboard(tmp_path):
    task = tasks.get("digits")
    model = digits_mlp()
    db = inspect(model, task)
    paths = save_pictures(model, task, db, tmp_path / "pics", tensorboard=tmp_path / "tb")
    assert sorted(p.name for p in paths) == ["ablation_layer1.png", "top_examples_layer1.png", "weights_layer1.png"]
    for p in paths:
        assert p.read_bytes()[:8] == PNG
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    acc = EventAccumulator(str(tmp_path / "tb"))
    acc.Reload()
    assert set(acc.Tags()["images"]) == {f"inspect/{p.stem}" for p in paths}


def test_cnn_pictures_show_kernels(tmp_path):
    task = tasks.get("digits")
    model = build("cnn:1-4-6-10:relu:k3:s2", seed=0)
    db = inspect(model, task, max_examples=50)
    paths = save_pictures(model, task, db, tmp_path)
    assert sorted(p.name for p in paths) == ["ablation_layer1.png", "ablation_layer2.png", "top_examples_layer1.png",
                                             "top_examples_layer2.png", "weights_layer1.png"]


def test_pictures_without_an_image_task_draw_the_heat_map_only(tmp_path):
    task = planted_task()  # inputs (1, 8): not an image
    model = planted_mlp()
    paths = save_pictures(model, task, inspect(model, task), tmp_path)
    assert [p.name for p in paths] == ["ablation_layer1.png"]


def test_cli_inspect_writes_db_index_and_pictures(tmp_path, capsys):
    net = tmp_path / "net.safetensors"
    save(digits_mlp(), net, task="digits")
    out = tmp_path / "out"
    assert main(["inspect", str(net), "--out", str(out), "--tensorboard", str(tmp_path / "tb")]) == 0
    text = capsys.readouterr().out
    assert "mlp:64-32-10:relu on digits/test" in text and "layer 1, neuron" in text
    assert {p.name for p in out.iterdir()} >= {"neurons.sqlite", "INDEX.md", "weights_layer1.png",
                                                "top_examples_layer1.png", "ablation_layer1.png"}
    db = NeuronDB.load(out)
    assert len(db) == 32 and db.meta["task"] == "digits"
    assert (out / "INDEX.md").read_text().startswith("# INDEX: mlp:64-32-10:relu on digits")
    assert any((tmp_path / "tb").iterdir())


def test_cli_inspect_needs_a_task(tmp_path, capsys):
    net = tmp_path / "net.safetensors"
    save(planted_mlp(), net)
    assert main(["inspect", str(net), "--out", str(tmp_path / "o")]) == 2
    assert "no --task given" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()
    assert main(["inspect", str(net), "--task", "nope", "--out", str(tmp_path / "o")]) == 2
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize("flag", ["--no-pictures", "--json"])
def test_cli_inspect_flags(tmp_path, capsys, flag):
    net = tmp_path / "net.safetensors"
    save(digits_mlp(), net)
    out = tmp_path / "o"
    assert main(["inspect", str(net), "--task", "digits", "--out", str(out), "--no-pictures", flag]) == 0
    assert not list(out.glob("*.png"))
    if flag == "--json":
        import json

        assert json.loads(capsys.readouterr().out)["meta"]["task"] == "digits"
