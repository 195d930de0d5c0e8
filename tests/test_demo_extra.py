"""``metanet demo`` output folders: the printed TensorBoard command for a path with spaces, and files or folders in
the way of what the demo writes (refused before any work)."""

from __future__ import annotations

import shlex

import pytest

from demo_helpers import stub_stages

from metanet.cli import main
from metanet.demo import STAGES, run_demo
from metanet.errors import ConfigError


def test_printed_tensorboard_command_quotes_a_path_with_spaces(tmp_path, monkeypatch, capsys):
    # "tensorboard --logdir /x/my demo/tb" pasted into a shell gave tensorboard two arguments
    stub_stages(monkeypatch)
    out = tmp_path / "my demo"
    r = run_demo(out, progress=False, verbose=True)
    line = [ln for ln in capsys.readouterr().out.splitlines() if "tensorboard --logdir" in ln]
    assert len(line) == 1
    assert shlex.split(line[0]) == ["tensorboard", "--logdir", str(out / "tb")]
    assert r["tensorboard"] == str(out / "tb")


@pytest.mark.parametrize("name, make_dir", [("generated.safetensors", True), ("pruned.safetensors", True),
                                            ("zoo", False), ("tb", False), ("inspect", False)])
def test_something_in_the_way_of_an_output_is_refused_before_any_work(tmp_path, monkeypatch, name, make_dir):
    # a folder named pruned.safetensors failed the prune stage only after all the others had run (minutes)
    ran = stub_stages(monkeypatch)
    out = tmp_path / "out"
    out.mkdir()
    (out / name).mkdir() if make_dir else (out / name).write_text("mine")
    with pytest.raises(ConfigError, match=f"holds {name}, which is a .*remove it or give another output"):
        run_demo(out, progress=False, verbose=False)
    assert ran == []
    assert sorted(p.name for p in out.iterdir()) == [name]  # nothing written (no tb/ run)


def test_something_in_the_way_is_one_error_line_from_the_cli(tmp_path, monkeypatch, capsys):
    ran = stub_stages(monkeypatch)
    (tmp_path / "inspect").write_text("mine")
    assert main(["demo", "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("metanet: error: demo output") and "inspect" in err[0], err
    assert ran == []


def test_rerun_into_the_same_folder_is_allowed(tmp_path, monkeypatch):
    # what a finished run leaves is not "in the way" of the next one
    ran = stub_stages(monkeypatch)
    out = tmp_path / "out"
    for d in ("zoo", "tb", "inspect"):
        (out / d).mkdir(parents=True)
    for f in ("generated.safetensors", "pruned.safetensors"):
        (out / f).write_bytes(b"")
    run_demo(out, progress=False, verbose=False)
    assert ran == list(STAGES)
