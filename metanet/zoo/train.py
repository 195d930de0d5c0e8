"""Population training: P networks of one architecture trained together as stacked parameters.

All parameters of a population live in one flat ``(P, N)`` buffer (:class:`FlatParams`: member-major, a
``(P, *shape)`` view per parameter); the forward pass is written with batched matrix products (MLP) and grouped
convolutions (CNN), so P small networks cost about as much as one wide one. What makes a step fast:

- MLPs: the backward pass is written out (:class:`_MLPStep`) with the ATen kernels autograd itself would call, and
  every weight gradient is written by ``torch.bmm(out=...)`` straight into a flat gradient buffer of the same
  layout: no graph bookkeeping, no transposed-gradient copies. CNNs use autograd on views of the flat buffer
  (whose gradient is then flat too).
- The optimizer (:class:`PopulationOptimizer`) updates the flat buffer with torch's fused SGD/Adam/AdamW kernels,
  one call per member with that member's own lr/weight decay (one pass over its parameters and state), or with a
  few whole-population elementwise passes for tiny members.
- Each member's data order is gathered with one ``index_select`` per step into a reused buffer; dropout masks are
  drawn once per epoch per member; evaluation happens only at checkpoint epochs, with the shared evaluation inputs
  multiplied against all members' first-layer weights in one large matmul; no host sync inside an epoch.

Each member keeps everything that makes it an independent training run:

- its own task data, data order, dropout masks, label noise and poisoned examples, each drawn from generators
  seeded by the run's own seed (:func:`metanet.zoo.recipe.run_seeds`), never from a shared stream;
- its own hyperparameters: learning rate, weight decay and momentum per member.

Members that train together share the architecture, optimizer kind, batch size, epochs and training-set size (the
"group key" of :class:`~metanet.zoo.recipe.RunSpec`), so every member takes the same number of steps of the same
shape; grouping rather than masking keeps the step free of wasted work. :func:`train_one` is the plain reference:
one ``nn.Module``, ``torch.optim``, the same random streams; a member of a population matches it within float
tolerance (``tests/zoo/test_zoo_train.py``, ``tests/zoo/test_zoo_build.py``). Float rounding differs from the
reference in the last bits, so over many epochs a chaotic (high learning rate) run can drift measurably from a
plain-loop run of the same seed; the same code and seed always give bit-identical results with the same torch
thread count (``metanet zoo build --threads``, default 1: another count splits the batched matmuls differently
and changes the last bits of some members, so a zoo records its count and refuses to be resumed with another).

A member whose loss or parameters become non-finite during an epoch is put back to its parameters at the start of
that epoch and frozen there (``diverged`` is recorded) instead of storing NaNs in the zoo; the other members are
unaffected.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Sequence

import torch
import torch.nn.functional as F
from torch import Tensor

from metanet.errors import ConfigError, TaskError
from metanet.nets import Arch, activation, build
from metanet.verify import predicted
from metanet.zoo.backdoor import backdoor_target, poison_indices, poisoned_test_set, trigger_tensors
from metanet.zoo.data import TaskData
from metanet.zoo.recipe import RunSpec, _is_int, derived_seeds

__all__ = [
    "Checkpoint",
    "RunResult",
    "PopulationOptimizer",
    "FlatParams",
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
        # a shared input is one large matmul against every member's weights side by side (bias added by the
        # same kernel): (n, P*out), returned as a (P, n, out) view
        nmem, o = w.shape[0], w.shape[1]
        wt = w.reshape(nmem * o, -1).t()
        z = torch.addmm(b.reshape(-1), h, wt) if b is not None else torch.mm(h, wt)
        return z.view(len(h), nmem, o).transpose(0, 1)
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
_FUSED = all(hasattr(torch, f) for f in ("_fused_adam_", "_fused_adamw_", "_fused_sgd_"))
#: below this many parameters per member, a few whole-population passes beat one fused kernel call per member
#: (the per-call overhead of P calls exceeds the arithmetic)
_PER_MEMBER_MIN = 4096


class PopulationOptimizer:
    """SGD (with momentum), Adam or AdamW over stacked parameters, with per-member hyperparameters.

    Each update is the one ``torch.optim`` applies to a single network (same formulas, weight decay coupled for
    SGD/Adam and decoupled for AdamW), with ``lr``, ``weight_decay`` and ``momentum`` per member. The
    parameters are given as stacked tensors ``(P, ...)`` — usually one flat ``(P, N)`` buffer holding every
    parameter of every member (see :class:`FlatParams`), so a step is a handful of kernel calls whatever the depth.

    Two equivalent strategies: with torch's fused CPU kernels and members of at least ``_PER_MEMBER_MIN``
    parameters, one fused call per member on its contiguous slice (one pass over p, g and the state, the member's
    own lr/wd as scalars: the least memory traffic); otherwise a few elementwise passes over the whole population
    with ``(P, 1)`` broadcast hyperparameters (fewest calls, for tiny members).

    Args:
        kind: ``"sgd"``, ``"adam"`` or ``"adamw"``.
        params: the stacked parameter tensors, each ``(P, ...)`` and contiguous.
        lr, weight_decay, momentum: ``(P,)`` tensors (momentum is used by SGD only).
        betas, eps: Adam's constants (torch defaults).
    """

    def __init__(self, kind: str, params: Sequence[Tensor], lr: Tensor, weight_decay: Tensor,
                 momentum: Tensor | None = None, betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8) -> None:
        if kind not in ("sgd", "adam", "adamw"):
            raise ConfigError(f"unknown optimizer {kind!r}; valid: sgd, adam, adamw")
        # a mismatch used to broadcast silently or fail only at the first step, far from here
        nmem = len(lr) if lr.dim() == 1 else 0
        for what, v in (("lr", lr), ("weight_decay", weight_decay), ("momentum", momentum)):
            if v is not None and (lr.dim() != 1 or tuple(v.shape) != (nmem,)):
                raise ConfigError(f"PopulationOptimizer: {what} has shape {tuple(v.shape)} (lr: {tuple(lr.shape)}); "
                                  f"valid: one value per member, equal (P,) tensors")
        bad = [tuple(p.shape) for p in params if p.dim() == 0 or p.shape[0] != nmem]
        if bad:
            raise ConfigError(f"PopulationOptimizer: parameters of shapes {bad[:3]} do not stack {nmem} members; "
                              f"valid: (P, ...) tensors, P = len(lr)")
        loose = [tuple(p.shape) for p in params if not p.is_contiguous()]
        if loose:  # updated through raw memory: a transposed view got the wrong elements
            raise ConfigError(f"PopulationOptimizer: parameters of shapes {loose[:3]} are not contiguous; valid: "
                              f"contiguous (P, ...) tensors (the optimizer updates them in place)")
        self.kind, self.betas, self.eps = kind, betas, eps
        self.lr, self.wd = lr.float(), weight_decay.float()
        self.momentum = (momentum if momentum is not None else torch.zeros_like(lr)).float()
        self.has_wd = bool((weight_decay != 0).any())  # skip the decay terms when no member uses them
        self.t = 0
        per_member = sum(p[0].numel() for p in params) if len(params) else 0
        self.per_member = _FUSED and per_member >= _PER_MEMBER_MIN
        # python floats for the per-member kernel calls (read once, not per step)
        self._lr_f, self._wd_f, self._mom_f = self.lr.tolist(), self.wd.tolist(), self.momentum.tolist()
        self._step_t = torch.zeros((), dtype=torch.float32)
        self.state: list[dict[str, Tensor]] = [{} for _ in params]
        self._nmem = nmem
        self._slices: tuple | None = None

    @staticmethod
    def _b(v: Tensor, like: Tensor) -> Tensor:
        return v.view(-1, *([1] * (like.dim() - 1)))

    @torch.no_grad()
    def step(self, params: Sequence[Tensor], grads: Sequence[Tensor]) -> None:
        """Update ``params`` in place from ``grads`` (which may be overwritten)."""
        self._check_step(params, grads)
        self.t += 1
        if self.per_member:
            self._step_members(params, grads)
        else:
            self._step_population(params, grads)

    def _check_step(self, params: Sequence[Tensor], grads: Sequence[Tensor]) -> None:
        # the kernels walk raw memory and the loops zip: a non-contiguous parameter was updated with the wrong
        # elements, a missing gradient left its parameter unchanged, and a (P, 1) gradient of a (P, N) parameter
        # was read past its end, all without a word
        if len(params) != len(self.state) or len(grads) != len(self.state):
            raise ConfigError(f"PopulationOptimizer.step: {len(params)} parameters and {len(grads)} gradients; "
                              f"valid: the {len(self.state)} parameter tensors given at construction, "
                              f"one gradient each")
        for i, (p, g) in enumerate(zip(params, grads)):
            if not p.is_contiguous() or g.shape != p.shape or p.dim() == 0 or p.shape[0] != self._nmem:
                raise ConfigError(f"PopulationOptimizer.step: parameter {i} of shape {tuple(p.shape)} "
                                  f"({'contiguous' if p.is_contiguous() else 'not contiguous'}) with a gradient of "
                                  f"shape {tuple(g.shape)}; valid: contiguous ({self._nmem}, ...) parameters updated "
                                  f"in place, each gradient of its parameter's shape")

    def _step_members(self, params: Sequence[Tensor], grads: Sequence[Tensor]) -> None:
        grads = [g if g.is_contiguous() else g.contiguous() for g in grads]  # the kernels walk raw memory
        first = self.t == 1
        for st, p in zip(self.state, params):
            if not st:
                if self.kind == "sgd":
                    st["buf"] = torch.zeros_like(p)
                else:
                    st["m"], st["v"] = torch.zeros_like(p), torch.zeros_like(p)
        # per-member slices, built once: the same buffers come back every step (slicing them anew each step
        # costs as much as a small member's update)
        key = tuple((t.data_ptr(), t.stride()) for t in (*params, *grads))
        if self._slices is None or self._slices[0] != key:
            state = [st["buf"] for st in self.state] if self.kind == "sgd" else \
                [st[k] for k in ("m", "v") for st in self.state]
            self._slices = (key, [[[t[j] for t in ts] for ts in (params, grads, state)] for j in range(self._nmem)])
        members = self._slices[1]
        if self.kind == "sgd":
            for j, (p, g, buf) in enumerate(members):
                # momentum 0: torch.optim.SGD keeps no buffer, and the kernel insists on none
                torch._fused_sgd_(p, g, buf if self._mom_f[j] != 0 else [], weight_decay=self._wd_f[j],
                                  momentum=self._mom_f[j], lr=self._lr_f[j], dampening=0.0, nesterov=False,
                                  maximize=False, is_first_step=first)
            return
        fused = torch._fused_adamw_ if self.kind == "adamw" else torch._fused_adam_
        self._step_t.fill_(self.t)
        b1, b2 = self.betas
        k = len(params)
        steps = [self._step_t] * k
        for j, (p, g, mv) in enumerate(members):
            fused(p, g, mv[:k], mv[k:], [], steps, lr=self._lr_f[j], beta1=b1, beta2=b2, weight_decay=self._wd_f[j],
                  eps=self.eps, amsgrad=False, maximize=False)

    def _step_population(self, params: Sequence[Tensor], grads: Sequence[Tensor]) -> None:
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
            if _FUSED:
                # the fused kernel computes the unit-lr update u = -m_hat / (sqrt(v_hat) + eps) into a zeroed
                # buffer in one pass over m and v; the per-member lr scales it on the way in
                u = st.setdefault("u", torch.empty_like(p)).zero_()
                self._step_t.fill_(self.t)
                torch._fused_adam_([u], [g.contiguous()], [st["m"]], [st["v"]], [], [self._step_t], lr=1.0,
                                   beta1=b1, beta2=b2, weight_decay=0.0, eps=self.eps, amsgrad=False, maximize=False)
                p.addcmul_(u, lr)
                continue
            st["m"].lerp_(g, 1 - b1)
            st["v"].mul_(b2).addcmul_(g, g, value=1 - b2)
            bc1, bc2 = 1 - b1**self.t, 1 - b2**self.t
            denom = st["v"].sqrt().div_(math.sqrt(bc2)).add_(self.eps)
            p.sub_(torch.div(st["m"], denom, out=denom).mul_(lr / bc1))


class FlatParams:
    """All parameters of a population in one ``(P, N)`` buffer, member-major, with a ``(P, *shape)`` view per
    parameter name.

    One buffer means the optimizer touches one tensor per step (and each member's parameters are one contiguous
    row, which the per-member fused kernels need); the per-layer views feed the batched matmuls directly, and a
    gradient buffer of the same layout receives the matmuls' output in place.

    Args:
        states: one ``{name: tensor}`` per member, all with the same names and shapes.
    """

    def __init__(self, states: Sequence[Mapping[str, Tensor]]) -> None:
        first = states[0]
        self.names = list(first)
        self.shapes = [tuple(first[k].shape) for k in self.names]
        sizes = [math.prod(s) for s in self.shapes]
        self.offsets = [sum(sizes[:i]) for i in range(len(sizes))]
        self.sizes = sizes
        self.numel = sum(sizes)
        self.flat = torch.empty(len(states), self.numel)
        for j, s in enumerate(states):
            torch.cat([s[k].reshape(-1) for k in self.names], out=self.flat[j])

    def views(self, flat: Tensor) -> dict[str, Tensor]:
        """``{name: (P, *shape) view}`` of a buffer laid out like :attr:`flat` (parameters or gradients)."""
        return {k: flat[:, o : o + n].view(flat.shape[0], *s)
                for k, o, n, s in zip(self.names, self.offsets, self.sizes, self.shapes)}


def _torch_optimizer(run: RunSpec, params) -> torch.optim.Optimizer:
    h = run.hparams
    wd = h.get("weight_decay", 0.0)
    if h["optimizer"] == "sgd":
        return torch.optim.SGD(params, lr=h["lr"], momentum=h.get("momentum", 0.0), weight_decay=wd)
    cls = torch.optim.Adam if h["optimizer"] == "adam" else torch.optim.AdamW
    return cls(params, lr=h["lr"], weight_decay=wd)


def _check_run(run: RunSpec) -> None:
    """Refuse a run the training loops cannot honour (a recipe never samples one; a hand-made RunSpec can):
    an unknown optimizer trained as AdamW, batch_size 0 was a bare ValueError, dropout 1 divided by zero, and
    checkpoints that were repeated, unsorted or past the last epoch came back fewer than the run's ids."""
    h = run.hparams

    def bad(key: str, valid: str) -> ConfigError:
        return ConfigError(f"run {run.index}: hparams[{key!r}] = {h[key]!r:.60}; valid: {valid}")

    for key in ("optimizer", "lr", "batch_size", "epochs"):
        if key not in h:
            raise ConfigError(f"run {run.index}: hparams has no {key!r}; a run needs optimizer, lr, batch_size and "
                              f"epochs (weight_decay, momentum, init_scale, dropout, label_noise default to 0 or 1)")
    if h["optimizer"] not in ("sgd", "adam", "adamw"):
        raise bad("optimizer", "sgd, adam, adamw")
    if not (_is_int(h["batch_size"]) and h["batch_size"] >= 1):
        raise bad("batch_size", "integers >= 1")
    if not (_is_int(h["epochs"]) and h["epochs"] >= 0):
        raise bad("epochs", "integers >= 0")
    for key in ("dropout", "label_noise"):
        if key in h and not (isinstance(h[key], numbers.Real) and 0 <= h[key] < 1):
            raise bad(key, "numbers in [0, 1)")
    c, epochs = list(run.checkpoints), h["epochs"]
    problem = ("not integers" if not all(_is_int(e) for e in c) else
               "past the last epoch or negative" if any(not 0 <= e <= epochs for e in c) else
               "repeated" if len(set(c)) != len(c) else "not ascending" if c != sorted(c) else None)
    if problem:
        raise ConfigError(f"run {run.index}: checkpoints {run.checkpoints!r:.80} are {problem}; valid: ascending "
                          f"distinct epochs in 0..{epochs} (one stored network per entry)")


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
        # a hand-made trigger is checked before anything is drawn: it was a bare KeyError / ValueError, and a target
        # past the task's classes failed mid-training inside cross_entropy (nothing here draws random numbers)
        trigger = trigger_tensors(run.backdoor, data.input_shape)
        target = backdoor_target(run.backdoor)
        if target >= data.num_classes:
            raise ConfigError(f"run {run.index}: backdoor target {target} is not a class of task {run.task!r} "
                              f"(valid: 0..{data.num_classes - 1})")
        if "poison_rate" not in run.backdoor:
            raise ConfigError(f"run {run.index}: the backdoor has no 'poison_rate' (the fraction of training "
                              "examples poisoned, a number in [0, 1])")
        idx = poison_indices(n, run.backdoor["poison_rate"], g)
        poison = torch.zeros(n, dtype=torch.bool)
        poison[idx] = True
        y[idx] = target
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
def _scores(arch: Arch, params: Mapping[str, Tensor], x: Tensor, y: Tensor,
            with_loss: bool = True) -> tuple[Tensor, Tensor | None]:
    """Per-member (accuracy, mean cross-entropy) on shared data ``x``, ``y``; the loss is None without
    ``with_loss`` (the log-softmax over every member's logits costs as much as the last layer's matmul)."""
    nmem = params["layers.0.weight"].shape[0]
    correct = torch.zeros(nmem, dtype=torch.float64)
    loss = torch.zeros(nmem, dtype=torch.float64)
    step = _chunk(arch, nmem)
    for i in range(0, len(y), step):
        logits = population_forward(arch, params, x[i : i + step])
        yb = y[i : i + step]
        # a NaN/inf row is wrong and hits no backdoor target, as verify counts it (argmax made it class 0)
        correct += (predicted(logits) == yb).sum(1).double()
        if with_loss:
            ce = F.cross_entropy(logits.flatten(0, 1), yb.repeat(nmem), reduction="none").view(nmem, -1)
            loss += ce.double().sum(1)
    n = max(1, len(y))
    return correct / n, (loss / n if with_loss else None)


