r"""`Reader`: a message-passing GNN over neural graphs, with learned and labelled probe inputs and weight statistics,
that predicts what a network does from its weights.

Input: a PyG ``Batch`` (or one graph) of :class:`~metanet.graph.NeuralGraph` s, any mix of architectures (MLPs and
CNNs of any widths and depths; edge values of up to ``edge_dim`` columns, i.e. kernels up to 3x3 by default).

Five branches, all functions of the weights and the architecture only (no data recorded about a network, no
metadata; the probe inputs are the reader's own), all invariant to permutations of hidden neurons:

- **GNN** (after Kofinas et al. 2024, with a cheap message function). Weights and biases are standardised per
  *layer slot* with statistics fitted on the training split only (:meth:`Reader.fit_normalisation`). Node features:
  normalised bias, has-bias, embeddings of node kind, activation and layer index, plus the position of input and
  output neurons (hidden neurons get none, so permuting them only relabels nodes), plus the probe responses below.
  ``layers`` rounds of forward + backward message passing (:class:`EdgeConv`: messages linear in the neighbour
  states, one channel per edge feature, mean aggregation, residual node update). **The input layer is summarised**:
  input neurons keep their (static) embedding, so their messages into the first layer are computed once per
  forward pass as a dense batched product per architecture (``W_1 @ E_in``) instead of a sparse product over the
  ``n_0 n_1`` input edges in every round; the input edges never enter the sparse graph (they are ~97 % of the
  edges of a 784-input MLP).
- **Learned probes** (MNTD, Xu et al. 2021, "jointly optimised queries"): the reader holds ``probes`` learnable
  query inputs per input shape (784 for mnist / fashion-mnist, 64 for digits, 40 for mnist1d, a generic bank for
  other MLP input sizes, ``(3, 28, 28)`` images for CNNs, the first ``C_in`` channels used); the network encoded
  by each graph is run on them *functionally* from the graph's values (batched over the graphs of one
  architecture, differentiable w.r.t. the queries). Output statistics per query (softmax, log-softmax, sorted
  probabilities; per-class mean probability sorted) feed the graph heads; every hidden / output neuron's responses
  to the queries are added to its node state (so the node head sees what the neuron does).
- **Labelled data probes** (``data_probes`` > 0; after the probing readers of Kahana et al. 2024, ProbeGen): the
  reader carries up to ``data_probes`` fixed, labelled examples per *base data set* of its tasks (buffers filled by
  :meth:`Reader.fill_data_probes` from each base's *val* split, class-balanced; the zoos' test accuracies, the
  accuracy head's targets, are measured on the test split, never on these). Every task of the task head reads a
  view of its base's bank (:meth:`Reader._task_views`): the rows of its classes with its labels, its feature
  permutation and inversion applied (at most ``derived_probes`` rows when its inputs differ from the base's). Each
  network is run on the views of the tasks whose input size and class count it has (a 1-channel CNN's size, which
  its weights do not fix, is :meth:`Reader.forward`'s ``image_size``, 28x28 unless given); per task it is read through
  its accuracy, mean :math:`p(y)`, mean :math:`\log p(y)` and per-class accuracy on them (zero for the other
  tasks), and every neuron gets its mean response per class (raw and standardised over the classes). The task
  head adds :math:`\kappa\,\mathrm{logit}(\mathrm{acc}_t)` (``task_evidence``) and masks the tasks the network
  could not be run on; the accuracy head gets the probe accuracy of the predicted task through a gated skip path
  (:meth:`Reader._probe_accuracy_logit`). This is what a network does on real inputs of the tasks, the signal
  that random or learned queries lack: a network's accuracy on 512 val images ranks the mnist-mlp zoo's test
  accuracies at Kendall tau 0.93 (1,000 images: 0.95, the ceiling a 1,000-image test set leaves).
- **Input saliency** (``saliency=True``): the relative norm of every input's outgoing first-layer weights, read
  per position (a linear read-in per listed input size) and through its sorted top values (of the map and, for
  square inputs, of its 3x3 and 5x5 window means: trigger-sized patches). A backdoor trigger lights pixels that
  clean images leave dark, and those pixels' weights move away from their initialisation: on the backdoor-mlp zoo
  a logistic regression on this map alone separates trained backdoored from clean networks at AUROC 0.95 (the
  GNN + learned probes reached 0.80).
- **Weight statistics** (StatNN, Unterthiner et al. 2020) computed inside the reader from the graph: mean, variance
  and 0/25/50/75/100 % quantiles of the raw weights and biases of the first, middle (averaged) and last layers,
  log widths, input size, output count and depth, standardised with statistics of the training split.

Readout: [mean pools of input / hidden / output node states, probe embeddings, statistics] -> an MLP -> graph
heads. With ``scan_steps`` > 0 the reader also carries the head of its trigger scan (:mod:`metanet.reader.scan`:
Neural Cleanse on the network, combined with the backdoor head; run by :func:`metanet.read`, not by ``forward``).

Graph heads (``forward`` returns a dict): ``accuracy`` (in [0, 1]), ``task`` (logits over ``tasks``),
``backdoor`` (logit), ``log_lr`` (log10 learning rate), ``log_epoch`` (:math:`\log(1+\text{epoch})`),
``activation`` (logits over ``metanet.nets.ACTIVATIONS``), ``optimizer`` (logits over
``metanet.zoo.recipe.OPTIMIZERS``). Node head: ``role`` :math:`(N, 2 + C)` logits over
:func:`role_names` ``= ["dead", "polysemantic", "selective:0", ..., "selective:C-1"]`` (see
:mod:`metanet.reader.roles`). ``embedding``: the readout vector.

Every output is invariant (graph heads) or equivariant (node head) to permutations of hidden neurons by
construction: nothing in the model depends on the order of hidden nodes.
"""

from __future__ import annotations

import copy
import math
import os
import warnings
from collections import Counter
from typing import Any, Iterable, NamedTuple, Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch_geometric.nn import MessagePassing
from torch_geometric.utils import scatter

from metanet._state import (check_fits_memory, drop_generated_source, forked_rng, outside_inference_mode,
                            user_stacklevel)
from metanet.errors import ConfigError, GraphError, check_number, check_whole, whole_number

__all__ = ["Reader", "batch_graphs", "EdgeConv", "ROLE_BASE", "role_names", "OPTIMIZER_NAMES", "ACTIVATION_NAMES",
           "N_STATS"]

ROLE_BASE = ("dead", "polysemantic")
OPTIMIZER_NAMES = ("sgd", "adam", "adamw")  # = metanet.zoo.recipe.OPTIMIZERS (kept here: no zoo import needed)
ACTIVATION_NAMES = ("identity", "relu", "tanh", "gelu", "sigmoid", "leaky_relu", "silu")  # metanet.nets order

_INPUT, _HIDDEN, _OUTPUT = 0, 1, 2
_Q = (0.0, 0.25, 0.5, 0.75, 1.0)
#: weight-statistics features: 3 layer slots x (weights, biases) x (mean, var, 5 quantiles) + 5 architecture ones
N_STATS = 3 * 14 + 5
_CNN_CHANNELS, _CNN_SIZE = 3, 28
_SALIENCY_TOP = 32
_SALIENCY_POOLS = (3, 5)  # trigger-sized windows of square input maps
_SALIENCY_POOL_TOP = 16


def _check_image_size(image_size: Any) -> tuple[int, int] | None:
    """``image_size`` as ``(H, W)`` (None: the reader's 28x28), or a ConfigError naming what is valid."""
    if image_size is None:
        return None
    hw = tuple(image_size) if isinstance(image_size, (tuple, list)) else ()
    sides = [whole_number(v) for v in hw]
    if len(sides) != 2 or any(v is None or v < 1 for v in sides):
        raise ConfigError(f"image_size must be (H, W), two whole numbers >= 1 (the size of the images a CNN reads; "
                          f"None: 28x28), got {image_size!r:.60}")
    return int(sides[0]), int(sides[1])


def role_names(num_classes: int) -> list[str]:
    """Names of the node-head classes: dead, polysemantic, selective:0 .. selective:C-1."""
    return [*ROLE_BASE, *(f"selective:{c}" for c in range(num_classes))]


