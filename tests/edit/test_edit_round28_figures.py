"""Round 28: the figures an edit reports are true (a neuron removed twice; an empty list of networks)."""

import pytest
import torch

from metanet import edit
from metanet.errors import ArchError
from metanet.nets import MLP, Arch

TRIGGER = {"size": 3, "location": [0, 0], "kind": "square", "target": 0}


def _net(spec: str) -> MLP:
    torch.manual_seed(0)
    return MLP(Arch.parse(spec))


def test_removing_a_residual_sigmoid_neuron_twice_leaves_the_network_as_it_was():
    # the second removal folded act(0) = 0.5 out of the biases again: the output moved while the report said
    # "removed: 1" of a neuron that was long gone
    first = edit.remove(_net("mlp:64-16-16-16-10:sigmoid:skip"), "2:5", "digits")
    again = edit.remove(first.model, "2:5", "digits")
    x = torch.rand(16, 1, 8, 8)
    with torch.no_grad():
        assert torch.equal(again.model(x), first.model(x))
    assert again.report.details["removed"] == 0
    assert again.report.details["already_removed"] == ["2:5"]
    assert again.report.after.accuracy == again.report.before.accuracy


def test_removed_counts_only_the_neurons_this_edit_removed():
    first = edit.remove(_net("mlp:64-16-16-10:relu"), "1:3", "digits")
    assert first.report.details == {"removed": 1}  # nothing already removed: no extra key
    both = edit.remove(first.model, "1:3,4", "digits")
    assert both.report.details == {"removed": 1, "already_removed": ["1:3"]}
    assert "already_removed: 1:3" in str(both.report)


def test_a_sigmoid_neuron_with_zero_inputs_still_read_by_the_next_layer_is_removed_and_counted():
    # zero incoming weights and bias is not "removed" for sigmoid: it still sends 0.5 through its columns
    m = _net("mlp:64-16-16-10:sigmoid")
    with torch.no_grad():
        m.layers[0].weight[2].zero_()
        m.layers[0].bias[2] = 0
    r = edit.remove(m, "1:2", "digits")
    assert r.report.details == {"removed": 1}
    assert not r.model.layers[1].weight[:, 2].any()


def test_attack_success_rate_of_an_empty_list_is_an_arch_error():
    for empty in ([], ()):
        with pytest.raises(ArchError, match="empty list of networks"):
            edit.attack_success_rate(empty, "digits", TRIGGER)
    m = _net("mlp:64-16-10:relu")  # a list of one still gives a list of one rate
    rates = edit.attack_success_rate([m], "digits", TRIGGER)
    assert isinstance(rates, list) and len(rates) == 1 and 0 <= rates[0] <= 1