@torch.no_grad()
def evaluate_population(
    arch: Arch, params: Mapping[str, Tensor], runs: Sequence[RunSpec], data: Mapping[str, TaskData]
) -> list[dict[str, Any]]:
    """Score every member on its own task: train (eval subset, clean labels), val and test accuracy, test loss,
    and the attack success rate of poisoned members.

    Returns:
        One metrics dict per member, in order.
    """
    missing = sorted({r.task for r in runs} - set(data))
    if missing:  # was a bare KeyError naming one task
        raise TaskError(f"evaluate_population: no data for task(s) {missing}; data holds {sorted(data)}")
    out: list[dict[str, Any]] = [{} for _ in runs]
    by_task: dict[str, list[int]] = {}
    for j, r in enumerate(runs):
        by_task.setdefault(r.task, []).append(j)
    for task, members in by_task.items():
        d = data[task]
        idx = torch.tensor(members)
        sub = {k: v.index_select(0, idx) for k, v in params.items()} if len(members) < len(runs) else params
        tr, _ = _scores(arch, sub, d.x_eval_train, d.y_eval_train, with_loss=False)
        va, _ = _scores(arch, sub, d.x_val, d.y_val, with_loss=False)
        te, tl = _scores(arch, sub, d.x_test, d.y_test)
        for k, j in enumerate(members):
            out[j].update(train_acc=float(tr[k]), val_acc=float(va[k]), test_acc=float(te[k]), test_loss=float(tl[k]))
            if runs[j].backdoor is not None:
                xs, ys = poisoned_test_set(d.x_test, d.y_test, runs[j].backdoor)
                one = {n: v[j : j + 1] for n, v in params.items()}
                asr, _ = _scores(arch, one, xs, ys, with_loss=False)
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