class EdgeConv(MessagePassing):
    r"""One direction of message passing, linear in the neighbours' states and weighted by the edge values, the way a
    network itself propagates signals: :math:`h'_i = U\,[\frac{1}{|N(i)|}\sum_{j \to i} c_k(e_{ji})\, h_j]_{k}`
    with fixed edge channels :math:`c(e)` = (normalised weight values, their mean absolute value, mean square,
    residual flag, 1) and a learned :math:`U`.

    Implemented as PyG's fused ``message_and_aggregate`` over one sparse adjacency stacking the K channels
    (:meth:`adjacency`, built once per forward pass and shared by all rounds): one sparse-dense product per
    direction and round, no per-edge feature tensors. ``extra`` adds precomputed per-channel sums (the summarised
    input layer) before the degree normalisation.
    """

    def __init__(self, hidden: int, channels: int) -> None:
        super().__init__(aggr="sum", flow="source_to_target")
        drop_generated_source(self)  # PyG's temporary file of the generated propagate
        self.channels = channels
        self.out = nn.Linear(channels * hidden, hidden)

    @staticmethod
    def adjacency(rows: Tensor, cols: Tensor, c: Tensor, channels: Tensor, k: int, n: int) -> Tensor:
        """Sparse :math:`(K N, N)` matrix of ``k`` channels, of which ``c`` :math:`(E, C)` fills the ascending
        channel ids ``channels`` (absent channels are empty); ``rows`` / ``cols`` sorted by (row, col)."""
        r = (channels[:, None] * n + rows[None, :]).reshape(-1)
        v = c.t().reshape(-1)
        keep = v != 0  # zero values (e.g. the residual channel of a plain MLP) cost nothing
        r, col, v = r[keep], cols.repeat(c.shape[1])[keep], v[keep]
        crow = torch.zeros(k * n + 1, dtype=torch.long, device=r.device)
        crow[1:] = torch.cumsum(torch.bincount(r, minlength=k * n), 0)
        with warnings.catch_warnings():  # "CSR support is in beta"
            warnings.simplefilter("ignore")
            return torch.sparse_csr_tensor(crow, col, v, (k * n, n))

    def forward(self, h: Tensor, adj: Tensor, inv_deg: Tensor, extra: Tensor | None = None) -> Tensor:
        """``adj`` from :meth:`adjacency`; ``inv_deg`` (N, 1) the receivers' 1 / in-degree (1 for none);
        ``extra`` (N, K, H) or None."""
        n = h.shape[0]
        agg = self.propagate(adj, h=h)  # (K N, H)
        agg = agg.view(self.channels, n, -1).transpose(0, 1)
        if extra is not None:
            agg = agg + extra
        return self.out(agg.reshape(n, -1) * inv_deg)

    def message_and_aggregate(self, adj_t: Tensor, h: Tensor) -> Tensor:  # noqa: D102
        return torch.sparse.mm(adj_t, h)


def _quantiles(v: Tensor) -> list[Tensor]:
    """0/25/50/75/100 % quantiles (linear interpolation, as ``torch.quantile``) of the rows of ``v`` ``(k, n)``."""
    s = v.sort(1).values
    n = v.shape[1]
    out = []
    for q in _Q:
        pos = q * (n - 1)
        lo, hi = int(pos), min(int(pos) + 1, n - 1)
        out.append(s[:, lo] + (s[:, hi] - s[:, lo]) * (pos - lo))
    return out


def _dprobe_width(num_classes: int) -> int:
    """Graph features per task from its labelled probes: available, accuracy, mean p(label), mean log p(label) / 10,
    per-class accuracy."""
    return 4 + num_classes


def _task_spec(name: str) -> tuple[str, Any]:
    """``(base data set, parsed spec)`` of a task name; a name outside the task grammar is its own base."""
    from metanet.errors import TaskError
    from metanet.tasks.grammar import parse_spec

    try:
        spec = parse_spec(name)
    except TaskError:
        return name, None
    return spec.base, spec


class _TaskView(NamedTuple):
    """What a task's labelled probes are, as a view of its base data set's probe bank."""

    base: int  # row of the probe bank
    n_in: int  # input features
    num_classes: int
    rows: Tensor  # (m,) bank rows in the task (class-balanced prefix, capped)
    labels: Tensor  # (m,) their task labels
    perm: Tensor | None  # feature permutation
    invert: bool
    key: tuple  # tasks with the same key (relabellings of one view) share one forward pass


def _graph_list(graphs: Any, what: str) -> list:
    """``graphs`` (a graph, a ``Batch`` or an iterable of graphs) as a list of neural graphs; anything else is a
    :class:`GraphError` naming it (a module, a tensor, a Batch iterated as its (key, value) pairs...)."""
    from torch_geometric.data import Batch, Data

    if isinstance(graphs, Batch):
        return graphs.to_data_list()
    if isinstance(graphs, Data):
        return [graphs]
    if isinstance(graphs, (nn.Module, Tensor, str, bytes)) or not isinstance(graphs, Iterable):
        raise GraphError(f"{what} takes neural graphs (metanet.graph.to_graph(model)), a list of them or a PyG Batch; "
                         f"got {type(graphs).__name__}")
    out = list(graphs)
    for g in out:
        if not isinstance(g, Data) or "arch" not in g or "edge_attr" not in g:
            raise GraphError(f"{what} takes neural graphs made by metanet.graph.to_graph(model); got a "
                             f"{type(g).__name__}" + (" (convert it with to_graph first)" if isinstance(g, nn.Module)
                                                      else ""))
    if not out:
        raise GraphError(f"{what} needs at least one graph")
    return out


def batch_graphs(graphs: Any) -> Any:
    """One PyG ``Batch`` of any mix of neural graphs (a graph, a ``Batch`` or an iterable of graphs).

    ``Batch.from_data_list`` needs every graph to carry the same attributes and edge width: zoo graphs
    (:func:`metanet.reader.data.zoo_graphs`: targets and the ``w_stats`` cache) next to fresh
    :func:`~metanet.graph.to_graph` ones raised ``KeyError: 'w_stats'``, and an MLP graph (1 edge column) next to a
    CNN's (9) a size mismatch. Here attributes that not every graph carries are left out (the reader recomputes the
    statistics) and ``edge_attr`` is zero-padded to the widest graph's (padding is what the extra columns hold
    anyway). Graphs that already agree are batched as they are."""
    from torch_geometric.data import Batch

    if isinstance(graphs, Batch):
        return graphs
    gs = _graph_list(graphs, "batch_graphs()")
    keys = [set(g.keys()) for g in gs]
    common = set.intersection(*keys)
    width = max(int(g.edge_attr.shape[-1]) for g in gs)
    if all(k == common for k in keys) and all(int(g.edge_attr.shape[-1]) == width for g in gs):
        return Batch.from_data_list(gs)
    out = []
    for g, k in zip(gs, keys):
        g = copy.copy(g)  # shallow: the caller's graphs keep their attributes
        for key in k - common:
            del g[key]
        if g.edge_attr.shape[-1] < width:
            g.edge_attr = F.pad(g.edge_attr, (0, width - g.edge_attr.shape[-1]))
        out.append(g)
    return Batch.from_data_list(out)


def _mlp(i: int, h: int, o: int) -> nn.Sequential:
    return nn.Sequential(nn.Linear(i, h), nn.ReLU(), nn.Linear(h, o))


class _Group(NamedTuple):
    """The graphs of one architecture in a batch: layout, graph ids, node rows ``(k, N)`` and values."""

    lay: Any
    graphs: Tensor
    node_rows: Tensor  # (k, N) rows of the batch's nodes
    edges: Tensor  # (k, E, F) raw edge values
    params: dict


#: nonzero task_cap values the float32 task logits take (``c * tanh(l / c)`` is NaN past float32's range)
_TASK_CAP_RANGE = (1e-30, 1e30)

#: largest |task_evidence|: the evidence, at most this times |logit(0.01)| = 4.6, stays below the 1e4 by which
#: the tasks a network cannot be run on are masked out of the task logits
MAX_TASK_EVIDENCE = 1000.0


