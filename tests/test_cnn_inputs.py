"""CNNs on inputs they cannot read: the error names what the network reads, the inputs' shape and a fix that is one.

Every surface that runs a network on a task (verify, inspect, the edits, refine) checks it with
``metanet.verify.check_fits``, so one message serves them all. Also networks no longer what their arch says (a
replaced convolution or activation: refused by save, to_graph and read) and the hidden activations neuron roles
are measured on in a plain nn.Sequential MLP.
"""

from __future__ import annotations

import pytest
import torch
from torch import nn

import metanet
from metanet import edit
from metanet.errors import ArchError, GraphError
from metanet.graph import from_graph, permute_hidden, to_graph
from metanet.nets import build


def _examples(*shape: int) -> tuple[torch.Tensor, torch.Tensor]:
    return torch.rand(40, *shape, generator=torch.Generator().manual_seed(0)), torch.arange(40) % 10


def _seq_cnn() -> nn.Sequential:
    torch.manual_seed(0)
    return nn.Sequential(nn.Conv2d(1, 6, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(6, 8, 3), nn.ReLU(),
                         nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(8, 10))


def test_a_cnn_on_mnist1d_is_not_told_to_add_a_channel_dimension(stub_task) -> None:
    """mnist1d's examples are (1, 40) signals: the hint was "images of shape (N, H, W) need their channel dimension
    ... x[:, None]", advice that made them 1 x 40 images; and "expects 1 input channels" for inputs of 1 channel.
    (A stub of mnist1d's shape: the real task takes seconds to build; the same message was checked on it.)"""
    net = build("cnn:1-4-10:relu:k3:s1")
    task = stub_task(*_examples(1, 40), 10, name="mnist1d")
    for run in (lambda: metanet.verify(net, task), lambda: edit.prune(net, 0.5, task)):
        with pytest.raises(ArchError) as info:
            run()
        msg = str(info.value)
        assert "x[:, None]" not in msg and "channel dimension" not in msg
        assert "cnn:1-4-10:relu:k3:s1 expects images (C, H, W) with 1 input channel," in msg
        assert "'mnist1d' has inputs of shape (1, 40)" in msg and "mlp (of 40 input features)" in msg


def test_grey_images_without_channel_keep_their_hint_and_flattened_ones_get_theirs() -> None:
    net = build("cnn:1-4-10:relu:k3:s1")
    with pytest.raises(ArchError, match=r"shape \(8, 8\); images of shape \(N, H, W\) need their channel "
                                        r"dimension, \(N, 1, H, W\): x\[:, None\]"):
        metanet.verify(net, _examples(8, 8))
    # flattened 28x28 images: the shape to give them back, not "an mlp" (nor nothing, as before)
    with pytest.raises(ArchError, match=r"shape \(784,\); flattened images need their shape back, "
                                        r"\(N, 1, 28, 28\): x.view\(-1, 1, 28, 28\)"):
        metanet.verify(net, _examples(784))
    with pytest.raises(ArchError, match=r"shape \(40,\); inputs that are not images need an mlp"):
        metanet.verify(net, _examples(40))


def test_a_sequential_cnn_on_inputs_it_cannot_read_names_both_shapes(stub_task) -> None:
    """A plain nn.Sequential CNN on mnist1d was torch's "Calculated output size: (6x0x20). Output size is too
    small", which named neither what the network reads nor a fix."""
    seq = _seq_cnn()
    with pytest.raises(ArchError) as info:
        metanet.verify(seq, stub_task(*_examples(1, 40), 10, name="mnist1d"))
    msg = str(info.value)
    assert msg.startswith("network nn.Sequential starting with Conv2d 1->6 expects images (C, H, W) with 1 input "
                          "channel, but task 'mnist1d' has inputs of shape (1, 40)")
    assert "Output size is too small" not in msg
    with pytest.raises(ArchError, match=r"Conv2d 1->6 expects 1 input channel, but .* shape \(3, 8, 8\)$"):
        metanet.verify(seq, _examples(3, 8, 8))
    with pytest.raises(ArchError, match=r"channels last .*x.permute\(0, 3, 1, 2\)"):
        metanet.inspect(seq, _examples(8, 8, 1), reader=None)
    # inputs it reads still run, and a network that reshapes its inputs first is not judged by its first conv
    assert 0 <= metanet.verify(seq, _examples(1, 8, 8)).accuracy <= 1
    unflat = nn.Sequential(nn.Unflatten(1, (1, 8, 8)), *_seq_cnn())
    assert metanet.verify(unflat, _examples(64)).n == metanet.verify(seq, _examples(1, 8, 8)).n


def test_a_cnn_whose_conv_was_replaced_is_not_saved_or_graphed_as_its_arch(tmp_path) -> None:
    """A metanet CNN whose convolution was replaced by one of another stride (the same weight shape) was saved and
    graphed as its arch's stride-2 network: load() and from_graph() gave another function, without a word."""
    net = build("cnn:1-4-10:relu:k3:s2")
    net.layers[0] = nn.Conv2d(1, 4, 3, stride=1, padding=1)
    why = r"layer layers.0 .* has stride=\(1, 1\), which its architecture cnn:1-4-10:relu:k3:s2 does not have"
    with pytest.raises(ArchError, match=why):
        metanet.save(net, tmp_path / "net.safetensors")
    with pytest.raises(GraphError, match="cannot encode this network as a neural graph: this CNN's " + why):
        to_graph(net)
    with pytest.raises(GraphError, match=why):
        metanet.read(net, scan=False)
    padded = build("cnn:1-4-4-10:relu:k3:s1")
    padded.layers[1].padding = (0, 0)
    with pytest.raises(GraphError, match=r"layers.1 .* has padding=\(0, 0\)"):
        permute_hidden(padded, 1, [1, 0, 2, 3])  # it rebuilt the arch's padded layer around the permuted weights
    assert 0 <= metanet.verify(net, _examples(1, 8, 8)).accuracy <= 1  # the module itself still runs as it is


def test_the_graph_of_a_network_with_a_replaced_activation_is_refused_as_save_refuses_it() -> None:
    """save() refused an MLP whose activation was replaced, but to_graph() encoded it as the arch's (its layout is
    cached by the arch): from_graph(to_graph(net)) was another function and read() read the arch's network."""
    net = build("mlp:64-8-8-10:relu:skip")
    net.act = nn.Sigmoid()
    with pytest.raises(GraphError, match=r"activation Sigmoid\(\) is not its architecture's 'relu'"):
        to_graph(net)
    net.act = nn.ReLU()  # its own activation again: encoded, and the round trip is exact
    x = _examples(64)[0]
    assert torch.equal(from_graph(to_graph(net))(x), net(x))


def test_generate_tells_flattened_images_their_shape_as_verify_does() -> None:
    """generate(arch=cnn) on flattened 28x28 images offered only an mlp; the images fit the cnn once reshaped."""
    with pytest.raises(ArchError, match=r"shape \(784,\) \(flattened images need their shape back, \(n, 1, 28, 28\): "
                                        r"x.view\(-1, 1, 28, 28\)\); or use an mlp, e.g. mlp:784-64-10:relu"):
        metanet.generate(_examples(784), arch="cnn:1-4-10:relu:k3:s1", candidates=1)
    with pytest.raises(ArchError, match=r"shape \(40,\); or use an mlp"):  # no square: no image to give back
        metanet.generate(_examples(40), arch="cnn:1-4-10:relu:k3:s1", candidates=1)


@pytest.mark.parametrize("layers", [
    [nn.Sigmoid(), nn.Flatten(), nn.Linear(8, 4), nn.ReLU(), nn.Linear(4, 3)],  # an activation on the inputs
    [nn.Flatten(), nn.Linear(8, 4), nn.ReLU(), nn.Tanh(), nn.Dropout(0.5), nn.Linear(4, 5), nn.GELU(),
     nn.Linear(5, 3)],  # two activations in a row
], ids=["input-activation", "stacked-activations"])
def test_role_activations_of_a_sequential_mlp_are_its_own(layers) -> None:
    """roles.hidden_activations (what a neuron's role is measured on) applied one activation per layer, as the
    plan records it: an nn.Sequential's activation on its inputs, and every one after the first, were left out."""
    from metanet.graph import layout
    from metanet.reader.roles import hidden_activations

    torch.manual_seed(0)
    net = nn.Sequential(*layers).eval()
    lay = layout(net)
    params = {k: torch.stack([v.detach(), -v.detach()]) for k, v in lay.params_of(net).items()}  # 2 networks
    x = _examples(8)[0]
    acts = hidden_activations(lay, params, x)
    cuts = [i for i, m in enumerate(net) if isinstance(m, nn.Linear)][1:]  # what each later Linear reads
    assert len(acts) == len(cuts)
    for a, cut in zip(acts, cuts):
        torch.testing.assert_close(a[0], net[:cut](x))
