"""Edits of networks users bring (a plain nn.Sequential, named by position or by an OrderedDict): the result is the
same kind of module with the same names, in place or not, its report measures it; and scaling by 0, which silences
neurons as removing does, follows remove's rule of never emptying a layer."""

from __future__ import annotations

import copy
from collections import OrderedDict

import pytest
import torch
from torch import nn

import metanet
from metanet import edit, tasks
from metanet.cli import main
from metanet.errors import ArchError

TASK = tasks.get("digits")


def _named() -> nn.Sequential:
    torch.manual_seed(0)
    return nn.Sequential(OrderedDict([("flat", nn.Flatten()), ("fc1", nn.Linear(64, 6)), ("act1", nn.ReLU()),
                                      ("drop", nn.Dropout(0.2)), ("fc2", nn.Linear(6, 10))]))


def _accuracy(model: nn.Module) -> float:
    x, y = TASK.split("test")
    with torch.no_grad():
        return float((model.eval()(x).argmax(1) == y).double().mean())


EDITS = {
    "remove": lambda m, **k: edit.remove(m, "1:2", TASK, **k),
    "scale": lambda m, **k: edit.scale(m, "1:0,3", 0.5, TASK, **k),
    "clamp": lambda m, **k: edit.clamp(m, "1:4=0.3", TASK, **k),
    "prune": lambda m, **k: edit.prune(m, 0.5, TASK, **k),
    "precision": lambda m, **k: edit.precision(m, "0=int4,1=fp16", TASK, **k),
}


@pytest.mark.parametrize("inplace", [False, True])
@pytest.mark.parametrize("name", list(EDITS))
def test_an_edited_sequential_keeps_its_type_names_and_mode_and_its_report_measures_it(name, inplace):
    model = _named().train()  # a model in training mode (its Dropout on), as a user may hand it over
    keys, modules = list(model.state_dict()), list(model._modules)
    before = _accuracy(copy.deepcopy(model))
    out, rep = EDITS[name](model, inplace=inplace)
    assert type(out) is nn.Sequential and list(out._modules) == modules and list(out.state_dict()) == keys
    assert (out is model) == inplace
    if inplace:
        assert model.training  # given back in the mode it came in
    assert rep.before.accuracy == before and rep.after.accuracy == _accuracy(copy.deepcopy(out))


def test_scaling_every_neuron_of_a_layer_by_zero_is_refused_as_removing_them_is():
    model = _named().eval()
    state = {k: v.clone() for k, v in model.state_dict().items()}
    with pytest.raises(ArchError, match="removing 6 unit"):
        edit.remove(model, "1:0-5", TASK)
    # the same silenced layer (a constant output whatever the input) was allowed by a factor of 0
    with pytest.raises(ArchError, match=r"scaling by 0 6 unit\(s\) of layer 1 would leave it with no working unit "
                                        r"\(it has 6, 0 already removed\); keep at least one"):
        edit.scale(model, "1:0-5", 0.0, TASK, inplace=True)
    assert all(torch.equal(state[k], v) for k, v in model.state_dict().items())
    # neurons removed earlier count, as remove counts them
    gone = edit.remove(model, "1:0-2", TASK).model
    with pytest.raises(ArchError, match="3 already removed"):
        edit.scale(gone, "1:3-5", 0, TASK)
    # one working unit left, and other factors: allowed as before
    assert edit.scale(gone, "1:3,4", 0, TASK).report.after.accuracy >= 0
    assert edit.scale(model, "1:0-5", 0.5, TASK).report.details == {"via": "outgoing"}


def test_the_cli_refuses_a_zero_scale_of_a_whole_layer_before_any_edit(tmp_path, capsys):
    src = tmp_path / "net.safetensors"
    metanet.save(_named().eval(), src, task="digits")
    out = tmp_path / "out.safetensors"
    assert main(["edit", str(src), "--out", str(out), "--remove", "1:0", "--scale", "1:1-5=0"]) == 2
    cap = capsys.readouterr()
    assert "scaling by 0 5 unit(s) of layer 1 would leave it with no working unit (it has 6, 1 already removed)" \
        in cap.err
    assert cap.out == "" and not out.exists()
