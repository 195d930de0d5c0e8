"""Precise, verified edits of a network's weights: remove, scale or clamp neurons, prune connections, choose
precision per region, repair a backdoor.

Every edit copies the network (unless ``inplace=True``), changes its weights without changing its
architecture, re-verifies it against the original on the task and returns ``EditResult(model, report)``; the
report (:class:`EditReport`) holds accuracy overall and per class before and after, and the attack success
rate when a trigger is known. Errors (an unknown layer, removing or scaling by 0 every neuron of a layer, a region
that does not exist) raise :class:`~metanet.errors.ArchError` before anything changes.

An edit takes its network in every form :func:`metanet.verify` takes: a module, the path of a network saved with
:func:`metanet.save` (only read: the edited copy is returned, save it with ``result.save(path)``),
:func:`metanet.generate`'s result (its ``.model``; ``inplace=True`` edits ``g.model`` itself) or a
:class:`~metanet.graph.NeuralGraph` (decoded with :func:`~metanet.graph.from_graph`). A path or a graph holds no
module of yours to change: ``inplace=True`` with one is a :class:`~metanet.errors.ConfigError`. The report's
``details['network']`` says where such a network came from.

>>> import metanet
>>> from metanet import edit
>>> model = metanet.generate("digits", seed=0).model          # an MLP 64-64-10 written by the shipped writer
>>> model, report = edit.remove(model, "1:3,17", "digits")   # neurons 3 and 17 of the first hidden layer
>>> print(report)  # doctest: +ELLIPSIS
edit: remove(neurons=1:3,17) on digits/test (n=360)
                           before    after       change
  accuracy ...
  class 0 ...
...
  removed: 2
>>> path = edit.save_edited(model, "edited.safetensors", [report])
"""

from metanet.edit.edits import FORMATS, clamp, parse_precision, precision, prune, quantize, remove, scale, sparsity
from metanet.edit.neurons import NEURON_GRAMMAR, parse_neurons
from metanet.edit.repair import reconstruct_trigger, repair_backdoor, trigger_scores
from metanet.edit.report import EditReport, EditResult, save_edited
from metanet.edit.trigger import apply as apply_trigger
from metanet.edit.trigger import as_trigger, attack_success_rate

__all__ = [
    "remove",
    "scale",
    "clamp",
    "prune",
    "precision",
    "repair_backdoor",
    "reconstruct_trigger",
    "trigger_scores",
    "sparsity",
    "quantize",
    "parse_neurons",
    "parse_precision",
    "as_trigger",
    "apply_trigger",
    "attack_success_rate",
    "save_edited",
    "EditReport",
    "EditResult",
    "FORMATS",
    "NEURON_GRAMMAR",
]
