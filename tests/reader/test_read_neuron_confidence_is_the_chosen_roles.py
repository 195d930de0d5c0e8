"""read()'s neuron ``confidence`` is the role head's probability of the role it names (the likeliest among the codes
the network can have), neuron by neuron, as the reader's raw role outputs give it."""

from __future__ import annotations

import torch
from reader_helpers import SHIPPED, needs_shipped

from metanet.graph import to_graph
from metanet.nets import build
from metanet.reader import Reader
from metanet.reader.model import role_names
from metanet.reader.predict import read_graph

pytestmark = needs_shipped


def test_each_neurons_confidence_is_the_probability_of_its_named_role():
    reader = Reader.load(SHIPPED).eval()
    graph = to_graph(build("mlp:64-16-10:relu", seed=1))
    neurons = read_graph(reader, graph, scan=False)["neurons"]
    with torch.no_grad():
        p = torch.softmax(reader(graph)["role"], -1)
    names = role_names(reader.num_classes)
    hidden = (graph.node_kind == 1).nonzero().flatten().tolist()
    assert len(neurons) == len(hidden) == 16
    for node, entry in zip(hidden, neurons):
        name = entry["role"] + (f":{entry['class']}" if "class" in entry else "")
        code = names.index(name)
        assert entry["confidence"] == float(p[node, code])
        assert entry["confidence"] == float(p[node, :2 + 10].max())  # the likeliest of the valid codes
    assert any(n["role"] != "dead" for n in neurons)  # a confidence other than the dead code's is checked
