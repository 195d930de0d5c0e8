r"""`Reader`: a message-passing GNN over neural graphs that predicts what a network does from its weights.

Input: a PyG ``Batch`` (or one graph) of :class:`~metanet.graph.NeuralGraph` s, any mix of architectures (MLPs and
CNNs of any widths and depths; edge values of up to ``edge_dim`` columns, i.e. kernels up to 3x3 by default).

Design (after Kofinas et al. 2024, with a cheap message function):

- **Normalisation.** Weights and biases are standardised per *layer slot* with statistics fitted on the training
  split only (:meth:`Reader.fit_normalisation`): slot = (neuron layer of the edge's target, capped at
  ``max_layers``; whether that layer is the output layer). Stored as buffers, so they ship with the checkpoint.
- **Node features.** normalised bias, has-bias, embeddings of node kind, activation and layer index; input and
  output neurons add an embedding of their position (they are not interchangeable); hidden neurons get none, so
  permuting hidden neurons only relabels nodes.
- **Message passing.** ``layers`` rounds; each runs a forward pass (messages along the edges) and a backward pass
  (along reversed edges), messages linear in the neighbour states, one channel per edge feature (weight values,
  |w|, w², residual flag, 1), mean aggregation (:class:`EdgeConv`, a sparse product), then a residual node update
  (MLP + LayerNorm).
- **Readout.** mean pools of the input, hidden and output nodes, plus invariant weight statistics (mean, std,
  mean |w|, max |w| of the normalised weights and biases of the first, middle and last layers) -> an MLP ->
  graph heads. A per-node head reads each node's state with its graph's embedding.

Graph heads (``forward`` returns a dict): ``accuracy`` (in [0, 1]), ``task`` (logits over ``tasks``),
``backdoor`` (logit), ``log_lr`` (log10 learning rate), ``log_epoch`` (:math:`\log(1+\text{epoch})`),
``activation`` (logits over ``metanet.nets.ACTIVATIONS``), ``optimizer`` (logits over
``metanet.zoo.recipe.OPTIMIZERS``). Node head: ``role`` :math:`(N, 2 + C)` logits over
:func:`role_names` ``= ["dead", "polysemantic", "selective:0", ..., "selective:C-1"]`` (see
:mod:`metanet.reader.roles`).

Every output is invariant (graph heads) or equivariant (node head) to permutations of hidden neurons by
construction: nothing in the model depends on the order of hidden nodes.
"""

from __future__ import annotations

import os
import warnings
from typing import Any, Iterable, Sequence

import torch
from torch import Tensor, nn
from torch_geometric.nn import MessagePassing
from torch_geometric.utils import scatter

from metanet.errors import GraphError

__all__ = ["Reader", "EdgeConv", "ROLE_BASE", "role_names", "OPTIMIZER_NAMES", "ACTIVATION_NAMES"]

ROLE_BASE = ("dead", "polysemantic")
OPTIMIZER_NAMES = ("sgd", "adam", "adamw")  # = metanet.zoo.recipe.OPTIMIZERS (kept here: no zoo import needed)
ACTIVATION_NAMES = ("identity", "relu", "tanh", "gelu", "sigmoid", "leaky_relu", "silu")  # metanet.nets order

_INPUT, _HIDDEN, _OUTPUT = 0, 1, 2


def role_names(num_classes: int) -> list[str]:
    """Names of the node-head classes: dead, polysemantic, selective:0 .. selective:C-1."""
    return [*ROLE_BASE, *(f"selective:{c}" for c in range(num_classes))]


class EdgeConv(MessagePassing):
    r"""One direction of message passing, linear in the neighbours' states and weighted by the edge values, the way a
    network itself propagates signals: :math:`h'_i = U\,[\frac{1}{|N(i)|}\sum_{j \to i} c_k(e_{ji})\, h_j]_{k}`
    with fixed edge channels :math:`c(e)` = (normalised weight values, their mean absolute value, mean square,
    residual flag, 1) and a learned :math:`U`. (A learned linear :math:`c(e)` would add nothing: :math:`U`
    already mixes the channels.)

    Implemented as PyG's fused ``message_and_aggregate`` over one sparse adjacency stacking the K channels
    (:meth:`adjacency`, built once per forward pass and shared by all rounds): one sparse-dense product per
    direction and round, no per-edge feature tensors.
    """

    def __init__(self, hidden: int, channels: int) -> None:
        super().__init__(aggr="sum", flow="source_to_target")
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

    def forward(self, h: Tensor, adj: Tensor, inv_deg: Tensor) -> Tensor:
        """``adj`` from :meth:`adjacency`; ``inv_deg`` (N, 1) the receivers' 1 / in-degree (1 for none)."""
        n = h.shape[0]
        agg = self.propagate(adj, h=h)  # (K N, H)
        agg = agg.view(self.channels, n, -1).transpose(0, 1).reshape(n, -1)
        return self.out(agg * inv_deg)

    def message_and_aggregate(self, adj_t: Tensor, h: Tensor) -> Tensor:  # noqa: D102
        return torch.sparse.mm(adj_t, h)