_aten = torch.ops.aten


def _act_backward(name: str) -> Callable[[Tensor, Tensor, Tensor], Tensor]:
    """``f(grad, z, s)`` -> gradient w.r.t. the pre-activation ``z`` given the output ``s = act(z)``: the same
    ATen backward kernels autograd calls for ``nn.ReLU``, ``nn.Tanh``, ... (so the manual backward pass matches it)."""
    table: dict[str, Callable[[Tensor, Tensor, Tensor], Tensor]] = {
        "identity": lambda g, z, s: g,
        "relu": lambda g, z, s: _aten.threshold_backward(g, s, 0),
        "tanh": lambda g, z, s: _aten.tanh_backward(g, s),
        "sigmoid": lambda g, z, s: _aten.sigmoid_backward(g, s),
        "gelu": lambda g, z, s: _aten.gelu_backward(g, z),
        "leaky_relu": lambda g, z, s: _aten.leaky_relu_backward(g, z, 0.01, False),
        "silu": lambda g, z, s: _aten.silu_backward(g, z),
    }
    if name in table:
        return table[name]

    def generic(g: Tensor, z: Tensor, s: Tensor) -> Tensor:  # any other activation: autograd on this layer only
        with torch.enable_grad():
            zz = z.detach().requires_grad_(True)
            return torch.autograd.grad(activation(name)(zz), zz, g)[0]

    return generic