class Reader(nn.Module):
    r"""Reads neural graphs; see the module docstring.

    Args:
        tasks: task names of the task head, in class order.
        hidden: node state width.
        layers: message-passing rounds (each a forward and a backward pass).
        edge_dim: edge value columns read (conv kernels up to 3x3 by default).
        max_layers: neuron layers with their own normalisation slot and layer embedding (deeper ones share the
            last).
        max_inputs: input positions with their own embedding (larger indices wrap around); also the width of the
            generic probe bank (MLPs with more inputs of an unlisted size get no probes).
        num_classes: classes of the per-node selectivity head (and output positions embedded, probe outputs read).
        stats: add the weight statistics to the readout.
        probes: learned query inputs per input shape (0: no probe branch).
        probe_inputs: MLP input sizes with their own query bank.
        saliency: add the first layer's input saliency map to the readout (MLP-like layouts).
        data_probes: labelled probe examples per task (0: no data-probe branch); fill them with
            :meth:`fill_data_probes` or :meth:`set_data_probes` before training (a reader whose probes are empty
            reads every network as unavailable on them).
        derived_probes: cap on the probe rows of a derived task whose inputs differ from its base's (a class
            subset, permuted or inverted: each costs a forward pass of its own); 0: no cap.
        task_evidence: weight :math:`\kappa` of the probe evidence in the task head,
            :math:`\ell_t = w_t^\top z + \kappa\,\mathrm{logit}(\mathrm{acc}_t)`, with tasks whose probes a network
            cannot be run on (input size or class count) masked out. A network is most accurate on the probes of its
            own task; the head alone, trained on a few thousand networks, learns that argmax poorly. At most 1000
            in size (:data:`MAX_TASK_EVIDENCE`).
        scan_steps: > 0: Neural Cleanse steps of the trigger scan, whose head (buffers) is fitted after training
            by :func:`metanet.reader.scan.fit_scan`; 0: no scan.
        task_cap: > 0 bounds the head's part of the task logits, :math:`c \tanh(w_t^\top z / c)`, before the probe
            evidence is added (0: unbounded; else 1e-30 to 1e30). Without it the head extrapolates far off the
            zoos: on networks the writer generated for fashion-mnist or mnist+invert it put "mnist" 14-17 logits
            ahead, more than the evidence of 83 % vs 10 % probe accuracy (12-14 logits at :math:`\kappa = 3`).
    """

    @outside_inference_mode  # as Reader.load builds it: parameters no inference tensors
    def __init__(self, tasks: Sequence[str] = ("mnist",), hidden: int = 32, layers: int = 2, edge_dim: int = 9,
                 max_layers: int = 8, max_inputs: int = 1024, num_classes: int = 10, stats: bool = True,
                 probes: int = 32, probe_inputs: Sequence[int] = (784, 64, 40), data_probes: int = 0,
                 saliency: bool = False, derived_probes: int = 0,
                 task_evidence: float = 0.0, scan_steps: int = 0, task_cap: float = 0.0) -> None:
        super().__init__()
        # the shared check, in these options' own words: an infinite cap was NaN logits (inf * tanh(0)), a Fraction /
        # np.float32 one was refused, 10**400 a raw OverflowError; task_evidence=True was a weight of 1.0, NaN made
        # every task logit NaN
        try:
            check_number("task_cap", task_cap, ">= 0", lambda v: v >= 0)
        except ConfigError:
            raise ConfigError(f"task_cap must be >= 0 (0: no cap), got {task_cap!r:.40}; give a finite number "
                              "within float range (e.g. 4.0)") from None
        try:
            check_number("task_evidence", task_evidence, "", lambda v: True)
        except ConfigError:
            raise ConfigError(f"Reader task_evidence must be a finite number (0: no probe evidence), got "
                              f"{task_evidence!r:.40}; give one within float range (e.g. 3.0)") from None
        # in float32: a cap beyond 3.4e38 was NaN task logits (inf * tanh(0)), 1e-300 NaN ones (0 * tanh(0 / 0)); an
        # evidence weight past 1000 (|logit(acc)| <= 4.6) outweighed the -1e4 that masks the tasks a network cannot
        # be run on: task_evidence=3000 read a network as a task whose probes do not fit it
        lo, hi = _TASK_CAP_RANGE
        if task_cap and not lo <= task_cap <= hi:
            raise ConfigError(f"Reader task_cap must be 0 (no cap) or from {lo:g} to {hi:g} (it bounds float32 "
                              f"logits), got {task_cap!r:.40}")
        if abs(task_evidence) > MAX_TASK_EVIDENCE:
            raise ConfigError(f"Reader task_evidence must be within ±{MAX_TASK_EVIDENCE:g} (more outweighs the mask "
                              f"of the tasks whose probes a network cannot run), got {task_evidence!r:.40}")
        # Python ints from here on: numpy / one-element torch integers are taken, and a numpy one in the config was
        # no JSON for the checkpoint header
        hidden, layers, edge_dim, max_layers, max_inputs, num_classes, probes, data_probes, derived_probes, \
            scan_steps = (check_whole(f"Reader {name}", v, least) for name, v, least in (
                ("hidden", hidden, 1), ("layers", layers, 0), ("edge_dim", edge_dim, 1), ("max_layers", max_layers, 1),
                ("max_inputs", max_inputs, 1), ("num_classes", num_classes, 2), ("probes", probes, 0),
                ("data_probes", data_probes, 0), ("derived_probes", derived_probes, 0),
                ("scan_steps", scan_steps, 0)))  # a negative scan_steps gave a scan head of -1 steps
        if isinstance(probe_inputs, (str, bytes)):
            raise ConfigError(f"Reader probe_inputs must be a list of MLP input sizes, got {probe_inputs!r}")
        # True was input size 1, 2.5 size 2
        probe_inputs = [check_whole("Reader probe_inputs size", n, 1) for n in probe_inputs]
        # a lower bound of the parameters (message passing, embeddings, query banks: one per distinct size of
        # probe_inputs, a repeated size shares it): hidden=10**30 was a raw TypeError from torch.empty,
        # layers=10**30 built layers until memory ran out
        check_fits_memory(f"the parameters of a Reader of hidden={hidden}, layers={layers}, max_inputs={max_inputs}, "
                          f"probes={probes}",
                          layers * (2 * (edge_dim + 4) + 4) * hidden**2 + hidden * (max_inputs + num_classes + max_layers)
                          + probes * (max_inputs + sum(set(probe_inputs)))
                          + data_probes * max(probe_inputs or [max_inputs]),
                          "give smaller sizes")
        self.config = dict(tasks=list(tasks), hidden=hidden, layers=layers, edge_dim=edge_dim, max_layers=max_layers,
                           max_inputs=max_inputs, num_classes=num_classes, stats=stats, probes=probes,
                           probe_inputs=probe_inputs, data_probes=data_probes, saliency=saliency,
                           derived_probes=derived_probes, task_evidence=float(task_evidence))
        if scan_steps:  # only then: readers without the scan keep their exact config and set of tensors
            self.config["scan_steps"] = int(scan_steps)
        if isinstance(tasks, str):  # was read as one task per character: ['m', 'n', 'i', 's', 't']
            raise ConfigError(f"Reader tasks must be a list of task names, got the string {tasks!r} "
                              f"(for one task: [{tasks!r}])")
        if not tasks:
            raise ConfigError("Reader tasks: give at least one task name (the task head's classes)")
        bad = [t for t in tasks if not isinstance(t, str) or not t]
        # counted once (list.count per name was quadratic: 30,000 names took 15-21 s)
        dup = sorted(t for t, n in Counter(t for t in tasks if isinstance(t, str) and t).items() if n > 1)
        if bad or dup:  # a repeated name is two classes of the task head for one task
            raise ConfigError(f"Reader tasks must be distinct, non-empty task names; got "
                              f"{'non-names ' + repr(bad[:3]) if bad else 'repeated ' + repr(dup[:3])}")
        if task_cap:  # likewise: readers without the cap keep their exact config
            self.config["task_cap"] = float(task_cap)
        self.task_cap = float(task_cap)
        self.tasks = list(tasks)
        self.hidden, self.edge_dim, self.max_layers = hidden, edge_dim, max_layers
        self.max_inputs, self.num_classes, self.use_stats = max_inputs, num_classes, stats
        self.num_probes = probes
        # normalisation (fitted on the training split): [slot, (mean, std)], slot = layer index x is-output
        self.register_buffer("w_norm", torch.tensor([[0.0, 1.0]]).repeat(2 * max_layers, 1))
        self.register_buffer("b_norm", torch.tensor([[0.0, 1.0]]).repeat(2 * max_layers, 1))
        self.register_buffer("s_norm", torch.tensor([[0.0, 1.0]]).repeat(N_STATS, 1))
        self.register_buffer("fitted", torch.zeros((), dtype=torch.bool))

        self.node_in = nn.Linear(2, hidden)
        self.kind_emb = nn.Embedding(3, hidden)
        self.act_emb = nn.Embedding(len(ACTIVATION_NAMES) + 1, hidden)
        self.layer_emb = nn.Embedding(max_layers + 1, hidden)
        self.in_pos = nn.Embedding(max_inputs, hidden)
        self.out_pos = nn.Embedding(num_classes, hidden)
        nn.init.normal_(self.in_pos.weight, std=0.1)
        self.channels = edge_dim + 4  # values, mean |value|, mean value^2, residual flag, 1
        self.fwd = nn.ModuleList(EdgeConv(hidden, self.channels) for _ in range(layers))
        self.bwd = nn.ModuleList(EdgeConv(hidden, self.channels) for _ in range(layers))
        self.upd = nn.ModuleList(_mlp(3 * hidden, hidden, hidden) for _ in range(layers))
        self.norms = nn.ModuleList(nn.LayerNorm(hidden) for _ in range(layers))
        g = 4 * hidden
        n_feat = 3 * hidden  # pools of input, hidden, output neurons
        if stats:
            self.stats_mlp = nn.Sequential(nn.Linear(N_STATS, g), nn.ReLU())
            n_feat += g
        if probes:
            # query banks: raw parameters, squashed to [0, 1] by a sigmoid (the range of the tasks' inputs)
            banks = {str(int(n)): nn.Parameter(torch.randn(probes, int(n))) for n in probe_inputs}
            banks["any"] = nn.Parameter(torch.randn(probes, max_inputs))
            banks["cnn"] = nn.Parameter(torch.randn(probes, _CNN_CHANNELS, _CNN_SIZE, _CNN_SIZE))
            self.queries = nn.ParameterDict(banks)
            self.probe_mlp = nn.Sequential(nn.Linear(probes * 3 * num_classes + 2 * num_classes, g), nn.ReLU(),
                                           nn.Linear(g, g), nn.ReLU())
            self.probe_node = nn.Linear(2 * probes, hidden)
            n_feat += g
        self.num_data_probes = data_probes
        self.derived_probes, self.task_evidence = derived_probes, float(task_evidence)
        # each task's probes are a view of its base data set's: class subset, transforms (see _task_views)
        self._specs = [_task_spec(t) for t in self.tasks]
        self.probe_bases = list(dict.fromkeys(b for b, _ in self._specs))
        if data_probes:
            # labelled probe images per base data set (buffers, filled by fill_data_probes from the val splits)
            width = max([int(n) for n in probe_inputs] or [max_inputs])
            nb = len(self.probe_bases)
            self.register_buffer("dprobe_x", torch.zeros(nb, data_probes, width))
            self.register_buffer("dprobe_y", torch.full((nb, data_probes), -1, dtype=torch.long))
            self.register_buffer("dprobe_n", torch.zeros(nb, dtype=torch.long))
            t = len(self.tasks)
            self.dprobe_mlp = nn.Sequential(nn.Linear(t * _dprobe_width(num_classes), g), nn.ReLU(),
                                            nn.Linear(g, g), nn.ReLU())
            self.dprobe_node = nn.Linear(t * 2 * num_classes, hidden)
            # the accuracy head adds, gated, the logit of the accuracy on the probes of the predicted task
            self.dprobe_gate = nn.Linear(g, 1)
            n_feat += g
        self.use_saliency = saliency
        if saliency:
            # input saliency map: one linear read-in per listed input size, plus its sorted top values (any size)
            self.saliency_in = nn.ModuleDict({str(int(n)): nn.Linear(int(n), g) for n in probe_inputs})
            self.saliency_top = nn.Linear(_SALIENCY_TOP + len(_SALIENCY_POOLS) * _SALIENCY_POOL_TOP, g)
            self.saliency_mlp = nn.Sequential(nn.ReLU(), nn.Linear(g, g), nn.ReLU())
            n_feat += g
        self.readout = nn.Sequential(nn.Linear(n_feat, g), nn.ReLU(), nn.Linear(g, g), nn.ReLU())
        self.heads = nn.ModuleDict({
            "accuracy": nn.Linear(g, 1), "task": nn.Linear(g, len(self.tasks)), "backdoor": nn.Linear(g, 1),
            "log_lr": nn.Linear(g, 1), "log_epoch": nn.Linear(g, 1),
            "activation": nn.Linear(g, len(ACTIVATION_NAMES)), "optimizer": nn.Linear(g, len(OPTIMIZER_NAMES)),
        })
        self.node_head = _mlp(hidden + g, hidden, 2 + num_classes)
        self.scan_steps = int(scan_steps)
        if scan_steps:
            # the trigger scan's head (metanet.reader.scan): fitted, not trained, after everything above, so buffers
            # (no random initialisation: the rest of the reader trains identically with or without it)
            from metanet.reader.scan import SCAN_FEATURES, SCAN_INPUT_SLOTS

            nf = len(SCAN_FEATURES)
            self.register_buffer("scan_norm", torch.tensor([[0.0, 1.0]]).repeat(nf, 1))
            self.register_buffer("scan_coef", torch.zeros(2 + 2 * nf))
            self.register_buffer("scan_bias", torch.zeros(()))
            self.register_buffer("scan_fitted", torch.zeros((), dtype=torch.bool))
            # the input sizes of the networks fit_scan fitted the head on (sorted, 0 = empty slot): read() scans by
            # default only those; a file without it is taken as fitted on 784 (_load_from_state_dict)
            self.register_buffer("scan_inputs", torch.zeros(SCAN_INPUT_SLOTS, dtype=torch.long))

    #: state-dict keys a file may lack (written before they existed): _load_from_state_dict fills them in
    OPTIONAL_STATE = ("scan_inputs",)

    def _load_from_state_dict(self, state_dict: dict[str, Any], prefix: str, *args: Any, **kwargs: Any) -> None:
        # readers saved before the scan head recorded its input sizes: the only documented scan recipe
        # (zoo/backdoor-mlp.yaml) and the shipped reader fitted it on 28x28 images, 784 inputs (every load path,
        # Reader.load, .ckpt and a Lightning resume, comes through here with strict=True). Only sizes its probe
        # images have: a reader of digits probes alone never scanned a 784-input network (no record: it scans any)
        key = prefix + "scan_inputs"
        if self.scan_steps and key not in state_dict and prefix + "scan_fitted" in state_dict:
            from metanet.reader.scan import LEGACY_SCAN_INPUTS

            banks = state_dict.get(prefix + "dprobe_n")
            sizes = [n for n in LEGACY_SCAN_INPUTS if banks is None or n in banks.tolist()]
            legacy = torch.zeros_like(self.scan_inputs)
            legacy[:len(sizes)] = torch.tensor(sizes, dtype=torch.long)
            state_dict[key] = legacy
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)

    # --- normalisation ---------------------------------------------------------------------------------
    def _edge_slot(self, layer: Tensor, kind: Tensor) -> Tensor:
        return (layer.clamp(1, self.max_layers) - 1) * 2 + (kind == _OUTPUT).long()

    @torch.no_grad()
    def fit_normalisation(self, graphs: Iterable[Any]) -> "Reader":
        """Fit the per-slot mean / std of weights and biases, and of the weight statistics, on ``graphs`` (the
        training split only: a list of graphs, any mix, or a ``Batch``)."""
        n = 2 * self.max_layers
        ws, ws2, wc = torch.zeros(n, dtype=torch.float64), torch.zeros(n, dtype=torch.float64), torch.zeros(n)
        bs, bs2, bc = torch.zeros(n, dtype=torch.float64), torch.zeros(n, dtype=torch.float64), torch.zeros(n)
        graphs = _graph_list(graphs, "fit_normalisation()")  # a Batch iterated as (key, value) pairs, before
        for g in graphs:
            src, dst = g.edge_index
            w_mask = g.edge_kind == 0
            slot = self._edge_slot(g.node_layer[dst], g.node_kind[dst])[w_mask]
            vals = g.edge_attr[w_mask].double()
            width = g.layout.edge_width.to(slot.device)[w_mask]
            mask = torch.arange(vals.shape[1])[None, :] < width[:, None]
            v = (vals * mask)
            ws.index_add_(0, slot, v.sum(1))
            ws2.index_add_(0, slot, (v * v).sum(1))
            wc.index_add_(0, slot, mask.sum(1).float())
            hb = g.x[:, 5] > 0
            bslot = self._edge_slot(g.node_layer, g.node_kind)[hb]
            b = g.x[hb, 0].double()
            bs.index_add_(0, bslot, b)
            bs2.index_add_(0, bslot, b * b)
            bc.index_add_(0, bslot, torch.ones(len(b)))
        for s, s2, c, buf in ((ws, ws2, wc, self.w_norm), (bs, bs2, bc, self.b_norm)):
            seen = c > 0
            mean = torch.where(seen, s / c.clamp(min=1), torch.zeros_like(s))
            var = torch.where(seen, s2 / c.clamp(min=1) - mean**2, torch.ones_like(s))
            std = var.clamp(min=1e-12).sqrt()
            # unseen slots borrow the nearest seen slot of the same kind (deeper layers than in training)
            for k in range(n):
                if not seen[k]:
                    same = [j for j in range(k % 2, n, 2) if seen[j]]
                    if same:
                        j = min(same, key=lambda j: abs(j - k))
                        mean[k], std[k] = mean[j], std[j]
            buf[:, 0] = mean.float()
            buf[:, 1] = std.float().clamp(min=1e-6)
        feats = torch.cat([self.weight_stats(batch_graphs(graphs[i:i + 64]))  # zoo and fresh graphs mixed
                           for i in range(0, len(graphs), 64)]).double()
        self.s_norm[:, 0] = feats.mean(0).float()
        self.s_norm[:, 1] = feats.std(0, unbiased=False).float().clamp(min=1e-6)
        self.fitted.fill_(True)
        return self

    # --- per-architecture groups -----------------------------------------------------------------------
    @staticmethod
    def _groups(data: Any) -> list[_Group]:
        """Split a batch into its architectures: values ``(k, E, F)`` / params per group (differentiable)."""
        from metanet.graph import layout

        archs = data._store._mapping.get("arch") if hasattr(data, "_store") else None
        if archs is None:
            raise GraphError("the reader needs graphs made by metanet.graph.to_graph (no 'arch' attribute)")
        if not isinstance(archs, (list, tuple)):
            archs = [archs]
        lays = [layout(a) for a in archs]
        n_count = torch.tensor([lay.num_nodes for lay in lays])
        e_count = torch.tensor([lay.num_edges for lay in lays])
        if int(n_count.sum()) != data.x.shape[0] or int(e_count.sum()) != data.edge_attr.shape[0]:
            raise GraphError("the graphs' node / edge counts differ from their architectures; "
                             "were they made by metanet.graph.to_graph?")
        n_off = torch.cumsum(n_count, 0) - n_count
        e_off = torch.cumsum(e_count, 0) - e_count
        members: dict[str, list[int]] = {}
        for i, lay in enumerate(lays):
            members.setdefault(lay.key, []).append(i)
        # x.float()[:, 0], not x[:, 0].float(): a float64 graph's bias column must come out as the same strided view
        # as a float32 one's, or reductions over it (the bias statistics) sum in another order (readings off by ulps)
        ea, bias = data.edge_attr.float(), data.x.float()[:, 0]
        out = []
        for idxs in members.values():
            lay = lays[idxs[0]]
            idx = torch.tensor(idxs)
            k = len(idxs)
            n_rows = n_off[idx][:, None] + torch.arange(lay.num_nodes)
            if k == len(lays):  # one architecture: plain views
                ev, nb = ea.view(k, lay.num_edges, -1), bias.view(k, lay.num_nodes)
            else:
                e_rows = (e_off[idx][:, None] + torch.arange(lay.num_edges)).reshape(-1)
                ev = ea.index_select(0, e_rows).view(k, lay.num_edges, -1)
                nb = bias.index_select(0, n_rows.reshape(-1)).view(k, lay.num_nodes)
            if ev.shape[-1] < lay.edge_dim:
                raise GraphError(f"edge values have {ev.shape[-1]} columns; {lay.describe_arch()} needs "
                                 f"{lay.edge_dim}")
            out.append(_Group(lay, idx, n_rows, ev, lay.to_params(ev, nb)))
        return out

    # --- weight statistics (StatNN features) ----------------------------------------------------------
    @torch.no_grad()
    def weight_stats(self, data: Any, groups: list[_Group] | None = None) -> Tensor:
        """Raw weight statistics ``(G, N_STATS)`` of a graph, a batch or a list of graphs (a pure function of the
        weights). Training data may carry them precomputed as ``w_stats`` ``(G, N_STATS)``
        (:func:`metanet.reader.data.zoo_graphs` does: the quantiles need a sort per layer, the slowest part of a
        training step); they are used when present."""
        from torch_geometric.data import Data

        if not isinstance(data, Data):
            data = batch_graphs(_graph_list(data, "weight_stats()"))
        cached = getattr(data, "w_stats", None)
        num_graphs = int(data.num_graphs) if hasattr(data, "num_graphs") else 1
        if isinstance(cached, Tensor) and cached.shape == (num_graphs, N_STATS):
            return cached.float()
        if groups is None:
            from torch_geometric.data import Batch

            groups = self._groups(data if isinstance(data, Batch) else Batch.from_data_list([data]))
        return self._raw_stats(groups, num_graphs)

    @staticmethod
    def _raw_stats(groups: list[_Group], num_graphs: int) -> Tensor:
        """StatNN features ``(G, N_STATS)`` of the raw parameters (not yet standardised)."""
        out = torch.zeros(num_graphs, N_STATS)
        for gr in groups:
            lay, p = gr.lay, gr.params
            k = len(gr.graphs)
            per = []
            for layer in lay.layers:
                w = p[layer.weight].reshape(k, -1)
                f = [w.mean(1), w.var(1, unbiased=False), *_quantiles(w)]
                if layer.bias is not None:
                    b = p[layer.bias].reshape(k, -1)
                    f += [b.mean(1), b.var(1, unbiased=False), *_quantiles(b)]
                else:
                    f += [torch.zeros(k)] * 7
                per.append(torch.stack(f, 1))
            mid = torch.stack(per[1:-1]).mean(0) if len(per) > 2 else torch.zeros(k, 14)
            first, last = per[0], per[-1]
            widths = [layer.n_out for layer in lay.layers]
            mid_w = sum(widths[1:-1]) / max(len(widths) - 2, 1) if len(widths) > 2 else 0.0
            arch = torch.tensor([float(torch.tensor(widths[0]).log()), float(torch.tensor(mid_w).log1p()),
                                 float(torch.tensor(float(lay.sizes[0])).log()), float(len(lay.layers) - 1),
                                 float(torch.tensor(float(lay.sizes[-1])).log())])
            out = out.index_copy(0, gr.graphs, torch.cat([first, mid, last, arch.expand(k, -1)], 1).float())
        return out

    # --- probes ----------------------------------------------------------------------------------------
    def _bank(self, lay: Any) -> Tensor | None:
        """The query inputs for ``lay`` (``(Q, n_in)`` for MLP-like layouts, ``(Q, C, 28, 28)`` for CNNs)."""
        if not self.num_probes:
            return None
        fam = lay.spec.get("family")
        if fam == "cnn":
            c = lay.sizes[0]
            return torch.sigmoid(self.queries["cnn"][:, :c]) if c <= _CNN_CHANNELS else None
        if not all(layer.type == "linear" and layer.kk == 1 for layer in lay.layers):
            return None
        n = lay.sizes[0]
        if str(n) in self.queries:
            return torch.sigmoid(self.queries[str(n)])
        return torch.sigmoid(self.queries["any"][:, :n]) if n <= self.max_inputs else None

    def _run(self, lay: Any, p: dict, x: Tensor) -> tuple[list[Tensor], Tensor]:
        """Hidden responses ``[(k, Q, n_l)]`` and logits ``(k, Q, C)`` of the ``k`` networks of one layout, on
        inputs ``x`` shared by all of them (``(Q, n_in)``; CNNs ``(Q, C_in, H, W)``) or one set per network
        (``(k, Q, n_in)``; ``(k, Q, C_in, H, W)``)."""
        from metanet.nets import activation

        k = p[lay.layers[0].weight].shape[0]
        hidden = []
        if lay.spec.get("family") == "cnn":
            from metanet.nets import Arch

            arch = Arch.from_dict(lay.spec)
            own = x.dim() == 5  # per-network inputs: the first layer is grouped too
            h = x.transpose(0, 1).flatten(1, 2) if own else x  # (Q, [k *] C_in, H, W); networks = conv groups
            act = activation(arch.activation)
            for i, layer in enumerate(lay.layers[:-1]):
                w = p[layer.weight]
                w = w.reshape(k * w.shape[1], *w.shape[2:])
                b = p[layer.bias].reshape(-1) if layer.bias is not None else None
                groups = 1 if i == 0 and not own else k
                h = act(F.conv2d(h, w, b, stride=arch.stride, padding=arch.kernel // 2, groups=groups))
                hidden.append(h.mean((2, 3)).view(h.shape[0], k, -1).transpose(0, 1))
            z = h.mean((2, 3)).view(h.shape[0], k, -1).transpose(0, 1)  # (k, Q, C_last)
            last = lay.layers[-1]
            logits = torch.einsum("kqi,koi->kqo", z, p[last.weight])
            if last.bias is not None:
                logits = logits + p[last.bias][:, None, :]
            return hidden, logits
        h = activation(lay.plan.input_act)(x)
        h = h if h.dim() == 3 else h.unsqueeze(0).expand(k, -1, -1)
        for layer in lay.layers:
            z = torch.einsum("kqi,koi->kqo", h, p[layer.weight])
            if layer.bias is not None:
                z = z + p[layer.bias][:, None, :]
            a = activation(layer.act)(z)
            h = h + a if layer.residual else a
            if layer is not lay.layers[-1]:
                hidden.append(h)
        return hidden, h

    def _probe(self, groups: list[_Group], new_id: Tensor, num_nodes: int, num_graphs: int, device: torch.device
               ) -> tuple[Tensor, Tensor]:
        """Graph features ``(G, Q*3C + 2C)`` from the outputs on the queries, node features ``(N, 2Q)``."""
        C, Q = self.num_classes, self.num_probes
        gfeat = torch.zeros(num_graphs, Q * 3 * C + 2 * C, device=device)
        nfeat = torch.zeros(num_nodes, 2 * Q, device=device)
        for gr in groups:
            x = self._bank(gr.lay)
            if x is None:
                continue
            hidden, logits = self._run(gr.lay, gr.params, x)
            logits = logits[..., :C]  # outputs beyond num_classes are not read
            k, c = logits.shape[0], logits.shape[-1]
            logp = torch.log_softmax(logits, -1).clamp(min=-30.0)
            prob = logp.exp()
            pad = (0, C - c)
            srt = prob.sort(-1, descending=True).values
            cls_mean = prob.mean(1)  # (k, c) per-class mean probability over the queries
            feats = torch.cat([F.pad(prob, pad).reshape(k, -1), F.pad(logp / 10, pad).reshape(k, -1),
                               F.pad(srt, pad).reshape(k, -1), F.pad(cls_mean, pad),
                               F.pad(cls_mean.sort(-1, descending=True).values, pad)], 1)
            gfeat = gfeat.index_copy(0, gr.graphs.to(device), feats)
            # node features: responses of every hidden / output neuron to the queries (raw and standardised)
            lay = gr.lay
            for l, a in enumerate([*hidden, logits], start=1):
                a = a.transpose(1, 2)  # (k, n_l, Q)
                std = a.std(-1, keepdim=True, unbiased=False)
                z = (a - a.mean(-1, keepdim=True)) / (std + 1e-3)
                f = torch.cat([a.clamp(-10, 10), z], -1)
                rows = new_id[gr.node_rows[:, lay.node_start[l]:lay.node_start[l] + f.shape[1]].reshape(-1).to(device)]
                nfeat = nfeat.index_copy(0, rows, f.reshape(-1, 2 * Q))
        return gfeat, nfeat

    # --- labelled data probes --------------------------------------------------------------------------
    @torch.no_grad()
    def set_data_probes(self, base: str, x: Tensor, y: Tensor) -> "Reader":
        """Store labelled probe examples of the base data set ``base`` (one of :attr:`probe_bases`): inputs ``x``
        ``(m, ...)`` (flattened; at most the bank width) and base labels ``y`` ``(m,)``, ``m <= data_probes``,
        ordered so that the first examples of any class subset are class-balanced. Every task on ``base`` reads
        networks whose input size and class count match through a view of them (:meth:`_task_views`)."""
        if not self.num_data_probes:
            raise GraphError("this reader has no data probes (data_probes=0)")
        if base not in self.probe_bases:
            hint = ""
            if base in self.tasks:
                hint = f" ({base!r} is a view of {self._specs[self.tasks.index(base)][0]!r}: set that one's)"
            raise GraphError(f"data probes are set per base data set; this reader's are {self.probe_bases}, "
                             f"got {base!r}{hint}")
        x = x.reshape(len(x), -1).float()
        y = y.reshape(-1).long()
        width = self.dprobe_x.shape[-1]
        if len(x) != len(y) or not 0 < len(x) <= self.num_data_probes or x.shape[1] > width:
            # the bank is as wide as the largest of probe_inputs: a reader built without its tasks' input size
            # failed here, as its fit began, with no word on which option to change
            sizes = self.config["probe_inputs"]
            hint = ("" if x.shape[1] <= width else
                    f" (the bank's width is the largest of this reader's probe_inputs {sizes}: build it with "
                    f"{x.shape[1]} among them)" if sizes else
                    f" (the bank's width is this reader's max_inputs, {width}, without probe_inputs: build it with "
                    f"probe_inputs [{x.shape[1]}])")
            raise GraphError(f"data probes need 1..{self.num_data_probes} examples with as many labels and at most "
                             f"{width} input values; got x {tuple(x.shape)}, y {tuple(y.shape)}{hint}")
        if bool((y < 0).any()) or bool((y >= self.num_classes).any()):
            raise GraphError(f"data probe labels must lie in [0, {self.num_classes}); got {y.min()}..{y.max()}")
        b = self.probe_bases.index(base)
        m, n = x.shape
        self.dprobe_x[b].zero_()
        self.dprobe_x[b, :m, :n] = x
        self.dprobe_y[b].fill_(-1)
        self.dprobe_y[b, :m] = y
        self.dprobe_n[b] = n
        return self

    def fill_data_probes(self, split: str = "val", seed: int = 0) -> "Reader":
        """Fill the data probes of every base data set from its ``split`` (class-balanced, seeded). The val split,
        not test: the zoos' test accuracies, the accuracy head's targets, are never measured on probe images."""
        from metanet import tasks as task_lib

        for name in self.probe_bases:
            x, y = task_lib.get(name).split(split)
            g = torch.Generator().manual_seed(seed)
            perm = torch.randperm(len(y), generator=g)
            yp = y[perm].long()
            # rank of each example within its class, so the first m of the order are class-balanced
            rank = torch.zeros_like(yp)
            for c in yp.unique():
                idx = (yp == c).nonzero().flatten()
                rank[idx] = torch.arange(len(idx))
            order = perm[torch.argsort(rank * (int(yp.max()) + 1) + yp, stable=True)][:self.num_data_probes]
            self.set_data_probes(name, x[order], y[order])
        return self

    def _task_views(self) -> list[_TaskView | None]:
        """Each task's probe view (None: its base's bank is empty): the base bank's rows of the task's classes (the
        first ``derived_probes`` if its inputs differ from the base's: a subset, permuted or inverted), their task
        labels, and the task's feature permutation and inversion (:func:`metanet.tasks.task.fold_transforms`, the
        fold :meth:`metanet.tasks.Task.split` applies). Computed from the task names, so a saved reader needs no
        data."""
        from metanet.tasks.sources import CLASS_NAMES
        from metanet.tasks.task import fold_transforms

        state = self.dprobe_n.tolist()
        views: list[_TaskView | None] = []
        for base, spec in self._specs:
            b = self.probe_bases.index(base)
            n = state[b]
            y = self.dprobe_y[b]
            if n == 0:
                views.append(None)
                continue
            base_k = len(CLASS_NAMES[base]) if base in CLASS_NAMES else self.num_classes
            classes = spec.classes if spec is not None and spec.classes is not None else range(base_k)
            transforms = spec.transforms if spec is not None else ()
            perm, invert, label_map = fold_transforms(classes, transforms, n, base_k)
            lmap = torch.as_tensor(label_map, device=y.device)
            lab = torch.where(y >= 0, lmap[y.clamp(0, base_k - 1)], -1)
            rows = (lab >= 0).nonzero().flatten()
            # a task whose inputs are not its base's (a subset, permuted or inverted) costs a forward pass of its own
            own_inputs = perm is not None or invert or len(classes) < base_k
            if own_inputs and self.derived_probes:
                rows = rows[:self.derived_probes]
            seeds = tuple(t.seed for t in transforms if t.kind == "permute")
            key = (b, tuple(sorted(int(c) for c in classes)), seeds, invert, len(rows))
            views.append(_TaskView(b, n, len(classes), rows, lab[rows],
                                   None if perm is None else torch.as_tensor(perm, device=y.device), invert, key))
        return views

    def _view_inputs(self, v: _TaskView, n_in: int) -> Tensor:
        """The (flat) probe inputs ``(rows, n_in)`` of task view ``v``: its rows of the base bank, its permutation and
        inversion applied."""
        x = self.dprobe_x[v.base, v.rows, :n_in]
        if v.perm is not None:
            x = x[:, v.perm]
        return 1 - x if v.invert else x

    def _data_probe(self, groups: list[_Group], new_id: Tensor, num_nodes: int, num_graphs: int,
                    device: torch.device, image_size: tuple[int, int] | None = None) -> tuple[Tensor, Tensor]:
        """Graph features ``(G, T * (4 + C))`` from the outputs on each task's labelled probes (zero for tasks whose
        input size or class count differs), node features ``(N, T * 2C)``: every neuron's mean response per class
        of the task, raw and standardised over the classes. CNNs are run on probes of ``image_size`` (H, W)
        (default 28x28)."""
        hw = image_size or (_CNN_SIZE, _CNN_SIZE)
        C, T = self.num_classes, len(self.tasks)
        fw = _dprobe_width(C)
        gfeat = torch.zeros(num_graphs, T * fw, device=device)
        nfeat = torch.zeros(num_nodes, T * 2 * C, device=device)
        views = self._task_views()
        for gr in groups:
            lay = gr.lay
            fam = lay.spec.get("family")
            if fam == "cnn":
                if lay.sizes[0] != 1:
                    continue
                n_in = hw[0] * hw[1]
            elif all(layer.type == "linear" and layer.kk == 1 for layer in lay.layers):
                n_in = lay.sizes[0]
            else:
                continue
            ts = [t for t, v in enumerate(views) if v is not None and v.n_in == n_in and v.num_classes == lay.sizes[-1]]
            if not ts:
                continue
            # one forward pass over the distinct views (relabellings of a view share its rows)
            keys = list(dict.fromkeys(views[t].key for t in ts))
            xs, offset = [], {}
            for key in keys:
                v = next(views[t] for t in ts if views[t].key == key)
                offset[key] = sum(len(a) for a in xs)
                xs.append(self._view_inputs(v, n_in))
            x = torch.cat(xs)
            if fam == "cnn":
                x = x.view(-1, 1, *hw)
            hidden, logits = self._run(lay, gr.params, x)
            k, c = logits.shape[0], min(logits.shape[-1], C)
            logp = torch.log_softmax(logits, -1)[..., :c].clamp(min=-30.0)
            feats = gfeat.new_zeros(k, T * fw)
            resp = [a.transpose(1, 2) for a in [*hidden, logits[..., :C]]]  # (k, n_l, M)
            node_parts = [r.new_zeros(k, r.shape[1], T * 2 * C) for r in resp]
            for t in ts:
                v = views[t]
                rows = slice(offset[v.key], offset[v.key] + len(v.rows))
                lp = logp[:, rows]  # (k, m, c)
                yv = v.labels
                correct = (lp.argmax(-1) == yv).float()  # (k, m)
                lpy = lp.gather(-1, yv.view(1, -1, 1).expand(k, -1, 1)).squeeze(-1)
                onehot = F.one_hot(yv, C).float()  # (m, C)
                count = onehot.sum(0).clamp(min=1)
                per_class = correct @ onehot / count
                f = torch.cat([torch.ones(k, 1, device=device), correct.mean(1, keepdim=True),
                               lpy.exp().mean(1, keepdim=True), lpy.mean(1, keepdim=True) / 10, per_class], 1)
                feats[:, t * fw:(t + 1) * fw] = f
                for part, r in zip(node_parts, resp):
                    m = r[:, :, rows] @ onehot / count  # (k, n_l, C) mean response per class
                    z = (m - m.mean(-1, keepdim=True)) / (m.std(-1, keepdim=True, unbiased=False) + 1e-3)
                    part[:, :, t * 2 * C:(t + 1) * 2 * C] = torch.cat([m.clamp(-10, 10), z], -1)
            gfeat = gfeat.index_copy(0, gr.graphs.to(device), feats)
            for l, part in enumerate(node_parts, start=1):
                node_rows = gr.node_rows[:, lay.node_start[l]:lay.node_start[l] + part.shape[1]].reshape(-1)
                nfeat = nfeat.index_copy(0, new_id[node_rows.to(device)], part.reshape(-1, T * 2 * C))
        return gfeat, nfeat

    # --- input saliency --------------------------------------------------------------------------------
    def _saliency(self, groups: list[_Group], num_graphs: int, device: torch.device) -> Tensor:
        r"""Readout features ``(G, g)`` of the first layer's input saliency map :math:`s_i = \log(\lVert W_{:,i}
        \rVert / \overline{\lVert W_{:,j} \rVert})`, the norm of each input's outgoing weights relative to the
        mean (invariant to hidden permutations; MLP-like layouts only, zero otherwise). Inputs that the training data
        never lit keep their initial norm; a backdoor trigger's pixels, lit only by poisoned examples, move away
        from it, which a per-position read-in sees."""
        g = self.saliency_top.out_features
        out = torch.zeros(num_graphs, g, device=device)
        for gr in groups:
            lay = gr.lay
            if lay.spec.get("family") == "cnn" or not all(layer.type == "linear" and layer.kk == 1
                                                         for layer in lay.layers):
                continue
            w = gr.params[lay.layers[0].weight]  # (k, n_out, n_in)
            cn = w.norm(dim=1)
            s = (cn / cn.mean(1, keepdim=True).clamp(min=1e-12)).clamp(min=1e-6).log().clamp(-5, 5)
            n = s.shape[1]
            top = [F.pad(s.sort(1, descending=True).values[:, :_SALIENCY_TOP], (0, max(0, _SALIENCY_TOP - n)))]
            side = int(round(n ** 0.5))
            for w in _SALIENCY_POOLS:  # a square input read as an image: mean saliency of every w x w window
                if side * side == n and side >= w:
                    p = F.avg_pool2d(s.view(-1, 1, side, side), w, 1).flatten(1)
                    p = p.sort(1, descending=True).values[:, :_SALIENCY_POOL_TOP]
                    top.append(F.pad(p, (0, _SALIENCY_POOL_TOP - p.shape[1])))
                else:
                    top.append(s.new_zeros(len(s), _SALIENCY_POOL_TOP))
            f = self.saliency_top(torch.cat(top, 1))
            if str(n) in self.saliency_in:
                f = f + self.saliency_in[str(n)](s)
            out = out.index_copy(0, gr.graphs.to(device), f)
        return self.saliency_mlp(out)

    # --- forward -------------------------------------------------------------------------------------
    def forward(self, data: Any, image_size: tuple[int, int] | None = None) -> dict[str, Tensor]:
        """Predictions for a graph, a ``Batch`` or a list of graphs (any mix, see :func:`batch_graphs`): graph heads
        ``(G, ...)`` and ``role`` ``(N, 2 + C)`` (input neurons have no role: their logits are zero).

        ``image_size``: ``(H, W)`` of the images the CNNs in ``data`` read, the size their labelled probes are run at
        (default 28x28, mnist's). Global average pooling lets a CNN run on any size, so its weights do not tell
        which one it was built for (an MLP's first layer does). The learned queries stay 28x28."""
        from torch_geometric.data import Batch, Data

        from metanet.checkpoints import check_float32

        check_float32(self)  # as read() does: .double() / .half() / meta raised torch's dtype or device errors
        image_size = _check_image_size(image_size)
        if not isinstance(data, Data):  # a list of graphs (a module or a tensor: a GraphError naming it)
            data = batch_graphs(_graph_list(data, "the reader"))
        x, ea = data.x, data.edge_attr
        if x.device.type == "meta":  # the graph's structure is data: nothing to trace on the meta device
            raise GraphError("the reader reads graphs with values; this one is on the 'meta' device (valid: cpu, cuda)")
        if ea.dim() != 2 or x.dim() != 2 or x.shape[1] < 6:
            raise GraphError(f"expected a NeuralGraph with x (N, 6) and edge_attr (E, F); got x {tuple(x.shape)}, "
                             f"edge_attr {tuple(ea.shape)}")
        if ea.shape[1] > self.edge_dim:
            wide = (ea[:, self.edge_dim:] != 0).any(1)
            into = sorted({int(v) for v in data.node_layer[data.edge_index[1, wide]].tolist()}) \
                if hasattr(data, "node_layer") and bool(wide.any()) else []
            where = f"the connections into neuron layer(s) {into} (input = layer 0) carry" if into else "edges carry"
            # the kernel this reader's edge_dim holds (a reader built with edge_dim=1 was told "up to 3x3")
            side = math.isqrt(self.edge_dim)
            kernel = f"{side}x{side}" if side * side == self.edge_dim else f"{self.edge_dim} entries"
            raise GraphError(
                f"{where} up to {ea.shape[1]} values each: a kernel larger than {kernel}, or a Linear layer reading a "
                f"flattened feature map of more than {self.edge_dim} positions per channel; this reader reads at "
                f"most {self.edge_dim} values per connection; valid: kernels up to {kernel}, and feature maps pooled "
                f"(MaxPool2d/AvgPool2d, or AdaptiveAvgPool2d(1)) to at most {self.edge_dim} positions before the "
                "Linear layer")
        if not isinstance(data, Batch):
            data = Batch.from_data_list([data])
        num_graphs = int(data.num_graphs)
        dev = x.device
        groups = self._groups(data)
        n_all = x.shape[0]
        # the GNN runs over the hidden and output neurons only; input neurons are summarised (see module doc)
        is_in_all = data.node_kind == _INPUT
        act_nodes = (~is_in_all).nonzero().flatten()
        n = len(act_nodes)
        new_id = torch.full((n_all,), -1, dtype=torch.long, device=dev)
        new_id[act_nodes] = torch.arange(n, device=dev)
        kind, layer = data.node_kind[act_nodes], data.node_layer[act_nodes]
        act, pos, batch = data.node_act[act_nodes], data.node_pos[act_nodes], data.batch[act_nodes]
        xa = x[act_nodes].float()
        nslot = self._edge_slot(layer, kind)
        has_bias = xa[:, 5:6]
        bn = self.b_norm[nslot]
        b_norm = (xa[:, :1] - bn[:, :1]) / bn[:, 1:] * has_bias
        h = self.node_in(torch.cat([b_norm, has_bias], 1)) + self.kind_emb(kind) \
            + self.act_emb(act.clamp(0, len(ACTIVATION_NAMES))) + self.layer_emb(layer.clamp(0, self.max_layers))
        is_out = kind == _OUTPUT
        h = h + self.out_pos(pos.clamp(min=0) % self.num_classes) * is_out[:, None]
        gprobe = None
        if self.num_probes:
            gprobe, nprobe = self._probe(groups, new_id, n, num_graphs, dev)
            h = h + self.probe_node(nprobe)
        gdata = None
        if self.num_data_probes:
            gdata, ndata = self._data_probe(groups, new_id, n, num_graphs, dev, image_size)
            h = h + self.dprobe_node(ndata)
        # edges among hidden / output neurons; the input layer's edges are summarised in ``extra``
        src, dst = data.edge_index
        keep = (~is_in_all[src]).nonzero().flatten()
        src, dst = new_id[src[keep]], new_id[dst[keep]]
        ea_k, resid = data.edge_attr[keep].float(), data.edge_kind[keep] == 1
        e_feat = self._edge_features(ea_k, resid, nslot[dst])
        chan = torch.cat([torch.arange(ea.shape[1]), self.edge_dim + torch.arange(4)]).to(dev)
        extra, in_deg, in_pool = self._input_messages(groups, data, new_id, n, num_graphs, dev)
        ones = torch.ones(len(src), device=dev)
        inv_in = 1.0 / (scatter(ones, dst, 0, dim_size=n, reduce="sum") + in_deg).clamp(min=1)[:, None]
        inv_out = 1.0 / scatter(ones, src, 0, dim_size=n, reduce="sum").clamp(min=1)[:, None]
        key = dst * n + src
        f_order = None if bool((key[1:] >= key[:-1]).all()) else torch.argsort(key)
        b_order = torch.sort(src if f_order is None else src[f_order], stable=True).indices
        if f_order is not None:
            b_order = f_order[b_order]
        if f_order is None:
            adj_f = EdgeConv.adjacency(dst, src, e_feat, chan, self.channels, n)
        else:
            adj_f = EdgeConv.adjacency(dst[f_order], src[f_order], e_feat[f_order], chan, self.channels, n)
        adj_b = EdgeConv.adjacency(src[b_order], dst[b_order], e_feat[b_order], chan, self.channels, n)
        for fwd, bwd, upd, norm in zip(self.fwd, self.bwd, self.upd, self.norms):
            mf = fwd(h, adj_f, inv_in, extra)
            mb = bwd(h, adj_b, inv_out)
            h = norm(h + upd(torch.cat([h, mf, mb], 1)))
        # readout: mean pools of the input (static embeddings), hidden and output neurons
        pool_idx = batch * 2 + (kind == _OUTPUT).long()
        pooled = scatter(h, pool_idx, 0, dim_size=num_graphs * 2, reduce="mean").view(num_graphs, 2 * self.hidden)
        feats = [in_pool, pooled]
        if self.use_stats:
            s = self.weight_stats(data, groups).to(dev)
            s = ((s - self.s_norm[:, 0]) / self.s_norm[:, 1]).clamp(-10, 10)
            feats.append(self.stats_mlp(s))
        if gprobe is not None:
            feats.append(self.probe_mlp(gprobe))
        if gdata is not None:
            feats.append(self.dprobe_mlp(gdata))
        if self.use_saliency:
            feats.append(self._saliency(groups, num_graphs, dev))
        z = self.readout(torch.cat(feats, 1))
        out = {k: head(z) for k, head in self.heads.items()}
        for k in ("accuracy", "backdoor", "log_lr", "log_epoch"):
            out[k] = out[k].squeeze(-1)
        if gdata is not None:
            g = gdata.view(len(gdata), len(self.tasks), _dprobe_width(self.num_classes))
            avail, acc = g[..., 0] > 0, g[..., 1].clamp(0.01, 0.99)  # probes the network runs on; its accuracy
            # whether any task's probes fit the network (input size and class count): else task and accuracy are
            # the head's guesses about a network unlike any it was trained on
            out["task_fits"] = avail.any(-1)
            out["task"] = self._task_logits(avail, acc, out["task"])
            out["accuracy"] = out["accuracy"] + self._probe_accuracy_logit(avail, acc, out["task"], z)
        out["accuracy"] = torch.sigmoid(out["accuracy"])
        role = self.node_head(torch.cat([h, z[batch]], 1))
        out["role"] = role.new_zeros(n_all, role.shape[1]).index_copy(0, act_nodes, role)
        out["embedding"] = z
        return out

    def _task_logits(self, avail: Tensor, acc: Tensor, logits: Tensor) -> Tensor:
        """The task head's logits (bounded to ``±task_cap`` by ``task_cap * tanh(. / task_cap)`` when set) plus
        the probe evidence ``task_evidence * logit(acc_t)``, tasks unavailable to a network masked out (a network no
        task's probes fit keeps the head's logits). ``avail``, ``acc``: ``(G, T)`` whether each task's probes fit
        each network, and its (clamped) accuracy on them."""
        if self.task_cap:  # the weights' opinion is bounded, so strong probe evidence always decides
            logits = self.task_cap * torch.tanh(logits / self.task_cap)
        if self.task_evidence:
            logits = logits + self.task_evidence * torch.logit(acc) * avail
        mask = avail | ~avail.any(-1, keepdim=True)
        return logits.masked_fill(~mask, -1e4)

    def _probe_accuracy_logit(self, avail: Tensor, acc: Tensor, task_logits: Tensor, z: Tensor) -> Tensor:
        r"""The accuracy head's skip path :math:`\sigma(w^\top z)\,\sum_t p(t)\,\mathrm{logit}(\mathrm{acc}_t)`:
        the networks' accuracy on the labelled probes of each task, weighted by the task head's (detached)
        probabilities over the tasks whose probes it could be run on, and gated per network. An MLP readout blurs
        the probe accuracy's fine ranking; this path keeps it."""
        p = torch.softmax(task_logits.detach(), -1) * avail
        p = p / p.sum(-1, keepdim=True).clamp(min=1e-6)
        return torch.sigmoid(self.dprobe_gate(z)).squeeze(-1) * (p * torch.logit(acc)).sum(-1)

    def _edge_features(self, ea: Tensor, resid: Tensor, slot: Tensor) -> Tensor:
        """Edge channels (normalised values, mean |v|, mean v^2, residual flag, 1) of ``ea`` ``(E, F)``."""
        wn = self.w_norm[slot]
        nz = ea != 0  # zero entries are padding (or pruned weights)
        e_norm = torch.where(nz, (ea - wn[:, :1]) / wn[:, 1:], torch.zeros_like(ea))
        e_norm = torch.where(resid[:, None], torch.zeros_like(e_norm), e_norm)
        width = nz.sum(1, keepdim=True).clamp(min=1)
        return torch.cat([e_norm, e_norm.abs().sum(1, keepdim=True) / width, (e_norm**2).sum(1, keepdim=True) / width,
                          resid.float()[:, None], torch.ones_like(e_norm[:, :1])], 1)

    def _input_embedding(self, lay: Any, data: Any, first_row: int) -> Tensor:
        """Static states ``(n_0, H)`` of the input neurons of ``lay`` (no bias; kind, activation, layer, position)."""
        rows = slice(first_row, first_row + lay.sizes[0])
        act = data.node_act[rows].clamp(0, len(ACTIVATION_NAMES))
        pos = data.node_pos[rows].clamp(min=0) % self.max_inputs
        zero = torch.zeros(1, 2, device=act.device)
        return self.node_in(zero) + self.kind_emb.weight[_INPUT] + self.act_emb(act) + self.layer_emb.weight[0] \
            + self.in_pos(pos)

    def _input_messages(self, groups: list[_Group], data: Any, new_id: Tensor, n: int, num_graphs: int,
                        device: torch.device) -> tuple[Tensor, Tensor, Tensor]:
        """The summarised input layer: per-channel sums ``(n, K, H)`` of the input neurons' static states over the
        first layer's edges (one dense batched product per architecture), the first layer's in-degrees ``(n,)``,
        and the mean input state per graph ``(G, H)``."""
        extra = torch.zeros(n, self.channels, self.hidden, device=device)
        in_deg = torch.zeros(n, device=device)
        in_pool = torch.zeros(num_graphs, self.hidden, device=device)
        for gr in groups:
            lay = gr.lay
            first = lay.layers[0]
            n_in, n_out = first.n_in, first.n_out
            k = len(gr.graphs)
            e0 = lay.edge_start[0]
            f_in = gr.edges.shape[-1]
            ev = gr.edges[:, e0:e0 + n_in * n_out, :].reshape(k, n_out, n_in, f_in)
            wn = self.w_norm[int(lay.num_layers == 1)]  # slot of layer 1 (hidden, or output for one layer)
            nz = ev != 0
            v = torch.where(nz, (ev - wn[0]) / wn[1], torch.zeros_like(ev))
            e_in = self._input_embedding(lay, data, int(gr.node_rows[0, 0]))  # (n_in, H)
            if f_in == 1:  # MLP: three plain matrix products, no stacked copy
                v = v.squeeze(-1)
                msg = torch.stack([v @ e_in, v.abs() @ e_in, (v * v) @ e_in], 2)  # (k, o, 3, H)
            else:
                width = nz.sum(-1, keepdim=True).clamp(min=1)
                feat = torch.cat([v, v.abs().sum(-1, keepdim=True) / width, (v * v).sum(-1, keepdim=True) / width],
                                 -1)
                msg = torch.einsum("koic,ih->koch", feat, e_in)  # (k, o, f_in + 2, H)
            full = msg.new_zeros(k, n_out, self.channels, self.hidden)
            full[:, :, :f_in] = msg[:, :, :f_in]
            full[:, :, self.edge_dim:self.edge_dim + 2] = msg[:, :, f_in:]
            full[:, :, self.edge_dim + 3] = e_in.sum(0)  # the constant channel (residual channel: 0)
            rows = new_id[gr.node_rows[:, lay.node_start[1]:lay.node_start[1] + n_out].reshape(-1).to(device)]
            extra = extra.index_copy(0, rows, full.reshape(-1, self.channels, self.hidden))
            in_deg = in_deg.index_fill(0, rows, float(n_in))
            in_pool = in_pool.index_copy(0, gr.graphs.to(device), e_in.mean(0).expand(k, -1))
        return extra, in_deg, in_pool

    # --- files ---------------------------------------------------------------------------------------
    def save(self, path: str | os.PathLike, **meta: Any):
        """Write this reader (weights, normalisation and config) to one safetensors file."""
        from metanet.checkpoints import save_module

        return save_module(self, path, "reader", self.config, **meta)

    @classmethod
    def load(cls, path: str | os.PathLike | None = None) -> "Reader":
        """A reader from a file written by :meth:`save`, or a Lightning ``.ckpt`` of
        :class:`~metanet.reader.lightning.ReaderModule` (``None``: the checkpoint shipped with metanet).

        A ``.ckpt`` holds the reader as it was when Lightning saved it, during training: a trigger-scan head
        (``scan_steps`` > 0) is fitted only when the fit ends, after the last checkpoint, so a reader loaded from one
        has an unfitted scan head (:func:`metanet.read` then reads with the weights-only backdoor head; a warning
        says so). The fit's export (``ReaderModule(export=...)``, a ``.safetensors`` file) has it fitted; or fit it
        with :func:`metanet.reader.scan.fit_scan`."""
        # building the module draws a throwaway random init before its weights are loaded: fork the global RNG so
        # that loading a reader leaves the caller's random stream (torch.manual_seed(0); ...) untouched
        with forked_rng():
            return cls._load(path)

    @classmethod
    def _load(cls, path: str | os.PathLike | None) -> "Reader":
        from metanet.checkpoints import _checked_path, load_lightning, load_module

        # one reading of the path (type, empty, '~'): str() of a bytes path ends in ".ckpt'", not ".ckpt"
        path = None if path is None else _checked_path(path, "reader")
        if path is not None and path.name.lower().endswith(".ckpt"):  # also "last.CKPT"
            keys = ("tasks", "hidden", "layers", "edge_dim", "max_layers", "max_inputs", "num_classes", "stats",
                    "probes", "probe_inputs", "data_probes", "saliency", "derived_probes",
                    "task_evidence", "scan_steps", "task_cap")
            reader = load_lightning(cls, path, "reader", "reader", keys)
            if reader.scan_steps and not bool(reader.scan_fitted):  # read() skipped the scan without a word
                warnings.warn(f"{path}: this Lightning checkpoint's trigger-scan head is not fitted (it is fitted when "
                              "training ends, after the checkpoints are saved): metanet.read reads backdoors with the "
                              "weights-only head (scan=True is an error). For the scan, load the fit's exported "
                              ".safetensors (model.export), or fit the head with metanet.reader.scan.fit_scan on "
                              "labelled networks", UserWarning, stacklevel=user_stacklevel())
            return reader
        return load_module(cls, path, "reader")