def _mlp(i: int, h: int, o: int) -> nn.Sequential:
    return nn.Sequential(nn.Linear(i, h), nn.ReLU(), nn.Linear(h, o))


class Reader(nn.Module):
    """Reads neural graphs; see the module docstring.

    Args:
        tasks: task names of the task head, in class order.
        hidden: node state width.
        layers: message-passing rounds (each a forward and a backward pass).
        edge_dim: edge value columns read (conv kernels up to 3x3 by default).
        max_layers: neuron layers with their own normalisation slot and layer embedding (deeper ones share the
            last).
        max_inputs: input positions with their own embedding (larger indices wrap around).
        num_classes: classes of the per-node selectivity head (and output positions embedded).
        stats: add the invariant weight statistics to the readout.
    """

    def __init__(self, tasks: Sequence[str] = ("mnist",), hidden: int = 32, layers: int = 2, edge_dim: int = 9,
                 max_layers: int = 8, max_inputs: int = 1024, num_classes: int = 10, stats: bool = True) -> None:
        super().__init__()
        self.config = dict(tasks=list(tasks), hidden=hidden, layers=layers, edge_dim=edge_dim, max_layers=max_layers,
                           max_inputs=max_inputs, num_classes=num_classes, stats=stats)
        self.tasks = list(tasks)
        self.hidden, self.edge_dim, self.max_layers = hidden, edge_dim, max_layers
        self.max_inputs, self.num_classes, self.use_stats = max_inputs, num_classes, stats
        # normalisation (fitted on the training split): [slot, (mean, std)], slot = layer index x is-output
        self.register_buffer("w_norm", torch.tensor([[0.0, 1.0]]).repeat(2 * max_layers, 1))
        self.register_buffer("b_norm", torch.tensor([[0.0, 1.0]]).repeat(2 * max_layers, 1))
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
        n_stats = 3 * 8 + 2 if stats else 0
        self.stats_norm = nn.LayerNorm(n_stats) if stats else None
        g = 2 * hidden
        self.readout = nn.Sequential(nn.Linear(3 * hidden + n_stats, g), nn.ReLU(), nn.Linear(g, g), nn.ReLU())
        self.heads = nn.ModuleDict({
            "accuracy": nn.Linear(g, 1), "task": nn.Linear(g, len(self.tasks)), "backdoor": nn.Linear(g, 1),
            "log_lr": nn.Linear(g, 1), "log_epoch": nn.Linear(g, 1),
            "activation": nn.Linear(g, len(ACTIVATION_NAMES)), "optimizer": nn.Linear(g, len(OPTIMIZER_NAMES)),
        })
        self.node_head = _mlp(hidden + g, hidden, 2 + num_classes)

    # --- normalisation ---------------------------------------------------------------------------------
    def _edge_slot(self, layer: Tensor, kind: Tensor) -> Tensor:
        return (layer.clamp(1, self.max_layers) - 1) * 2 + (kind == _OUTPUT).long()

    @torch.no_grad()
    def fit_normalisation(self, graphs: Iterable[Any]) -> "Reader":
        """Fit the per-slot mean / std of weights and biases on ``graphs`` (the training split only)."""
        n = 2 * self.max_layers
        ws, ws2, wc = torch.zeros(n, dtype=torch.float64), torch.zeros(n, dtype=torch.float64), torch.zeros(n)
        bs, bs2, bc = torch.zeros(n, dtype=torch.float64), torch.zeros(n, dtype=torch.float64), torch.zeros(n)
        count = 0
        for g in graphs:
            count += 1
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
        if count == 0:
            raise GraphError("fit_normalisation() needs at least one training graph")
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
        self.fitted.fill_(True)
        return self

    # --- forward -------------------------------------------------------------------------------------
    def forward(self, data: Any) -> dict[str, Tensor]:
        """Predictions for a graph or a ``Batch``: graph heads ``(G, ...)`` and ``role`` ``(N, 2 + C)``."""
        x, edge_index, ea = data.x, data.edge_index, data.edge_attr
        kind, layer, act, pos = data.node_kind, data.node_layer, data.node_act, data.node_pos
        ekind = data.edge_kind
        batch = getattr(data, "batch", None)
        if batch is None:
            batch = torch.zeros(x.shape[0], dtype=torch.long, device=x.device)
        num_graphs = int(data.num_graphs) if hasattr(data, "num_graphs") else 1
        if ea.dim() != 2 or x.dim() != 2 or x.shape[1] < 6:
            raise GraphError(f"expected a NeuralGraph with x (N, 6) and edge_attr (E, F); got x {tuple(x.shape)}, "
                             f"edge_attr {tuple(ea.shape)}")
        if ea.shape[1] > self.edge_dim:
            raise GraphError(f"edge values have {ea.shape[1]} columns; this reader reads kernels of up to "
                             f"{self.edge_dim} values (3x3)")
        ea = ea.float()
        src, dst = edge_index
        # normalise
        nslot = self._edge_slot(layer, kind)
        eslot = nslot[dst]
        resid = (ekind == 1)
        wn = self.w_norm[eslot]
        f_in = ea.shape[1]  # value columns present (1 for MLPs); the rest of the edge_dim channels are empty
        nz = ea != 0
        e_norm = torch.where(nz, (ea - wn[:, :1]) / wn[:, 1:], torch.zeros_like(ea))
        e_norm = torch.where(resid[:, None], torch.zeros_like(e_norm), e_norm)
        width = nz.sum(1, keepdim=True).clamp(min=1)
        e_feat = torch.cat([e_norm, e_norm.abs().sum(1, keepdim=True) / width, (e_norm**2).sum(1, keepdim=True) / width,
                            resid.float()[:, None], torch.ones_like(e_norm[:, :1])], 1)
        chan = torch.cat([torch.arange(f_in), self.edge_dim + torch.arange(4)]).to(x.device)
        has_bias = x[:, 5:6].float()
        bn = self.b_norm[nslot]
        b_norm = (x[:, :1].float() - bn[:, :1]) / bn[:, 1:] * has_bias
        # node states
        h = self.node_in(torch.cat([b_norm, has_bias], 1)) + self.kind_emb(kind) + self.act_emb(act.clamp(0, len(ACTIVATION_NAMES)))
        h = h + self.layer_emb(layer.clamp(0, self.max_layers))
        is_in, is_out = kind == _INPUT, kind == _OUTPUT
        p = pos.clamp(min=0)
        h = h + self.in_pos(p % self.max_inputs) * is_in[:, None] + self.out_pos(p % self.num_classes) * is_out[:, None]
        # adjacencies sorted by receiver for both directions (graphs from to_graph are already sorted by target)
        n = x.shape[0]
        key = dst * n + src
        f_order = None if bool((key[1:] >= key[:-1]).all()) else torch.argsort(key)
        b_order = torch.sort(src if f_order is None else src[f_order], stable=True).indices
        if f_order is not None:
            b_order = f_order[b_order]
        ones = torch.ones(len(src), device=x.device)
        inv_in = 1.0 / scatter(ones, dst, 0, dim_size=n, reduce="sum").clamp(min=1)[:, None]
        inv_out = 1.0 / scatter(ones, src, 0, dim_size=n, reduce="sum").clamp(min=1)[:, None]
        if f_order is None:
            adj_f = EdgeConv.adjacency(dst, src, e_feat, chan, self.channels, n)
        else:
            adj_f = EdgeConv.adjacency(dst[f_order], src[f_order], e_feat[f_order], chan, self.channels, n)
        adj_b = EdgeConv.adjacency(src[b_order], dst[b_order], e_feat[b_order], chan, self.channels, n)
        for fwd, bwd, upd, norm in zip(self.fwd, self.bwd, self.upd, self.norms):
            mf = fwd(h, adj_f, inv_in)
            mb = bwd(h, adj_b, inv_out)
            h = norm(h + upd(torch.cat([h, mf, mb], 1)))
        # readout: mean pools per node kind
        pool_idx = batch * 3 + kind
        pooled = scatter(h, pool_idx, 0, dim_size=num_graphs * 3, reduce="mean").view(num_graphs, 3 * self.hidden)
        feats = [pooled]
        if self.use_stats:
            feats.append(self.stats_norm(self._stats(e_norm[:, 0], resid, b_norm[:, 0], has_bias[:, 0] > 0, kind,
                                                     layer, batch, dst, num_graphs)))
        z = self.readout(torch.cat(feats, 1))
        out = {k: head(z) for k, head in self.heads.items()}
        for k in ("accuracy", "backdoor", "log_lr", "log_epoch"):
            out[k] = out[k].squeeze(-1)
        out["accuracy"] = torch.sigmoid(out["accuracy"])
        out["role"] = self.node_head(torch.cat([h, z[batch]], 1))
        out["embedding"] = z
        return out

    def _stats(self, w: Tensor, resid: Tensor, b: Tensor, hb: Tensor, kind: Tensor, layer: Tensor, batch: Tensor,
               dst: Tensor, num_graphs: int) -> Tensor:
        """Per graph: (mean, std, mean|v|, max|v|) of normalised weights and biases of the first / middle / last
        layers (3 x 8), plus log(1 + hidden neurons) and the number of hidden layers / 4."""
        def slot3(k: Tensor, l: Tensor) -> Tensor:
            return torch.where(k == _OUTPUT, torch.full_like(l, 2), torch.where(l == 1, torch.zeros_like(l),
                                                                                 torch.ones_like(l)))

        def moments(v: Tensor, idx: Tensor) -> Tensor:
            n = num_graphs * 3
            mean = scatter(v, idx, 0, dim_size=n, reduce="mean")
            sq = scatter(v * v, idx, 0, dim_size=n, reduce="mean")
            std = (sq - mean**2).clamp(min=0).add(1e-8).sqrt()
            mabs = scatter(v.abs(), idx, 0, dim_size=n, reduce="mean")
            mx = scatter(v.abs(), idx, 0, dim_size=n, reduce="max")
            return torch.stack([mean, std, mabs, mx], 1).view(num_graphs, 12)

        keep = ~resid
        eb = batch[dst]
        eidx = eb * 3 + slot3(kind[dst], layer[dst])
        ws = moments(w[keep], eidx[keep])
        nidx = batch * 3 + slot3(kind, layer)
        bs = moments(b[hb], nidx[hb])
        hidden = kind == _HIDDEN
        n_hidden = scatter(hidden.float(), batch, 0, dim_size=num_graphs, reduce="sum")
        depth = scatter(layer.float(), batch, 0, dim_size=num_graphs, reduce="max") - 1
        return torch.cat([ws, bs, torch.log1p(n_hidden)[:, None], depth[:, None] / 4], 1)

    # --- files ---------------------------------------------------------------------------------------
    def save(self, path: str | os.PathLike, **meta: Any):
        """Write this reader (weights, normalisation and config) to one safetensors file."""
        from metanet.checkpoints import save_module

        return save_module(self, path, "reader", self.config, **meta)

    @classmethod
    def load(cls, path: str | os.PathLike | None = None) -> "Reader":
        """A reader from a file written by :meth:`save`, or a Lightning ``.ckpt`` of
        :class:`~metanet.reader.lightning.ReaderModule` (``None``: the checkpoint shipped with metanet)."""
        if path is not None and str(path).endswith(".ckpt"):
            return _from_lightning(cls, path)
        from metanet.checkpoints import load_module

        return load_module(cls, path, "reader")


def _from_lightning(cls: type, path: str | os.PathLike) -> "Reader":
    from metanet.errors import CheckpointError

    try:
        ckpt = torch.load(str(path), map_location="cpu", weights_only=False)
        hp = ckpt["hyper_parameters"]
        cfg = {k: hp[k] for k in ("tasks", "hidden", "layers", "edge_dim", "max_layers", "max_inputs", "num_classes",
                                  "stats") if k in hp}
        model = cls(**cfg)
        state = {k[len("reader."):]: v for k, v in ckpt["state_dict"].items() if k.startswith("reader.")}
        model.load_state_dict(state, strict=True)
    except (OSError, KeyError, RuntimeError, TypeError, ValueError) as e:
        raise CheckpointError(f"{path} is not a reader Lightning checkpoint ({e})") from None
    return model.eval()