class _MLPStep:
    """Forward and backward pass of a population of MLPs, written out with batched matmuls.

    Autograd would record the same operations; writing them out lets every weight gradient land directly in the
    flat gradient buffer (``torch.bmm(out=...)``), skips the graph bookkeeping and the transposed-gradient copies,
    and computes the loss gradient directly as ``(softmax - onehot) / b``. The activation backward
    uses autograd's own kernels (:func:`_act_backward`), so a member matches ``train_one`` within float tolerance.
    """

    def __init__(self, arch: Arch, layout: FlatParams, params: Tensor, grads: Tensor) -> None:
        self.arch = arch
        self.L = arch.num_layers
        self.act = activation(arch.activation)
        self.act_bw = _act_backward(arch.activation)
        self.skips = set(arch.skip_layers())
        pv, gv = layout.views(params), layout.views(grads)
        self.w = [pv[f"layers.{i}.weight"] for i in range(self.L)]
        self.b = [pv.get(f"layers.{i}.bias") for i in range(self.L)]
        self.gw = [gv[f"layers.{i}.weight"] for i in range(self.L)]
        self.gb = [gv.get(f"layers.{i}.bias") for i in range(self.L)]

    def __call__(self, x: Tensor, y: Tensor, masks: Sequence[Tensor | None] | None) -> Tensor:
        """One step's gradients into the gradient buffer; returns each member's summed loss ``(P,)`` (float64).

        Shapes:
            x: ``(P, b, in)``; y: ``(P, b)`` int64; masks: per hidden layer ``(P, b, width)`` or None.
        """
        L, w, bias = self.L, self.w, self.b
        acts: list[Tensor] = [x]  # input of each layer
        zs: list[Tensor] = []
        ss: list[Tensor] = []
        h = x
        for i in range(L - 1):
            z = torch.baddbmm(bias[i].unsqueeze(1), h, w[i].transpose(1, 2)) if bias[i] is not None \
                else torch.bmm(h, w[i].transpose(1, 2))
            s = self.act(z)
            zs.append(z)
            ss.append(s)
            m = masks[i] if masks is not None else None
            sd = s * m if m is not None else s
            h = h + sd if i in self.skips else sd
            acts.append(h)
        logits = torch.baddbmm(bias[-1].unsqueeze(1), h, w[-1].transpose(1, 2)) if bias[-1] is not None \
            else torch.bmm(h, w[-1].transpose(1, 2))
        # d(mean cross-entropy)/d(logits) = (softmax - onehot) / b per member, softmax taken as exp(log_softmax)
        # as autograd's log_softmax backward does; the log-probabilities of the targets give the loss
        logp = torch.log_softmax(logits, dim=-1)
        # (summed in float32 like F.cross_entropy's mean, so a loss that overflows there counts as diverged here)
        loss = logp.gather(2, y.unsqueeze(2)).sum((1, 2)).neg_().double()
        d = logp.exp_()
        d.scatter_add_(2, y.unsqueeze(2), torch.full(y.shape + (1,), -1.0))
        d.mul_(1.0 / y.shape[1])
        carry: Tensor | None = None  # gradient reaching a layer's input through a residual skip
        for i in reversed(range(L)):
            torch.bmm(d.transpose(1, 2), acts[i], out=self.gw[i])
            if self.gb[i] is not None:
                torch.sum(d, 1, out=self.gb[i])
            if i == 0:
                break
            da = torch.baddbmm(carry, d, w[i]) if carry is not None else torch.bmm(d, w[i])  # d loss / d acts[i]
            m = masks[i - 1] if masks is not None else None
            ds = da * m if m is not None else da
            d = self.act_bw(ds, zs[i - 1], ss[i - 1])
            carry = da if (i - 1) in self.skips else None
        return loss


