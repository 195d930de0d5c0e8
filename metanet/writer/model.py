r"""`Writer`: a message-passing network that writes every weight of an MLP or CNN for a task.

The writer works layer by layer, as a GNN over the network's neural graph (neurons = nodes, weights = edges):

0. A small support set of images (or 1-d signals) is conditioned on together with its copies shifted by one
   position (``augment="shift"``, :mod:`metanet.writer.augment`; pixel-permuted inputs are recognised and left
   alone).
1. For the layer's *source* neurons (input pixels, or the previous layer's units / patch entries), compute
   statistics of their activations on the task's support set: mean, std, the ridge-regression direction from
   them to each class, and each class's centred mean (:mod:`metanet.writer.solvers`).
2. Sub-class directions: every class of the support set is split into ``d_out // K`` clusters (k-means seeded per
   candidate), and the ridge solution from the source activations to the centred one-hot *cluster* targets gives
   one direction per cluster. A hidden unit on such a direction responds to one mode of one class, so the layer
   spans ``d_out`` discriminative directions instead of the ``K`` of a linear classifier (the second-order
   information of the ridge solve, not only class means). Each neuron takes the direction its starting weights
   match best (a one-to-one assignment).
3. Every edge ``i -> j`` gets features: its starting weight (a seeded init or a zoo member), the class-contracted
   ridge and class-mean directions :math:`\sum_c e_{jc} r_{ic}` and :math:`\sum_c e_{jc} \mu_{ic}` (``e_j`` is
   neuron ``j``'s class code: its starting weights projected on the ridge directions, normalised), its sub-class
   direction, and the source statistics. The starting weights and the clustering seed are the writer's noise
   inputs: different seeds give different candidates.
4. Message passing (:class:`WeightMessages`, a PyG ``MessagePassing``): each target neuron aggregates messages
   :math:`h_j = \mathrm{mean}_i\, \phi(f_{ij})` from its incoming edges; each edge then writes its weight
   :math:`w_{ij} = a^\top f_{ij} + \psi(f_{ij}, h_j)`.
5. Each written neuron is normalised on the support set (unit std of its pre-activation) and its bias centres it
   (plus a learned shift :math:`\beta(h_j)`, dropped for a layer it would leave constant on the support set, e.g.
   every ReLU dead on two examples); the support set is pushed through to condition the next layer.
6. The classifier layer is the closed-form ridge solution on the last hidden activations, with a learned
   temperature and a :math:`\lambda` chosen per network by closed-form leave-one-out accuracy on the support set;
   with ``head="logistic"`` it is then refitted to the cross-entropy of the written network on the support set
   (multinomial logistic regression shrunk towards the ridge solution with a learned penalty, solved by monotone
   bound-optimisation steps: :func:`~metanet.writer.solvers.logistic`).

Hidden-neuron permutation equivariance holds by construction (every map is per edge / per neuron, aggregation is
a mean, class codes and sub-class assignments come from each neuron's own starting weights); so does
class-permutation equivariance (classes only enter through sums over classes and the ridge targets, and the
clustering's seeded centres do not depend on the class order). The same weights
serve every width, depth and activation of the MLP family and the CNN family (a convolution is a linear map on
patches: its source neurons are (channel, kernel offset) pairs). With ``steps > 1`` the writer refines its own
output: pass ``t`` starts from the weights written at pass ``t-1`` (recursive refinement, supervised per pass).
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F
from scipy.optimize import linear_sum_assignment
from torch import Tensor, nn
from torch_geometric.nn import MessagePassing

from metanet._state import (check_fits_memory, cpu_default, drop_generated_source, forked_rng, metanet_defaults,
                            outside_inference_mode)
from metanet.errors import MAX_ITERATIONS, ArchError, ConfigError, TaskError, as_index, check_number, integer
from metanet.nets import Arch, activation
from metanet.nets.arch import cnn_input_hint
from metanet.writer.augment import AUGMENTS, augment_support
from metanet.writer.solvers import (SupportStats, class_weights, logistic, loo_ridge, ridge, subclasses,
                                    support_stats, targets)

__all__ = ["Writer", "WeightMessages", "EDGE_FEATURES", "BALANCE_ABOVE", "imbalanced"]

#: edge feature columns: start weight, ridge direction, class-mean direction, sub-class direction, source mean,
#: source std, pass index
EDGE_FEATURES = ("start", "ridge", "means", "sub", "src_mean", "src_std", "step")

#: the classifier's ridge regulariser is chosen per network by leave-one-out accuracy among these multiples of
#: the learned one
HEAD_GRID = (1e-3, 1e-2, 1e-1, 1.0, 10.0)

#: a support set whose largest class has more than this many times the examples of its smallest gets a
#: class-balanced classifier layer (:func:`~metanet.writer.solvers.class_weights` in the ridge solve and its
#: leave-one-out choice): the plain least-squares solution and accuracy favour the majority, down to a constant
#: classifier on 3 examples against 100. Below it the plain solve is kept, bit for bit (e.g. digits' 104..109 per
#: class): at a mild imbalance balancing trades plain accuracy for balanced accuracy about evenly (fashion-mnist
#: pairs at 1:3, plain -0.04, balanced +0.04), past it the minority class gains far more than the total loses
#: (1:9, balanced +0.17, plain -0.03)
BALANCE_ABOVE = 4.0


def imbalanced(y: Tensor) -> bool:
    """Whether labels ``y`` (any integer array) have a largest class of more than :data:`BALANCE_ABOVE` times the
    examples of their smallest present one: the support sets that get a class-balanced classifier layer, and on
    which :func:`metanet.generate` also chooses among the candidates by balanced validation accuracy."""
    counts = torch.bincount(torch.as_tensor(y).reshape(-1).long())
    counts = counts[counts > 0]
    return len(counts) > 1 and int(counts.max()) > BALANCE_ABOVE * int(counts.min())

#: largest support input magnitude the writer takes: squares summed over its rows stay within float32
_MAX_INPUT = 1e15

#: largest float32 value (start_mix is one)
_F32_MAX = float(torch.finfo(torch.float32).max)

#: range of the options learned as float32 logarithms (ridge_lambda, sub_lambda, head_lambda, temperature,
#: logit_lambda): each is exponentiated in float32 and multiplied by data-dependent factors (a trace scale, the
#: 10x of :data:`HEAD_GRID`, a ridge solution), so 8 orders of float32's ~3.4e38 are left as headroom.
#: temperature=1e60 wrote inf/NaN weights and head_lambda=1e38 NaN gradients, silently
_LOG_OPTION_RANGE = (1e-30, 1e30)

#: the classifier layer: ``"ridge"`` (the closed-form ridge solution, scaled by a learned temperature) or
#: ``"logistic"`` (that solution refined by :func:`~metanet.writer.solvers.logistic` on the written network's own
#: cross-entropy: a convex solve on the support set, shrunk towards the ridge solution by a learned penalty)
HEADS = ("ridge", "logistic")


class WeightMessages(MessagePassing):
    r"""Edge → target-neuron messages :math:`h_j = \frac{1}{|N(j)|}\sum_{i \in N(j)} \phi(f_{ij})`.

    Args:
        edge_dim: edge feature size :math:`F`.
        out_dim: message size :math:`d`.
        hidden: width of :math:`\phi`.

    Shapes:
        - edge_attr: :math:`(B, E, F)`; edge_index: :math:`(2, E)` (source, target)
        - output: :math:`(B, N_{tgt}, d)`
    """

    def __init__(self, edge_dim: int, out_dim: int, hidden: int = 32) -> None:
        super().__init__(aggr="mean", node_dim=-2)
        drop_generated_source(self)  # PyG's temporary file of the generated propagate
        self.phi = nn.Sequential(nn.Linear(edge_dim, hidden), nn.GELU(), nn.Linear(hidden, out_dim))

    def forward(self, edge_attr: Tensor, edge_index: Tensor, size: tuple[int, int]) -> Tensor:
        return self.propagate(edge_index, edge_attr=edge_attr, size=size)

    def message(self, edge_attr: Tensor) -> Tensor:
        return self.phi(edge_attr)


@dataclass
class _Layer:
    """One weight layer as the writer sees it."""

    kind: str  # "linear" | "conv"
    d_in: int  # source neurons (features, or channels * k * k for a conv)
    d_out: int
    skip: bool = False


def _bipartite(d_in: int, d_out: int) -> Tensor:
    """edge_index of a dense layer, edges ordered target-major: edge ``j * d_in + i`` is ``i -> j``."""
    src = torch.arange(d_in).repeat(d_out)
    dst = torch.arange(d_out).repeat_interleave(d_in)
    return torch.stack([src, dst])


class Writer(nn.Module):
    """Writes the weights of a network of a given architecture for a task given by labelled examples.

    Args:
        hidden: width of the edge and node MLPs.
        message: size of the aggregated neuron messages.
        ridge_lambda: initial (relative) ridge regulariser of the source statistics.
        sub_lambda: initial (relative) ridge regulariser of the sub-class directions.
        head_lambda: initial (relative) ridge regulariser of the classifier layer (the centre of the grid
            searched by leave-one-out, :data:`HEAD_GRID`).
        temperature: initial logit scale of the classifier layer.
        start_mix: initial weight of the starting weights in the written first layer.
        steps: refinement passes (each starts from the previous pass's weights), 1 to 10**9
            (:data:`~metanet.errors.MAX_ITERATIONS`).
        max_rows: cap on support rows used for statistics (patch rows for convolutions are subsampled to it).
        head: the classifier layer, one of :data:`HEADS`.
        head_iters: bound-optimisation steps of the logistic head, 1 to 10**9
            (:data:`~metanet.errors.MAX_ITERATIONS`).
        logit_lambda: the initial value of the logistic head's learned penalty. It and the lambdas and temperature
            above are learned as logarithms and must be from 1e-30 to 1e30.
        augment: ``"shift"``: a support set of at most ``augment_below`` examples per class whose inputs look like
            images (or signals) is conditioned on together with its copies shifted by one position
            (:mod:`metanet.writer.augment`); ``"none"``: never.
        augment_below: the ``"shift"`` augmentation applies to support sets of at most this many examples per
            class (median over classes).

    Shapes (see :meth:`write`):
        - support inputs :math:`(n, *\\text{input shape})`, labels :math:`(n,)`
        - output: a dict ``name -> (B, *param.shape)`` matching ``metanet.nets.build(arch).state_dict()``
    """

    @outside_inference_mode
    def __init__(
        self,
        hidden: int = 32,
        message: int = 16,
        ridge_lambda: float = 3.0,
        sub_lambda: float = 3.0,
        head_lambda: float = 0.1,
        temperature: float = 5.0,
        start_mix: float = 0.0,
        steps: int = 1,
        max_rows: int = 8192,
        head: str = "ridge",
        head_iters: int = 30,
        logit_lambda: float = 3.0,
        augment: str = "shift",
        augment_below: int = 100,
    ) -> None:
        super().__init__()
        if head not in HEADS:
            raise ConfigError(f"unknown writer head {head!r}; valid: {', '.join(HEADS)}")
        if augment not in AUGMENTS:
            raise ConfigError(f"unknown support augmentation {augment!r}; valid: {', '.join(AUGMENTS)}")
        # Python ints from here on (numpy and one-element torch integers taken, as check_whole takes them): a numpy
        # one in config() was no JSON for the checkpoint header
        if as_index(augment_below) is None or augment_below < 0:
            raise ConfigError(f"augment_below (examples per class) must be an integer >= 0, got {augment_below!r}")
        augment_below = as_index(augment_below)
        # checked here, not where they are used: steps=0 wrote nothing (an IndexError at write time), a lambda of 0
        # was a 'math domain error' from its logarithm, hidden=0 built an empty meta-network
        sizes = {"hidden": hidden, "message": message, "steps": steps, "max_rows": max_rows, "head_iters": head_iters}
        for name, v in sizes.items():
            if as_index(v) is None or v < 1:
                raise ConfigError(f"Writer {name} must be >= 1 (a whole number), got {v!r}")
            if name in ("steps", "head_iters") and v > MAX_ITERATIONS:  # a loop count: steps=10**30 never returned
                raise ConfigError(f"Writer {name} must be at most {MAX_ITERATIONS:,} (a whole number: more passes "
                                  f"than any write could finish), got {v!r}")
        hidden, message, steps, max_rows, head_iters = (as_index(v) for v in sizes.values())
        # a lower bound of the parameters: hidden=10**30 was a raw TypeError from torch.empty
        check_fits_memory(f"the parameters of a Writer of hidden={hidden}, message={message}",
                          hidden * (message + len(EDGE_FEATURES)), "give smaller sizes")
        for name, v in (("ridge_lambda", ridge_lambda), ("sub_lambda", sub_lambda), ("head_lambda", head_lambda),
                        ("temperature", temperature), ("logit_lambda", logit_lambda), ("start_mix", start_mix)):
            positive = name != "start_mix"
            # the shared check: 10**400 was a raw OverflowError from math.isfinite here. start_mix is a float32
            # weight as it is (1e300 was a raw RuntimeError), the others are stored as logarithms
            valid = "> 0" if positive else f"within float32 range (|start_mix| <= {_F32_MAX:.3g})"
            try:
                check_number(name, v, valid, (lambda x: x > 0) if positive else (lambda x: abs(x) <= _F32_MAX))
            except ConfigError:
                # its own message, naming the writer; a 400-digit integer is cut short
                raise ConfigError(f"Writer {name} must be a finite number {valid}, got {v!r:.40}") from None
            lo, hi = _LOG_OPTION_RANGE
            if positive and not lo <= v <= hi:
                raise ConfigError(f"Writer {name} must be from {lo:g} to {hi:g} (it is learned as a float32 logarithm; "
                                  f"beyond that range the written weights or their gradients overflow), got {v!r:.40}")
        self.augment, self.augment_below = augment, augment_below
        self.head, self.head_iters = head, head_iters
        f = len(EDGE_FEATURES)
        self.steps = steps
        self.max_rows = max_rows
        self.messages = WeightMessages(f, message, hidden)
        self.lin = nn.Linear(f, 1, bias=False)
        with torch.no_grad():  # start as the hand-derived rule: start_mix * start + sub-class direction
            self.lin.weight.zero_()
            self.lin.weight[0, EDGE_FEATURES.index("start")] = float(start_mix)  # np.float32, Fraction: TypeError
            self.lin.weight[0, EDGE_FEATURES.index("sub")] = 1.0
        self.psi_f = nn.Linear(f, hidden)
        self.psi_h = nn.Linear(message, hidden, bias=False)
        self.psi_out = nn.Linear(hidden, 1)
        self.beta = nn.Sequential(nn.Linear(message, hidden), nn.GELU(), nn.Linear(hidden, 1))
        for last in (self.psi_out, self.beta[-1]):  # learned corrections start at zero
            nn.init.zeros_(last.weight)
            nn.init.zeros_(last.bias)
        with torch.no_grad():  # a unit fires on the upper part of its sub-class direction, not from the mean
            self.beta[-1].bias.fill_(-0.5)
        self.log_ridge = nn.Parameter(torch.tensor(math.log(ridge_lambda)))
        self.log_sub = nn.Parameter(torch.tensor(math.log(sub_lambda)))
        self.log_head = nn.Parameter(torch.tensor(math.log(head_lambda)))
        self.log_temp = nn.Parameter(torch.tensor(math.log(temperature)))
        if head == "logistic":  # only then: ridge-head checkpoints keep their exact set of tensors
            self.log_logit = nn.Parameter(torch.tensor(math.log(logit_lambda)))

    # --- one layer -------------------------------------------------------------------------------
    def _sub_directions(self, centred: Tensor, y: Tensor, k: int, start: Tensor, gen: torch.Generator) -> Tensor | None:
        """One sub-class ridge direction per hidden neuron ``(B, d_out, d_in)`` (zero rows for neurons left over).

        Every class is split into ``d_out // K`` clusters of the support rows (k-means from the candidate's seeded
        centres); the ridge solution from the rows to the centred one-hot cluster targets gives one direction per
        cluster; a neuron takes the direction its starting weights match best (a one-to-one assignment, so
        permuting the neurons permutes the assignment).
        """
        b, d_out = start.shape[:2]
        per = d_out // k
        if per == 0:
            return None
        n = centred.shape[1]
        labels = subclasses(centred, y, k, per, torch.rand(b, n, generator=gen))  # (B, n)
        m = k * per
        t = F.one_hot(labels, m).to(centred.dtype) - 1.0 / m
        if centred.shape[0] == 1:  # rows shared by the candidates: one system, every candidate's targets at once
            dirs = ridge(centred, t.transpose(0, 1).reshape(n, b * m), self.log_sub.exp())
            dirs = dirs.view(-1, b, m).transpose(0, 1)
        else:
            dirs = ridge(centred, t, self.log_sub.exp())
        dirs = F.normalize(dirs, dim=1)  # (B, d_in, m)
        with torch.no_grad():
            sim = (start @ dirs).abs()
        out = torch.zeros_like(start)
        for i in range(b):
            rows, cols = linear_sum_assignment(sim[i].cpu().numpy(), maximize=True)
            out[i, torch.as_tensor(rows)] = dirs[i][:, torch.as_tensor(cols)].T
        return out

    def _write_layer(
        self, a: Tensor, y: Tensor, k: int, start: Tensor, step: int, gen: torch.Generator
    ) -> tuple[Tensor, Tensor]:
        """Weights ``(B, d_out, d_in)`` and bias ``(B, d_out)`` of one hidden layer from its inputs ``a`` (B, n, d_in)."""
        b, _, d_in = a.shape
        d_out = start.shape[1]
        # the input layer's rows are one tensor expanded over the B candidates: its statistics are computed once
        shared = b > 1 and a.stride(0) == 0
        st = support_stats(a[:1] if shared else a, y, k, self.log_ridge.exp())
        if shared:
            st = SupportStats(*(t.expand(b, *t.shape[1:]) for t in (st.mean, st.std, st.ridge, st.means)))
        s = math.sqrt(d_in)
        # neuron j's class code: its starting weights seen through the class directions (equivariant, and the
        # starting weights stay the only noise input)
        codes = F.normalize(start @ st.ridge, dim=-1)  # (B, d_out, K)
        ridge_dir = codes @ st.ridge.transpose(1, 2)
        centred = (a[:1] if shared else a) - st.mean[: 1 if shared else b].unsqueeze(1)
        sub = self._sub_directions(centred, y, k, start, gen)
        # neurons without a cluster (d_out not a multiple of K, or fewer neurons than classes) keep the ridge code
        sub = ridge_dir if sub is None else torch.where(sub.abs().sum(-1, keepdim=True) > 0, sub, ridge_dir)
        scale = st.std.mean(1, keepdim=True).clamp_min(1e-8)
        feats = torch.stack(
            [
                start * s,
                ridge_dir * s,
                (codes @ st.means.transpose(1, 2)) * s,
                sub * s,
                (st.mean / scale).unsqueeze(1).expand(b, d_out, d_in),
                (st.std / scale).unsqueeze(1).expand(b, d_out, d_in),
                torch.full((b, d_out, d_in), float(step), dtype=a.dtype),
            ],
            dim=-1,
        )  # (B, d_out, d_in, F)
        h = self.messages(feats.view(b, d_out * d_in, -1), _bipartite(d_in, d_out), (d_in, d_out))
        pre = self.psi_f(feats) + self.psi_h(h).unsqueeze(2)
        w = self.lin(feats).squeeze(-1) + self.psi_out(F.gelu(pre)).squeeze(-1)  # (B, d_out, d_in)
        z_std = (centred @ w.transpose(1, 2)).pow(2).mean(1).add(1e-8).sqrt()  # (B, d_out)
        w = w / z_std.unsqueeze(-1)
        bias = -(st.mean.unsqueeze(1) @ w.transpose(1, 2)).squeeze(1) + self.beta(h).squeeze(-1)
        return w, bias

    def _head(self, a: Tensor, y: Tensor, k: int, bias: bool) -> tuple[Tensor, Tensor | None]:
        if bias:
            a = torch.cat([a, torch.ones(*a.shape[:2], 1, dtype=a.dtype)], dim=2)
        lams = self.log_head.exp() * torch.tensor(HEAD_GRID, dtype=a.dtype)
        weights = class_weights(y, k) if imbalanced(y) else None  # every class is in a support set
        r = loo_ridge(a, targets(y, k), lams, weights=weights) * self.log_temp.exp()  # (B, d(+1), K)
        if self.head == "logistic":  # refit the written network's own loss, starting from the ridge solution
            r = logistic(a, y, k, r, self.log_logit.exp(), self.head_iters, free_last=bias)
        if bias:
            return r[:, :-1].transpose(1, 2), r[:, -1]
        return r.transpose(1, 2), None

    def _rows(self, a: Tensor, y: Tensor, gen: torch.Generator) -> tuple[Tensor, Tensor]:
        if a.shape[1] <= self.max_rows:
            return a, y
        perm = torch.randperm(a.shape[1], generator=gen)
        idx = perm[: self.max_rows]
        lost = torch.ones(int(y.max()) + 1, dtype=torch.bool)
        lost[y[idx]] = False
        if bool(lost.any()):  # a rare class fell out of the sample: put one of its rows back
            rest = perm[self.max_rows :]
            extra = [rest[int(torch.nonzero(y[rest] == c)[0])] for c in torch.nonzero(lost).flatten()]
            idx = torch.cat([idx, torch.stack(extra)])
        if a.shape[0] > 1 and a.stride(0) == 0:  # shared rows (input layer): gather once, keep them shared
            return a[:1, idx].expand(a.shape[0], -1, -1), y[idx]
        return a[:, idx], y[idx]

    # --- whole network -----------------------------------------------------------------------------
    def write(
        self,
        arch: Arch | str,
        x: Tensor,
        y: Tensor,
        num_classes: int | None = None,
        start: dict[str, Tensor] | None = None,
        candidates: int = 1,
        seed: int = 0,
        all_steps: bool = False,
    ) -> dict[str, Tensor] | list[dict[str, Tensor]]:
        """Write ``candidates`` weight sets of ``arch`` for the task whose support set is ``(x, y)``.

        Args:
            arch: the architecture to write (MLP or CNN family): an :class:`~metanet.nets.Arch`, its string or dict,
                or a metanet ``MLP`` / ``CNN`` module (its architecture; its weights are not used, see ``start``).
            x: support inputs ``(n, *input_shape)``: floating point in [0, 1] as a task's splits give them, or
                uint8 images 0..255 (divided by 255) and bool inputs (0 / 1), read as :func:`metanet.tasks.resolve`
                reads examples (shift-augmented first, with their labels, when the writer's ``augment`` says so);
                float inputs that look like 0..255 images (none negative, the largest past 2) are written for as they
                are, with a UserWarning.
            y: support labels ``(n,)`` in ``0..K-1``.
            num_classes: K (default ``arch.num_classes``; must match it).
            start: starting weights ``name -> (B, *shape)`` (e.g. a zoo member); default: the seeded init of
                ``arch`` per candidate.
            candidates: B, the number of weight sets (each from its own seeded starting weights).
            seed: any integer (taken modulo 2**64); ``candidates`` and ``seed`` may be Python, numpy or one-element
                torch integers. The seed makes the output deterministic (for the same ``candidates``: the B weight
                sets share the random draws of the layers after the first, so weight set ``i`` also depends on B).
            all_steps: return the weights after every refinement pass (for deep supervision).

        Returns:
            ``name -> (B, *param.shape)`` keyed like ``metanet.nets.build(arch).state_dict()`` (a list, one per
            pass, with ``all_steps``).
        """
        with metanet_defaults():  # the same weights whatever torch's default dtype and device are
            return self._write(arch, x, y, num_classes, start, candidates, seed, all_steps)

    def _write(self, arch, x, y, num_classes, start, candidates, seed, all_steps):
        from metanet.checkpoints import check_float32
        from metanet.writer.generate import _arch

        check_float32(self)  # a float64 / half / meta-device writer failed deep inside torch
        # read as generate reads it: a metanet MLP / CNN module was "an architecture mapping is expected, got MLP"
        arch = _arch(arch)
        try:
            k = arch.num_classes if num_classes is None else integer("num_classes", num_classes)
        except TaskError:
            raise TaskError(f"num_classes must be an integer (or None: the architecture's outputs), got "
                            f"{num_classes!r}") from None
        if k != arch.num_classes:
            raise ArchError(f"architecture {arch} has {arch.num_classes} outputs but the task has {k} classes")
        if k < 2:  # one class has no direction to separate: the normalised weights came out ~1e6, the head zero
            raise ArchError(f"architecture {arch} has {k} output; the writer writes classifiers of at least 2 classes")
        candidates, seed = integer("candidates", candidates, 1), integer("seed", seed)
        _check_fits_memory(arch, candidates)
        x, y = _support(x, y)
        if y.numel() == 0:
            raise TaskError(f"the support set is empty; give at least one example of each of the {k} classes")
        if int(y.min()) < 0 or int(y.max()) >= k:  # name what was given: labels [3, 7] of a 2-class task
            got = y.unique()
            raise TaskError(f"support labels must be in 0..{k - 1} (class ids), got labels {got[:10].tolist()}"
                            f"{' ...' if len(got) > 10 else ''}; renumber them (torch.unique(y, return_inverse=True)"
                            "[1]) or write an architecture with more outputs")
        if torch.bincount(y, minlength=k).min() == 0:
            raise TaskError(f"the support set needs at least one example of each of the {k} classes")
        shape = tuple(x.shape[1:])
        if not arch.fits(shape):
            told = cnn_input_hint(arch.in_size, shape, "n") if arch.family == "cnn" and len(shape) <= 2 else ""
            hint = f"; {told}" if told else ""  # the hints metanet.verify gives for the same inputs
            raise ArchError(f"architecture {arch} does not fit support inputs of shape {shape}{hint}")
        if start is None:
            start = _seeded_init(arch, candidates, seed)
        else:
            _check_start(arch, start, candidates)
            # the writer computes in float32: float64 starting weights (a .double() network's graph) were a
            # 'expected scalar type Float but found Double' RuntimeError; float32 ones are left as they are
            start = {name: v.to(torch.float32) for name, v in start.items()}
        x, y = augment_support(x, y, self.augment, self.augment_below)
        outs, prev = [], start
        for step in range(self.steps):
            prev = self._write_all(arch, x, y, k, prev, step, torch.Generator().manual_seed(seed % 2**64))
            outs.append(prev)
        return outs if all_steps else outs[-1]

    def _write_all(self, arch, x, y, k, start, step, gen) -> dict[str, Tensor]:
        b = next(iter(start.values())).shape[0]
        act = activation(arch.activation)
        params: dict[str, Tensor] = {}
        last = arch.num_layers - 1
        if arch.family == "mlp":
            a = x.flatten(1).unsqueeze(0).expand(b, -1, -1)
            skips = set(arch.skip_layers())
            for i in range(last):
                u = _unit_rows(start[f"layers.{i}.weight"])
                ar, yr = self._rows(a, y, gen)
                w, bias = self._write_layer(ar, yr, k, u, step, gen)
                params[f"layers.{i}.weight"] = w
                z = a @ w.transpose(1, 2)
                if arch.bias:
                    dead = _dead(act(z + bias.unsqueeze(1)), (1,))
                    if bool(dead.any()):  # a constant layer: centre its units instead (see _dead)
                        bias = torch.where(dead.unsqueeze(1), _centring_bias(ar, w), bias)
                    params[f"layers.{i}.bias"] = bias
                    z = z + bias.unsqueeze(1)
                a = a + act(z) if i in skips else act(z)
        else:
            kk, st = arch.kernel, arch.stride
            maps = x.unsqueeze(0).expand(b, *x.shape)  # (B, n, C, H, W)
            for i in range(last):
                c_in = maps.shape[2]
                u = _unit_rows(start[f"layers.{i}.weight"].flatten(2))
                n = maps.shape[1]
                patches = F.unfold(maps.flatten(0, 1), kk, padding=kk // 2, stride=st)  # (B*n, C k k, L)
                rows = patches.view(b, n, c_in * kk * kk, -1).permute(0, 1, 3, 2).reshape(b, -1, c_in * kk * kk)
                yr = y.repeat_interleave(patches.shape[-1])
                ar, yr = self._rows(rows, yr, gen)
                w, bias = self._write_layer(ar, yr, k, u, step, gen)
                weight = w.view(b, -1, c_in, kk, kk)
                params[f"layers.{i}.weight"] = weight
                conv = lambda bias: F.conv2d(  # noqa: E731
                    maps.transpose(0, 1).flatten(1, 2), weight.flatten(0, 1),
                    bias.flatten() if arch.bias else None, stride=st, padding=kk // 2, groups=b,
                )  # (n, B*C_out, H', W')
                out = conv(bias)
                if arch.bias:
                    dead = _dead(act(out).view(n, b, -1, *out.shape[-2:]), (0, 3, 4))
                    if bool(dead.any()):  # a constant layer: centre its units instead (see _dead)
                        bias = torch.where(dead.unsqueeze(1), _centring_bias(ar, w), bias)
                        out = conv(bias)
                if arch.bias:
                    params[f"layers.{i}.bias"] = bias
                maps = act(out).view(n, b, -1, *out.shape[-2:]).transpose(0, 1)
            a = maps.mean(dim=(3, 4))
        w, bias = self._head(a, y, k, arch.bias)
        params[f"layers.{last}.weight"] = w
        if bias is not None:
            params[f"layers.{last}.bias"] = bias
        return params

    def forward(self, graph, x: Tensor, y: Tensor, num_classes: int | None = None, seed: int = 0):
        """Write the weights of the network whose :class:`~metanet.graph.NeuralGraph` is ``graph``.

        The graph gives the architecture and the starting weights (its edge and bias values: a seeded init or a zoo
        member); the result is a new ``NeuralGraph`` of the same architecture holding the written weights.

        Shapes:
            - graph: :math:`N` nodes, :math:`E` edges; x: :math:`(n, *\\text{input shape})`; y: :math:`(n,)`
            - output: a ``NeuralGraph`` with the same nodes and edges
        """
        import json

        from torch_geometric.data import Batch, Data

        from metanet.errors import GraphError
        from metanet.graph import to_graphs, to_state_dict

        if isinstance(graph, Batch):  # a Batch's arch is a list (one per graph): an AttributeError below
            if graph.num_graphs != 1:
                raise GraphError(f"the writer writes one network per call, got a Batch of {graph.num_graphs} graphs; "
                                 "pass its graphs one by one (batch.get_example(i))")
            graph = graph.get_example(0)
        if not isinstance(graph, Data):
            raise GraphError(f"expected a NeuralGraph (metanet.graph.to_graph(module)), got {type(graph).__name__}")
        # checked and read as from_graph does: edges in any order (by edge_kind); the values are starting weights
        start = to_state_dict(graph)
        if any(v.is_meta for v in start.values()):
            raise GraphError("the graph is on the 'meta' device and holds no starting weights; pass a graph with "
                             "values (e.g. to_graph of a network on cpu)")
        spec = json.loads(graph.arch) if isinstance(graph.arch, str) else graph.arch
        if not isinstance(spec, dict) or spec.get("family") not in ("mlp", "cnn"):
            family = spec.get("family") if isinstance(spec, dict) else type(spec).__name__
            raise ArchError(f"the writer writes metanet's mlp and cnn families, not {family!r} networks")
        arch = Arch.from_dict(spec)
        params = self.write(arch, x, y, num_classes, start={k: v.unsqueeze(0) for k, v in start.items()}, seed=seed)
        return to_graphs(arch, params, edge_dim=graph.edge_attr.shape[-1])[0]

    # --- persistence -------------------------------------------------------------------------------
    def config(self) -> dict:
        """The constructor options that are not learned (what :meth:`save` stores to rebuild the writer; the
        learned regularisers, temperature and starting-weight mix are in the state dict).
        """
        return {
            "hidden": self.psi_f.out_features,
            "message": self.psi_h.in_features,
            "steps": self.steps,
            "max_rows": self.max_rows,
            "head": self.head,
            "head_iters": self.head_iters,
            "augment": self.augment,
            "augment_below": self.augment_below,
        }

    def save(self, path) -> Path:
        """Write this writer (weights and config) to one safetensors file; returns its path (as ``Reader.save``)."""
        from metanet.checkpoints import save_module

        meta = [name for name, t in self.state_dict().items() if t.is_meta]
        if meta:  # a NotImplementedError ('Cannot copy out of meta tensor') from the copy below
            raise ConfigError(f"this Writer's parameter {meta[0]} is on the 'meta' device (no values) and cannot be "
                              "saved; load or train a writer with values first")
        out = save_module(self, path, kind="writer", config=self.config())
        self._origin = _origin(out, self)  # from now on generate's report names this file
        return out

    @classmethod
    def load(cls, path=None) -> "Writer":
        """Load a writer checkpoint: a file written by :meth:`save`, or a Lightning ``.ckpt`` of
        :class:`~metanet.writer.lightning.WriterModule` (``None``: the checkpoint shipped inside the package)."""
        from metanet.checkpoints import _checked_path, load_lightning, load_module

        # one reading of the path (type, empty, '~'): no path or an empty one is a CheckpointError
        path = None if path is None else _checked_path(path, "writer")
        # building the module drew its throwaway default init from torch's global RNG (then overwritten by the
        # checkpoint's weights): loading changed the caller's random stream. On the cpu: under
        # torch.set_default_device("meta") the module was built on 'meta' and loading its weights kept no values
        with forked_rng(), cpu_default():
            if path is not None and path.name.lower().endswith(".ckpt"):  # also "last.CKPT"
                keys = ("hidden", "message", "ridge_lambda", "sub_lambda", "head_lambda", "temperature", "start_mix",
                        "steps", "max_rows", "head", "head_iters", "logit_lambda", "augment", "augment_below")
                writer = load_lightning(cls, path, "writer", "writer", keys)
            else:
                writer = load_module(cls, path, kind="writer")
        writer._origin = _origin(path, writer)  # what generate's report names (while the weights are still these)
        return writer

    def identity(self) -> dict[str, str]:
        """Which writer this is, as :func:`~metanet.writer.generate` records it in its report and saved files.

        ``{"source": "shipped", "sha256": ...}`` for the checkpoint shipped inside the package,
        ``{"source": "file", "path": ..., "sha256": ...}`` for one loaded from another file (its absolute path and the
        file's sha256), ``{"source": "in-memory"}`` for a writer built or changed in this process (trained, or
        its weights edited after loading): no file holds it. Every one also has ``state_sha256``, the sha256 of its
        config and tensors (:meth:`save` it and that file's writer has the same ``state_sha256``).
        """
        state = _state_sha256(self)
        origin = getattr(self, "_origin", None)
        if origin is not None and origin["state_sha256"] == state:
            return dict(origin)
        return {"source": "in-memory", "state_sha256": state}


def _state_sha256(writer: "Writer") -> str:
    """sha256 of a writer's config and its tensors in sorted key order (names, dtypes, shapes and bytes)."""
    h = hashlib.sha256(json.dumps(writer.config(), sort_keys=True).encode())
    for name, t in sorted(writer.state_dict().items()):
        h.update(f"{name}:{t.dtype}:{tuple(t.shape)};".encode())
        if not t.is_meta:  # no values to hash (such a writer writes nothing either: check_float32)
            h.update(t.detach().cpu().contiguous().reshape(-1).view(torch.uint8).numpy().tobytes())
    return h.hexdigest()


def _origin(path, writer: "Writer") -> dict[str, str]:
    """The identity of a writer just loaded from ``path`` (None: the shipped checkpoint)."""
    from metanet.checkpoints import shipped
    from metanet.io import _path, file_sha256

    file = (Path(shipped("writer")) if path is None else _path(path)).resolve()  # '~' expanded, as the loader does
    out = {"source": "shipped"} if file == Path(shipped("writer")).resolve() else {"source": "file", "path": str(file)}
    return {**out, "sha256": file_sha256(file), "state_sha256": _state_sha256(writer)}


def _support(x, y) -> tuple[Tensor, Tensor]:
    """The support set as float32 inputs ``(n, ...)`` and int64 labels ``(n,)``, or a TaskError naming the problem
    (float labels, a length mismatch or NaN inputs used to surface as torch errors deep in the solvers)."""
    # before as_tensor: under a default device (torch.set_default_device, even "cpu") it copies a meta tensor
    # there, "Cannot copy out of meta tensor; no data!"
    for name, t in (("inputs", x), ("labels", y)):
        if isinstance(t, Tensor) and t.is_meta:  # its values are read below: a RuntimeError from .item() on meta
            raise TaskError(f"support {name} are on the 'meta' device and hold no values; pass tensors with data "
                            "(e.g. on cpu)")
    try:
        x, y = torch.as_tensor(x), torch.as_tensor(y)
    except (TypeError, ValueError, RuntimeError) as e:
        raise TaskError(f"support inputs and labels must be tensors or arrays ({type(e).__name__}: {e})") from None
    if x.dim() < 2:
        raise TaskError(f"support inputs must have shape (n, *input_shape), got shape {tuple(x.shape)}")
    # uint8 images and bool inputs are read as every task reader reads them (tasks.as_examples, from_examples),
    # so the support set generate() takes from uint8 examples and the same images given here are one support set
    from metanet.tasks.resolve import _warn_if_unscaled, as_inputs

    x = as_inputs(x, "support inputs")
    if y.dim() != 1:
        raise TaskError(f"support labels must be a 1-D tensor of shape (n,), got shape {tuple(y.shape)}")
    if y.dtype == torch.bool or y.is_floating_point() or y.is_complex():
        raise TaskError(f"support labels must be integer class ids 0..K-1 (e.g. y.long()), got dtype {y.dtype}")
    if len(x) != len(y):
        raise TaskError(f"{len(x)} support inputs but {len(y)} labels; they must match")
    x = x.to(torch.float32)  # the writer's own dtype (and the tasks'): float64 inputs are the same support set
    # one pass over the inputs when they are fine: the max is NaN or inf exactly when some value is
    big = float(x.detach().abs().max()) if x.numel() else 0.0
    if not math.isfinite(big):
        bad = int((~torch.isfinite(x)).sum())
        raise TaskError(f"support inputs contain {bad} NaN or infinite values; all must be finite")
    if big > _MAX_INPUT:  # their float32 second moments overflow: a raw ValueError from the assignment solver
        raise TaskError(f"support inputs reach {big:.3g}, beyond what the writer's float32 statistics hold "
                        f"({_MAX_INPUT:.0e}); scale them (tasks' inputs lie in [0, 1])")
    # float 0..255 images were written for silently: weights made for [0, 1] inputs, accuracy at chance
    _warn_if_unscaled(x, "support inputs")
    return x, y.long()


def _check_start(arch: Arch, start: dict[str, Tensor], candidates: int) -> None:
    """Starting weights must be ``name -> (B, *shape)`` for every parameter of ``arch``: the written layers take
    their width from them, so another width used to give weights of another architecture, silently."""
    from metanet.nets import build

    want = {k: tuple(v.shape) for k, v in build(arch, seed=None).state_dict().items()}
    if not isinstance(start, dict) or set(start) != set(want):
        got = sorted(start) if isinstance(start, dict) else type(start).__name__
        raise ArchError(f"starting weights must have the parameters {sorted(want)} of {arch}, got {got}")
    b = None
    for name, shape in want.items():
        v = start[name]
        if not isinstance(v, Tensor) or v.dim() != len(shape) + 1 or tuple(v.shape[1:]) != shape:
            got = tuple(v.shape) if isinstance(v, Tensor) else type(v).__name__
            raise ArchError(f"starting weight {name} of {arch} must have shape (B, {', '.join(map(str, shape))}) "
                            f"(B weight sets), got {got}")
        if not v.is_floating_point() or v.is_meta:  # raw torch errors deep in the solvers otherwise
            got = "on the 'meta' device (no values)" if v.is_meta else f"of dtype {v.dtype}"
            raise ArchError(f"starting weight {name} of {arch} must be a floating-point tensor with values, got one "
                            f"{got}")
        if b is not None and v.shape[0] != b:
            raise ArchError(f"starting weights hold different numbers of weight sets ({b} and {v.shape[0]} in {name})")
        b = v.shape[0]
    if b < 1:
        raise ArchError("starting weights hold no weight set (B = 0)")
    if candidates not in (1, b):  # the default 1 means "as many as the starting weights"
        raise ArchError(f"{b} starting weight set(s) cannot give {candidates} candidates: give {candidates} or "
                        "leave candidates at 1")


def _dead(h: Tensor, rows: tuple[int, ...]) -> Tensor:
    r"""``(B,)``: which candidates' written layer is constant on the support set (every unit's activation ``h`` the
    same on every row over the dimensions ``rows``; the candidate is the remaining dimension before the units).

    The learned shift :math:`\beta(h_j)` sets each unit's threshold in units of its support std; on a support set
    of two or three examples no standardised pre-activation exceeds 1 or 1.41 (at most :math:`\sqrt{n - 1}`), so
    a shift below that left every ReLU unit dead on every example (mnist1d, one shot per class, unaugmented) and the
    head, fitted on all-zero features, wrote zeros: a constant network. Such a layer's units are centred on the
    support mean instead (the shift dropped: each fires on the upper side of its direction). A layer with any
    varying unit is left exactly as written."""
    return (h.amax(dim=rows) == h.amin(dim=rows)).all(-1)


def _centring_bias(a: Tensor, w: Tensor) -> Tensor:
    """``(B, d_out)``: the bias centring each unit of ``w`` ``(B, d_out, d_in)`` on the rows ``a`` ``(B, n, d_in)``."""
    return -(a.mean(1, keepdim=True) @ w.transpose(1, 2)).squeeze(1)


def _unit_rows(w: Tensor) -> Tensor:
    """Rescale starting weights so that ``row * sqrt(d_in)`` has unit RMS (the writer is scale-free in them)."""
    rms = w.pow(2).mean(-1, keepdim=True).add(1e-12).sqrt()
    return w / rms / math.sqrt(w.shape[-1])


def _check_fits_memory(arch: Arch, b: int) -> None:
    """A TaskError (as write's other option errors) when ``b`` weight sets of ``arch`` cannot fit this machine's
    memory: ``candidates=10**8`` built the candidates' starting networks one by one for minutes before running out of
    memory."""
    # three copies: the starting weights, their stack and the written weights
    check_fits_memory(f"candidates={b:,} weight sets of {arch}", 3 * b * arch.num_parameters(),
                      "give fewer candidates", TaskError)


def _seeded_init(arch: Arch, b: int, seed: int) -> dict[str, Tensor]:
    from metanet.nets import build

    # torch seeds are taken modulo 2**64 (it does so itself for negative ones): any integer seed works
    nets = [build(arch, seed=(seed * 100_003 + j) % 2**64) for j in range(b)]
    return {k: torch.stack([n.state_dict()[k] for n in nets]) for k in nets[0].state_dict()}
