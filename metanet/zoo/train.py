"""Population training: P networks of one architecture trained together as stacked parameters.

Every parameter of a population is one tensor with a leading member dimension ``(P, *shape)``; the forward pass is
written with batched matrix products (MLP) and grouped convolutions (CNN), so P small networks cost about as
much as one wide one. Each member keeps everything that makes it an independent training run:

- its own task data, data order, dropout masks, label noise and poisoned examples, each drawn from generators
  seeded by the run's own seed (:func:`metanet.zoo.recipe.run_seeds`), never from a shared stream;
- its own hyperparameters: learning rate, weight decay and momentum are ``(P,)`` tensors broadcast over each
  parameter in :class:`PopulationOptimizer`, a vectorised re-statement of ``torch.optim`` SGD/Adam/AdamW.

Members that train together share the architecture, optimizer kind, batch size, epochs and training-set size (the
"group key" of :class:`~metanet.zoo.recipe.RunSpec`), so every member takes the same number of steps of the same
shape; grouping rather than masking keeps the step free of wasted work. :func:`train_one` is the plain reference:
one ``nn.Module``, ``torch.optim``, the same random streams; a member of a population matches it within float
tolerance (``tests/zoo/test_train.py``).

A member whose loss or parameters become non-finite during an epoch is put back to its parameters at the start of
that epoch and frozen there (``diverged`` is recorded) instead of storing NaNs in the zoo; the other members are
unaffected.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Sequence

import torch
import torch.nn.functional as F
from torch import Tensor

from metanet.nets import Arch, activation, build
from metanet.zoo.backdoor import poison_indices, poisoned_test_set, trigger_tensors
from metanet.zoo.data import TaskData
from metanet.zoo.recipe import RunSpec, derived_seeds

__all__ = [
    "Checkpoint",
    "RunResult",
    "PopulationOptimizer",
    "population_forward",
    "init_params",
    "train_population",
    "train_one",
    "evaluate_population",
]


@dataclass
class Checkpoint:
    """One stored network: the run's parameters at ``epoch`` and what they score.

    Attributes:
        epoch: epochs trained (0 = the initialisation).
        state: parameter tensors named as in ``metanet.nets.build(arch).state_dict()``.
        metrics: ``train_acc``, ``val_acc``, ``test_acc``, ``test_loss``, ``diverged`` (bool) and, for a
            poisoned run, ``asr`` (attack success rate).
    """

    epoch: int
    state: dict[str, Tensor]
    metrics: dict[str, Any] = field(default_factory=dict)


@dataclass
class RunResult:
    """A trained run: its spec and its checkpoints in epoch order."""

    run: RunSpec
    checkpoints: list[Checkpoint]


# ---------------------------------------------------------------------------------------------------------------
# forward
# ---------------------------------------------------------------------------------------------------------------
def _linear(h: Tensor, w: Tensor, b: Tensor | None) -> Tensor:
    """Per-member ``h @ w.T + b``: h (P, n, in) or shared (n, in); w (P, out, in); b (P, out)."""
    if h.dim() == 2:
        z = torch.matmul(h, w.transpose(1, 2))  # broadcast the shared input over members
        return z + b.unsqueeze(1) if b is not None else z
    if b is not None:
        return torch.baddbmm(b.unsqueeze(1), h, w.transpose(1, 2))
    return torch.bmm(h, w.transpose(1, 2))


def population_forward(
    arch: Arch,
    params: Mapping[str, Tensor],
    x: Tensor,
    dropout: Sequence[Tensor | None] | None = None,
    per_member: bool = False,
) -> Tensor:
    """Logits of every member: the stacked equivalent of ``metanet.nets.build(arch)(x)``.

    Args:
        arch: the members' architecture.
        params: stacked parameters, ``params[name]`` of shape ``(P, *shape)``.
        x: inputs shared by all members ``(n, *input_shape)``, or per-member inputs ``(P, n, *input_shape)``
            when ``per_member`` is true.
        dropout: optional per-layer multiplicative masks (already scaled by 1/keep): MLP: one ``(P, n, width)``
            mask per hidden layer, applied to the activation output (before a residual add); CNN: one mask
            ``(P, n, channels)`` on the pooled features before the classifier. ``None`` entries skip a layer.
        per_member: whether ``x`` has the leading member dimension.

    Returns:
        Logits ``(P, n, num_classes)``.
    """
    act = activation(arch.activation)
    p0 = params["layers.0.weight"]
    nmem = p0.shape[0]
    shared = not per_member
    L = arch.num_layers
    if arch.family == "mlp":
        h = x.flatten(1) if shared else x.flatten(2)
        skips = set(arch.skip_layers())
        for i in range(L - 1):
            z = act(_linear(h, params[f"layers.{i}.weight"], params.get(f"layers.{i}.bias")))
            if dropout is not None and dropout[i] is not None:
                z = z * dropout[i]
            h = h + z if i in skips else z
        return _linear(h, params[f"layers.{L - 1}.weight"], params.get(f"layers.{L - 1}.bias"))
    # cnn: members side by side in the channel dimension, one grouped convolution per layer
    pad = arch.kernel // 2
    if shared:
        h = x  # (n, C, H, W): the first layer is one ordinary convolution with P*O output channels
        groups = 1
    else:
        n = x.shape[1]
        h = x.transpose(0, 1).reshape(n, nmem * x.shape[2], *x.shape[3:])
        groups = nmem
    for i in range(L - 1):
        w = params[f"layers.{i}.weight"]
        b = params.get(f"layers.{i}.bias")
        h = F.conv2d(h, w.reshape(-1, *w.shape[2:]), b.reshape(-1) if b is not None else None,
                     stride=arch.stride, padding=pad, groups=groups)
        h = act(h)
        groups = nmem
    n = h.shape[0]
    feats = h.mean(dim=(2, 3)).view(n, nmem, -1).transpose(0, 1)  # (P, n, channels)
    if dropout is not None and dropout[0] is not None:
        feats = feats * dropout[0]
    return _linear(feats, params[f"layers.{L - 1}.weight"], params.get(f"layers.{L - 1}.bias"))


def _dropout_widths(arch: Arch) -> list[int]:
    """Widths of the layers dropout applies to (see :func:`population_forward`)."""
    return list(arch.widths[1:-1]) if arch.family == "mlp" else [arch.widths[-2]]


# ---------------------------------------------------------------------------------------------------------------
# optimizer
# ---------------------------------------------------------------------------------------------------------------
_FUSED_ADAM = hasattr(torch, "_fused_adam_")


class PopulationOptimizer:
    """SGD (with momentum), Adam or AdamW over stacked parameters, with per-member hyperparameters.

    Each update is the one ``torch.optim`` applies to a single network (same formulas and operation order,
    weight decay coupled for SGD/Adam and decoupled for AdamW), with ``lr``, ``weight_decay`` and ``momentum``
    as ``(P,)`` tensors broadcast over the member dimension.

    Args:
        kind: ``"sgd"``, ``"adam"`` or ``"adamw"``.
        params: the stacked parameter tensors, each ``(P, ...)``.
        lr, weight_decay, momentum: ``(P,)`` tensors (momentum is used by SGD only).
        betas, eps: Adam's constants (torch defaults).
    """

    def __init__(self, kind: str, params: Sequence[Tensor], lr: Tensor, weight_decay: Tensor,
                 momentum: Tensor | None = None, betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8) -> None:
        if kind not in ("sgd", "adam", "adamw"):
            raise ValueError(f"unknown optimizer {kind!r}; valid: sgd, adam, adamw")
        self.kind, self.betas, self.eps = kind, betas, eps
        self.lr, self.wd = lr, weight_decay
        self.momentum = momentum if momentum is not None else torch.zeros_like(lr)
        self.has_wd = bool((weight_decay != 0).any())  # skip the decay terms when no member uses them
        self.t = 0
        self._step_t = torch.zeros((), dtype=torch.float32)
        self.state: list[dict[str, Tensor]] = [{} for _ in params]

    @staticmethod
    def _b(v: Tensor, like: Tensor) -> Tensor:
        return v.view(-1, *([1] * (like.dim() - 1)))

    @torch.no_grad()
    def step(self, params: Sequence[Tensor], grads: Sequence[Tensor]) -> None:
        """Update ``params`` in place from ``grads`` (which may be overwritten)."""
        self.t += 1
        for p, g, st in zip(params, grads, self.state):
            lr = self._b(self.lr, p)
            wd = self._b(self.wd, p) if self.has_wd else None
            if self.kind == "sgd":
                if wd is not None:
                    g = g.addcmul_(p, wd)
                if "buf" not in st:
                    st["buf"] = g.clone()
                else:
                    st["buf"].mul_(self._b(self.momentum, p)).add_(g)
                p.addcmul_(st["buf"], lr, value=-1)
                continue
            b1, b2 = self.betas
            if wd is not None:
                if self.kind == "adamw":
                    p.mul_(1 - lr * wd)
                else:
                    g = g.addcmul_(p, wd)
            if "m" not in st:
                st["m"], st["v"] = torch.zeros_like(p), torch.zeros_like(p)
            if _FUSED_ADAM:
                # torch's fused CPU Adam kernel (one pass over m, v and the update) computes the unit-lr update
                # u = -m_hat / (sqrt(v_hat) + eps) into a zeroed buffer; the per-member lr scales it on the way in.
                # The kernel walks raw memory: every tensor must be contiguous (autograd may return strided grads)
                u = st.setdefault("u", torch.empty_like(p)).zero_()
                self._step_t.fill_(self.t)
                torch._fused_adam_([u], [g.contiguous()], [st["m"]], [st["v"]], [], [self._step_t], lr=1.0, beta1=b1, beta2=b2,
                                   weight_decay=0.0, eps=self.eps, amsgrad=False, maximize=False)
                p.addcmul_(u, lr)
                continue
            st["m"].lerp_(g, 1 - b1)
            st["v"].mul_(b2).addcmul_(g, g, value=1 - b2)
            bc1, bc2 = 1 - b1**self.t, 1 - b2**self.t
            denom = st["v"].sqrt().div_(math.sqrt(bc2)).add_(self.eps)
            p.sub_(torch.div(st["m"], denom, out=denom).mul_(lr / bc1))


def _torch_optimizer(run: RunSpec, params) -> torch.optim.Optimizer:
    h = run.hparams
    if h["optimizer"] == "sgd":
        return torch.optim.SGD(params, lr=h["lr"], momentum=h["momentum"], weight_decay=h["weight_decay"])
    cls = torch.optim.Adam if h["optimizer"] == "adam" else torch.optim.AdamW
    return cls(params, lr=h["lr"], weight_decay=h["weight_decay"])


# ---------------------------------------------------------------------------------------------------------------
# per-run setup (shared by the population and the reference loop, so both draw the same random numbers)
# ---------------------------------------------------------------------------------------------------------------
@dataclass
class _Setup:
    labels: Tensor  # (n,) training labels after label noise and poisoning
    poison: Tensor | None  # (n,) bool: examples stamped with the trigger
    trigger: tuple[Tensor, Tensor] | None  # (values, mask) of input_shape
    data_gen: torch.Generator


def _setup(run: RunSpec, data: TaskData) -> _Setup:
    """Label noise, poisoned examples and the data generator of ``run`` (all from its seeds)."""
    seeds = derived_seeds(run.seed)
    g = torch.Generator().manual_seed(seeds["setup"])
    y = data.y_train.clone()
    n = len(y)
    noise = run.hparams.get("label_noise", 0.0)
    if noise > 0:
        k = int(round(noise * n))
        idx = torch.randperm(n, generator=g)[:k]
        y[idx] = torch.randint(data.num_classes, (k,), generator=g)
    poison = trigger = None
    if run.backdoor is not None:
        idx = poison_indices(n, run.backdoor["poison_rate"], g)
        poison = torch.zeros(n, dtype=torch.bool)
        poison[idx] = True
        y[idx] = int(run.backdoor["target"])
        trigger = trigger_tensors(run.backdoor, data.input_shape)
    return _Setup(y, poison, trigger, torch.Generator().manual_seed(seeds["data"]))


def init_params(run: RunSpec) -> dict[str, Tensor]:
    """The run's initial parameters: ``metanet.nets.build(arch, seed=init)`` times ``init_scale``."""
    model = build(run.arch, seed=derived_seeds(run.seed)["init"])
    scale = run.hparams.get("init_scale", 1.0)
    return {k: v.detach() * scale if scale != 1.0 else v.detach().clone() for k, v in model.state_dict().items()}