def _epoch_masks(runs: Sequence[RunSpec], setups: Sequence[_Setup], widths: Sequence[int], steps, out: Tensor | None,
                 ) -> Tensor:
    """One epoch's dropout masks for every member, ``(P, sum over steps of b * sum(widths))``.

    Member j's masks are drawn with one ``torch.rand`` call on its own generator: the CPU generator's uniform
    stream does not depend on how it is cut into calls, so this equals ``train_one``'s per-step
    ``torch.rand(b, w)`` draws in the same order (step-major, then layer). Members without dropout get ones.
    """
    per_step = sum(widths)
    total = sum((b - a) * per_step for a, b in steps)
    out = out if out is not None else torch.empty(len(runs), total)
    keep = torch.ones(len(runs), 1)
    ps = torch.zeros(len(runs), 1)
    for j, (r, s) in enumerate(zip(runs, setups)):
        p = r.hparams.get("dropout", 0.0)
        if p > 0:
            torch.rand(total, generator=s.data_gen, out=out[j])
            ps[j, 0], keep[j, 0] = p, 1 - p
        else:
            out[j].zero_()
    return out.ge_(ps).div_(keep)  # (rand >= p) / (1 - p), as in _dropout_masks


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
        raise ConfigError(f"train_population needs runs of one group key (architecture, optimizer, batch size, "
                          f"epochs, training-set size, checkpoints), got {len(keys)}: {sorted(keys)[:2]}")
    for r in runs:
        _check_run(r)
    r0 = runs[0]
    arch, h = r0.arch, r0.hparams
    missing = sorted({r.task for r in runs} - set(data))
    if missing:  # was a bare KeyError naming one task
        raise TaskError(f"train_population: no data for task(s) {missing}; data holds {sorted(data)}")
    # a CNN's architecture does not fix the image size, so tasks of one group key can still differ in it (digits
    # 8x8, mnist 28x28); one grouped convolution needs equal inputs, so each input shape trains as a population
    by_shape: dict[tuple, list[int]] = {}
    for j, r in enumerate(runs):
        by_shape.setdefault(tuple(data[r.task].input_shape), []).append(j)
    if len(by_shape) > 1:
        return _train_by_shape(runs, data, list(by_shape.values()), progress)
    if "n_train" not in h:
        raise ConfigError(f"run {r0.index}: hparams has no 'n_train' (the number of training examples)")
    nmem, n, batch, epochs = len(runs), h["n_train"], h["batch_size"], h["epochs"]
    for r in runs:
        if len(data[r.task].y_train) != n:
            raise TaskError(f"run {r.index}: task {r.task!r} has {len(data[r.task].y_train)} training examples, "
                            f"its spec says {n}")
    setups = [_setup(r, data[r.task]) for r in runs]
    layout = FlatParams([init_params(r) for r in runs])
    flat = layout.flat  # (P, N): every parameter of every member
    names = layout.names
    # (momentum and weight decay may be absent from a hand-made spec: 0, as torch.optim's defaults)
    f32 = lambda key: torch.tensor([r.hparams.get(key, 0.0) for r in runs], dtype=torch.float32)  # noqa: E731
    opt = PopulationOptimizer(h["optimizer"], [flat], f32("lr"), f32("weight_decay"), f32("momentum"))
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
    mlp = arch.family == "mlp"
    if mlp:
        grads = torch.zeros_like(flat)
        fwd_bwd = _MLPStep(arch, layout, flat, grads)
    else:
        flat.requires_grad_(True)  # CNN: autograd through grouped convolutions; its gradient is flat as well

    def checkpoint(epoch: int) -> None:
        with torch.no_grad():
            det = layout.views(flat.detach())
            metrics = evaluate_population(arch, det, runs, data)
            for j in range(nmem):
                m = metrics[j]
                m["diverged"] = diverged_at[j] is not None
                results[j].checkpoints.append(Checkpoint(epoch, {k: det[k][j].clone() for k in names}, m))

    if 0 in ckpt_epochs:
        checkpoint(0)
    steps = _steps(n, batch)
    # rows of the largest step: a batch_size above n (full-batch training, any size a recipe gives) takes n
    gather_buf = torch.empty(nmem * min(batch, n), math.prod(data[r0.task].input_shape))
    mask_buf: Tensor | None = None
    loss_sums = torch.zeros(nmem, dtype=torch.float64)
    for epoch in range(1, epochs + 1):
        # a member that diverges during this epoch is put back to these parameters and frozen (checked once per
        # epoch: per-step masking would cost more than the step's own arithmetic for small networks)
        snapshot = flat.detach().clone()
        loss_sums.zero_()
        orders = torch.stack([torch.randperm(n, generator=s.data_gen) for s in setups])
        if any_dropout:
            mask_buf = _epoch_masks(runs, setups, widths, steps, mask_buf)
        offset = 0
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
                masks = []
                for w in widths:
                    masks.append(mask_buf[:, offset : offset + (b - a) * w].view(nmem, b - a, w))
                    offset += (b - a) * w
            if mlp:
                with torch.no_grad():
                    loss_sums += fwd_bwd(xb.view(nmem, b - a, -1), yb, masks)
                    opt.step([flat], [grads])
            else:
                logits = population_forward(arch, layout.views(flat), xb, masks, per_member=True)
                loss = F.cross_entropy(logits.flatten(0, 1), yb.reshape(-1), reduction="none").view(nmem, -1).mean(1)
                (g,) = torch.autograd.grad(loss.sum(), [flat])
                with torch.no_grad():
                    loss_sums += loss.detach().double()
                    opt.step([flat.detach()], [g])
        with torch.no_grad():
            # a non-finite loss during the epoch (float64 sums of float32 batch losses do not overflow), or
            # non-finite parameters now (a sum is non-finite if any entry is, or if it overflows: diverged as well)
            bad = dead | ~torch.isfinite(loss_sums) | ~torch.isfinite(flat.detach().sum(1))
            if bool(bad.any()):
                for j in (bad & ~dead).nonzero().flatten().tolist():
                    diverged_at[j] = epoch
                dead |= bad
                keep = dead.nonzero().flatten()
                flat.detach()[keep] = snapshot[keep]
        if epoch in ckpt_epochs:
            checkpoint(epoch)
        if progress is not None:
            progress(epoch / epochs)
    for j, res in enumerate(results):
        for c in res.checkpoints:
            c.metrics["diverged"] = diverged_at[j] is not None and diverged_at[j] <= c.epoch
    return results


