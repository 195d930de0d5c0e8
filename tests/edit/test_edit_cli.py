"""`metanet edit` checks every spec before it runs any edit: a bad later spec is refused with one error line,
before the earlier edits run and print before/after reports of a network that is never saved."""

from __future__ import annotations

import pytest

from metanet.cli import main
from metanet.io import save
from metanet.nets import build


@pytest.fixture()
def src(tmp_path):
    path = tmp_path / "net.safetensors"
    save(build("mlp:64-16-10:relu", seed=0), path, task="digits")
    return path


@pytest.mark.parametrize(
    "args, message",
    [
        (["--remove", "1:1", "--precision", "9=int8"], "region '9' does not exist"),
        (["--remove", "1:1", "--precision", "0=int3"], "unknown precision 'int3'"),
        (["--remove", "1:1", "--clamp", "1:99=0"], "neuron 99 of layer 1 does not exist"),
        (["--remove", "1:1", "--clamp", "1:2=-1"], "a relu neuron cannot output -1"),
        (["--clamp", "1:2=0", "--scale", "1:40=2"], "neuron 40 of layer 1 does not exist"),
        (["--remove", "1:1", "--scale", "1:2=0.5", "--scale", "3:2=2"], "layer '3' is not a hidden layer"),
        (["--remove", "1:1", "--prune", "1.5"], "sparsity 1.5 is not valid"),
        (["--remove", "1:1", "--prune", "0.5", "--prune-method", "necessity", "--prune-scope", "layer"],
         "pruning scope 'layer' is not valid for necessity"),
        # each alone is fine; together they would empty layer 1 (the clamp does not, but remove runs first)
        (["--remove", "1:0-7", "--remove", "1:8-15"], "would leave it with no working unit"),
        (["--remove", "1:1", "--trigger", '{"size": 3, "target": 99}'], "target"),
    ],
)
def test_a_bad_later_spec_is_refused_before_any_edit_runs(src, tmp_path, capsys, args, message):
    out = tmp_path / "out.safetensors"
    assert main(["edit", str(src), "--out", str(out), *args]) == 2
    cap = capsys.readouterr()
    assert message in cap.err
    assert cap.out == ""  # no report of an edit that is never saved
    assert len(cap.err.strip().splitlines()) == 1, cap.err
    assert not out.exists()


def test_a_valid_chain_still_prints_every_report(src, tmp_path, capsys):
    out = tmp_path / "out.safetensors"
    assert main(["edit", str(src), "--out", str(out), "--remove", "1:1", "--clamp", "1:2=0.5", "--scale", "1:3=2",
                 "--precision", "0=int8"]) == 0
    text = capsys.readouterr().out
    assert text.count("edit: ") == 4 and f"wrote {out}" in text and out.exists()


def test_an_edit_refused_after_others_ran_prints_no_report_of_them(src, tmp_path, capsys, monkeypatch):
    # some refusals depend on what an earlier edit left (e.g. what a backdoor repair removed): stand in for one
    import metanet.edit
    from metanet.errors import ArchError

    def refuse(*a, **k):
        raise ArchError("refused by the state the earlier edits left")

    monkeypatch.setattr(metanet.edit, "prune", refuse)
    out = tmp_path / "out.safetensors"
    assert main(["edit", str(src), "--out", str(out), "--remove", "1:1", "--prune", "0.3"]) == 2
    cap = capsys.readouterr()
    assert "refused by the state" in cap.err and cap.out == "" and not out.exists()