def _dropout_masks(run: RunSpec, n: int, gen: torch.Generator) -> list[Tensor | None]:
    """One step's dropout masks of a run (draws nothing when its dropout is 0)."""
    p = run.hparams.get("dropout", 0.0)
    if p <= 0:
        return [None] * len(_dropout_widths(run.arch))
    return [(torch.rand(n, w, generator=gen) >= p).float() / (1 - p) for w in _dropout_widths(run.arch)]


def _steps(n: int, batch: int) -> list[tuple[int, int]]:
    return [(s, min(s + batch, n)) for s in range(0, n, batch)]


# ---------------------------------------------------------------------------------------------------------------
# evaluation
# ---------------------------------------------------------------------------------------------------------------
def _chunk(arch: Arch, members: int) -> int:
    """Examples per evaluation forward, so that activations stay around 32M floats."""
    if arch.family == "mlp":
        per = max(arch.widths[1:])
    else:
        per = max(arch.widths[1:-1]) * 256
    return max(16, min(4096, (1 << 25) // max(1, members * per)))


@torch.no_grad()
def _scores(arch: Arch, params: Mapping[str, Tensor], x: Tensor, y: Tensor) -> tuple[Tensor, Tensor]:
    """Per-member (accuracy, mean cross-entropy) on shared data ``x``, ``y``."""
    nmem = params["layers.0.weight"].shape[0]
    correct = torch.zeros(nmem, dtype=torch.float64)
    loss = torch.zeros(nmem, dtype=torch.float64)
    step = _chunk(arch, nmem)
    for i in range(0, len(y), step):
        logits = population_forward(arch, params, x[i : i + step])
        yb = y[i : i + step]
        correct += (logits.argmax(-1) == yb).sum(1).double()
        ce = F.cross_entropy(logits.flatten(0, 1), yb.repeat(nmem), reduction="none").view(nmem, -1)
        loss += ce.double().sum(1)
    n = max(1, len(y))
    return correct / n, loss / n


@torch.no_grad()
def evaluate_population(
    arch: Arch, params: Mapping[str, Tensor], runs: Sequence[RunSpec], data: Mapping[str, TaskData]
) -> list[dict[str, Any]]:
    """Score every member on its own task: train (eval subset, clean labels), val and test accuracy, test loss,
    and the attack success rate of poisoned members.

    Returns:
        One metrics dict per member, in order.
    """
    out: list[dict[str, Any]] = [{} for _ in runs]
    by_task: dict[str, list[int]] = {}
    for j, r in enumerate(runs):
        by_task.setdefault(r.task, []).append(j)
    for task, members in by_task.items():
        d = data[task]
        idx = torch.tensor(members)
        sub = {k: v.index_select(0, idx) for k, v in params.items()} if len(members) < len(runs) else params
        tr, _ = _scores(arch, sub, d.x_eval_train, d.y_eval_train)
        va, _ = _scores(arch, sub, d.x_val, d.y_val)
        te, tl = _scores(arch, sub, d.x_test, d.y_test)
        for k, j in enumerate(members):
            out[j].update(train_acc=float(tr[k]), val_acc=float(va[k]), test_acc=float(te[k]), test_loss=float(tl[k]))
            if runs[j].backdoor is not None:
                xs, ys = poisoned_test_set(d.x_test, d.y_test, runs[j].backdoor)
                one = {n: v[j : j + 1] for n, v in params.items()}
                asr, _ = _scores(arch, one, xs, ys)
                out[j]["asr"] = float(asr[0])
    return out


# ---------------------------------------------------------------------------------------------------------------
# training
# ---------------------------------------------------------------------------------------------------------------
def _gather(data: Mapping[str, TaskData], runs: Sequence[RunSpec], idx: Tensor, buf: Tensor | None = None) -> Tensor:
    """Inputs of one step: member j gets ``data[runs[j].task].x_train[idx[j]]`` -> (P, b, *input_shape).

    ``buf`` (at least ``P * b * features`` floats) is reused across steps: a fresh multi-megabyte tensor per step
    costs page faults comparable to the gather itself.
    """
    tasks = [r.task for r in runs]
    first = data[tasks[0]].x_train
    shape = first.shape[1:]
    rows = idx.numel()
    out = buf[:rows] if buf is not None and len(buf) >= rows else torch.empty(rows, shape.numel())
    # row gathers on a 2-D view are several times faster than on the (n, C, H, W) tensor
    if all(t == tasks[0] for t in tasks):
        torch.index_select(first.view(len(first), -1), 0, idx.reshape(-1), out=out)
        return out.view(*idx.shape, *shape)
    out = out.view(idx.shape[0], idx.shape[1], -1)
    for t in dict.fromkeys(tasks):
        m = torch.tensor([j for j, tt in enumerate(tasks) if tt == t])
        xt = data[t].x_train
        out[m] = xt.view(len(xt), -1).index_select(0, idx[m].reshape(-1)).view(len(m), idx.shape[1], -1)
    return out.view(*idx.shape, *shape)


def train_population(
    runs: Sequence[RunSpec],
    data: Mapping[str, TaskData],
    progress: Callable[[float], None] | None = None,
) -> list[RunResult]:
    """Train runs of one group key together and return each run's checkpoints.

    Args:
        runs: runs with equal :meth:`~metanet.zoo.recipe.RunSpec.group_key` (architecture, optimizer, batch size,
            epochs, training-set size, checkpoints). Their tasks may differ.
        data: task name -> :class:`~metanet.zoo.data.TaskData` for every run's task.
        progress: called with the fraction of training done after every epoch.

    Returns:
        One :class:`RunResult` per run, in order.
    """
    if not runs:
        return []
    keys = {r.group_key() for r in runs}
    if len(keys) != 1:
        raise ValueError(f"train_population needs runs of one group key, got {len(keys)}: {sorted(keys)[:2]}")
    r0 = runs[0]
    arch, h = r0.arch, r0.hparams
    nmem, n, batch, epochs = len(runs), h["n_train"], h["batch_size"], h["epochs"]
    for r in runs:
        if len(data[r.task].y_train) != n:
            raise ValueError(f"run {r.index}: task {r.task!r} has {len(data[r.task].y_train)} training examples, "
                             f"its spec says {n}")
    setups = [_setup(r, data[r.task]) for r in runs]
    inits = [init_params(r) for r in runs]
    names = list(inits[0])
    params = {k: torch.stack([s[k] for s in inits]).requires_grad_(True) for k in names}
    plist = [params[k] for k in names]
    f32 = lambda key: torch.tensor([r.hparams[key] for r in runs], dtype=torch.float32)  # noqa: E731
    opt = PopulationOptimizer(h["optimizer"], plist, f32("lr"), f32("weight_decay"), f32("momentum"))
    labels = torch.stack([s.labels for s in setups])  # (P, n)
    any_poison = any(s.poison is not None for s in setups)
    if any_poison:
        shape = data[r0.task].input_shape
        poison = torch.stack([s.poison if s.poison is not None else torch.zeros(n, dtype=torch.bool) for s in setups])
        tvals = torch.stack([s.trigger[0] if s.trigger else torch.zeros(shape) for s in setups])
        tmask = torch.stack([s.trigger[1] if s.trigger else torch.zeros(shape, dtype=torch.bool) for s in setups])
    any_dropout = any(r.hparams.get("dropout", 0.0) > 0 for r in runs)
    widths = _dropout_widths(arch)
    dead = torch.zeros(nmem, dtype=torch.bool)
    diverged_at: list[int | None] = [None] * nmem
    ckpt_epochs = list(r0.checkpoints)
    results = [RunResult(r, []) for r in runs]

    def checkpoint(epoch: int) -> None:
        with torch.no_grad():
            det = {k: v.detach() for k, v in params.items()}
            metrics = evaluate_population(arch, det, runs, data)
            for j in range(nmem):
                m = metrics[j]
                m["diverged"] = diverged_at[j] is not None
                results[j].checkpoints.append(Checkpoint(epoch, {k: det[k][j].clone() for k in names}, m))

    if 0 in ckpt_epochs:
        checkpoint(0)
    steps = _steps(n, batch)
    gather_buf = torch.empty(nmem * batch, math.prod(data[r0.task].input_shape))
    for epoch in range(1, epochs + 1):
        # a member that diverges during this epoch is put back to these parameters and frozen (checked once per
        # epoch: per-step masking would cost more than the step's own arithmetic for small networks)
        snapshot = [p.detach().clone() for p in plist]
        bad = dead.clone()
        orders = torch.stack([torch.randperm(n, generator=s.data_gen) for s in setups])
        for a, b in steps:
            idx = orders[:, a:b]
            xb = _gather(data, runs, idx, gather_buf)
            yb = torch.gather(labels, 1, idx)
            if any_poison:
                stamp = torch.gather(poison, 1, idx)
                cond = stamp.view(*stamp.shape, *([1] * (xb.dim() - 2))) & tmask.unsqueeze(1)
                xb = torch.where(cond, tvals.unsqueeze(1), xb)
            masks = None
            if any_dropout:
                per = [_dropout_masks(r, b - a, s.data_gen) for r, s in zip(runs, setups)]
                masks = [torch.stack([m[i] if m[i] is not None else torch.ones(b - a, w) for m in per])
                         for i, w in enumerate(widths)]
            logits = population_forward(arch, params, xb, masks, per_member=True)
            loss = F.cross_entropy(logits.flatten(0, 1), yb.reshape(-1), reduction="none").view(nmem, -1).mean(1)
            grads = torch.autograd.grad(loss.sum(), plist)
            with torch.no_grad():
                bad |= ~torch.isfinite(loss)
                opt.step([p.detach() for p in plist], list(grads))
        with torch.no_grad():
            for p in plist:  # a sum is non-finite if any entry is (or if it overflows: diverged as well)
                bad |= ~torch.isfinite(p.detach().flatten(1).sum(1))
            if bool(bad.any()):
                for j in (bad & ~dead).nonzero().flatten().tolist():
                    diverged_at[j] = epoch
                dead |= bad
                keep = dead.nonzero().flatten()
                for p, s0 in zip(plist, snapshot):
                    p.detach()[keep] = s0[keep]
        if epoch in ckpt_epochs:
            checkpoint(epoch)
        if progress is not None:
            progress(epoch / epochs)
    for j, res in enumerate(results):
        for c in res.checkpoints:
            c.metrics["diverged"] = diverged_at[j] is not None and diverged_at[j] <= c.epoch
    return results


def train_one(run: RunSpec, data: TaskData) -> RunResult:
    """Reference: train one run alone, as plain PyTorch (``nn.Module``, ``torch.optim``, dropout via hooks).

    Draws the same random numbers as the run's member of a population, so its checkpoints match
    :func:`train_population`'s within float tolerance. Used by the equivalence test and the throughput bench.
    A diverging run is not frozen here (the loop is kept plain).
    """
    setup = _setup(run, data)
    h = run.hparams
    model = build(run.arch, seed=None)
    with torch.no_grad():
        model.load_state_dict(init_params(run))
    opt = _torch_optimizer(run, model.parameters())
    masks: list[Tensor | None] = []
    calls = [0]

    def drop_hook(_mod, _inp, out):  # MLP: after the activation of hidden layer `calls`
        m = masks[calls[0]] if model.training and masks else None
        calls[0] += 1
        return out * m if m is not None else out

    def pre_hook(_mod, args):  # CNN: on the pooled features entering the classifier
        m = masks[0] if model.training and masks else None
        return (args[0] * m,) if m is not None else None

    if h.get("dropout", 0.0) > 0:
        if run.arch.family == "mlp":
            model.act.register_forward_hook(drop_hook)
        else:
            model.layers[-1].register_forward_pre_hook(pre_hook)
    result = RunResult(run, [])

    def checkpoint(epoch: int) -> None:
        model.eval()
        state = {k: v.detach().clone() for k, v in model.state_dict().items()}
        metrics = evaluate_population(run.arch, {k: v.unsqueeze(0) for k, v in state.items()}, [run],
                                      {run.task: data})[0]
        metrics["diverged"] = False
        result.checkpoints.append(Checkpoint(epoch, state, metrics))
        model.train()

    if 0 in run.checkpoints:
        checkpoint(0)
    model.train()
    n, batch = len(setup.labels), h["batch_size"]
    for epoch in range(1, h["epochs"] + 1):
        order = torch.randperm(n, generator=setup.data_gen)
        for a, b in _steps(n, batch):
            idx = order[a:b]
            xb, yb = data.x_train[idx], setup.labels[idx]
            if setup.poison is not None:
                values, mask = setup.trigger
                stamp = setup.poison[idx].view(-1, *([1] * (xb.dim() - 1)))
                xb = torch.where(stamp & mask, values, xb)
            masks = [m for m in _dropout_masks(run, b - a, setup.data_gen)] if h.get("dropout", 0.0) > 0 else []
            calls[0] = 0
            loss = F.cross_entropy(model(xb), yb)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
        if epoch in run.checkpoints:
            checkpoint(epoch)
    return result