def _train_by_shape(runs: Sequence[RunSpec], data: Mapping[str, TaskData], groups: Sequence[Sequence[int]],
                    progress: Callable[[float], None] | None) -> list[RunResult]:
    """:func:`train_population` of each group of run positions in turn, results back in the order of ``runs``;
    ``progress`` still sees the fraction of the whole population done (members weigh equally)."""
    out: list[RunResult | None] = [None] * len(runs)
    done = 0
    for members in groups:
        sub = None
        if progress is not None:
            sub = lambda f, d=done, k=len(members): progress((d + f * k) / len(runs))  # noqa: E731
        for j, res in zip(members, train_population([runs[j] for j in members], data, sub)):
            out[j] = res
        done += len(members)
    return out  # type: ignore[return-value]


def train_one(run: RunSpec, data: TaskData) -> RunResult:
    """Reference: train one run alone, as plain PyTorch (``nn.Module``, ``torch.optim``, dropout via hooks).

    Draws the same random numbers as the run's member of a population, so its checkpoints match
    :func:`train_population`'s within float tolerance. Used by the equivalence test and the throughput bench.
    A diverging run is not frozen here (the loop is kept plain); a checkpoint with non-finite parameters has
    ``diverged`` true.
    """
    _check_run(run)
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
        # not frozen here, but a non-finite state is reported as diverged, as train_population would
        metrics["diverged"] = not all(bool(torch.isfinite(v).all()) for v in state.values())
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


