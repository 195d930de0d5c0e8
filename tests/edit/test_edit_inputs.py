"""Every edit takes its network in every form metanet.verify takes: a module, a saved network's path (only read:
the edited copy is returned), metanet.generate's result (its .model) and a NeuralGraph (decoded); before, each
was an ArchError "unsupported module str / Generated / NeuralGraph". ``inplace=True`` with a path or a graph is a
ConfigError (no module of the caller's to change); with a Generated it edits ``g.model``. The report's details
say where a non-module network came from (``network``)."""

from __future__ import annotations

import copy

import pytest
import torch
from inspect_helpers import digits_mlp

import metanet
from metanet import edit
from metanet.errors import ConfigError, FileFormatError
from metanet.graph import to_graph
from metanet.writer.generate import Generated

ARCH = "mlp:64-16-10:relu"
TRIGGER = {"kind": "square", "size": 2, "location": [6, 6], "target": 0}

EDITS = {
    "remove": lambda m, **kw: edit.remove(m, "1:3,7", "digits", **kw),
    "clamp": lambda m, **kw: edit.clamp(m, "1:2", "digits", **kw),  # mean ablation: statistics of the input net
    "prune": lambda m, **kw: edit.prune(m, 0.5, "digits", **kw),
    "precision": lambda m, **kw: edit.precision(m, "*=int4", "digits", **kw),
    "scale": lambda m, **kw: edit.scale(m, "1:5", 0.5, "digits", **kw),
}


@pytest.fixture(scope="module")
def net():
    return digits_mlp(ARCH, epochs=5)


@pytest.fixture
def saved(net, tmp_path):
    path = tmp_path / "with space" / "net 1.safetensors"
    path.parent.mkdir()
    metanet.save(net, path)
    return path


def _same(a: torch.nn.Module, b: torch.nn.Module) -> bool:
    sa, sb = a.state_dict(), b.state_dict()
    return sa.keys() == sb.keys() and all(torch.equal(sa[k], sb[k]) for k in sa)


def _form(form: str, net, saved):
    return {"str": str(saved), "Path": saved, "Generated": Generated(copy.deepcopy(net), None, []),
            "NeuralGraph": to_graph(net)}[form]


@pytest.mark.parametrize("form", ["str", "Path", "Generated", "NeuralGraph"])
@pytest.mark.parametrize("name", list(EDITS))
def test_each_form_gives_the_module_forms_edit_and_leaves_the_input_alone(net, saved, name, form):
    obj = _form(form, net, saved)
    before_bytes = saved.read_bytes()
    kept = copy.deepcopy(net)
    ref_model, ref = EDITS[name](net)
    model, rep = EDITS[name](obj)
    assert isinstance(model, torch.nn.Module) and _same(model, ref_model)
    assert rep.before.accuracy == ref.before.accuracy and rep.after.accuracy == ref.after.accuracy
    assert rep.params == ref.params
    assert {k: v for k, v in rep.details.items() if k != "network"} == ref.details
    want = {"str": str(saved), "Path": str(saved), "Generated": "Generated.model"}.get(form, "NeuralGraph")
    assert rep.details["network"].startswith(want) and f"network: {want}" in str(rep)
    assert "network" not in ref.details  # a module given as it is: the report as before
    assert saved.read_bytes() == before_bytes  # the file is only read
    if form == "Generated":  # not in place: g.model is untouched, the result a new module
        assert model is not obj.model and _same(obj.model, net)
    assert _same(net, kept)


@pytest.mark.parametrize("form", ["str", "Path", "NeuralGraph"])
@pytest.mark.parametrize("name", ["remove", "prune", "precision"])
def test_inplace_with_a_path_or_a_graph_is_a_config_error(net, saved, name, form):
    obj = _form(form, net, saved)
    before_bytes = saved.read_bytes()
    with pytest.raises(ConfigError, match="inplace=True cannot edit") as e:
        EDITS[name](obj, inplace=True)
    assert "without inplace" in str(e.value)  # what to do instead
    assert saved.read_bytes() == before_bytes


def test_repair_backdoor_inplace_with_a_path_is_a_config_error_before_any_work(saved):
    before_bytes = saved.read_bytes()
    with pytest.raises(ConfigError, match="never writes to its input file"):
        edit.repair_backdoor(saved, "digits", TRIGGER, inplace=True)
    assert saved.read_bytes() == before_bytes


def test_inplace_with_a_generated_edits_its_model(net):
    g = Generated(copy.deepcopy(net), None, [])
    held = g.model
    ref_model, ref = edit.remove(net, "1:3,7", "digits")
    model, rep = edit.remove(g, "1:3,7", "digits", inplace=True)
    assert model is held and g.model is held and _same(held, ref_model)
    assert rep.details["network"] == "Generated.model" and rep.after.accuracy == ref.after.accuracy


def test_sparsity_and_attack_success_rate_take_every_form(net, saved):
    ref_sp = edit.sparsity(net)
    ref_asr = edit.attack_success_rate(net, "digits", TRIGGER)
    for obj in (str(saved), saved, Generated(net, None, []), to_graph(net)):
        assert edit.sparsity(obj) == ref_sp
        # a path was iterated character by character (an ArchError about a str 'module' per letter)
        assert edit.attack_success_rate(obj, "digits", TRIGGER) == ref_asr
        assert edit.attack_success_rate([obj, net], "digits", TRIGGER) == [ref_asr, ref_asr]


def test_a_path_that_is_no_network_is_a_file_format_error(tmp_path):
    bad = tmp_path / "x.safetensors"
    bad.write_bytes(b"garbage")
    with pytest.raises(FileFormatError):
        edit.remove(str(bad), "1:3", "digits")
    assert bad.read_bytes() == b"garbage"


def test_reconstruct_trigger_takes_a_path_and_refuses_a_non_network_clearly(net, saved):
    from metanet.errors import ArchError

    x = torch.rand(8, 1, 8, 8, generator=torch.Generator().manual_seed(0))
    ref = edit.reconstruct_trigger(net, x, 10, steps=2, batch=8)[1]
    assert edit.reconstruct_trigger(str(saved), x, 10, steps=2, batch=8)[1] == ref
    for bad in (42, None, [net]):  # each was a raw AttributeError ('int' object has no attribute ...)
        with pytest.raises(ArchError, match="needs a network"):
            edit.reconstruct_trigger(bad, x, 10, steps=2)
